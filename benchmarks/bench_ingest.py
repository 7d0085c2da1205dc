"""Benchmark the ingest pipeline end to end: a synthetic city's files → read → map → normalise → validate →
resolve → dedupe → write through the archive upserts, with quarantine and quality snapshots.

    .venv/bin/python benchmarks/bench_ingest.py                  # SQLite in a temporary folder
    FOODRISK_DATABASE_URL=postgres://… .venv/bin/python benchmarks/bench_ingest.py   (empties that DB's archive!)

20,000 enterprises / ~300,000 records from foodrisk.synth (BENCH_ENTERPRISES, BENCH_YEARS to change).
On PostgreSQL the delivery is imported as `foodrisk import --manifest` does, its files after the enterprises
side by side in settings.INGEST_WORKERS processes (BENCH_INGEST_WORKERS to change), and first in one process
for comparison (that figure is reported too, as one_process_rows_per_s).
Prints rows/s per file and overall, the ratio to the 20,000 rows/s target, detection recall/precision
against ground_truth/injected_errors.csv and the re-import (idempotent) rate. Writes
benchmarks/results/ingest.json and ingest-<database>.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_ENTERPRISES = int(os.environ.get("BENCH_ENTERPRISES", 20_000))
YEARS = int(os.environ.get("BENCH_YEARS", 5))
AS_OF = date(2026, 6, 30)
TARGET_ROWS_S = 20_000

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
if "FOODRISK_DATABASE_URL" not in os.environ:
    os.environ["FOODRISK_VAR_DIR"] = tempfile.mkdtemp(prefix="foodrisk-bench-ingest-")
os.environ.setdefault("FOODRISK_DB_POOL", "0")


def main():
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from foodrisk.core import seeds
    from foodrisk.core.models import Region
    from foodrisk.ingest.delivery import import_manifest
    from foodrisk.ingest.evaluation import evaluate, linking_accuracy

    call_command("migrate", verbosity=0)
    if not Region.objects.exists():
        seeds.load_regions()
    seeds.seed_reference_data()
    reset_archive(connection)

    out = Path(tempfile.mkdtemp(prefix="foodrisk-bench-ingest-files-"))
    t0 = time.perf_counter()
    from foodrisk.synth.world import generate_world
    from foodrisk.synth.writer import write_import_files

    world = generate_world(N_ENTERPRISES, YEARS, seed=7, as_of=AS_OF)
    manifest = write_import_files(world, out, dirty_rate=0.02, seed=7)
    print(f"synth: {N_ENTERPRISES} enterprises, {sum(f['rows'] for f in manifest['files'])} rows in "
          f"{len(manifest['files'])} files ({time.perf_counter() - t0:.1f}s) → {out}", flush=True)

    from foodrisk.ingest.delivery import worker_count

    workers = worker_count(int(os.environ.get("BENCH_INGEST_WORKERS", 0)) or None)
    plan = [("first import", workers, False), ("re-import (idempotent)", workers, False)]
    if workers > 1:  # also the figure of one process, on an emptied archive, before the side-by-side one
        plan.insert(0, ("first import, one process", 1, False))
        plan[1] = ("first import", workers, True)
    runs = []
    for label, n, reset in plan:
        if reset:
            reset_archive(connection)
        t0, cpu0 = time.perf_counter(), time.process_time()
        helpers0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        batches = import_manifest(out / "manifest.json", out=lambda line: None, workers=n, confirm_duplicate=True)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        helpers1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the helpers, once they have exited
        helper_cpu = helpers1.ru_utime + helpers1.ru_stime - helpers0.ru_utime - helpers0.ru_stime
        rows = sum(b.rows_read for b in batches)
        assert all(b.counts_add_up for b in batches)
        files = [{"file": b.file_name, "kind": b.kind, "rows": b.rows_read, "seconds": b.report.get("seconds"),
                  "rows_per_s": b.report.get("rows_per_second"), "new": b.accepted_new,
                  "updated": b.accepted_updated, "unchanged": b.unchanged, "merged": b.merged_duplicates,
                  "quarantined": b.quarantined, "in_review": b.in_review} for b in batches]
        runs.append({"label": label, "processes": n, "rows": rows, "seconds": round(seconds, 3),
                     "python_cpu_s": round(cpu, 3), "helper_cpu_s": round(helper_cpu, 3),
                     "rows_per_s": round(rows / seconds, 1), "ratio_to_target": round(rows / seconds / TARGET_ROWS_S, 3),
                     "files": files, "batches": [b.pk for b in batches]})
        print(f"{label} ({n} process{'es' if n > 1 else ''}): {rows} rows in {seconds:.1f}s (Python CPU {cpu:.1f}s "
              f"here, {helper_cpu:.1f}s in helpers) = {rows / seconds:,.0f} rows/s "
              f"({rows / seconds / TARGET_ROWS_S:.2f} × the {TARGET_ROWS_S:,} rows/s target)", flush=True)
        for f in files:
            print(f"   {f['file']:<36} {f['rows']:>8} rows {f['rows_per_s'] or 0:>10,.0f} rows/s  new {f['new']} "
                  f"updated {f['updated']} unchanged {f['unchanged']} merged {f['merged']} "
                  f"quarantined {f['quarantined']} review {f['in_review']}", flush=True)
        if label == "first import":
            first = batches
    first_run = next(r for r in runs if r["label"] == "first import")
    one_process = runs[0]
    detection = evaluate(out, first)
    linking = linking_accuracy(out, first)
    print(f"detection: recall {detection['recall']:.4f}, precision {detection['precision']:.4f} "
          f"({detection['true_positives']}/{detection['injected']} injected found, {detection['found']} findings; "
          f"{detection['consequence_findings']} entity findings as consequences)", flush=True)
    print(f"announcement linking by name: {linking}", flush=True)
    result = {
        "summary": {"database": connection.vendor, "enterprises": N_ENTERPRISES, "rows": first_run["rows"],
                    "processes": workers, "rows_per_s": first_run["rows_per_s"],
                    "ratio_to_target": first_run["ratio_to_target"],
                    "one_process_rows_per_s": one_process["rows_per_s"],
                    "reimport_rows_per_s": runs[-1]["rows_per_s"], "recall": detection["recall"],
                    "precision": detection["precision"], "linking_accuracy": linking["accuracy"]},
        "target_rows_per_s": TARGET_ROWS_S, "as_of": AS_OF.isoformat(), "runs": runs,
        "detection": {k: v for k, v in detection.items() if k not in ("missed", "false")},
        "missed": [list(m) for m in detection["missed"]], "false": [list(m) for m in detection["false"]],
        "linking": linking,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},  # a shared machine: note the load
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (HERE / "results").mkdir(exist_ok=True)
    text = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
    for name in ("ingest.json", f"ingest-{connection.vendor}.json"):  # the latest run, and the latest per database
        (HERE / "results" / name).write_text(text)
        print(f"wrote benchmarks/results/{name}")
    return 0


def reset_archive(connection):
    """Start from an empty archive and ingest history (the benchmark's own database)."""
    from foodrisk.enterprises.models import Enterprise
    from foodrisk.ingest.models import Batch

    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("TRUNCATE enterprises_enterprise, ingest_batch CASCADE")
    else:
        Batch.objects.all().delete()
        Enterprise.objects.all().delete()


if __name__ == "__main__":
    raise SystemExit(main())
