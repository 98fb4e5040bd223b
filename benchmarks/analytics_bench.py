"""Analytics refresh: wall time and peak memory by data size, beside lifetimes on the same data.

    .venv/bin/python benchmarks/analytics_bench.py --lines 100000 1000000 10000000 \\
        --lifetimes-up-to 10000000 --database --database-up-to 1000000 --repeat 3

Per size, sale facts are generated straight into Parquet (members = lines / 20, three years, each
member buying at their own rate until they leave — the BG/NBD story — 1–3 lines per visit, each
member with their own spend level — the Gamma-Gamma story); then,
each in its own child process so that its peak RSS is its own:

- **vipcare**: read the Parquet snapshot, per-member features in DuckDB, BG/NBD and Gamma-Gamma
  fits, expected purchases, P(active), CLV and every label (vipcare.analytics.pipeline) — the
  whole refresh except reading the database and writing the rows;
- **vipcare, fits only**: per member x, t_x, T and the spend after the first day in DuckDB (what
  lifetimes' summary computes), then the two fits — the same work as lifetimes below;
- **lifetimes**: summary_data_from_transaction_data + BetaGeoFitter + GammaGammaFitter on the
  same transactions (daily periods, the same as-of day).

`--database` also runs the complete `analytics_refresh` service (snapshot from SQLite through the
ADBC driver, rows written, published) on a fresh SQLite database holding the same facts, for sizes
up to `--database-up-to` (loading the database is not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HORIZON_DAYS = 3 * 365
FIRST_DAY = 19_000  # 2022-01-08
AS_OF_DAY = FIRST_DAY + HORIZON_DAYS - 1
ROOT = Path(__file__).resolve().parent.parent


def generate(lines: int, path: Path, seed: int = 1) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    members = max(lines // 20, 10)
    first = rng.integers(0, HORIZON_DAYS - 1, members)
    leave = first + rng.exponential(500, members)
    span = np.minimum(leave, HORIZON_DAYS - 1) - first
    weight = rng.gamma(0.8, 1.0, members)
    visits_target = lines / 1.5
    scale = max(visits_target - members, 0) / float((weight * span).sum())
    visits = 1 + rng.poisson(scale * weight * span)
    member = np.repeat(np.arange(1, members + 1, dtype=np.int64), visits)
    starts = np.repeat(first, visits)
    is_first = np.ones(member.size, dtype=bool)
    is_first[1:] = member[1:] != member[:-1]
    days = starts + np.where(is_first, 0, np.ceil(rng.random(member.size) * np.repeat(span, visits))).astype(np.int64)
    per_visit = 1 + rng.poisson(0.5, member.size)
    line_member = np.repeat(member, per_visit)[:lines]
    line_day = np.repeat(days, per_visit)[:lines] + FIRST_DAY
    member_rate = rng.gamma(4.0, 1 / 45_000, members)
    table = pa.table({
        "member_id": line_member,
        "store_id": rng.integers(1, 200, line_member.size, dtype=np.int64),
        "day": line_day.astype(np.int32),
        # The Gamma-Gamma story: each member's own spend level (rate ~ Gamma(q=4, gamma=45,000)),
        # line amounts ~ Gamma(p=2, that rate): about 300 yuan a line on average.
        "amount_fen": (rng.gamma(2.0, 1.0 / member_rate[line_member - 1]) + 100).astype(np.int64),
    })
    pq.write_table(table, path)
    Path(str(path) + ".members").write_text(str(members))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_vipcare(path: Path, fits_only: bool) -> dict:
    import duckdb  # noqa: F401  (imports are not the work being measured, for either side)
    import pyarrow.parquet as pq

    from vipcare.analytics import clv, engines, pipeline
    from vipcare.analytics.segments import SegmentRules

    rules = SegmentRules()
    facts = pq.read_table(path)
    start = time.perf_counter()
    if fits_only:
        features = _fit_summary(facts)
        lap = time.perf_counter()
        f = {name: features.column(name).to_numpy() for name in features.column_names}
        x, t_x, T = f["x"].astype(float), f["t_x"].astype(float), f["T"].astype(float)
        keep = T > 0
        bgnbd = clv.bgnbd_fit(x[keep], t_x[keep], T[keep])
        repeat = x > 0
        gg = clv.gamma_gamma_fit(x[repeat], f["repeat_spend_fen"][repeat] / x[repeat])
        parameters = {"bgnbd": bgnbd.as_dict(), "gamma_gamma": gg.as_dict()}
    else:
        features = engines.features_duckdb(facts, as_of_day=AS_OF_DAY, window=rules.falling_window_days)
        lap = time.perf_counter()
        members = int(Path(str(path) + ".members").read_text())
        results = pipeline.member_results(features, member_ids=np.arange(1, members + 1, dtype=np.int64),
                                          enrolled_day=np.full(members, FIRST_DAY, dtype=np.int64),
                                          as_of_day=AS_OF_DAY, rules=rules)
        parameters = results.parameters
    end = time.perf_counter()
    return {"seconds": end - start, "features_seconds": lap - start, "models_seconds": end - lap,
            "peak_mib": _peak_mib(), "parameters": parameters, "members": features.num_rows}


def _fit_summary(facts):
    """What lifetimes' summary_data_from_transaction_data computes, in DuckDB: per member the repeat
    purchase days x, the last one t_x and the age T (whole days), and the spend after the first day
    (the refresh's features query computes these among its eleven columns)."""
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.register("facts", facts)
        return con.sql(f"""
            WITH visits AS (
                SELECT member_id, day, CAST(SUM(amount_fen) AS BIGINT) AS spend FROM facts WHERE day <= {AS_OF_DAY}
                GROUP BY member_id, day HAVING SUM(amount_fen) > 0)
            SELECT COUNT(*) - 1 AS x, MAX(day) - MIN(day) AS t_x, {AS_OF_DAY} - MIN(day) AS T,
                   CAST(SUM(spend) - ARG_MIN(spend, day) AS BIGINT) AS repeat_spend_fen
            FROM visits GROUP BY member_id""").to_arrow_table()


def run_lifetimes(path: Path) -> dict:
    import pandas as pd
    import pyarrow.parquet as pq
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    facts = pq.read_table(path, columns=["member_id", "day", "amount_fen"]).to_pandas()
    facts["date"] = pd.to_datetime(facts["day"].astype("int64"), unit="D")
    # In yuan: lifetimes' Gamma-Gamma does not converge on amounts in the tens of thousands (fen).
    facts["amount"] = facts["amount_fen"] / 100
    start = time.perf_counter()
    summary = summary_data_from_transaction_data(
        facts, "member_id", "date", monetary_value_col="amount",
        observation_period_end=pd.to_datetime(AS_OF_DAY, unit="D"), freq="D")
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    end = time.perf_counter()
    p, g = bgf.params_, ggf.params_
    return {"seconds": end - start, "peak_mib": _peak_mib(), "parameters": {
        "bgnbd": {"r": p["r"], "alpha": p["alpha"], "a": p["a"], "b": p["b"]},
        "gamma_gamma": {"p": g["p"], "q": g["q"], "gamma": g["v"] * 100}}}


def run_database(path: Path) -> dict:
    """The complete service on a fresh SQLite database holding the facts (one sale per line)."""
    import datetime

    data_dir = tempfile.mkdtemp(prefix="vc-analytics-bench-")
    os.environ["VIPCARE_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipcare.settings")
    import django

    django.setup()
    import pyarrow.parquet as pq
    from django.core.management import call_command
    from django.db import connection

    from vipcare.analytics.services import analytics_refresh
    from vipcare.analytics.snapshot import EPOCH

    call_command("migrate", verbosity=0)
    facts = pq.read_table(path)
    members = int(Path(str(path) + ".members").read_text())
    connection.ensure_connection()
    _load_sqlite(connection, facts, members)
    as_of = EPOCH + datetime.timedelta(days=AS_OF_DAY)
    start = time.perf_counter()
    refresh = analytics_refresh(as_of=as_of)
    end = time.perf_counter()
    connection.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"seconds": end - start, "peak_mib": _peak_mib(), "timings": refresh.timings,
            "members": refresh.member_count}


