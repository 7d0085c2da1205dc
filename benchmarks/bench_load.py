"""Load benchmark: 200 district supervisors on gunicorn, on loopback, against the 20k demo city and a
200k-enterprise city on PostgreSQL (issue #12: p95 ≤ 1 s for routine pages, ≤ 2 s for statistics, 0 errors).

    .venv/bin/python benchmarks/bench_load.py            # every city that is built; the others are skipped
    .venv/bin/python benchmarks/bench_load.py 20k        # one city

Each city is its own database, built once and reused (a city missing or smaller than its size is skipped
with the commands that build it):

    export FOODRISK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/foodrisk_load_200k
    .venv/bin/foodrisk migrate && .venv/bin/foodrisk seed && .venv/bin/foodrisk demo_accounts
    # 20k: the demo city (synth files through the ingest pipeline, then a full scoring run), ≈ 2 min
    .venv/bin/foodrisk demo_data --enterprises 20000
    # 200k: the scoring benchmark's bulk loader (engine sample data COPYed into the archive; the synth path
    # takes well over an hour at this size on 2 busy cores), then a full scoring run (≈ 6 min)
    BENCH_ENTERPRISES=200000 BENCH_RECORDS_PER_ENTERPRISE=15 .venv/bin/python benchmarks/bench_scoring.py --bulk-load
    .venv/bin/foodrisk score --full --as-of 2026-06-30 --wait --bootstrap food_2016

Per city: 200 supervisor accounts spread over the city's districts are made once (``load-001`` …); every page
of the scenario is requested once as one of them in-process to count its queries and time it alone; then
gunicorn (the repo's config, foodrisk.gunicorn_conf) serves on 127.0.0.1 and locust (headless, in its own
process, benchmarks/load/locustfile.py) runs the users for a bounded time. Figures: response time percentiles
per page class and per page (client side), server time per view (from the JSON access log), errors, the
machine's load averages before and after (the machine is shared: read figures with them).

Variables: BENCH_LOAD_DB_20K / BENCH_LOAD_DB_200K (database URLs), BENCH_LOAD_USERS (200),
BENCH_LOAD_SPAWN_RATE (5 per s), BENCH_LOAD_RUN_TIME (3m), BENCH_LOAD_THINK ("3,15" s), BENCH_LOAD_PORT (8170),
BENCH_LOAD_VAR_20K / _200K (the FOODRISK_VAR_DIR a city was built with, when not the default: its secret key
decrypts the city's encrypted fields), BENCH_LOAD_CACHE_URL (redis://…; in-process cache otherwise), FOODRISK_WEB_WORKERS / _THREADS / _WORKER_CLASS
(the gunicorn config's), BENCH_LOAD_TAG (a suffix for the result file, e.g. "before").
Results: benchmarks/results/load-<city>[-<tag>].json.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
CITIES = {
    "20k": (os.environ.get("BENCH_LOAD_DB_20K", "postgres://postgres@127.0.0.1:5432/foodrisk_load_20k"), 15_000),
    "200k": (os.environ.get("BENCH_LOAD_DB_200K", "postgres://postgres@127.0.0.1:5432/foodrisk_load_200k"), 150_000),
}
USERS = int(os.environ.get("BENCH_LOAD_USERS", 200))
SPAWN_RATE = os.environ.get("BENCH_LOAD_SPAWN_RATE", "5")
RUN_TIME = os.environ.get("BENCH_LOAD_RUN_TIME", "3m")
THINK = os.environ.get("BENCH_LOAD_THINK", "3,15")
PORT = int(os.environ.get("BENCH_LOAD_PORT", 8170))
TAG = os.environ.get("BENCH_LOAD_TAG", "")
PASSWORD = "Load-bench-2026!"
GOALS_MS = {"routine": 1000, "statistics": 2000}
# the scenario's pages (locustfile), requested once each alone to count queries; {id} = one of the user's enterprises
PAGES = {"home": "/", "enterprise list": "/enterprises/", "enterprise search": "/enterprises/?q=食品",
         "enterprise list by grade": "/enterprises/?current_grade=D", "enterprise file": "/enterprises/{id}/",
         "score explanation": "/scoring/enterprises/{id}/", "scores": "/scoring/scores/",
         "inspections": "/records/inspections/", "my alerts": "/alerts/", "my tasks": "/supervision/tasks/mine/",
         "grade overview": "/scoring/", "grade changes": "/scoring/changes/"}


def django_env(city, url):
    env = {**os.environ, "FOODRISK_DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "foodrisk.settings"}
    if os.environ.get(f"BENCH_LOAD_VAR_{city.upper()}"):  # the city's secret key (encrypted fields) lives there
        env["FOODRISK_VAR_DIR"] = os.environ[f"BENCH_LOAD_VAR_{city.upper()}"]
    env.pop("FOODRISK_TESTING", None)
    if os.environ.get("BENCH_LOAD_CACHE_URL"):
        env["FOODRISK_CACHE_URL"] = os.environ["BENCH_LOAD_CACHE_URL"]
    return env


# --------------------------------------------------------------------------------------------------
# child process (Django): accounts and the one-request-per-page probe
# --------------------------------------------------------------------------------------------------
def prepare(min_enterprises, out_path):
    """Print "missing: …" when the city is not built; otherwise make the load accounts, probe every page
    once and write the accounts file for locust."""
    import django
    from django.db import OperationalError, ProgrammingError

    django.setup()
    from django.db import connection

    try:
        connection.ensure_connection()
        from foodrisk.enterprises.models import Enterprise

        n = Enterprise.objects.count()
    except (OperationalError, ProgrammingError) as exc:  # no database, or no tables in it
        print(json.dumps({"missing": f"database not reachable or not migrated ({type(exc).__name__})"}))
        return
    if n < min_enterprises:
        print(json.dumps({"missing": f"{n} enterprises (< {min_enterprises})"}))
        return
    accounts = load_accounts()
    probe = probe_pages(accounts[0])
    Path(out_path).write_text(json.dumps(accounts, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"enterprises": n, "accounts": len(accounts), "probe": probe}, ensure_ascii=False))


def load_accounts():
    """USERS supervisors, round-robin over the districts that have enterprises; each with enterprise ids of
    its district for the detail pages."""
    from django.contrib.auth.hashers import identify_hasher
    from django.db.models import Count

    from foodrisk.core.models import Organisation, Region, Role, User
    from foodrisk.core.services import accounts
    from foodrisk.enterprises.models import Enterprise

    counties = [code for code, n in Enterprise.objects.values_list("region__code").annotate(n=Count("id"))
                .order_by("region__code") if n >= 50 and len(code) == 6 and not code.endswith("00")]
    districts = list(Region.objects.filter(code__in=counties).order_by("code"))
    role = Role.objects.get(code="supervisor")
    ids = {d.code: list(Enterprise.objects.filter(region_id=d.code).order_by("?").values_list("id", flat=True)[:200])
           for d in districts}
    out = []
    for i in range(USERS):
        district = districts[i % len(districts)]
        username = f"load-{i + 1:03d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            org, _ = Organisation.objects.get_or_create(
                code=f"FJ{district.code}", defaults={"name": f"{district.name}市场监督管理局", "kind": "branch",
                                                     "region": district})
            user = accounts.create_user(username=username, password=PASSWORD, full_name=f"压测用户{i + 1}",
                                        organisation=org, roles=[role])
        elif identify_hasher(user.password).must_update(user.password):
            user.set_password(PASSWORD)  # what the first login after a hasher change does; not measured
            user.save(update_fields=["password"])
        out.append({"username": username, "password": PASSWORD, "scope": user.scope_code,
                    "enterprise_ids": ids.get(user.scope_code) or ids[district.code]})
    return out


def probe_pages(account):
    """Each page once (after one warm-up request) as one load user: status, queries, server time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from foodrisk.core.models import User

    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(username=account["username"]))
    out = {}
    for name, url in PAGES.items():
        url = url.format(id=account["enterprise_ids"][0])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        # CPU time of the Django process: steadier than wall time on a shared machine
        out[name] = {"status": response.status_code, "queries": len(queries), "ms": round(elapsed * 1000, 1),
                     "cpu_ms": round(cpu * 1000, 1)}
    return out


