"""`vipcare bench till`: real checkouts through the POS API on loopback, beside two ceilings.

One run, on a fresh copy of a prepared database each time:

- **http** — `vipcare serve` (waitress) processes on loopback ports; C client threads, each with its
  own till key and keep-alive connection, send checkouts (a member, points, stored value, some
  with a coupon; the level moves as spend accumulates) for S seconds after a short warm-up; a few
  are sent again with the same Idempotency-Key, as a till does when an answer is lost. Latency is
  measured per request at the client.
- **services** — the same checkouts written in-process: the same idempotency helper and
  `till_checkout` a view calls, from C threads spread over as many processes as there are
  servers, no HTTP.
- **driver** — the same rows written by hand-made SQL on the plain driver (sqlite3 / psycopg):
  claim the key, lock and burn points lots, pay from the card, redeem the coupon, insert the sale,
  earn a lot, read the window's spend, insert the checkout, store the answer — one transaction,
  no Django. The floor of what the database itself costs.

After each phase `check ledgers` runs on its database. Prints JSON. Children are this module run
as `python -m vipcare.till.bench ROLE`, with the database and keys in their environment. Two roles
serve to look at one checkout by hand, on the database in VIPCARE_DATA_DIR (or DATABASE_URL):

    python -m vipcare.till.bench prepare --clients 1 --members 200 --fixture F
    python -m vipcare.till.bench profile --fixture F --checkouts 300
"""

import http.client
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PRICES = [8800, 19900, 29900, 45900, 59900, 89900, 129900]
POINTS_EACH = 100  # per checkout
STORED_EACH = 2000  # fen per checkout
COUPON_SHARE = 0.3
RETRY_SHARE = 0.05
OPENING_POINTS = 50_000
OPENING_STORED = 2_000_000  # ¥20,000
COUPONS_PER_MEMBER = 5