def _load_sqlite(connection, facts, members: int) -> None:
    """Organisation, stores and members through the ORM (fresh database: ids 1..n as in the facts);
    one sale per line and the lines by raw inserts."""
    import datetime

    from django.utils import timezone

    from vipcare.members.models import Member
    from vipcare.org.models import Organisation, Store

    organisation = Organisation.objects.create(name="bench")
    Store.objects.bulk_create([Store(organisation=organisation, code=f"S{i}", name=f"S{i}") for i in range(1, 200)])
    enrolled = timezone.make_aware(datetime.datetime(2021, 1, 1))
    for lo in range(1, members + 1, 50_000):
        Member.objects.bulk_create([Member(card_no=f"B{i:09d}", name="会员", enrolled_at=enrolled)
                                    for i in range(lo, min(lo + 50_000, members + 1))])
    raw = connection.connection
    now = "2025-01-01 00:00:00"
    epoch = datetime.datetime(1970, 1, 1)
    member = facts.column("member_id").to_numpy()
    store = facts.column("store_id").to_numpy()
    day = facts.column("day").to_numpy()
    amount = facts.column("amount_fen").to_numpy()
    # 14:00 in Shanghai is 06:00 UTC: the local day is the day.
    stamps = {int(d): (epoch + datetime.timedelta(days=int(d), hours=6)).strftime("%Y-%m-%d %H:%M:%S")
              for d in np.unique(day)}
    batch = 200_000
    for lo in range(0, member.size, batch):
        hi = min(lo + batch, member.size)
        rows = [(i, int(s), int(m), stamps[int(d)], int(a))
                for i, s, m, d, a in zip(range(lo + 1, hi + 1), store[lo:hi], member[lo:hi], day[lo:hi],
                                         amount[lo:hi], strict=True)]
        raw.executemany(
            "INSERT INTO sales_sale (id, store_id, member_id, receipt_no, sold_at, total_fen, item_count, source, "
            "created_at) VALUES (?, ?, ?, CAST(? AS TEXT), ?, ?, 1, 'pos', ?)",
            [(i, s, m, i, t, a, now) for i, s, m, t, a in rows])
        raw.executemany(
            "INSERT INTO sales_saleline (id, sale_id, member_id, store_id, sold_at, brand, sku, category, "
            "unit_price_fen, quantity, discount_fen, amount_fen) VALUES (?, ?, ?, ?, ?, '', '', '', ?, 1, 0, ?)",
            [(i, i, m, s, t, a, a) for i, s, m, t, a in rows])
    raw.commit()