# --------------------------------------------------------------------------------------------------
# parent: gunicorn + locust, figures
# --------------------------------------------------------------------------------------------------
def percentiles(values):
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"count": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1),
            "mean": round(statistics.fmean(ordered), 1)}


def wait_until_up(url, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def run_city(city, url, min_enterprises):
    work = Path(tempfile.mkdtemp(prefix=f"foodrisk-load-{city}-"))
    env = django_env(city, url)
    prepared = subprocess.run([sys.executable, __file__, "--prepare", str(min_enterprises), str(work / "users.json")],
                              env={**env, "FOODRISK_DB_POOL": "0"}, cwd=ROOT, capture_output=True, text=True, check=False, timeout=1800)
    if prepared.returncode:
        sys.stderr.write(prepared.stderr[-4000:])
        raise SystemExit(f"preparing the {city} city failed")
    info = json.loads(prepared.stdout.strip().splitlines()[-1])
    if "missing" in info:
        build = (f"  .venv/bin/foodrisk demo_data --enterprises {min_enterprises * 4 // 3 // 1000 * 1000}" if city == "20k"
                 else "  BENCH_ENTERPRISES=200000 BENCH_RECORDS_PER_ENTERPRISE=15 .venv/bin/python "
                      "benchmarks/bench_scoring.py --bulk-load\n"
                      "  .venv/bin/foodrisk score --full --as-of 2026-06-30 --wait --bootstrap food_2016")
        print(f"load {city}: skipped — {info['missing']} in {url}. Build it once with:\n"
              f"  export FOODRISK_DATABASE_URL={url}\n"
              f"  .venv/bin/foodrisk migrate && .venv/bin/foodrisk seed && .venv/bin/foodrisk demo_accounts\n"
              f"{build}", flush=True)
        return None
    print(f"load {city}: {info['enterprises']:,} enterprises, {info['accounts']} accounts; pages alone:", flush=True)
    for name, p in info["probe"].items():
        print(f"  {name:<26} {p['status']}  {p['queries']:>3} queries  {p['ms']:>7.1f} ms  {p['cpu_ms']:>7.1f} ms CPU",
              flush=True)

    token = secrets.token_hex(16)
    server_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"), "FOODRISK_WEB_BIND": f"127.0.0.1:{PORT}",
                  "FOODRISK_METRICS_TOKEN": token}
    (work / "metrics").mkdir()
    config = {k: server_env.get(f"FOODRISK_WEB_{k.upper()}", d) for k, d in
              (("workers", f"2 × {os.cpu_count()} + 1"), ("threads", "1"), ("worker_class", "sync"))}
    with open(work / "server.log", "w") as server_log:
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "python:foodrisk.gunicorn_conf", "--no-control-socket",
                                   "foodrisk.wsgi"],
                                  env=server_env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
        try:
            if not wait_until_up(f"http://127.0.0.1:{PORT}/healthz"):
                raise SystemExit(f"gunicorn did not come up on 127.0.0.1:{PORT} (see {work / 'server.log'})")
            load_before = os.getloadavg()
            started = time.perf_counter()
            locust_env = {**os.environ, "BENCH_LOAD_USERS_FILE": str(work / "users.json"),
                          "BENCH_LOAD_SAMPLES": str(work / "samples.json"), "BENCH_LOAD_THINK": THINK}
            swarm = subprocess.run([str(BIN / "locust"), "-f", str(HERE / "load" / "locustfile.py"), "--headless",
                            "-u", str(USERS), "-r", SPAWN_RATE, "--run-time", RUN_TIME, "--stop-timeout", "10",
                            "--host", f"http://127.0.0.1:{PORT}", "--csv", str(work / "locust"), "--only-summary",
                            "--loglevel", "WARNING"],
                           env=locust_env, cwd=ROOT, check=False, timeout=3600)
            if not (work / "samples.json").exists():
                raise SystemExit(f"locust failed (exit {swarm.returncode})")
            wall = time.perf_counter() - started
            load_after = os.getloadavg()
            counted = requests_counted(token)
        finally:
            server.terminate()
            server.wait(timeout=60)
    return summarise(city, info, work, config, wall, load_before, load_after, counted)


