"""Score a snapshot with an indicator set: validate inputs, run the compiled SQL in DuckDB."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from .compiler import MODEL_TABLE, compile_spec
from .schema import SCHEMAS, type_family
from .spec import IndicatorSet

SCORE_SCHEMA = pa.schema(
    [
        ("enterprise_id", pa.int64()),
        ("subtotals", pa.string()),  # JSON {category: points}
        ("rule_score", pa.float64()),
        ("model_score", pa.float64()),
        ("total_score", pa.float64()),
        ("base_grade", pa.string()),  # grade from the cut-offs alone
        ("grade", pa.string()),  # after policy rules
        ("new_enterprise", pa.bool_()),
        ("rule_hits", pa.string()),  # JSON [rule code, …]
        ("reasons", pa.string()),  # JSON [Chinese sentence, …]
        ("details", pa.string()),  # JSON {indicator code: [value, points]} (compact: see decode_details)
    ]
)


def decode_details(details: str | dict | list, codes: list[str]) -> dict:
    """{indicator code: [value, points]} from either details form: the JSON object, or the compact
    ``[[value, …], [points, …]]`` (``score(compact_details=True)``) with ``codes`` = its indicator order."""
    if isinstance(details, str):
        details = json.loads(details)
    if isinstance(details, dict):
        return details
    values, points = details
    if len(values) != len(codes) or len(points) != len(codes):
        raise ValueError(f"compact details hold {len(values)} values for {len(codes)} indicator codes")
    return {c: [v, p] for c, v, p in zip(codes, values, points, strict=True)}

# which input families each canonical family accepts
_COMPATIBLE = {
    "int": {"int", "null"},
    "float": {"int", "float", "null"},
    "string": {"string", "null"},
    "bool": {"bool", "null"},
    "date": {"date", "null"},
}


NO_MODEL_WARNING = "blend gives the model a weight but no model scores were given: rule score only"


class SnapshotError(ValueError):
    """The snapshot (or model score table) does not fit the engine's input schema."""


@dataclass
class ScoreResult:
    scores: pa.Table
    as_of: date
    spec_code: str
    spec_version: str | int
    timing: dict[str, float] = field(default_factory=dict)
    sql: str = ""
    warnings: list[str] = field(default_factory=list)
    indicator_codes: list[str] = field(default_factory=list)  # enabled indicators, in spec order

    def grade_counts(self) -> dict[str, int]:
        counts = pc.value_counts(self.scores["grade"]).to_pylist() if self.scores.num_rows else []
        return {c["values"]: c["counts"] for c in sorted(counts, key=lambda c: str(c["values"]))}

    def row(self, enterprise_id: int) -> dict:
        """One enterprise's result with its JSON columns decoded (for tests and the profile page)."""
        mask = pc.equal(self.scores["enterprise_id"], enterprise_id)
        rows = self.scores.filter(mask).to_pylist()
        if not rows:
            raise KeyError(enterprise_id)
        r = rows[0]
        for k in ("subtotals", "rule_hits", "reasons", "details"):
            r[k] = json.loads(r[k])
        r["details"] = decode_details(r["details"], self.indicator_codes)
        return r


def validate_snapshot(snapshot: Mapping[str, pa.Table], spec: IndicatorSet) -> None:
    """Raise SnapshotError naming each missing table/column or wrong type the spec needs."""
    if not isinstance(snapshot, Mapping):
        raise SnapshotError("snapshot must be a mapping of table name → pyarrow.Table")
    problems = []
    users: dict[str, list[str]] = {}
    for ind in spec.active_indicators:
        users.setdefault(ind.source, []).append(ind.code)
    for table, cols in sorted(spec.required_tables().items()):
        t = snapshot.get(table)
        needed_by = ", ".join(users.get(table, [])) or "the engine"
        if t is None:
            problems.append(f"missing table '{table}' (needed by: {needed_by})")
            continue
        if not isinstance(t, pa.Table | pads.Dataset):
            problems.append(f"table '{table}' must be a pyarrow.Table or Dataset, got {type(t).__name__}")
            continue
        for c in sorted(cols):
            if c not in t.schema.names:
                problems.append(f"table '{table}' is missing column '{c}'")
                continue
            want = type_family(SCHEMAS[table].field(c).type)
            got = type_family(t.schema.field(c).type)
            if got not in _COMPATIBLE[want]:
                problems.append(
                    f"table '{table}' column '{c}' has type {t.schema.field(c).type}, expected {want}"
                )
    if problems:
        raise SnapshotError("snapshot does not fit the engine schema:\n  " + "\n  ".join(problems))


def _check_keys(con: duckdb.DuckDBPyConnection) -> None:
    n, distinct, nulls = con.sql(
        "SELECT count(*), count(DISTINCT enterprise_id), count(*) - count(enterprise_id) FROM enterprises"
    ).fetchall()[0]
    if nulls:
        raise SnapshotError("table 'enterprises' has null enterprise_id values")
    if distinct != n - nulls:
        raise SnapshotError("table 'enterprises' has duplicate enterprise_id values")