def _child(kind: str, path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _max_relative_difference(ours: dict, theirs: dict) -> float:
    worst = 0.0
    for model in ("bgnbd", "gamma_gamma"):
        for name, value in theirs[model].items():
            worst = max(worst, abs(ours[model][name] - value) / abs(value))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--lifetimes-up-to", type=int, default=1_000_000)
    parser.add_argument("--database", action="store_true")
    parser.add_argument("--database-up-to", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        result = {"full": lambda: run_vipcare(Path(path), False), "fits": lambda: run_vipcare(Path(path), True),
                  "lifetimes": lambda: run_lifetimes(Path(path)), "database": lambda: run_database(Path(path))}[kind]()
        print(json.dumps(result, default=float))
        return
    with tempfile.TemporaryDirectory(prefix="vc-analytics-bench-") as folder:
        for lines in args.lines:
            path = Path(folder) / f"facts-{lines}.parquet"
            generate(lines, path)
            members = int(Path(str(path) + ".members").read_text())
            print(f"\n== {lines:,} lines, {members:,} members", flush=True)
            kinds = ["full", "fits"] + (["lifetimes"] if lines <= args.lifetimes_up_to else []) + (
                ["database"] if args.database and lines <= args.database_up_to else [])
            results: dict[str, list[dict]] = {kind: [] for kind in kinds}
            for _ in range(args.repeat):
                for kind in kinds:
                    results[kind].append(_child(kind, path))
            medians = {kind: statistics.median(r["seconds"] for r in runs) for kind, runs in results.items()}
            for kind, runs in results.items():
                peak = max(r["peak_mib"] for r in runs)
                extra = ""
                if kind in ("full", "fits"):
                    extra = (f"  (features {statistics.median(r['features_seconds'] for r in runs):.3f} s, "
                             f"{'models+labels' if kind == 'full' else 'fits'} "
                             f"{statistics.median(r['models_seconds'] for r in runs):.3f} s)")
                if kind == "database":
                    extra = f"  {runs[0]['timings']}"
                print(f"{kind:10s} median {medians[kind]:8.2f} s   peak {peak:7.0f} MiB{extra}", flush=True)
            if "lifetimes" in results:
                diff = _max_relative_difference(results["fits"][0]["parameters"], results["lifetimes"][0]["parameters"])
                print(f"lifetimes / vipcare fits: {medians['lifetimes'] / medians['fits']:.1f}x; "
                      f"largest relative parameter difference {diff:.2e}", flush=True)
            print("parameters:", json.dumps(results["fits"][0]["parameters"], default=float), flush=True)


if __name__ == "__main__":
    main()
