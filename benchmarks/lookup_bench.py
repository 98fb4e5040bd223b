"""Member lookup and member 360: server time on a big demo database.

    VIPCARE_DATA_DIR=/tmp/vc-bench vipcare demo --members 1000000 --as-of 2026-11-23   # once
    VIPCARE_DATA_DIR=/tmp/vc-bench .venv/bin/python benchmarks/lookup_bench.py --samples 1000

Times, in this process (no network, no browser), for randomly chosen members:
  baseline_phone_select   a plain DB-API SELECT of the member row by its indexed phone_index
  member_identify_phone   vipcare.members.selectors.member_identify(phone) — what the POS and
                          the staff lookup call (keyed hash + ORM query + decrypting the row)
  member_identify_card    the same by card number
  baseline_360_queries    plain SQL for what the 360 page needs: member row, last 50 sale lines
                          with their store, totals and spend by brand
  member_360_selectors    the selectors the member 360 view calls, without rendering
  member_360_page         GET /members/<pk>/ through Django's test client, logged in as the
                          operations manager: middleware, view, selectors and template
Prints one JSON document: data sizes, then p50 / p95 / p99 / mean in milliseconds per measure.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipcare.settings")


def _stats(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"n": len(ms), "p50_ms": round(q[49], 3), "p95_ms": round(q[94], 3), "p99_ms": round(q[98], 3),
            "mean_ms": round(statistics.fmean(ms), 3), "max_ms": round(ms[-1], 3)}


def _timed(fn, items, warmup: int) -> list[float]:
    for item in items[:warmup]:
        fn(item)
    samples = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - started)
    return samples


def _database_size(connection) -> int:
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        return sum(p.stat().st_size for p in name.parent.glob(name.name + "*"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=1000, help="random members per measure")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls before each measure")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-page", action="store_true", help="do not time the web page")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count, Max
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from vipcare.members.models import Member
    from vipcare.members.selectors import member_identify
    from vipcare.org.models import Staff
    from vipcare.sales.models import Sale, SaleLine

    max_id = Member.objects.aggregate(m=Max("id"))["m"]
    if not max_id:
        sys.exit("no members: generate them first with `vipcare demo --members N`")
    rng = random.Random(args.seed)
    ids = rng.sample(range(1, max_id + 1), min(max_id, args.samples))
    members = list(Member.objects.filter(pk__in=ids, status="active").only("id", "card_no", "phone", "phone_index"))
    rng.shuffle(members)
    data = {
        "engine": connection.vendor,
        "members": Member.objects.count(),
        "sales": Sale.objects.count(),
        "sale_lines": SaleLine.objects.order_by().aggregate(n=Max("id"))["n"],  # ids are dense: cheaper than COUNT
        "database_bytes": _database_size(connection),
        "samples": len(members),
    }
    results = {}
    qn = connection.ops.quote_name
    member_table = qn(Member._meta.db_table)

    with connection.cursor() as cursor:
        def baseline_phone(member):
            cursor.execute(f"SELECT * FROM {member_table} WHERE phone_index = %s", [member.phone_index])
            return cursor.fetchall()

        results["baseline_phone_select"] = _stats(_timed(baseline_phone, members, args.warmup))
    results["member_identify_phone"] = _stats(_timed(lambda m: member_identify(m.phone), members, args.warmup))
    results["member_identify_card"] = _stats(_timed(lambda m: member_identify(m.card_no), members, args.warmup))

    line_table, store_table = qn(SaleLine._meta.db_table), qn("org_store")
    with connection.cursor() as cursor:
        def baseline_360(member):
            cursor.execute(f"SELECT * FROM {member_table} WHERE id = %s", [member.pk])
            cursor.fetchall()
            cursor.execute(f"SELECT l.*, s.name FROM {line_table} l JOIN {store_table} s ON s.id = l.store_id "
                           "WHERE l.member_id = %s ORDER BY l.sold_at DESC, l.id DESC LIMIT 50", [member.pk])
            cursor.fetchall()
            cursor.execute("SELECT COUNT(*), SUM(total_fen), MIN(sold_at), MAX(sold_at) FROM sales_sale "
                           "WHERE member_id = %s", [member.pk])
            cursor.fetchall()
            cursor.execute(f"SELECT brand, SUM(amount_fen) FROM {line_table} WHERE member_id = %s GROUP BY brand",
                           [member.pk])
            cursor.fetchall()

        results["baseline_360_queries"] = _stats(_timed(baseline_360, members, args.warmup))

    ops = Staff.objects.filter(role="operations_manager", is_active=True).select_related("user").first()
    try:
        from vipcare.members.selectors import member_timeline
        from vipcare.sales.selectors import member_purchase_totals, member_sale_lines

        def selectors_360(member):
            member = Member.objects.select_related("home_store", "account_manager", "registered_by").get(pk=member.pk)
            list(member_sale_lines(member=member, staff=ops)[:50])
            member_purchase_totals(member=member, staff=ops)
            member_timeline(member=member, staff=ops)

        results["member_360_selectors"] = _stats(_timed(selectors_360, members, args.warmup))
    except ImportError as exc:  # the selectors are not there yet: time the plain queries only
        results["member_360_selectors"] = {"skipped": str(exc)}

    if not args.skip_page:
        try:
            reverse("members:member_detail", args=[1])
        except NoReverseMatch:
            results["member_360_page"] = {"skipped": "the members:member_detail view does not exist yet"}
        else:
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(ops.user)

            def page(member):
                response = client.get(f"/members/{member.pk}/")
                assert response.status_code == 200, (member.pk, response.status_code)

            results["member_360_page"] = _stats(_timed(page, members, args.warmup))

    # How big the members are: lines per sampled member tell what the 360 page had to show.
    per_member = sorted(SaleLine.objects.filter(member_id__in=[m.pk for m in members]).values("member_id")
                        .annotate(n=Count("id")).values_list("n", flat=True))
    if per_member:
        data["sampled_members_lines"] = {"members_with_purchases": len(per_member),
                                         "median": per_member[len(per_member) // 2],
                                         "p95": per_member[int(len(per_member) * 0.95)], "max": per_member[-1]}
    print(json.dumps({"data": data, "results": results}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
