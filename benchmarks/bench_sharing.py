"""Benchmark the signed sharing API on a live server (issue 15): single lookups and a streamed incremental pull.

    .venv/bin/python benchmarks/bench_sharing.py       # PostgreSQL database `xbench` (created, EMPTIED, filled)

Targets: a single signed lookup's p95 ≤ 100 ms (BENCH_SHARING_LOOKUPS calls, default 3000, one after another
through the reference client's signing, each a new connection as a client system makes it); an incremental
pull of BENCH_SHARING_CHANGES grade changes (default 1,000,000) streamed in ≤ 60 s with bounded memory: the
peak RSS of the server's worker process is sampled while it streams and compared with its RSS before.

The change rows are loaded with COPY (BENCH_SHARING_ENTERPRISES enterprises, default 200,000, each change on
the next enterprise, so every change is one row of the answer). The server is gunicorn with the repo's config,
one sync worker (so the process that streams is the one measured) and no recycling. The pull reads the
NDJSON as it arrives, hashes it and verifies the signed trailer like the reference client (rows are counted,
not parsed: the figure is the server's). Results: benchmarks/results/sharing.json, figures as ratios to the
targets (≤ 1 meets them). FOODRISK_DATABASE_URL overrides the database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("BENCH_SHARING_PORT", 8765))
LOOKUPS = int(os.environ.get("BENCH_SHARING_LOOKUPS", 3000))
CHANGES = int(os.environ.get("BENCH_SHARING_CHANGES", 1_000_000))
ENTERPRISES = int(os.environ.get("BENCH_SHARING_ENTERPRISES", 200_000))
TARGET_P95_MS, TARGET_PULL_S = 100.0, 60.0
DB_URL = os.environ.get("FOODRISK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xbench")

os.environ["FOODRISK_DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
os.environ.setdefault("FOODRISK_DB_POOL", "0")
os.environ.setdefault("FOODRISK_VAR_DIR", tempfile.mkdtemp(prefix="foodrisk-bench-sharing-"))


def ensure_database():
    """Create the PostgreSQL database when it is missing (connecting to `postgres` on the same server)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(DB_URL)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare():
    """Empty the database, then one active nationwide client, the enterprises and the change rows."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from foodrisk.core.models import User
    from foodrisk.core.testing import grant, make_regions
    from foodrisk.enterprises.testing import make_uscc
    from foodrisk.sharing import services
    from foodrisk.sharing.models import ClientSystem

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:  # the audit table refuses TRUNCATE without the maintenance switch
        cursor.execute("SET foodrisk.audit_maintenance = on")
    call_command("flush", interactive=False, verbosity=0)
    regions = make_regions()
    county = regions["330102"]
    admin = grant(User.objects.create_user("bench-admin", national_scope=True), "sharing.add_clientsystem",
                  "sharing.change_clientsystem")
    approver = grant(User.objects.create_user("bench-approver", national_scope=True), "sharing.approve_clientsystem")
    client, secret = services.register(
        user=admin, name="压测平台", organisation="压测", rate_per_minute=1_000_000,
        grants={"enterprise_grade": ["uscc", "name", "region", "grade", "score", "graded_at", "risk_labels",
                                     "key_supervision", "legal_representative"]})
    services.approve(client, user=approver)
    client = ClientSystem.objects.get(pk=client.pk)

    started = time.perf_counter()
    now = timezone.now() - timezone.timedelta(minutes=5)
    from foodrisk.enterprises.models import Enterprise

    batch = []
    for i in range(ENTERPRISES):  # the model's defaults and encrypted field: bulk_create, not COPY
        batch.append(Enterprise(uscc=make_uscc("330102", i + 1), name=f"压测食品企业{i}号", name_initials="YC",
                                region=county, business_form="catering", current_grade="ABCD"[i % 4],
                                current_score=40 + i % 50, graded_at=now, risk_labels=["冷链"] if i % 7 == 0 else [],
                                key_supervision=i % 11 == 0, legal_representative="张三丰"))
        if len(batch) == 10_000:
            Enterprise.objects.bulk_create(batch)
            batch = []
    Enterprise.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM enterprises_enterprise")
        first = cursor.fetchone()[0]
        with cursor.copy("COPY scoring_gradechange (enterprise_id, old_grade, new_grade, score, at, reasons) "
                         "FROM STDIN") as copy:
            for i in range(CHANGES):
                copy.write_row((first + i % ENTERPRISES, "B", "ABCD"[i % 4], 50.0, now, "[]"))
        cursor.execute("ANALYZE enterprises_enterprise; ANALYZE scoring_gradechange")
    load_s = time.perf_counter() - started
    uscc = make_uscc("330102", ENTERPRISES // 2)
    return {"app_key": client.app_key, "secret": secret, "uscc": uscc, "load_s": round(load_s, 1)}


def rss_kb(pid, field="VmRSS"):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def worker_pid(master):
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def wait_up(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return True
        except Exception:
            time.sleep(0.5)
    return False


def lookups(api, uscc):
    path = f"/api/sharing/v1/enterprises/{uscc}/"
    times = []
    for _ in range(LOOKUPS):
        started = time.perf_counter()
        body = api.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert body["data"]["uscc"] == uscc
    times.sort()
    return {"calls": LOOKUPS, "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 2), "max_ms": round(times[-1], 2)}


def pull(api, worker):
    """The whole change stream: bytes hashed as they arrive, the trailer verified; the worker's RSS sampled."""
    from urllib.parse import urlencode

    from foodrisk.sharing import signing

    path = "/api/sharing/v1/datasets/enterprise_grade/changes/"
    query = urlencode({"since": 0})
    peak, stop = [rss_kb(worker)], threading.Event()

    def sample():
        while not stop.is_set():
            peak.append(rss_kb(worker))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    before = rss_kb(worker)
    sampler.start()
    started = time.perf_counter()
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}?{query}", headers=api.signed_headers("GET", path, query))
    digest, rows, trailer = hashlib.sha256(), 0, None
    with urllib.request.urlopen(req, timeout=600) as resp:
        for line in io.BufferedReader(resp, buffer_size=1 << 20):
            if line.startswith(b'{"end":true'):
                trailer = json.loads(line)
                break
            digest.update(line)
            rows += 1
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    assert trailer is not None and trailer["sha256"] == digest.hexdigest()
    assert signing.matches("hmac-sha256", api.secret, signing.stream_message(trailer["timestamp"], trailer["sha256"]),
                           trailer["signature"])
    assert trailer["count"] == rows - 1, (trailer["count"], rows)  # the header line is not a row
    return {"changes": CHANGES, "rows": trailer["count"], "seconds": round(seconds, 2),
            "rows_per_s": round(trailer["count"] / seconds), "worker_rss_before_mb": round(before / 1024, 1),
            "worker_rss_peak_mb": round(max(peak) / 1024, 1),
            "worker_rss_growth_mb": round((max(peak) - before) / 1024, 1)}


