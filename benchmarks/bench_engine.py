"""Benchmark foodrisk.engine.score with the food_2016 profile on sample snapshots.

    .venv/bin/python benchmarks/bench_engine.py            # 20k/300k and 100k/1.5M
    .venv/bin/python benchmarks/bench_engine.py --full     # + 1M/30M

Each size runs in fresh subprocesses (so peak RSS is the scorer's own): one writes the sample
snapshot to Parquet, one scores it (tables scanned lazily from Parquet, as the CLI does), one runs
the "floor": a bare DuckDB query computing the same indicator values (the compiler's feature query:
per-table FILTER aggregates joined on enterprise_id, without points, rules, reasons or JSON).
Results go to benchmarks/results/engine.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 11, 1)
SIZES = {
    "20k": (20_000, 300_000, 5.0),
    "100k": (100_000, 1_500_000, 20.0),
    "1M": (1_000_000, 30_000_000, 180.0),
}
RSS_TARGET_GB = {"1M": 4.0}
HERE = Path(__file__).resolve().parent


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # Linux: KiB


def _child(mode: str, directory: str, n: int, m: int, threads: int, memory_limit: str) -> None:
    from foodrisk.engine import features, load_profile, read_snapshot, sample_snapshot, score, write_snapshot

    out: dict = {}
    if mode == "gen":
        t = time.perf_counter()
        write_snapshot(directory, sample_snapshot(n, m, as_of=AS_OF, seed=1), AS_OF)
        out["seconds"] = time.perf_counter() - t
    else:
        snap = read_snapshot(directory, lazy=True)
        spec = load_profile("food_2016")
        t = time.perf_counter()
        if mode == "score":
            res = score(snap.tables, spec, AS_OF, threads=threads, memory_limit=memory_limit)
            out["grades"] = res.grade_counts()
            out["timing"] = res.timing
            out["rows"] = res.scores.num_rows
        else:
            out["rows"] = features(
                snap.tables, spec, AS_OF, threads=threads, memory_limit=memory_limit
            ).num_rows
        out["seconds"] = time.perf_counter() - t
    out["peak_rss_gb"] = _peak_rss_gb()
    print(json.dumps(out))


def _run(mode: str, directory: str, n: int, m: int, threads: int, memory_limit: str) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, directory, str(n), str(m), str(threads), memory_limit]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also run 1M enterprises / 30M records")
    ap.add_argument("--sizes", help="comma list of " + ", ".join(SIZES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--repeat", type=int, default=2, help="score/floor runs per size (best is kept)")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        mode, d, n, m, th, ml = a.child
        _child(mode, d, int(n), int(m), int(th), ml)
        return 0
    sizes = a.sizes.split(",") if a.sizes else ["20k", "100k"] + (["1M"] if a.full else [])
    results = []
    for label in sizes:
        n, m, target = SIZES[label]
        with tempfile.TemporaryDirectory(prefix=f"foodrisk-bench-{label}-") as d:
            gen = _run("gen", d, n, m, a.threads, a.memory_limit)
            scores = [_run("score", d, n, m, a.threads, a.memory_limit) for _ in range(a.repeat)]
            floors = [_run("floor", d, n, m, a.threads, a.memory_limit) for _ in range(a.repeat)]
        best = min(scores, key=lambda r: r["seconds"])
        floor = min(floors, key=lambda r: r["seconds"])
        rss = max(r["peak_rss_gb"] for r in scores)
        row = {
            "size": label,
            "enterprises": n,
            "records": m,
            "generate_s": round(gen["seconds"], 2),
            "score_s": round(best["seconds"], 3),
            "score_runs_s": [round(r["seconds"], 3) for r in scores],
            "floor_s": round(floor["seconds"], 3),
            "ratio_to_floor": round(best["seconds"] / floor["seconds"], 2),
            "target_s": target,
            "ratio_to_target": round(best["seconds"] / target, 3),
            "peak_rss_gb": round(rss, 2),
            "floor_peak_rss_gb": round(floor["peak_rss_gb"], 2),
            "rss_target_gb": RSS_TARGET_GB.get(label),
            "scored": best["rows"],
            "grades": best["grades"],
            "engine_timing": best["timing"],
        }
        results.append(row)
        print(
            f"{label:>5}: {n:>9,} ent / {m:>11,} rec  score {row['score_s']:7.2f}s "
            f"(target {target:g}s, ×{row['ratio_to_target']:.3f})  floor {row['floor_s']:6.2f}s "
            f"(×{row['ratio_to_floor']:.2f})  peak RSS {row['peak_rss_gb']:.2f} GB"
            + (f" (target {RSS_TARGET_GB[label]} GB)" if label in RSS_TARGET_GB else ""),
            flush=True,
        )
    out = HERE / "results" / "engine.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    prev = json.loads(out.read_text()) if out.exists() else {}
    merged = {r["size"]: r for r in prev.get("results", [])}
    merged.update({r["size"]: r for r in results})
    doc = {
        "profile": "food_2016",
        "as_of": AS_OF.isoformat(),
        "threads": a.threads,
        "memory_limit": a.memory_limit,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "results": [merged[k] for k in SIZES if k in merged],
    }
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
