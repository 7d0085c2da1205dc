"""Benchmark the Spark back end beside DuckDB (issue 16) and plan a 20M national run from what was measured.

    make bench-spark                                   # 1,000,000 enterprises, 30 records each
    .venv/bin/python benchmarks/bench_spark.py --enterprises 200000 --records 20

One snapshot (foodrisk.engine.sample_snapshot) and one catalogue model (trained small on a synthetic world; its
size does not matter to scoring) go through

* DuckDB, one process, as scoring.services does it: catalogue features → model scores → score → explain the
  changed and non-A enterprises (here: non-A, no previous run);
* Spark local[2]: write the job (Parquet partitioned by region) → run_job → read the results back.

The two are compared (identical grades and model scores are required, else the benchmark fails), and each
Spark step's wall time is recorded. The planning table for 20M divides the measured Spark work by the shuffle
partitions of this run (executor-seconds per partition ≈ wall × cores / partitions — an upper bound, since it
counts idle scheduling time too), then multiplies by the partitions a 20M run needs at the same partition size,
spread over a cluster's cores. **That is an extrapolation from one 2-core machine, not a cluster measurement.**

Results: benchmarks/results/spark.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = date(2026, 11, 1)
CORES = 2
NATIONAL = 20_000_000
CLUSTERS = [(10, 4), (25, 4), (50, 8)]  # (executors, cores each)


def _rss_gb(pid="self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024 / 1024, 2)
    return 0.0


def artifact_json() -> str:
    """A small catalogue model (as train_candidate makes), LightGBM as the scorer."""
    from foodrisk.engine.model import LabelSpec, fit_validated
    from foodrisk.synth import generate_world

    w = generate_world(1500, years=3, seed=7, as_of=date(2026, 3, 31))
    fit = fit_validated(w.to_snapshot, date(2025, 6, 30), first_data=w.start, target=LabelSpec(horizon_months=6),
                        horizons=(6,), folds=2, lr_C=(0.1,), threads=CORES,
                        lgbm={"bench": {"num_leaves": 15, "max_depth": 4, "min_data_in_leaf": 50,
                                        "learning_rate": 0.1, "num_boost_round": 60}})
    return replace(fit.artifact, winner="lightgbm").to_json()


def duckdb_path(snap, spec, art_text):
    from foodrisk.engine import score
    from foodrisk.engine.model import ModelArtifact, artifact_features, explain, explain_targets, model_scores

    art = ModelArtifact.from_json(art_text)
    t = {}
    t0 = time.perf_counter()
    ft = artifact_features(art, snap, None, AS_OF, threads=CORES)
    t["features_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    ms = model_scores(art, ft)
    t["model_scores_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    res = score(snap, spec, AS_OF, model_scores=ms, threads=CORES, compact_details=True)
    t["score_s"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    targets = explain_targets(res.scores, None)
    ex = explain(art, ft, targets, top=3)
    t["explain_s"] = time.perf_counter() - t3
    t["explained"] = ex.num_rows
    t["total_s"] = time.perf_counter() - t0
    return res, ms, dict(zip(ex["enterprise_id"].to_pylist(), ex["reasons"].to_pylist(), strict=True)), t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--enterprises", type=int, default=1_000_000)
    ap.add_argument("--records", type=int, default=30, help="records per enterprise (default 30)")
    ap.add_argument("--per-partition", type=int, default=50_000, help="enterprises per shuffle partition")
    ap.add_argument("--out", default=str(HERE / "results" / "spark.json"))
    args = ap.parse_args()

    from foodrisk.engine import profile_dict, sample_snapshot
    from foodrisk.engine.spark import SetInput, read_results, run_job, spark_session, write_job

    n = args.enterprises
    out = {"machine": {"cpus": CORES, "python": platform.python_version(), "platform": platform.platform()},
           "date": time.strftime("%Y-%m-%d"), "enterprises": n, "records_per_enterprise": args.records}
    t0 = time.perf_counter()
    snap = sample_snapshot(n, n * args.records, as_of=AS_OF, seed=1)
    out["records"] = sum(t.num_rows for k, t in snap.items() if k != "enterprises")
    out["generate_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    art = artifact_json()
    out["train_small_model_s"] = round(time.perf_counter() - t0, 1)
    spec = {**profile_dict("food_2016"), "blend": {"rule": 0.7, "model": 0.3}}
    print(f"{n:,} enterprises, {out['records']:,} records; model trained", flush=True)

    res, ms, reasons, dt = duckdb_path(snap, spec, art)
    out["duckdb"] = {k: round(v, 2) if isinstance(v, float) else v for k, v in dt.items()}
    out["duckdb"]["peak_rss_gb"] = _rss_gb()
    print("duckdb", out["duckdb"], flush=True)

    partitions = max(2, math.ceil(n / args.per_partition))
    work = tempfile.mkdtemp(prefix="foodrisk-bench-spark-")
    try:
        t0 = time.perf_counter()
        spark = spark_session(f"local[{CORES}]", "foodrisk-bench", {
            "spark.sql.shuffle.partitions": str(partitions), "spark.driver.memory": "3g"})
        start_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        write_job(f"{work}/job", snap, [SetInput("1", spec)], AS_OF, artifact_json=art)
        export_s = time.perf_counter() - t1
        del snap
        t2 = time.perf_counter()
        steps = run_job(spark, f"{work}/job")
        job_s = time.perf_counter() - t2
        t3 = time.perf_counter()
        got = read_results(f"{work}/job")
        read_s = time.perf_counter() - t3
        jvm_pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
        jvm_rss = _rss_gb(jvm_pid)
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    [(_key, sres)] = got.parts
    same = {
        "grades": sres.scores["grade"].equals(res.scores["grade"]),
        "model_scores": got.model_scores.select(ms.schema.names).cast(ms.schema).equals(ms.sort_by("enterprise_id")),
        "reasons": got.reasons == reasons,
    }
    out["spark_local2"] = {"session_start_s": round(start_s, 1), "export_parquet_s": round(export_s, 1),
                           "job_s": round(job_s, 1), "job_steps": steps, "read_back_s": round(read_s, 1),
                           "shuffle_partitions": partitions, "jvm_peak_rss_gb": jvm_rss, "same_as_duckdb": same}
    work_s = steps["total_s"] - steps.get("read_s", 0)  # the scoring work, without the first (JIT-warming) scan
    per_part = work_s * CORES / partitions
    need = math.ceil(NATIONAL / args.per_partition)
    out["planning_20m"] = {
        "label": "EXTRAPOLATION from local[2] on one 2-core machine, not a cluster measurement",
        "enterprises_per_partition": args.per_partition,
        "measured_executor_s_per_partition": round(per_part, 2),
        "partitions": need,
        "executor_memory": "4g per executor with 4 cores (≈ 1 GB per concurrent task; measured here: JVM "
                           f"{jvm_rss} GB for local[2] holding {n:,} enterprises' records in {partitions} "
                           "partitions)",
        "clusters": [{"executors": e, "cores_each": c, "waves": math.ceil(need / (e * c)),
                      "estimated_wall_s": round(math.ceil(need / (e * c)) * per_part + 60, 0)}
                     for e, c in CLUSTERS],
        "assumptions": "wall ≈ waves × measured executor-seconds per partition + ~60 s for session start, "
                       "Parquet listing and the driver's job scheduling; records per enterprise as here "
                       f"({args.records}); export and read-back (one machine, Parquet) not included: at the "
                       f"measured rate they take ≈ {round((export_s + read_s) * NATIONAL / n)} s for 20M",
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not all(same.values()):
        print(f"Spark and DuckDB differ: {same}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
