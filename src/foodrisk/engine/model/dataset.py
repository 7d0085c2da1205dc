"""Point-in-time training data: model features at an as-of date and adverse outcomes after it.

Features at ``as_of`` come only from ``snapshot_at(as_of)`` and only from records dated ≤ as_of:
the indicator values of the spec (``features()``), a few enterprise attributes and inspection /
sampling exposure counts. Labels come from :func:`outcomes`, which looks only at records dated in
(as_of, as_of + horizon]. The two never share a window.

The snapshot provider is a plain callable ``snapshot_at(as_of) -> {table name: pyarrow.Table}`` so the
Django side can hand in a database-backed provider and tests hand in ``world.to_snapshot``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..compiler import shift_months
from ..schema import BUSINESS_FORMS, LABELS
from ..scoring import connect, features
from ..spec import IndicatorSet

SnapshotProvider = Callable[[date], Mapping[str, pa.Table]]

# adverse outcome kinds → (table, date column, SQL condition)
OUTCOME_KINDS: dict[str, tuple[str, str, str]] = {
    "failed_inspection": ("inspections", "inspected_on", "result = 'fail'"),
    "failed_sampling": ("sampling_tests", "sampled_on", "result = 'fail'"),
    "penalty": ("penalties", "decided_on", "TRUE"),
    "verified_complaint": ("complaints", "received_on", "coalesce(verified, FALSE)"),
    "key_items_inspection": ("inspections", "inspected_on", "coalesce(key_items_failed, 0) > 0"),
}
OUTCOME_LABELS = {
    "failed_inspection": "监督检查不符合",
    "failed_sampling": "抽检不合格",
    "penalty": "行政处罚",
    "verified_complaint": "投诉举报经核查属实",
    "key_items_inspection": "检查发现关键项不符合",
}
# whom a label is defined for: every enterprise, or only those inspected within the horizon (the outcome
# of an inspection that happens — what an inspector choosing whom to visit next needs, free of the bias
# "inspected more, so more adverse records"), or each inspection within the horizon as a row of its own
# (the label is that inspection's finding: an enterprise visited twice is two rows, as it is two visits an
# inspector plans; only kinds recorded on the inspection itself)
POPULATIONS = ("all", "inspected", "inspections")
DEFAULT_KINDS: tuple[str, ...] = ("failed_inspection", "failed_sampling", "penalty")

SCALE_ORDER = {"micro": 0, "small": 1, "medium": 2, "large": 3}

# extra (non-indicator) features: name → Chinese label for explanations
EXTRA_FEATURES: dict[str, str] = {
    "age_months": "成立月数",
    "static_tier": "静态风险等级",
    "scale_ord": "经营规模",
    "key_supervision": "重点监管对象",
    "n_insp_12m": "近12个月被检查次数",
    "n_insp_36m": "近36个月被检查次数",
    "n_sampling_12m": "近12个月被抽检次数",
    **{f"form_{f}": f"主体业态为{LABELS['business_form'][f]}" for f in BUSINESS_FORMS},
}

# v_ columns not used as model features (duplicates of the extras, or strings handled as one-hot)
_SKIP_VALUES = {"v_x_age_months"}


@dataclass
class LabelSpec:
    """What counts as an adverse outcome, and over which horizon."""

    kinds: tuple[str, ...] = DEFAULT_KINDS
    horizon_months: int = 12
    population: str = "all"

    def __post_init__(self):
        self.kinds = tuple(self.kinds)
        unknown = set(self.kinds) - set(OUTCOME_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown outcome kinds {sorted(unknown)}; choose from {sorted(OUTCOME_KINDS)}")
        if self.horizon_months < 1:
            raise ValueError("horizon_months must be ≥ 1")
        if self.population not in POPULATIONS:
            raise ValueError(f"population must be one of {POPULATIONS}")
        if self.population == "inspections" and any(OUTCOME_KINDS[k][0] != "inspections" for k in self.kinds):
            raise ValueError("population 'inspections' needs outcome kinds recorded on the inspection itself "
                             f"({', '.join(k for k, v in OUTCOME_KINDS.items() if v[0] == 'inspections')})")

    def to_dict(self) -> dict:
        what = "、".join(OUTCOME_LABELS[k] for k in self.kinds)
        if self.population == "inspections":
            description = f"未来{self.horizon_months}个月内的每次检查：{what}"
        else:
            who = "被检查的企业" if self.population == "inspected" else ""
            description = f"{who}未来{self.horizon_months}个月内发生：{what}"
        return {"kinds": list(self.kinds), "horizon_months": self.horizon_months, "population": self.population,
                "description": description}

    @classmethod
    def from_dict(cls, d: dict) -> LabelSpec:
        return cls(kinds=tuple(d["kinds"]), horizon_months=int(d["horizon_months"]),
                   population=d.get("population", "all"))


# the product's training targets: the label the validation folds measure, and the training horizons tried on
# them. "inspection": each visit's own finding — what an inspector planning the next two months' visits needs;
# short horizons, as a visit's finding is best told by the months just before it (on Chicago's inspections
# it ranks the visits better than the enterprise label: benchmarks/results/validity.json)
TRAINING_TARGETS: dict[str, tuple[LabelSpec, tuple[int, ...]]] = {
    "enterprise": (LabelSpec(DEFAULT_KINDS, 12, "all"), (3, 6, 12)),
    "inspection": (LabelSpec(("key_items_inspection",), 2, "inspections"), (1, 3, 6)),
}


@dataclass
class Dataset:
    """Stacked enterprise × as-of rows: ``table`` holds as_of, enterprise_id, the features and label."""

    table: pa.Table
    feature_names: list[str]
    label: LabelSpec
    spec_code: str = ""
    spec_version: str | int = ""
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def as_of_dates(self) -> list[date]:
        return sorted(set(self.table["as_of"].to_pylist()))

    def X(self, rows: pa.Table | None = None) -> np.ndarray:
        return feature_matrix(rows if rows is not None else self.table, self.feature_names)

    def y(self, rows: pa.Table | None = None) -> np.ndarray:
        t = rows if rows is not None else self.table
        return t["label"].to_numpy(zero_copy_only=False).astype(np.int8)

    def slice(self, dates: Iterable[date]) -> pa.Table:
        ds = pa.array(sorted(set(dates)), pa.date32())
        return self.table.filter(pc.is_in(self.table["as_of"], value_set=ds))


def month_dates(first: date, last: date, step_months: int = 1) -> list[date]:
    """As-of dates from ``last`` back to ≥ ``first`` in steps of whole months (aligned on ``last``)."""
    out, k = [], 0
    while True:
        d = shift_months(last, -k)
        if d < first:
            break
        out.append(d)
        k += step_months
    return sorted(out)


def fit_encoding(values: np.ndarray, y: np.ndarray, smoothing: float = 100.0) -> dict:
    """A category as a number: smoothed log-odds of each value's event rate against the overall rate
    (values with few rows stay near 0; unseen values are 0). JSON-able."""
    y = np.asarray(y, float)
    p = float(np.clip(y.mean(), 1e-6, 1 - 1e-6)) if len(y) else 0.5
    keys, inv = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    s = np.bincount(inv, weights=y, minlength=len(keys))
    n = np.bincount(inv, minlength=len(keys))
    rate = np.clip((s + smoothing * p) / (n + smoothing), 1e-6, 1 - 1e-6)
    woe = np.log(rate / (1 - rate)) - np.log(p / (1 - p))
    return {"values": {str(k): round(float(w), 6) for k, w in zip(keys, woe, strict=True) if k != "None"}}


def encode(values, encoding: dict) -> np.ndarray:
    table = encoding["values"]
    return np.asarray([table.get(str(v), 0.0) if v is not None else 0.0 for v in values], float)


def feature_matrix(table: pa.Table, names: Sequence[str], encodings: dict | None = None) -> np.ndarray:
    """float64 matrix of the named columns (missing columns → NaN, nulls → NaN; text columns through their
    ``encodings``)."""
    cols = []
    for n in names:
        if encodings and n in encodings and n in table.schema.names:
            # each distinct text once (a 1,000,000-row scoring table has a few thousand), not each row
            d = pc.dictionary_encode(table[n].combine_chunks())
            codes = encode(d.dictionary.to_pylist() + [None], encodings[n])
            cols.append(codes[pc.fill_null(d.indices, len(d.dictionary)).to_numpy(zero_copy_only=False)])
        elif n in table.schema.names:
            col = table[n]
            if pa.types.is_boolean(col.type):
                col = pc.cast(col, pa.int8())
            cols.append(col.to_numpy(zero_copy_only=False).astype(np.float64))
        else:
            cols.append(np.full(table.num_rows, np.nan))
    if not cols:
        return np.empty((table.num_rows, 0))
    return np.column_stack(cols)


def _exposure(snapshot: Mapping[str, pa.Table], as_of: date, threads: int) -> pa.Table:
    """Inspection / sampling counts in the 12 and 36 months up to as_of (records dated ≤ as_of only)."""
    con = connect(threads)
    try:
        a = as_of.isoformat()
        m12, m36 = shift_months(as_of, -12).isoformat(), shift_months(as_of, -36).isoformat()
        con.register("enterprises", snapshot["enterprises"])
        parts = []
        if "inspections" in snapshot:
            con.register("inspections", snapshot["inspections"])
            parts.append(
                "LEFT JOIN (SELECT enterprise_id, "
                f"count(*) FILTER (WHERE inspected_on > DATE '{m12}') AS n_insp_12m, "
                "count(*) AS n_insp_36m FROM inspections "
                f"WHERE inspected_on <= DATE '{a}' AND inspected_on > DATE '{m36}' GROUP BY 1) i USING (enterprise_id)"
            )
        if "sampling_tests" in snapshot:
            con.register("sampling_tests", snapshot["sampling_tests"])
            parts.append(
                "LEFT JOIN (SELECT enterprise_id, count(*) AS n_sampling_12m FROM sampling_tests "
                f"WHERE sampled_on <= DATE '{a}' AND sampled_on > DATE '{m12}' GROUP BY 1) s USING (enterprise_id)"
            )
        cols = []
        cols.append(
            "coalesce(i.n_insp_12m, 0) AS n_insp_12m" if "inspections" in snapshot else "NULL AS n_insp_12m"
        )
        cols.append(
            "coalesce(i.n_insp_36m, 0) AS n_insp_36m" if "inspections" in snapshot else "NULL AS n_insp_36m"
        )
        cols.append(
            "coalesce(s.n_sampling_12m, 0) AS n_sampling_12m"
            if "sampling_tests" in snapshot
            else "NULL AS n_sampling_12m"
        )
        forms = ", ".join(f"CAST(business_form = '{f}' AS TINYINT) AS \"form_{f}\"" for f in BUSINESS_FORMS)
        scale = " ".join(f"WHEN '{k}' THEN {v}" for k, v in SCALE_ORDER.items())
        sql = (
            "SELECT e.enterprise_id, e.status, "
            f"date_sub('month', e.established_on, DATE '{a}') AS age_months, "
            "CAST(e.static_tier AS DOUBLE) AS static_tier, "
            f"CASE e.scale {scale} END AS scale_ord, "
            "CAST(e.key_supervision AS TINYINT) AS key_supervision, "
            f"{forms}, {', '.join(cols)} "
            f"FROM enterprises e {' '.join(parts)} "
            f"WHERE e.established_on IS NULL OR e.established_on <= DATE '{a}' ORDER BY e.enterprise_id"
        )
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def feature_table(
    snapshot: Mapping[str, pa.Table],
    spec: IndicatorSet,
    as_of: date,
    *,
    active_only: bool = True,
    threads: int = 2,
    catalogue: bool = False,
) -> pa.Table:
    """Model inputs at ``as_of``: enterprise_id + numeric features (indicator values ``v_<code>``, extras).

    Uses only what the snapshot holds dated ≤ as_of (the engine's point-in-time ``features()`` plus
    exposure counts filtered the same way). ``active_only`` keeps enterprises whose status is active.
    ``catalogue=True``: the feature catalogue (catalogue.py) instead, independent of the indicator set.
    """
    if catalogue:
        from .catalogue import catalogue_table

        t = catalogue_table(snapshot, as_of, threads=threads)
        if active_only:
            t = t.filter(pc.equal(pc.fill_null(t["status"], "active"), "active"))
        return t.drop_columns(["status"])
    vals = features(snapshot, spec, as_of, threads=threads)
    extra = _exposure(snapshot, as_of, threads)
    keep = [
        n
        for n in vals.schema.names
        if n.startswith("v_")
        and n not in _SKIP_VALUES
        and not (
            pa.types.is_string(vals.schema.field(n).type)
            or pa.types.is_large_string(vals.schema.field(n).type)
        )
    ]
    vals = vals.select(["enterprise_id", *keep])
    # both tables are ordered by enterprise_id and cover the same enterprises (established ≤ as_of)
    if vals.num_rows != extra.num_rows or not vals["enterprise_id"].equals(extra["enterprise_id"]):
        idx = pc.index_in(vals["enterprise_id"], extra["enterprise_id"])
        extra = extra.take(idx)
    out = vals
    for n in extra.schema.names:
        if n in ("enterprise_id", "status"):
            continue
        out = out.append_column(n, extra[n].cast(pa.float64()))
    if active_only:
        out = out.filter(pc.equal(pc.fill_null(extra["status"], "active"), "active"))
    return out


def outcomes(
    full_snapshot: Mapping[str, pa.Table],
    as_of: date,
    horizon_months: int = 12,
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    population: str = "all",
    threads: int = 2,
) -> pa.Table:
    """Adverse outcomes per enterprise in (as_of, as_of + horizon]: one count column per kind and ``label``.

    ``population="inspected"``: the label is null for enterprises not inspected in the horizon.
    ``population="inspections"``: one row per inspection in the horizon (an enterprise may repeat), its
    label that inspection's own finding.

    ``full_snapshot`` must hold records up to at least as_of + horizon (e.g. today's snapshot when
    as_of is a year ago). Enterprises are those established on or before as_of.
    """
    label = LabelSpec(tuple(kinds), horizon_months, population)
    end = shift_months(as_of, horizon_months)
    a, b = as_of.isoformat(), end.isoformat()
    con = connect(threads)
    try:
        con.register("enterprises", full_snapshot["enterprises"])
        if label.population == "inspections":
            return _inspection_outcomes(con, full_snapshot, label, a, b)
        joins, cols = [], []
        for k in label.kinds:
            table, dcol, cond = OUTCOME_KINDS[k]
            if table not in full_snapshot:
                raise KeyError(f"outcome kind {k!r} needs table {table!r} in the snapshot")
            con.register(table, full_snapshot[table])
            joins.append(
                f"LEFT JOIN (SELECT enterprise_id, count(*) AS n FROM {table} WHERE {dcol} > DATE '{a}' "
                f"AND {dcol} <= DATE '{b}' AND ({cond}) GROUP BY 1) {k} USING (enterprise_id)"
            )
            cols.append(f"CAST(coalesce({k}.n, 0) AS INTEGER) AS n_{k}")
        total = " + ".join(f"coalesce({k}.n, 0)" for k in label.kinds)
        lab = f"({total}) > 0"
        if label.population == "inspected":
            if "inspections" not in full_snapshot:
                raise KeyError("population 'inspected' needs table 'inspections' in the snapshot")
            con.register("inspections", full_snapshot["inspections"])
            joins.append(
                f"LEFT JOIN (SELECT enterprise_id, count(*) AS n FROM inspections WHERE inspected_on > "
                f"DATE '{a}' AND inspected_on <= DATE '{b}' GROUP BY 1) visited USING (enterprise_id)"
            )
            lab = f"CASE WHEN coalesce(visited.n, 0) > 0 THEN {lab} END"
        sql = (
            f"SELECT e.enterprise_id, {', '.join(cols)}, {lab} AS label FROM enterprises e "
            f"{' '.join(joins)} WHERE e.established_on IS NULL OR e.established_on <= DATE '{a}' "
            "ORDER BY e.enterprise_id"
        )
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def _inspection_outcomes(con, full_snapshot, label: LabelSpec, a: str, b: str) -> pa.Table:
    """One row per inspection in (a, b] of an enterprise established by a: the count columns are 0/1 and
    ``label`` is that inspection's finding."""
    if "inspections" not in full_snapshot:
        raise KeyError("population 'inspections' needs table 'inspections' in the snapshot")
    con.register("inspections", full_snapshot["inspections"])
    cols = [f"CAST(({OUTCOME_KINDS[k][2]}) AS INTEGER) AS n_{k}" for k in label.kinds]
    lab = " OR ".join(f"({OUTCOME_KINDS[k][2]})" for k in label.kinds)
    return con.sql(
        f"SELECT i.enterprise_id, {', '.join(cols)}, ({lab}) AS label FROM inspections i "
        "JOIN enterprises e USING (enterprise_id) "
        f"WHERE i.inspected_on > DATE '{a}' AND i.inspected_on <= DATE '{b}' "
        f"AND (e.established_on IS NULL OR e.established_on <= DATE '{a}') ORDER BY i.enterprise_id, i.inspected_on"
    ).to_arrow_table()


