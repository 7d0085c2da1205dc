"""The Spark back end: the same indicator sets and model on a cluster (docs/deployment.md, "National scale").

A job is a directory (a local path, or any URI pyarrow and Spark both read: ``s3://…``, ``hdfs://…``):

    job.json                    as-of date, the indicator sets (spec + region prefix, most specific first),
                                whether a model scores, whether previous scores exist
    artifact.json               the champion's model artifact (JSON; its LightGBM model string is broadcast)
    snapshot/<table>/region_part=<prefix>/part-0.parquet
                                the as-of snapshot, partitioned by region (records go with their enterprise)
    previous.parquet            enterprise_id, grade, total_score of the published grades (who to explain)
    out/scores/                 the engine's score rows + set_key, one row per enterprise
    out/model_scores/           enterprise_id, model_score, probability
    out/reasons/                enterprise_id, reasons (model explanations, changed or non-A only)

:func:`run_job` runs it on a SparkSession: ``spark-submit --master yarn …/foodrisk/engine/spark_main.py JOB`` on a
cluster, or in-process on ``local[*]``. Every query is the engine's own compiled SQL carried over by
:func:`foodrisk.engine.sparksql.to_spark_sql`; the model runs per partition (``mapInArrow``) through the same
``model_scores`` / ``explain_targets`` / ``explain`` as the single-machine path.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .compiler import MODEL_TABLE, compile_spec
from .schema import TABLE_NAMES
from .scoring import NO_MODEL_WARNING, SCORE_SCHEMA, ScoreResult, SnapshotError, validate_snapshot
from .sparksql import to_spark_sql
from .spec import IndicatorSet

REGION_COLUMN = "region_part"
REGION_DIGITS = 4  # city level: a national snapshot splits into ~330 directories
JOB_FORMAT = "foodrisk-spark-job/1"
REASONS_SCHEMA = pa.schema([("enterprise_id", pa.int64()), ("reasons", pa.string())])


@dataclass
class SetInput:
    key: str  # echoed in the score rows (the Django side uses the IndicatorSet pk)
    spec: dict  # the engine spec as scored (the champion's blend applied)
    prefix: str = ""  # region_code prefix of the set's scope ("" = everywhere)


@dataclass
class SparkResult:
    parts: list[tuple[str, ScoreResult]]
    model_scores: pa.Table | None
    reasons: dict[int, str]
    timing: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ file system


def _fs(uri: str) -> tuple[pafs.FileSystem, str]:
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def _join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *parts])


def _write_text(uri: str, text: str) -> None:
    fs, path = _fs(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as f:
        f.write(text.encode("utf-8"))


def _read_text(uri: str) -> str:
    fs, path = _fs(uri)
    with fs.open_input_stream(path) as f:
        return f.read().decode("utf-8")


# ------------------------------------------------------------------------------------------------ job files


def export_snapshot(snapshot: Mapping[str, pa.Table], uri: str, *, region_digits: int = REGION_DIGITS) -> dict:
    """Write the snapshot as Parquet partitioned by region (``region_part`` = the region code's first
    ``region_digits`` digits); record tables follow their enterprise. Returns {table: rows}."""
    fs, root = _fs(uri)
    ents = snapshot["enterprises"]
    region = pc.fill_null(pc.utf8_slice_codeunits(ents["region_code"], 0, region_digits), "none")
    key = pa.table({"enterprise_id": ents["enterprise_id"], REGION_COLUMN: region})
    partitioning = pads.partitioning(pa.schema([(REGION_COLUMN, pa.string())]), flavor="hive")
    counts = {}
    for name, table in snapshot.items():
        if name not in TABLE_NAMES:
            raise ValueError(f"unknown snapshot table {name!r}")
        base = f"{root}/{name}"
        fs.create_dir(base, recursive=True)
        counts[name] = table.num_rows
        if table.num_rows == 0:  # no partition directory would be written: Spark still needs the schema
            pq.write_table(table, f"{base}/part-empty.parquet", filesystem=fs)
            continue
        if name == "enterprises":
            t = table.append_column(REGION_COLUMN, region)
        else:
            t = table.join(key, "enterprise_id", join_type="left outer")
            t = t.set_column(t.schema.get_field_index(REGION_COLUMN), REGION_COLUMN,
                             pc.fill_null(t[REGION_COLUMN], "none"))
        pads.write_dataset(t, base, format="parquet", partitioning=partitioning, filesystem=fs,
                           existing_data_behavior="delete_matching", basename_template="part-{i}.parquet",
                           file_options=pads.ParquetFileFormat().make_write_options(compression="zstd"))
    return counts


def write_job(uri: str, snapshot: Mapping[str, pa.Table], sets: Sequence[SetInput], as_of: date, *,
              artifact_json: str | None = None, previous: pa.Table | None = None) -> str:
    """Everything a Spark job needs under ``uri``: the partitioned snapshot, the sets, the model artifact
    and the previously published scores. Validates the snapshot against every set first (same errors as
    the single-machine path)."""
    for s in sets:
        validate_snapshot(snapshot, IndicatorSet.from_dict(s.spec))
    counts = export_snapshot(snapshot, _join(uri, "snapshot"))
    if artifact_json is not None:
        _write_text(_join(uri, "artifact.json"), artifact_json)
    if previous is not None:
        fs, path = _fs(_join(uri, "previous.parquet"))
        pq.write_table(previous.select(["enterprise_id", "grade", "total_score"]), path, filesystem=fs)
    job = {"format": JOB_FORMAT, "as_of": as_of.isoformat(), "tables": counts,
           "sets": [{"key": s.key, "spec": s.spec, "prefix": s.prefix} for s in sets],
           "model": artifact_json is not None, "previous": previous is not None}
    _write_text(_join(uri, "job.json"), json.dumps(job, ensure_ascii=False, default=str))
    return uri


def read_results(uri: str) -> SparkResult:
    """The job's output as the single-machine path returns it: [(set key, ScoreResult)] ordered by
    enterprise_id, the model scores and {enterprise_id: model reasons JSON}."""
    job = json.loads(_read_text(_join(uri, "job.json")))
    as_of = date.fromisoformat(job["as_of"])
    fs, _ = _fs(uri)
    scores = pads.dataset(_fs(_join(uri, "out", "scores"))[1], format="parquet", filesystem=fs).to_table()
    parts = []
    for s in job["sets"]:
        spec = IndicatorSet.from_dict(s["spec"])
        rows = scores.filter(pc.equal(scores["set_key"], s["key"])).drop_columns(["set_key"])
        rows = rows.sort_by("enterprise_id").cast(SCORE_SCHEMA)
        if rows.num_rows:
            codes = compile_spec(spec, as_of).indicator_codes
            parts.append((s["key"], ScoreResult(scores=rows, as_of=as_of, spec_code=spec.code,
                                                spec_version=spec.version, timing=job.get("timing", {}),
                                                indicator_codes=codes, warnings=_warnings(spec, job["model"]))))
    model, reasons = None, {}
    if job["model"]:
        path = _fs(_join(uri, "out", "model_scores"))[1]
        model = pads.dataset(path, format="parquet", filesystem=fs).to_table().sort_by("enterprise_id")
        ex = pads.dataset(_fs(_join(uri, "out", "reasons"))[1], format="parquet", filesystem=fs).to_table()
        reasons = dict(zip(ex["enterprise_id"].to_pylist(), ex["reasons"].to_pylist(), strict=True))
    return SparkResult(parts, model, reasons, timing=job.get("timing", {}))


def _warnings(spec: IndicatorSet, with_model: bool) -> list[str]:
    # the warning engine.score gives
    return [NO_MODEL_WARNING] if not with_model and spec.blend.get("model", 0) > 0 else []


# ------------------------------------------------------------------------------------------------ Spark side


def spark_session(master: str = "local[2]", app_name: str = "foodrisk-score", conf: Mapping[str, str] | None = None):
    """A SparkSession whose Python workers run this interpreter (not the system python3)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # py4j logs "Closing down clientserver connection" at INFO from __del__, which at interpreter exit writes to
    # closed streams ("--- Logging error ---" after the test run)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    b = SparkSession.builder.master(master).appName(app_name)
    defaults = {"spark.sql.session.timeZone": "UTC", "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.shuffle.partitions": "8"}
    for k, v in {**defaults, **(conf or {})}.items():
        b = b.config(k, v)
    return b.getOrCreate()