def requests_counted(token):
    """Requests the server's /metrics counted across all gunicorn workers (multiprocess mode), as a check."""
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}/metrics", headers={"Authorization": f"Bearer {token}"})
    try:  # an overloaded server may still be working through its backlog: the figures must not be lost for this
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read().decode()
    except OSError as exc:
        return f"not scraped: {type(exc).__name__}"
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("foodrisk_http_request_duration_seconds_count{")))


def summarise(city, info, work, config, wall, load_before, load_after, counted):
    import csv

    data = json.loads((work / "samples.json").read_text())
    classes = {}
    for kind, values in data["samples_ms"].items():
        classes[kind] = {**percentiles(values), "failures": data["failures"][kind]}
    pages = {}
    with open(work / "locust_stats.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["Name"] != "Aggregated":
                pages[row["Name"]] = {"count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                      "p50": float(row["50%"]), "p95": float(row["95%"]), "p99": float(row["99%"])}
    server = {}
    for line in (work / "server.log").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and '"foodrisk.access"' in line:
            entry = json.loads(line)
            server.setdefault(entry["view"], []).append(entry["duration_ms"])
    server_ms = {view: percentiles(v) for view, v in sorted(server.items())}
    goal_met = all(classes.get(k, {}).get("p95", 0) <= ms for k, ms in GOALS_MS.items()) and not any(
        c["failures"] for c in classes.values())
    # CPU the scenario asks for: the pages' own CPU time (alone, in-process) weighted by how often the users
    # asked for each page, at the rate the users would ask with no queueing (one page per think time)
    probe, asked = info["probe"], {n: p["count"] for n, p in pages.items() if n in info["probe"]}
    cpu_ms = sum(probe[n]["cpu_ms"] * k for n, k in asked.items()) / max(1, sum(asked.values()))
    think = [float(x) for x in THINK.split(",")]
    offered = USERS / (sum(think) / 2)
    demand = {"cpu_ms_per_page": round(cpu_ms, 1), "pages_per_s_offered": round(offered, 1),
              "cpu_cores_needed": round(offered * cpu_ms / 1000, 2)}
    result = {
        "summary": {"city": city, "enterprises": info["enterprises"], "users": USERS, "think_s": THINK,
                    "run_time": RUN_TIME, **{f"{k}_p95_ms": c.get("p95") for k, c in classes.items()},
                    "errors": sum(c["failures"] for c in classes.values()),
                    "requests_per_s": round(sum(c["count"] for c in classes.values()) / wall, 1),
                    "goal_met": goal_met, "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in load_after]},
        "cpu_demand": demand, "goals_ms": GOALS_MS, "gunicorn": config, "spawn_rate": SPAWN_RATE, "classes_ms": classes,
        "pages_ms": pages, "server_ms_by_view": server_ms, "pages_alone": info["probe"],
        "cpu_count": os.cpu_count(), "wall_s": round(wall, 1),
        "metrics_requests_counted": counted, "access_log_lines": sum(len(v) for v in server.values()),
    }
    name = f"load-{city}{'-' + TAG if TAG else ''}.json"
    (HERE / "results" / name).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"load {city}: {json.dumps(result['summary'], ensure_ascii=False)}", flush=True)
    for kind, c in classes.items():
        print(f"  {kind:<10} {c}", flush=True)
    return result


def main(argv):
    wanted = argv or list(CITIES)
    for city in wanted:
        url, min_enterprises = CITIES[city]
        run_city(city, url, min_enterprises)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        prepare(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
