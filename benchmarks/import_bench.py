"""Sales import speed and memory, against a plain-driver baseline.

    .venv/bin/python benchmarks/import_bench.py --rows 1000000 --database sqlite --repeat 3
    VIPCARE_PG_PORT=55433 scripts/with-postgres .venv/bin/python benchmarks/import_bench.py --rows 1000000 \\
        --database postgres --repeat 3

Generates a POS-like sales CSV (UTF-8, Chinese headers, 1–4 lines per receipt, times in order)
into a temporary folder, sets up a database once with the stores and members the file names
(a template: an SQLite file copied per run, a PostgreSQL template database), and then, per run,
in a fresh copy each time and each in its own child process:

  import    vipcare's `sales_import` (checks every row, all-or-nothing, skips known receipts)
  baseline  the same file loaded by hand with the plain driver into the same tables: csv.reader,
            no checks, sqlite3 executemany / psycopg COPY in one transaction, the same SQLite
            settings as the import (WAL, synchronous=NORMAL, 64 MiB page cache, foreign keys
            not enforced — sqlite3's default)

Each child measures its own wall time around the load and its peak RSS
(resource.getrusage(RUSAGE_SELF).ru_maxrss inside the child, so the figure is that process's
alone: Python, Django, the dicts of stores and members, the chunk being written). Prints JSON.
"""

import argparse
import csv
import datetime
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
HEADER = ["门店编码", "小票号", "销售时间", "卡号", "品牌", "款号", "品类", "单价", "数量", "折扣金额", "导购工号"]
BRANDS = ["太平鸟", "歌莉娅", "江南布衣", "欧时力", "地素", "玖姿", "优衣库", "海澜之家", "雅戈尔", "七匹狼", "兰蔻",
          "雅诗兰黛", "资生堂", "周大福", "老凤祥", "李宁", "安踏", "耐克", "阿迪达斯", "星巴克"]
CATEGORIES = ["连衣裙", "衬衫", "裤装", "外套", "护肤", "彩妆", "黄金", "运动鞋", "配饰", "饮品"]
# the columns vipcare's import writes (baseline children do not load Django)
_SALE_COLUMNS = ("id", "store_id", "member_id", "receipt_no", "sold_at", "total_fen", "item_count", "staff_id",
                 "source", "import_batch_id", "created_at")
_LINE_COLUMNS = ("sale_id", "member_id", "store_id", "sold_at", "brand", "sku", "category", "unit_price_fen",
                 "quantity", "discount_fen", "amount_fen")


def card_no(i: int) -> str:
    return f"9{i:011d}"