# --- orchestration ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child(role: str, env: dict, *args: str, capture: bool = True) -> dict:
    out = subprocess.run([sys.executable, "-m", "vipcare.till.bench", role, *args], env=env, check=True,
                         stdout=subprocess.PIPE if capture else None, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) if capture else {}


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    """CPU time of a process (user + system), with that of its children that have ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError):
        return 0.0


def _postgres_cpu() -> float:
    """CPU of the PostgreSQL server: every postgres process, and the backends that have ended
    (counted in their parent's children time)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _cpu_seconds(int(entry.name), children=True)
            except OSError:
                continue
    return total


class Databases:
    """A prepared template and fresh copies of it, on SQLite files or a PostgreSQL server."""

    def __init__(self, kind: str, root: Path, base_env: dict):
        self.kind, self.root, self.base_env = kind, root, base_env
        self.url = os.environ.get("DATABASE_URL", "")
        self.made: list[str] = []

    def env(self, name: str) -> dict:
        env = dict(self.base_env)
        if self.kind == "sqlite":
            env.pop("DATABASE_URL", None)
            env["VIPCARE_DATA_DIR"] = str(self.root / name)
        else:
            env["DATABASE_URL"] = self.url.rsplit("/", 1)[0] + f"/{name}"
            env["VIPCARE_DATA_DIR"] = str(self.root / "data")
        return env

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)

    def create(self, name: str, template: str | None = None) -> dict:
        if self.kind == "sqlite":
            if template is None:
                (self.root / name).mkdir(parents=True)
            else:
                shutil.copytree(self.root / template, self.root / name)
        else:
            (self.root / "data").mkdir(parents=True, exist_ok=True)
            self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
            self.made.append(name)
        return self.env(name)

    def drop(self, name: str) -> None:
        if self.kind == "sqlite":
            shutil.rmtree(self.root / name, ignore_errors=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self.drop(name)


def _serve(env: dict, ports: list[int], threads: int) -> list[subprocess.Popen]:
    servers = [subprocess.Popen([sys.executable, "-m", "vipcare.cli", "serve", "--no-migrate", "--no-scheduler",
                                 "--port", str(port), "--threads", str(threads)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or any(s.poll() is not None for s in servers):
                    for s in servers:
                        s.kill()
                    raise RuntimeError("vipcare serve did not start") from None
                time.sleep(0.1)
    return servers


def run(*, clients: int, seconds: float, database: str, servers: int = 2, threads: int = 8, members: int = 1000,
        repeat: int = 1, warmup: float = 2.0, phases: tuple[str, ...] = ("http", "services", "driver")) -> dict:
    root = Path(tempfile.mkdtemp(prefix="vipcare-bench-"))
    base_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "vipcare.settings", "VIPCARE_LANGUAGE": "en",
                "VIPCARE_SECRET_KEY": secrets.token_urlsafe(40), "VIPCARE_INDEX_KEY": secrets.token_hex(32),
                "VIPCARE_DATA_KEY": _fernet_key()}
    dbs = Databases(database, root, base_env)
    fixture = root / "fixture.json"
    report: dict = {"database": database, "clients": clients, "seconds": seconds, "servers": servers,
                    "threads_per_server": threads, "members": members, "runs": []}
    try:
        started = time.perf_counter()
        env = dbs.create("vcbench_tpl")
        _child("prepare", env, "--clients", str(clients), "--members", str(members), "--fixture", str(fixture))
        report["prepare_seconds"] = round(time.perf_counter() - started, 1)
        for n in range(repeat):
            row = {}
            for phase in phases:
                name = f"vcbench_{phase}_{n}"
                env = dbs.create(name, "vcbench_tpl")
                args = ["--clients", str(clients), "--seconds", str(seconds), "--warmup", str(warmup),
                        "--fixture", str(fixture), "--workers", str(servers)]
                pg_before = _postgres_cpu() if database == "postgres" else 0.0
                if phase == "http":
                    ports = [_free_port() for _ in range(servers)]
                    procs = _serve(env, ports, threads)
                    try:
                        cpu_before = [_cpu_seconds(p.pid) for p in procs]
                        result = _child("clients", env, *args, "--ports", ",".join(map(str, ports)))
                        result["server_cpu_seconds"] = round(sum(_cpu_seconds(p.pid) - b
                                                                 for p, b in zip(procs, cpu_before, strict=True)), 1)
                    finally:
                        for proc in procs:
                            proc.terminate()
                        for proc in procs:
                            proc.wait(timeout=30)
                else:
                    result = _child(phase, env, *args)
                if database == "postgres":
                    result["postgres_cpu_seconds"] = round(_postgres_cpu() - pg_before, 1)
                result["check_ledgers"] = _child("check", env)
                row[phase] = result
                dbs.drop(name)
            report["runs"].append(row)
        report["median"] = _medians(report["runs"], phases)
    finally:
        dbs.close()
        shutil.rmtree(root, ignore_errors=True)
    return report


def _medians(runs: list[dict], phases) -> dict:
    median = {}
    for phase in phases:
        rows = [r[phase] for r in runs]
        median[phase] = {key: statistics.median(row[key] for row in rows)
                         for key in ("checkouts_per_s", "p50_ms", "p95_ms", "p99_ms")}
        median[phase]["ledgers_ok"] = all(row["check_ledgers"]["ok"] for row in rows)
    if "http" in median:
        for ceiling in ("services", "driver"):
            if ceiling in median and median[ceiling]["checkouts_per_s"]:
                median[f"http_to_{ceiling}"] = round(median["http"]["checkouts_per_s"]
                                                     / median[ceiling]["checkouts_per_s"], 3)
    return median


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# --- the basket every phase sends ---------------------------------------------------------------------


class Basket:
    """Checkouts for one client thread: its own members (so coupons are tracked without sharing),
    points and stored value each time, a coupon now and then."""

    def __init__(self, members: list, index: int, clients: int, seed: int):
        self.mine = [m for i, m in enumerate(members) if i % clients == index]
        self.coupons = {card: list(codes) for card, codes in self.mine}
        self.rng = random.Random(seed)

    def next(self) -> tuple[dict, str | None]:
        card, _codes = self.rng.choice(self.mine)
        body = {"member": card, "points": POINTS_EACH, "stored_value_fen": STORED_EACH,
                "lines": [{"unit_price_fen": self.rng.choice(PRICES), "quantity": 1, "brand": "兰蔻",
                           "category": "护肤"}]}
        coupon = None
        if self.coupons[card] and self.rng.random() < COUPON_SHARE:
            coupon = self.coupons[card].pop()
            body["coupons"] = [coupon]
        return body, coupon


def _percentiles(latencies: list[float]) -> dict:
    if not latencies:
        return {"p50_ms": 0, "p95_ms": 0, "p99_ms": 0}
    if len(latencies) == 1:
        latencies = latencies * 2
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 2), "p95_ms": round(cuts[94] * 1000, 2),
            "p99_ms": round(cuts[98] * 1000, 2)}


def _sent(send, key: str, idem: str, body: dict):
    try:
        return send(key, idem, body)
    except Exception as error:  # counted, not lost with the thread
        return f"error {type(error).__name__}: {error}"[:120]


def _loop(index: int, clients: int, fixture: dict, seconds: float, warmup: float, start: threading.Barrier,
          send, results: list) -> None:
    """One client: warm up, then send checkouts until the time is up; record each one."""
    basket = Basket(fixture["members"], index, clients, seed=index)
    key = fixture["keys"][index]
    statuses: dict[int, int] = {}
    latencies, replays = [], []
    rng = random.Random(1000 + index)
    run = secrets.token_hex(4)
    start.wait()
    warm_until = time.perf_counter() + warmup
    stop = warm_until + seconds
    n = 0
    while True:
        now = time.perf_counter()
        if now >= stop:
            break
        body, _coupon = basket.next()
        idem = f"{run}-{index}-{n}"
        n += 1
        t0 = time.perf_counter()
        status = _sent(send, key, idem, body)
        t1 = time.perf_counter()
        if t0 < warm_until:
            continue
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append(t1 - t0)
        if rng.random() < RETRY_SHARE:  # the answer was lost: the till sends it again
            t0 = time.perf_counter()
            again = _sent(send, key, idem, body)
            replays.append(time.perf_counter() - t0)
            statuses[f"replay {again}"] = statuses.get(f"replay {again}", 0) + 1
    results[index] = {"statuses": statuses, "latencies": latencies, "replays": replays}


def _summary(results: list[dict], seconds: float) -> dict:
    statuses: dict = {}
    latencies, replays = [], []
    for r in results:
        for status, count in r["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
        latencies += r["latencies"]
        replays += r["replays"]
    accepted = statuses.get("201", 0)
    return {"checkouts": accepted, "checkouts_per_s": round(accepted / seconds, 1), "statuses": statuses,
            **_percentiles(latencies), "replay_p50_ms": _percentiles(replays)["p50_ms"]}


def _threads(clients: int, target, *args) -> list:
    results: list = [None] * clients
    start = threading.Barrier(clients)
    threads = [threading.Thread(target=target, args=(i, clients, *args, start, results)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# --- child roles ----------------------------------------------------------------------------------------


def _setup_django() -> None:
    import django

    django.setup()


def role_prepare(clients: int, members: int, fixture: Path) -> dict:
    """Migrate; stores and a till key per client; members with points, a loaded card and coupons."""
    _setup_django()
    from django.core.management import call_command

    from vipcare.loyalty.services import points_earn
    from vipcare.members.services import member_enroll
    from vipcare.offers.models import Coupon, CouponTemplate
    from vipcare.offers.services import coupon_issue_bulk
    from vipcare.org.models import Organisation, Store
    from vipcare.org.services import api_key_issue
    from vipcare.wallet.services import wallet_top_up

    call_command("migrate", interactive=False, verbosity=0)
    org = Organisation.objects.create(name="基准商场")
    stores = [Store.objects.create(organisation=org, code=f"B{i:02d}", name=f"基准店{i}") for i in range(8)]
    keys = [api_key_issue(store=stores[i % len(stores)], name=f"bench till {i}")[1] for i in range(clients)]
    template = CouponTemplate.objects.create(code="bench-off20", name="立减20", kind="amount_off", amount_fen=2000,
                                             valid_days=30)
    ids = []
    for i in range(members):
        member = member_enroll(name=f"会员{i}", phone=f"139{i:08d}", home_store=stores[i % len(stores)])
        points_earn(member=member, points=OPENING_POINTS, idempotency_key="bench-opening")
        wallet_top_up(member=member, pay_fen=OPENING_STORED, idempotency_key="bench-opening",
                      store=stores[i % len(stores)])
        ids.append(member.pk)
    for batch in range(COUPONS_PER_MEMBER):
        coupon_issue_bulk(template=template, member_ids=ids, key=lambda m, b=batch: f"bench:{b}:{m}")
    codes: dict[int, list[str]] = {}
    for member_id, code in Coupon.objects.values_list("member_id", "code"):
        codes.setdefault(member_id, []).append(code)
    from vipcare.members.models import Member

    cards = dict(Member.objects.values_list("pk", "card_no"))
    fixture.write_text(json.dumps({"keys": keys, "members": [[cards[m], codes.get(m, [])] for m in ids]}))
    return {"members": members, "keys": len(keys)}


def role_clients(clients: int, seconds: float, warmup: float, fixture: Path, ports: list[int]) -> dict:
    data = json.loads(fixture.read_text())
    local = threading.local()

    def send(key: str, idem: str, body: dict) -> int:
        conn = getattr(local, "conn", None)
        if conn is None:
            port = ports[threading.get_ident() % len(ports)]
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", "/api/pos/till/checkouts", body=json.dumps(body).encode(), headers={
            "Authorization": f"Bearer {key}", "Idempotency-Key": idem, "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status

    def client(index, n, fixture_data, secs, warm, start, results):
        local.conn = http.client.HTTPConnection("127.0.0.1", ports[index % len(ports)], timeout=120)
        _loop(index, n, fixture_data, secs, warm, start, send, results)

    cpu = time.process_time()
    results = _threads(clients, client, data, seconds, warmup)
    return {**_summary(results, seconds), "client_cpu_seconds": round(time.process_time() - cpu, 1)}


def _spread(clients: int, workers: int, role: str, fixture: Path, seconds: float, warmup: float) -> dict:
    """Run `role` in `workers` processes, the clients dealt over them; sum what they report."""
    procs = []
    for w in range(workers):
        mine = [i for i in range(clients) if i % workers == w]
        procs.append(subprocess.Popen([sys.executable, "-m", "vipcare.till.bench", f"{role}-worker", "--fixture",
                                       str(fixture), "--seconds", str(seconds), "--warmup", str(warmup),
                                       "--clients", str(clients), "--mine", ",".join(map(str, mine))],
                                      stdout=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"{role} worker failed")
        results += json.loads(out.strip().splitlines()[-1])["results"]
    return _summary(results, seconds)


def _worker(clients: int, mine: list[int], fixture: Path, seconds: float, warmup: float, send_for) -> dict:
    data = json.loads(fixture.read_text())
    results: list = [None] * clients
    start = threading.Barrier(len(mine))
    threads = [threading.Thread(target=_loop, args=(i, clients, data, seconds, warmup, start, send_for(), results))
               for i in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"results": [r for r in results if r is not None]}


def role_services_worker(clients: int, mine: list[int], fixture: Path, seconds: float, warmup: float) -> dict:
    """The writes of the checkout endpoint, in-process: the idempotency helper around what the
    view runs (`till.api.checkout_answer`), without HTTP."""
    _setup_django()
    from django.db import connection

    from vipcare.core.idempotency import idempotent
    from vipcare.org.auth import api_key_for
    from vipcare.till import schemas
    from vipcare.till.api import checkout_answer
    from vipcare.till.services import TillRefused

    def send_for():
        def send(raw: str, idem: str, body: dict) -> int:
            api_key = api_key_for(raw)
            payload = schemas.CheckoutIn(**body)
            try:
                return idempotent(api_key=api_key, key=idem, operation="till.checkout",
                                  payload=payload.model_dump(mode="json"),
                                  perform=lambda: checkout_answer(api_key, payload, idem)).status_code
            except TillRefused as refused:
                return refused.status
            finally:
                connection.close_if_unusable_or_obsolete()
        return send

    return _worker(clients, mine, fixture, seconds, warmup, send_for)


def role_driver_worker(clients: int, mine: list[int], fixture: Path, seconds: float, warmup: float) -> dict:
    """The same rows by hand on the plain driver (see driver.py)."""
    _setup_django()
    from vipcare.till.bench_driver import DriverCheckout

    return _worker(clients, mine, fixture, seconds, warmup, lambda: DriverCheckout().send)


def role_profile(checkouts: int, fixture: Path) -> dict:
    """One thread, in-process: what one checkout costs (`python -m vipcare.till.bench profile`, on a
    database made by `prepare`): its statements and Python function calls, then the CPU and wall
    time of `checkouts` more, each a new key through the idempotency helper and the view's
    `checkout_answer`."""
    _setup_django()
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vipcare.core.idempotency import idempotent
    from vipcare.org.auth import api_key_for
    from vipcare.till import schemas
    from vipcare.till.api import checkout_answer

    data = json.loads(fixture.read_text())
    basket, raw, run = Basket(data["members"], 0, 1, seed=1), data["keys"][0], secrets.token_hex(4)

    def one(n: int) -> None:
        body, _coupon = basket.next()
        api_key, payload, idem = api_key_for(raw), schemas.CheckoutIn(**body), f"{run}-{n}"
        result = idempotent(api_key=api_key, key=idem, operation="till.checkout",
                            payload=payload.model_dump(mode="json"),
                            perform=lambda: checkout_answer(api_key, payload, idem))
        if result.status_code != 201:
            raise RuntimeError(result.body)

    for n in range(10):  # warm: imports, the configuration, the statement texts
        one(n)
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profile.enable()
        one(10)
        profile.disable()
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(11, 11 + checkouts):
        one(n)
    return {"statements": len(queries.captured_queries), "python_calls": pstats.Stats(profile).total_calls,
            "cpu_ms": round((time.process_time() - cpu) / checkouts * 1000, 2),
            "wall_ms": round((time.perf_counter() - wall) / checkouts * 1000, 2)}


def role_check() -> dict:
    _setup_django()
    from vipcare.loyalty.integrity import check_ledgers
    from vipcare.till.models import Checkout

    report = check_ledgers()
    return {"ok": report.ok, "violations": len(report.violations), "checkouts": Checkout.objects.count(),
            "points_entries": report.points_entries, "wallet_entries": report.wallet_entries}


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m vipcare.till.bench")
    parser.add_argument("role")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--fixture", type=Path)
    parser.add_argument("--ports", default="")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mine", default="")
    parser.add_argument("--checkouts", type=int, default=300)
    a = parser.parse_args(argv)
    mine = [int(i) for i in a.mine.split(",") if i]
    if a.role == "prepare":
        result = role_prepare(a.clients, a.members, a.fixture)
    elif a.role == "clients":
        result = role_clients(a.clients, a.seconds, a.warmup, a.fixture, [int(p) for p in a.ports.split(",")])
    elif a.role in ("services", "driver"):
        result = _spread(a.clients, a.workers, a.role, a.fixture, a.seconds, a.warmup)
    elif a.role == "services-worker":
        result = role_services_worker(a.clients, mine, a.fixture, a.seconds, a.warmup)
    elif a.role == "driver-worker":
        result = role_driver_worker(a.clients, mine, a.fixture, a.seconds, a.warmup)
    elif a.role == "profile":
        result = role_profile(a.checkouts, a.fixture)
    elif a.role == "check":
        result = role_check()
    else:
        raise SystemExit(f"unknown role {a.role}")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