def _validate_model(model_scores: pa.Table) -> None:
    if not isinstance(model_scores, pa.Table):
        raise SnapshotError("model_scores must be a pyarrow.Table")
    for c in ("enterprise_id", "model_score"):
        if c not in model_scores.schema.names:
            raise SnapshotError(f"model_scores is missing column '{c}'")
    if type_family(model_scores.schema.field("model_score").type) not in ("int", "float"):
        raise SnapshotError("model_scores.model_score must be numeric (0–100)")
    ms = model_scores["model_score"]
    if model_scores.num_rows and ms.null_count < len(ms):
        lo, hi = pc.min(ms).as_py(), pc.max(ms).as_py()
        if lo < 0 or hi > 100:
            raise SnapshotError(f"model_score must lie in 0–100 (got {lo}–{hi})")
    ids = model_scores["enterprise_id"]
    if model_scores.num_rows and pc.count_distinct(ids).as_py() != model_scores.num_rows - ids.null_count:
        raise SnapshotError("model_scores has duplicate enterprise_id values")


def connect(threads: int = 2, memory_limit: str = "3GB") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with bounded threads/memory and a private spill directory."""
    tmp = os.path.join(tempfile.gettempdir(), "foodrisk-duckdb")
    os.makedirs(tmp, exist_ok=True)
    con = duckdb.connect(
        config={
            "threads": int(threads),
            "memory_limit": str(memory_limit),
            "temp_directory": tmp,
            "preserve_insertion_order": False,
        }
    )
    con.execute("SET enable_progress_bar = false")  # no terminal noise from library calls
    return con


def score(
    snapshot: Mapping[str, pa.Table | pads.Dataset],
    spec: IndicatorSet | dict,
    as_of: date,
    *,
    model_scores: pa.Table | None = None,
    threads: int = 2,
    memory_limit: str = "3GB",
    compact_details: bool = False,
) -> ScoreResult:
    """Score every enterprise that exists at ``as_of``.

    Point-in-time: records dated after as_of are ignored; list entries removed after as_of still count
    as listed. Deterministic: same inputs → identical output (rows ordered by enterprise_id).

    ``compact_details``: the details column holds ``[[value, …], [points, …]]`` in the order of
    ``result.indicator_codes`` instead of ``{code: [value, points]}`` (a third of the size, for storing
    many rows); ``decode_details`` turns either form into the object.
    """
    t0 = time.perf_counter()
    if isinstance(spec, dict):
        spec = IndicatorSet.from_dict(spec)
    else:
        spec.validate()
    if not isinstance(as_of, date):
        raise TypeError("as_of must be a datetime.date")
    validate_snapshot(snapshot, spec)
    warnings = []
    if model_scores is not None:
        _validate_model(model_scores)
    elif spec.blend.get("model", 0) > 0:
        warnings.append(NO_MODEL_WARNING)
    t1 = time.perf_counter()
    compiled = compile_spec(spec, as_of, with_model=model_scores is not None, compact_details=compact_details)
    t2 = time.perf_counter()
    con = connect(threads, memory_limit)
    try:
        for name in ["enterprises", *compiled.tables]:
            con.register(name, snapshot[name])
        _check_keys(con)
        if model_scores is not None:
            con.register(MODEL_TABLE, model_scores.select(["enterprise_id", "model_score"]))
        out = con.sql(compiled.sql).to_arrow_table()
    finally:
        con.close()
    t3 = time.perf_counter()
    out = out.cast(SCORE_SCHEMA)
    timing = {
        "validate_s": round(t1 - t0, 4),
        "compile_s": round(t2 - t1, 4),
        "query_s": round(t3 - t2, 4),
        "total_s": round(time.perf_counter() - t0, 4),
    }
    return ScoreResult(
        scores=out,
        as_of=as_of,
        spec_code=spec.code,
        spec_version=spec.version,
        timing=timing,
        sql=compiled.sql,
        warnings=warnings,
        indicator_codes=compiled.indicator_codes,
    )


def features(
    snapshot: Mapping[str, pa.Table],
    spec: IndicatorSet,
    as_of: date,
    *,
    threads: int = 2,
    memory_limit: str = "3GB",
) -> pa.Table:
    """Indicator values only (enterprise_id, _age_months, v_<code> …) — model features and the benchmark floor."""
    spec.validate()
    validate_snapshot(snapshot, spec)
    compiled = compile_spec(spec, as_of)
    con = connect(threads, memory_limit)
    try:
        for name in ["enterprises", *compiled.tables]:
            con.register(name, snapshot[name])
        return con.sql(compiled.features_sql + " ORDER BY enterprise_id").to_arrow_table()
    finally:
        con.close()