@lru_cache(maxsize=4)
def _artifact(text: str):
    from .model.train import ModelArtifact

    return ModelArtifact.from_json(text)


def _model_partition(artifact_bc):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from .model.predict import model_scores

        art = _artifact(artifact_bc.value)
        for b in batches:
            if b.num_rows:
                yield from model_scores(art, pa.Table.from_batches([b])).to_batches()

    return run


def _explain_partition(artifact_bc, has_previous: bool):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from .model.predict import explain, explain_targets

        art = _artifact(artifact_bc.value)
        for b in batches:
            if not b.num_rows:
                continue
            t = pa.Table.from_batches([b])
            scores = t.select(["enterprise_id", "grade", "total_score"])
            previous = None
            if has_previous:  # this batch's slice of the published scores: same targets as on one machine
                known = t.filter(pc.is_valid(t["_prev_grade"]))
                previous = pa.table({"enterprise_id": known["enterprise_id"], "grade": known["_prev_grade"],
                                     "total_score": known["_prev_total"]})
            targets = explain_targets(scores, previous)
            if targets:
                ex = explain(art, t.drop_columns(["grade", "total_score", "_prev_grade", "_prev_total"]), targets,
                             top=3)
                yield from ex.select(["enterprise_id", "reasons"]).cast(REASONS_SCHEMA).to_batches()

    return run


