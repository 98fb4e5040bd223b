"""Care generation for one day at scale: wall time and peak memory, beside a baseline.

    python benchmarks/care_bench.py [members] [YYYY-MM-DD]
    python benchmarks/care_bench.py --data-dir DIR [YYYY-MM-DD ...]

Synthetic: members (birthday keys, consent, a level for one in five, a purchase for one in four)
go in bulk into a scratch SQLite database. `--data-dir`: an existing database instead (e.g. a
copy of `vipcare demo --members 1000000 --data-only`; migrated first with `vipcare migrate`), one
day after another; what a day wrote is deleted again afterwards (unless `--keep`) so the days
and repeated runs measure the same thing. Each day: `care_day_generate`, twice (the second run
must add nothing). Baseline, in the same process: the bare query selecting the day's birthday
members.
"""

import argparse
import datetime
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.factories
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("args", nargs="*", help="[members] [YYYY-MM-DD], or with --data-dir: days")
parser.add_argument("--data-dir", help="an existing VIPCARE_DATA_DIR (its SQLite database is written to)")
parser.add_argument("--keep", action="store_true", help="with --data-dir: keep what the runs wrote")
options = parser.parse_args()
if options.data_dir:
    N = None
    DAYS = [datetime.date.fromisoformat(a) for a in options.args] or [datetime.date(2026, 11, 7)]
    folder = options.data_dir
else:
    N = int(options.args[0]) if options.args else 1_000_000
    DAYS = [datetime.date.fromisoformat(options.args[1]) if len(options.args) > 1 else datetime.date(2026, 11, 7)]
    folder = tempfile.mkdtemp(prefix="vipcare-care-bench-")
DAY = DAYS[0]
os.environ["VIPCARE_DATA_DIR"] = folder
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipcare.settings")

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

from vipcare.care.models import CareTask, Message  # noqa: E402
from vipcare.care.playbooks.engine import care_day_generate  # noqa: E402
from vipcare.members.birthdays import birthday_keys_on  # noqa: E402
from vipcare.members.models import Member  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(day: datetime.date) -> None:
    t1 = time.perf_counter()
    baseline = len(list(Member.objects.filter(birthday_key__in=birthday_keys_on(day)).values_list("pk", flat=True)))
    baseline_s = time.perf_counter() - t1
    t2, c2 = time.perf_counter(), time.process_time()
    report = care_day_generate(day=day)
    run_s, run_cpu = time.perf_counter() - t2, time.process_time() - c2
    t3, c3 = time.perf_counter(), time.process_time()
    again = care_day_generate(day=day)
    rerun_s, rerun_cpu = time.perf_counter() - t3, time.process_time() - c3
    print(f"day {day}: baseline (birthday members query) {baseline:,} rows in {baseline_s:.2f} s")
    print(f"  care run: {sum(report.tasks.values()):,} tasks, {sum(report.messages.values()):,} messages in "
          f"{run_s:.1f} s, {run_cpu:.1f} s CPU ({run_s / max(baseline_s, 1e-6):,.0f}x the baseline)")
    print(f"  {dict(sorted((report.tasks + report.messages).items()))}")
    print(f"  skipped {dict(report.skipped)}")
    print(f"  re-run: {again.total} new in {rerun_s:.1f} s, {rerun_cpu:.1f} s CPU; messages in outbox "
          f"{Message.objects.count():,}")
    print(f"  peak memory so far {peak_mib():.0f} MiB; load average {os.getloadavg()[0]:.2f}")


if options.data_dir:
    if MigrationExecutor(connection).migration_plan(MigrationExecutor(connection).loader.graph.leaf_nodes()):
        sys.exit(f"{folder}: the database needs `vipcare migrate` first")
    print(f"members {Member.objects.count():,} in {folder}")
    for day in DAYS:
        last_message = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_task = CareTask.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        measure(day)
        if not options.keep:  # nothing refers to rows a run just wrote: plain DELETEs
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {Message._meta.db_table} WHERE id > %s", [last_message])
                cursor.execute(f"DELETE FROM {CareTask._meta.db_table} WHERE id > %s", [last_task])
    sys.exit(0)