def main():
    if DB_URL.startswith("postgres"):
        ensure_database()
    setup = prepare()
    print(f"loaded {ENTERPRISES:,} enterprises and {CHANGES:,} changes in {setup['load_s']} s", flush=True)
    from foodrisk.sharing.client import SharingClient

    work = Path(tempfile.mkdtemp(prefix="bench-sharing-server-"))
    env = {**os.environ, "FOODRISK_WEB_BIND": f"127.0.0.1:{PORT}", "FOODRISK_WEB_WORKERS": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(work)}
    with open(work / "server.log", "w") as log:
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "python:foodrisk.gunicorn_conf", "--no-control-socket",
                                   "--max-requests", "0", "--timeout", "600", "foodrisk.wsgi"],
                                  env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_up(f"http://127.0.0.1:{PORT}/healthz"):
                raise SystemExit(f"gunicorn did not come up (see {work / 'server.log'})")
            worker = worker_pid(server.pid)
            api = SharingClient(f"http://127.0.0.1:{PORT}/", setup["app_key"], setup["secret"])
            lookup = lookups(api, setup["uscc"])
            print("lookup:", json.dumps(lookup), flush=True)
            streamed = pull(api, worker)
            print("pull:", json.dumps(streamed), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
    summary = {"lookup_p95_ratio": round(lookup["p95_ms"] / TARGET_P95_MS, 3),
               "pull_time_ratio": round(streamed["seconds"] / TARGET_PULL_S, 3),
               "lookup_p95_ms": lookup["p95_ms"], "pull_seconds": streamed["seconds"],
               "pull_worker_rss_growth_mb": streamed["worker_rss_growth_mb"]}
    result = {"summary": summary, "targets": {"lookup_p95_ms": TARGET_P95_MS, "pull_seconds": TARGET_PULL_S},
              "lookup": lookup, "pull": streamed, "database": DB_URL.split("://")[0],
              "enterprises": ENTERPRISES, "load_seconds": setup["load_s"], "server": "gunicorn, 1 sync worker",
              "machine": platform.machine(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
              "run_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "id": secrets.token_hex(4)}
    (HERE / "results" / "sharing.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n",
                                                  encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary["lookup_p95_ratio"] <= 1 and summary["pull_time_ratio"] <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