def generate(path: Path, *, rows: int, stores: int, members: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    prices = [f"{rng.randint(20, 3000)}.{rng.choice(['00', '50', '90', '99', '80'])}" for _ in range(2000)]
    when = datetime.datetime(2024, 1, 1, 10, 0, 0)
    step = max(1, int(2.5 * 365 * 86400 / max(rows / 2, 1)))
    written = receipt = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\r\n")
        while written < rows:
            receipt += 1
            store = rng.randrange(stores)
            member = card_no(rng.randrange(members))
            when += datetime.timedelta(seconds=rng.randint(1, step))
            stamp = when.strftime("%Y-%m-%d %H:%M:%S")
            buf = []
            for _ in range(min(rng.choice((1, 1, 2, 2, 3, 4)), rows - written)):
                b = rng.randrange(len(BRANDS))
                price = rng.choice(prices)
                discount = rng.choice(("", "", "0", "10.00", "5.50"))
                buf.append(f"S{store:04d},R{receipt:09d},{stamp},{member},{BRANDS[b]},{b:02d}-{rng.randrange(5000):04d},"
                           f"{CATEGORIES[b % len(CATEGORIES)]},{price},{rng.choice((1, 1, 1, 2, 3))},{discount},\r\n")
                written += 1
            f.write("".join(buf))


# --- databases -------------------------------------------------------------------------------------------------------

def pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def with_dbname(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def run_child(args: list[str], env: dict) -> dict:
    out = subprocess.run([sys.executable, str(HERE), *args], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{' '.join(args[:2])} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def django_env(data_dir: Path, url: str) -> dict:
    return {**os.environ, "VIPCARE_DATA_DIR": str(data_dir), "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "vipcare.settings", "PYTHONPATH": str(ROOT / "src")}


def child_setup(stores: int, members: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from vipcare.members.models import Member
    from vipcare.org.models import Organisation, Store

    call_command("migrate", verbosity=0)
    organisation = Organisation.objects.create(name="基准商场")
    Store.objects.bulk_create(Store(organisation=organisation, code=f"S{i:04d}", name=f"店铺{i}")
                              for i in range(stores))
    now = timezone.now()
    Member.objects.bulk_create((Member(card_no=card_no(i), name=f"会员{i}", enrolled_at=now) for i in range(members)),
                               batch_size=5000)
    return {"ok": True}


def child_import(file: str) -> dict:
    import django

    django.setup()
    from vipcare.sales.importing import sales_import

    started = time.perf_counter()
    report = sales_import(path=file)
    seconds = time.perf_counter() - started
    assert report.committed, [str(e) for e in report.errors[:5]]
    return {"seconds": seconds, "rows": report.rows_written,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _fen(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole or 0) * 100 + int((frac + "00")[:2])


def _baseline_rows(file: str, stores: dict, cards: dict, sale_id, to_db):
    """Sale and line rows from the file with no checks at all; yields chunks of (sales, lines)."""
    sales, lines = [], []
    current = None
    now = to_db(datetime.datetime.now(datetime.UTC))
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    with open(file, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            key = (row[0], row[1])
            if key != current:
                if len(lines) >= 5000:
                    yield sales, lines
                    sales, lines = [], []
                current = key
                sid = sale_id()
                store, member = stores[row[0]], cards[row[3]]
                sold_at = to_db(datetime.datetime.fromisoformat(row[2]).replace(tzinfo=shanghai))
                sale = [sid, store, member, row[1], sold_at, 0, 0, None, "import", None, now]
                sales.append(sale)
            price, quantity = _fen(row[7]), int(row[8])
            discount = _fen(row[9]) if row[9] else 0
            amount = price * quantity - discount
            sale[5] += amount
            sale[6] += quantity
            lines.append((sid, member, store, sold_at, row[4], row[5], row[6], price, quantity, discount, amount))
    yield sales, lines


def child_baseline(file: str, url: str) -> dict:
    started = time.perf_counter()
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")  # the page cache the import uses too
        conn.execute("BEGIN IMMEDIATE")
        stores = dict(conn.execute("SELECT code, id FROM org_store"))
        cards = dict(conn.execute("SELECT card_no, id FROM members_member"))
        counter = iter(range(1, 1 << 62))
        sale_sql = f"INSERT INTO sales_sale ({','.join(_SALE_COLUMNS)}) VALUES ({','.join('?' * len(_SALE_COLUMNS))})"
        line_sql = (f"INSERT INTO sales_saleline ({','.join(_LINE_COLUMNS)}) "
                    f"VALUES ({','.join('?' * len(_LINE_COLUMNS))})")
        rows = 0
        to_db = lambda d: str(d.astimezone(datetime.UTC).replace(tzinfo=None))  # noqa: E731
        for sales, lines in _baseline_rows(file, stores, cards, counter.__next__, to_db):
            conn.executemany(sale_sql, sales)
            conn.executemany(line_sql, lines)
            rows += len(lines)
        conn.execute("COMMIT")
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as conn, conn.cursor() as cur:
            stores = dict(cur.execute("SELECT code, id FROM org_store").fetchall())
            cards = dict(cur.execute("SELECT card_no, id FROM members_member").fetchall())
            counter = iter(range(1, 1 << 62))
            rows = 0
            for sales, lines in _baseline_rows(file, stores, cards, counter.__next__, lambda d: d):
                with cur.copy(f"COPY sales_sale ({','.join(_SALE_COLUMNS)}) FROM STDIN") as copy:
                    for row in sales:
                        copy.write_row(row)
                with cur.copy(f"COPY sales_saleline ({','.join(_LINE_COLUMNS)}) FROM STDIN") as copy:
                    for row in lines:
                        copy.write_row(row)
                rows += len(lines)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--no-baseline", action="store_true", help="time the import only")
    parser.add_argument("--child", choices=["setup", "import", "baseline"])
    parser.add_argument("--file")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.child == "setup":
        print(json.dumps(child_setup(args.stores, args.members)))
        return
    if args.child == "import":
        print(json.dumps(child_import(args.file)))
        return
    if args.child == "baseline":
        print(json.dumps(child_baseline(args.file, args.url)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="vipcare-import-bench-"))
    try:
        file = tmp / "sales.csv"
        started = time.perf_counter()
        generate(file, rows=args.rows, stores=args.stores, members=args.members)
        generated = time.perf_counter() - started
        if args.database == "sqlite":
            template = tmp / "template.sqlite3"
            run_child(["--child", "setup", "--stores", str(args.stores), "--members", str(args.members)],
                      django_env(tmp, f"sqlite:///{template}"))

            def fresh(name: str) -> str:
                target = tmp / f"{name}.sqlite3"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(template, target)
                return f"sqlite:///{target}"
        else:
            base = os.environ.get("DATABASE_URL", "")
            if not base.startswith("postgres"):
                sys.exit("--database postgres needs DATABASE_URL (run under scripts/with-postgres)")
            pg_admin(base, "DROP DATABASE IF EXISTS bench_template")
            pg_admin(base, "CREATE DATABASE bench_template")
            run_child(["--child", "setup", "--stores", str(args.stores), "--members", str(args.members)],
                      django_env(tmp, with_dbname(base, "bench_template")))

            def fresh(name: str) -> str:
                pg_admin(base, f"DROP DATABASE IF EXISTS bench_{name}")
                pg_admin(base, f"CREATE DATABASE bench_{name} TEMPLATE bench_template")
                return with_dbname(base, f"bench_{name}")

        runs = []
        for _ in range(args.repeat):
            url = fresh("import")
            imported = run_child(["--child", "import", "--file", str(file)], django_env(tmp, url))
            if args.no_baseline:
                runs.append({"import": imported})
                continue
            url = fresh("baseline")
            baseline = run_child(["--child", "baseline", "--file", str(file), "--url", url], django_env(tmp, url))
            runs.append({"import": imported, "baseline": baseline})
        seconds = statistics.median(r["import"]["seconds"] for r in runs)
        base_seconds = None if args.no_baseline else statistics.median(r["baseline"]["seconds"] for r in runs)
        result = {
            "database": args.database,
            "rows": args.rows,
            "file_mb": round(file.stat().st_size / 2**20, 1),
            "stores": args.stores,
            "members": args.members,
            "chunk": int(os.environ.get("VIPCARE_IMPORT_CHUNK", "5000")),
            "generate_seconds": round(generated, 1),
            "runs": [{k: {m: round(v, 2) for m, v in r[k].items()} for k in r} for r in runs],
            "import_rows_per_s": round(args.rows / seconds),
            "baseline_rows_per_s": base_seconds and round(args.rows / base_seconds),
            "ratio_import_to_baseline_time": base_seconds and round(seconds / base_seconds, 2),
            "import_peak_rss_mb": round(max(r["import"]["peak_rss_mb"] for r in runs), 1),
            "baseline_peak_rss_mb": base_seconds and round(max(r["baseline"]["peak_rss_mb"] for r in runs), 1),
            "memory": "peak RSS of each child process, getrusage(RUSAGE_SELF).ru_maxrss",
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
    finally:
        if args.database == "postgres" and os.environ.get("DATABASE_URL", "").startswith("postgres"):
            for name in ("import", "baseline", "template"):
                try:
                    pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS bench_{name}")
                except Exception:  # noqa: BLE001 (clean-up is best effort)
                    pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