def build_dataset(
    snapshot_at: SnapshotProvider,
    spec: IndicatorSet,
    as_of_dates: Sequence[date],
    *,
    label_snapshot: Mapping[str, pa.Table] | None = None,
    labels_until: date | None = None,
    label: LabelSpec | None = None,
    active_only: bool = True,
    threads: int = 2,
) -> Dataset:
    """Stack ``feature_table`` at each as-of date with its forward-looking label.

    ``label_snapshot`` is the latest snapshot (records up to ``labels_until``); dates whose horizon ends
    after ``labels_until`` get a null label (use them for scoring or monitoring, not training).
    Without ``label_snapshot`` every label is null.
    """
    label = label or LabelSpec()
    if label_snapshot is not None and labels_until is None:
        raise ValueError("labels_until (the date the label snapshot is complete to) is required")
    t_feat = t_lab = 0.0
    parts = []
    names: list[str] | None = None
    for d in sorted(set(as_of_dates)):
        t0 = time.perf_counter()
        ft = feature_table(snapshot_at(d), spec, d, active_only=active_only, threads=threads)
        t1 = time.perf_counter()
        t_feat += t1 - t0
        if names is None:
            names = [n for n in ft.schema.names if n != "enterprise_id"]
        ft = ft.select(["enterprise_id", *names])
        if label_snapshot is not None and shift_months(d, label.horizon_months) <= labels_until:
            oc = outcomes(label_snapshot, d, label.horizon_months, label.kinds, population=label.population,
                          threads=threads)
            idx = pc.index_in(ft["enterprise_id"], oc["enterprise_id"])
            lab = oc["label"].take(idx)
            if label.population == "all":
                lab = pc.fill_null(lab, False)
        else:
            lab = pa.nulls(ft.num_rows, pa.bool_())
        t_lab += time.perf_counter() - t1
        ft = ft.append_column("label", lab)
        ft = ft.add_column(0, "as_of", pa.array([d] * ft.num_rows, pa.date32()))
        parts.append(ft)
    if not parts:
        raise ValueError("no as-of dates")
    table = pa.concat_tables(parts)
    return Dataset(
        table=table,
        feature_names=list(names or []),
        label=label,
        spec_code=spec.code,
        spec_version=spec.version,
        timing={"features_s": round(t_feat, 3), "labels_s": round(t_lab, 3)},
    )


def feature_labels(spec: IndicatorSet | None, names: Sequence[str]) -> dict[str, str]:
    """Chinese label of each model feature: indicator names from the spec, fixed names for the extras."""
    out = {}
    for n in names:
        if n in EXTRA_FEATURES:
            out[n] = EXTRA_FEATURES[n]
        elif n.startswith("v_") and spec is not None:
            try:
                out[n] = spec.indicator(n[2:]).name
            except KeyError:
                out[n] = n[2:]
        else:
            out[n] = n
    return out
