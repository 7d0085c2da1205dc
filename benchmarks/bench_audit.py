"""Benchmark the audit log's write path and its verification.

    .venv/bin/python benchmarks/bench_audit.py                 # SQLite in a temporary folder
    FOODRISK_DATABASE_URL=postgres://… .venv/bin/python benchmarks/bench_audit.py   # (empties that DB's tables!)

Measures 10,000 `audit.record` calls, each in its own transaction as a service call makes them (so the
head row is locked and updated 10,000 times), one `audit.record_many` of 10,000 entries (what a corrected
workbook writes), and `audit.verify` over the resulting 20,000 entries. BENCH_AUDIT_N=N for another size.
Results: benchmarks/results/audit[-postgresql].json. Not in `make bench`'s default list: `benchmarks/run.py audit`.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = int(os.environ.get("BENCH_AUDIT_N", 10_000))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
if "FOODRISK_DATABASE_URL" not in os.environ:
    os.environ["FOODRISK_VAR_DIR"] = tempfile.mkdtemp(prefix="foodrisk-bench-audit-")
os.environ.setdefault("FOODRISK_DB_POOL", "0")


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from foodrisk.core.services import audit

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":  # the audit table refuses TRUNCATE without the maintenance switch
        with connection.cursor() as cursor:
            cursor.execute("SET foodrisk.audit_maintenance = on")
    call_command("flush", interactive=False, verbosity=0)
    after = {"名称": "某某食品有限公司", "grade": "B", "score": "71.50", "region": "330102"}

    started = time.perf_counter()
    for i in range(N):
        with transaction.atomic():
            audit.record("bench.record", object_type="records.penalty", object_id=str(i), after=after)
    record_s = time.perf_counter() - started

    started = time.perf_counter()
    with transaction.atomic():
        audit.record_many([audit.new_entry("bench.record_many", object_type="records.penalty", object_id=str(i),
                                           after=after) for i in range(N)])
    record_many_s = time.perf_counter() - started

    started = time.perf_counter()
    result = audit.verify()
    verify_s = time.perf_counter() - started
    assert result.ok, result

    summary = {
        "database": connection.vendor,
        "algorithm": settings.AUDIT_HASH_ALGORITHM,
        "entries": 2 * N,
        "record_per_s": round(N / record_s),
        "record_us_each": round(record_s / N * 1e6, 1),
        "record_many_per_s": round(N / record_many_s),
        "verify_per_s": round(result.checked / verify_s),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    suffix = "" if connection.vendor == "sqlite" else f"-{connection.vendor}"
    out = HERE / "results" / f"audit{suffix}.json"
    out.write_text(json.dumps({"summary": summary, "machine": platform.machine(), "python": sys.version.split()[0]},
                              ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
