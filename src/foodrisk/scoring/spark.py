"""A scoring run's engine step on Apache Spark (docs/deployment.md, "National scale on Apache Spark").

The run's snapshot, sets (with the champion's blend) and model artifact are written as a job directory under
settings.SPARK_WORK_DIR; the job runs in this process on a ``local[…]`` master or through ``spark-submit`` on
any other master; its Parquet output comes back as the same (set, ScoreResult) parts and model reasons the
DuckDB path produces, and services.run_scoring publishes them the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from django.conf import settings

from foodrisk.core.querysets import region_prefix
from foodrisk.engine import spark as engine_spark

from . import model_services

_session = {}


def session():
    """One SparkSession per worker process for a local master (starting one costs ~10 s)."""
    key = (settings.SPARK_MASTER, json.dumps(settings.SPARK_CONF, sort_keys=True))
    if key not in _session:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise RuntimeError("the Spark back end needs pyspark on the worker: pip install 'foodrisk[spark]' "
                               "(docs/deployment.md)")
        _session.clear()
        _session[key] = engine_spark.spark_session(settings.SPARK_MASTER, "foodrisk-score", settings.SPARK_CONF)
    return _session[key]


def submit(uri):
    """Run the job on the configured cluster: spark-submit with the master and conf of the settings."""
    cmd = [settings.SPARK_SUBMIT, "--master", settings.SPARK_MASTER]
    for k, v in settings.SPARK_CONF.items():
        cmd += ["--conf", f"{k}={v}"]
    cmd += [str(Path(engine_spark.__file__).with_name("spark_main.py")), uri]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"spark-submit failed ({done.returncode}): {done.stderr[-4000:]}")


def score(run, snapshot, sets, as_of, champ, enterprise_ids, timing, progress):
    """(parts, artifact or None, model-scored count, model reasons) — what services._score_here returns."""
    t0 = time.perf_counter()
    artifact = model_services.load_artifact(champ) if champ is not None else None
    inputs = [engine_spark.SetInput(str(s.pk), model_services.spec_with_model(s.spec, artifact) if artifact else s.spec,
                                    region_prefix(s.scope_region_id or "")) for s in sets]
    previous = model_services.published_scores(enterprise_ids) if artifact is not None else None
    uri = f"{str(settings.SPARK_WORK_DIR).rstrip('/')}/run-{run.pk}-{uuid.uuid4().hex[:8]}"
    progress(0.2, 1, "engine")
    engine_spark.write_job(uri, snapshot, inputs, as_of, artifact_json=champ.artifact if artifact else None,
                           previous=previous)
    timing["spark_export_s"] = round(time.perf_counter() - t0, 4)
    try:
        t1 = time.perf_counter()
        if settings.SPARK_MASTER.startswith("local"):
            engine_spark.run_job(session(), uri)
        else:
            submit(uri)
        timing["engine_s"] = round(time.perf_counter() - t1, 4)
        res = engine_spark.read_results(uri)
    finally:
        if "://" not in uri:  # a local job directory is scratch; a cluster's is left to its retention policy
            shutil.rmtree(uri, ignore_errors=True)
    timing["spark"] = res.timing
    by_key = {str(s.pk): s for s in sets}
    parts = [(by_key[key], result) for key, result in res.parts]
    if artifact is None:
        return parts, None, 0, None
    timing["explained"] = len(res.reasons)
    return parts, artifact, res.model_scores.num_rows, res.reasons