def _model_features(spark, as_of: date, present: list[str]):
    from .model.catalogue import compile_features

    sql = to_spark_sql(compile_features(as_of, present), ordered=False)
    # what feature_table(catalogue=True) keeps: active enterprises (an unknown status counts as active)
    return spark.sql(sql).where("coalesce(status, 'active') = 'active'").drop("status")


def run_job(spark, uri: str) -> dict:
    """Run a job directory on ``spark``; writes ``out/`` and returns the timing (also stored in job.json)."""
    from pyspark.sql import functions as F

    t0 = time.perf_counter()
    job = json.loads(_read_text(_join(uri, "job.json")))
    if job.get("format") != JOB_FORMAT:
        raise ValueError(f"not a foodrisk Spark job: {uri}")
    as_of = date.fromisoformat(job["as_of"])
    frames = {}
    for name in job["tables"]:
        df = spark.read.parquet(_join(uri, "snapshot", name))
        frames[name] = df.drop(REGION_COLUMN) if REGION_COLUMN in df.columns else df
    for name, df in frames.items():
        df.createOrReplaceTempView(name)
    ents = frames["enterprises"]
    n, distinct, nulls = ents.agg(F.count(F.lit(1)), F.countDistinct("enterprise_id"),
                                  F.count(F.lit(1)) - F.count("enterprise_id")).first()
    if nulls:
        raise SnapshotError("table 'enterprises' has null enterprise_id values")
    if distinct != n - nulls:
        raise SnapshotError("table 'enterprises' has duplicate enterprise_id values")
    columns = {name: df.columns for name, df in frames.items()}
    timing = {"read_s": round(time.perf_counter() - t0, 3)}

    model_df = features = artifact_bc = None
    if job["model"]:
        t1 = time.perf_counter()
        art_text = _read_text(_join(uri, "artifact.json"))
        art = _artifact(art_text)
        if art.feature_source != "catalogue":
            raise ValueError("the Spark back end scores models trained on the feature catalogue (retrain the model)")
        artifact_bc = spark.sparkContext.broadcast(art_text)
        features = _model_features(spark, as_of, list(frames)).cache()
        out_schema = "enterprise_id long, model_score double, probability double"
        model_df = features.mapInArrow(_model_partition(artifact_bc), out_schema).cache()
        model_df.write.mode("overwrite").parquet(_join(uri, "out", "model_scores"))
        model_df.createOrReplaceTempView(MODEL_TABLE)
        timing["model_s"] = round(time.perf_counter() - t1, 3)

    t2 = time.perf_counter()
    results = []
    taken = None
    for s in job["sets"]:
        spec = IndicatorSet.from_dict(s["spec"])
        mine = ents
        if s["prefix"]:
            mine = mine.where(F.coalesce(F.col("region_code").startswith(s["prefix"]), F.lit(False)))
        if taken is not None:  # most specific set first: an enterprise is scored by one set only
            mine = mine.join(taken, "enterprise_id", "left_anti")
        taken = mine.select("enterprise_id") if taken is None else taken.union(mine.select("enterprise_id"))
        mine.createOrReplaceTempView("enterprises")
        sql = compile_spec(spec, as_of, with_model=job["model"], compact_details=True).sql
        results.append(spark.sql(to_spark_sql(sql, columns, ordered=False)).withColumn("set_key", F.lit(str(s["key"]))))
    scores = results[0]
    for r in results[1:]:
        scores = scores.unionByName(r)
    scores = scores.cache()
    scores.write.mode("overwrite").parquet(_join(uri, "out", "scores"))
    ents.createOrReplaceTempView("enterprises")
    timing["score_s"] = round(time.perf_counter() - t2, 3)

    if job["model"]:
        t3 = time.perf_counter()
        rows = features.join(scores.select("enterprise_id", "grade", "total_score"), "enterprise_id")
        if job["previous"]:
            prev = spark.read.parquet(_join(uri, "previous.parquet")).select(
                "enterprise_id", F.col("grade").alias("_prev_grade"), F.col("total_score").alias("_prev_total"))
            rows = rows.join(prev, "enterprise_id", "left")
        else:
            rows = rows.withColumn("_prev_grade", F.lit(None).cast("string")).withColumn(
                "_prev_total", F.lit(None).cast("double"))
        reasons = rows.mapInArrow(_explain_partition(artifact_bc, job["previous"]),
                                  "enterprise_id long, reasons string")
        reasons.write.mode("overwrite").parquet(_join(uri, "out", "reasons"))
        timing["explain_s"] = round(time.perf_counter() - t3, 3)
        features.unpersist()
        model_df.unpersist()
        artifact_bc.destroy()
    scores.unpersist()
    timing["total_s"] = round(time.perf_counter() - t0, 3)
    job["timing"] = timing
    _write_text(_join(uri, "job.json"), json.dumps(job, ensure_ascii=False, default=str))
    return timing


def score_on_spark(spark, uri: str, snapshot: Mapping[str, pa.Table], sets: Sequence[SetInput], as_of: date, *,
                   artifact_json: str | None = None, previous: pa.Table | None = None) -> SparkResult:
    """write_job → run_job → read_results in one call (tests, benchmarks, a local[*] master)."""
    write_job(uri, snapshot, sets, as_of, artifact_json=artifact_json, previous=previous)
    run_job(spark, uri)
    return read_results(uri)


def main(argv: Sequence[str] | None = None) -> int:
    """``spark-submit …/foodrisk/engine/spark_main.py JOB_URI``: run one job on the submitting cluster."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: spark-submit foodrisk/engine/spark_main.py JOB_URI", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("foodrisk-score").getOrCreate()
    try:
        print(json.dumps(run_job(spark, args[0])))
    finally:
        spark.stop()
    return 0