call_command("migrate", verbosity=0)

from tests import factories  # noqa: E402
from vipcare.core.crypto import blind_index  # noqa: E402
from vipcare.loyalty.models import Tier  # noqa: E402
from vipcare.org.models import Organisation, Store  # noqa: E402

rng = random.Random(7)
t0 = time.perf_counter()
org = Organisation.objects.create(name="星河购物中心")
stores = [Store.objects.create(organisation=org, code=f"S{i:02d}", name=f"店铺{i}") for i in range(20)]
managers = [factories.staff(role="account_manager", stores=[stores[i % 20]], name=f"导购{i}") for i in range(20)]
keys = {f"S-{m:02d}-{d:02d}": blind_index("birthday", f"S-{m:02d}-{d:02d}") for m in range(1, 13)
        for d in range(1, 32)}
keys.update({f"L-{m:02d}-{d:02d}": blind_index("birthday", f"L-{m:02d}-{d:02d}") for m in range(1, 13)
             for d in range(1, 31)})
tiers = list(Tier.objects.values_list("pk", flat=True))
now = "2024-01-01 00:00:00"
with connection.cursor() as cursor:
    cursor.execute("PRAGMA synchronous=OFF")
    batch = []
    for i in range(1, N + 1):
        kind = "L" if i % 10 == 0 else "S"
        key = keys[f"{kind}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"]
        store = stores[i % 20].pk
        batch.append((i, f"C{i:09d}", f"会员{i}", "F" if i % 3 else "M", key, rng.random() < 0.7, rng.random() < 0.45,
                      rng.random() < 0.6, False, store, managers[i % 20].pk, now, now, now))
        if len(batch) == 50_000 or i == N:
            cursor.executemany(
                "INSERT INTO members_member (id, card_no, name, gender, birthday_key, consent_sms, consent_phone,"
                " consent_wechat, consent_email, home_store_id, account_manager_id, enrolled_at, created_at,"
                " updated_at, ethnicity, birthday_calendar, phone, phone_index, email, address, id_number,"
                " id_number_index, size_top, size_bottom, size_shoe, occupation, work_situation, family_situation,"
                " personality, consumption_habits, style_preferences, hobbies, lifestyle, service_preference,"
                " promotion_receptiveness, \"values\", income_band, education, residential_area, extra, source,"
                " status, completeness_quantity, completeness_quality) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'',"
                "'solar','','','','','','','','','','','','','','','','','','','','','','','','{}','import','active',"
                "0,0)", batch)
            batch = []
    cursor.execute("INSERT INTO loyalty_membertier (member_id, tier_id, since) SELECT id, ?, ? FROM members_member"
                   " WHERE id % 5 = 0", [tiers[-1], now])
    cursor.execute(f"UPDATE loyalty_membertier SET tier_id = CASE WHEN member_id % 50 = 0 THEN {tiers[-1]} WHEN "
                   f"member_id % 20 = 0 THEN {tiers[-2]} ELSE {tiers[0]} END")
    sold = datetime.datetime(DAY.year, DAY.month, DAY.day) - datetime.timedelta(days=200)
    cursor.execute("INSERT INTO sales_sale (store_id, member_id, receipt_no, sold_at, total_fen, item_count, source,"
                   " created_at) SELECT home_store_id, id, 'R' || id, datetime(?, '+' || (id % 190) || ' days'),"
                   " 10000, 1, 'import', ? FROM members_member WHERE id % 4 = 0", [sold.isoformat(" "), now])
load_s = time.perf_counter() - t0
assert Member.objects.count() == N

print(f"members {Member.objects.count():,} (synthetic, load {load_s:.1f} s)")
measure(DAY)
