"""The model's features, declared once as data and compiled to plain SQL (docs/model.md, "Feature catalogue").

Every feature is a row of :data:`CATALOGUE`: a name, a Chinese label, the table it reads, what it computes
and over which window. :func:`compile_features` turns the catalogue into one SELECT per as-of date that uses
only ANSI constructs (CASE, COUNT/SUM/MIN/MAX, COALESCE, CAST, DATE literals and ``date_diff``), so the same
definitions run in DuckDB here and transpile with sqlglot to Spark SQL (tested). Training, scoring and
explanation all read this one table, so a feature means the same thing everywhere.

Point in time: a record counts only if its event date is ≤ as_of (and > as_of − window); the licence
state is derived from the licence dates at as_of, list membership from listed/removed dates.

Feature kinds (``kind``):

* ``count`` — records of ``table`` matching ``where`` in the window (``months``; None = all history);
* ``sum`` — sum of ``column`` over those records;
* ``share`` — ``count(where)`` / ``count(of)`` in the window (NULL when nothing to divide by);
* ``trend`` — count in the window minus the count in the window of the same length before it;
* ``days_since`` — days from the latest matching record to as_of (NULL when there is none);
* ``last`` — value of ``column`` on the latest record (ties: the larger value);
* ``attribute`` — an SQL expression over the enterprise row (``e``) or its licences (``l``);
* ``category`` — a text attribute of the enterprise (region); training encodes it as a number;
* ``region_share`` — ``share`` over every enterprise of the enterprise's region (its own records included):
  what inspectors of that area have been finding lately. A region's identity, encoded once over the whole
  training history, goes stale when inspection areas are reassigned (Chicago, winter 2013/14: the ZIP areas'
  rates of critical findings over the previous 12 months ranked the next window's inspections worse than
  chance, those of the previous 3 months at AUC 0.62–0.63); the recent rate at each as-of date moves with them.

``direction`` is +1 where a regulation fixes the direction (more failed inspections, penalties, verified
complaints, listings can never mean less risk): those become monotone constraints, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import pyarrow as pa

from ..compiler import shift_months
from ..schema import BUSINESS_FORMS, EVENT_DATE, LABELS

WINDOWS = (3, 6, 12, 36)


@dataclass(frozen=True)
class Feature:
    name: str
    label: str  # Chinese, a noun phrase ("近12个月监督检查不符合次数")
    kind: str
    table: str = "enterprises"
    where: str = "TRUE"
    months: int | None = None
    column: str | None = None
    of: str = "TRUE"  # denominator condition of a share
    sql: str | None = None  # attribute expression
    direction: int = 0  # +1: regulation says more = riskier (monotone constraint)
    unit: str = "count"  # count | days | months | share | flag | tier | ordinal | amount
    model_input: bool = True  # False: computed for the model card's segments, never fed to the model


def _windowed(prefix: str, label: str, table: str, where: str, *, direction: int = 0,
              windows: Sequence[int] = WINDOWS) -> list[Feature]:
    return [Feature(f"{prefix}_{m}m", f"近{m}个月{label}", "count", table, where, m, direction=direction)
            for m in windows]


_FAIL = "result = 'fail'"
_KEY = "coalesce(key_items_failed, 0) > 0"

CATALOGUE: tuple[Feature, ...] = (
    # --- enterprise attributes
    Feature("age_months", "成立月数", "attribute", sql="date_diff('month', e.established_on, {as_of})",
            unit="months"),
    Feature("static_tier", "静态风险等级", "attribute", sql="CAST(e.static_tier AS DOUBLE)", unit="tier"),
    Feature("scale_ord", "经营规模", "attribute",
            sql="CASE e.scale WHEN 'micro' THEN 0 WHEN 'small' THEN 1 WHEN 'medium' THEN 2 "
                "WHEN 'large' THEN 3 END", unit="ordinal"),
    Feature("key_supervision", "重点监管对象", "attribute",
            sql="CASE WHEN e.key_supervision THEN 1 ELSE 0 END", unit="flag"),
    *[Feature(f"form_{f}", f"主体业态为{LABELS['business_form'][f]}", "attribute",
              sql=f"CASE WHEN e.business_form = '{f}' THEN 1 ELSE 0 END", unit="flag") for f in BUSINESS_FORMS],
    # region: the model card's per-region segments read it; it is not a model input. Encoded as a number
    # (its outcome rate over the whole training history) it goes stale when inspection areas are reassigned:
    # on Chicago's six windows dropping it raised the mean AUC from 0.59 to 0.61 and beat date order in every
    # window (benchmarks/results/validity.json); the recent region shares below carry what the area says.
    Feature("region", "所在区域", "category", sql="e.region_code", unit="category", model_input=False),
    # food categories / business activities: what the enterprise handles (current state — the archive keeps
    # no history of them); the combination is a category the training encodes like the region
    Feature("n_food_categories", "经营食品类别项数", "attribute",
            sql="CASE WHEN e.food_categories IS NULL OR e.food_categories = '' THEN 0 ELSE length(e.food_categories)"
                " - length(replace(e.food_categories, '；', '')) + 1 END", unit="count"),
    Feature("food_category", "经营食品类别", "category", sql="e.food_categories", unit="category"),
    # --- licences (state from the dates at as_of)
    Feature("licence_valid", "持有有效许可证", "attribute", "licences",
            sql="max(CASE WHEN l.expires_on >= {as_of} AND coalesce(l.status, 'valid') NOT IN "
                "('revoked', 'cancelled') THEN 1 ELSE 0 END)", unit="flag"),
    Feature("licence_age_days", "首次取得许可证天数", "attribute", "licences",
            sql="date_diff('day', min(l.issued_on), {as_of})", unit="days"),
    Feature("licence_days_to_expiry", "许可证距到期天数", "attribute", "licences",
            sql="date_diff('day', {as_of}, max(l.expires_on))", unit="days"),
    Feature("licence_sc", "持有食品生产许可证", "attribute", "licences",
            sql="max(CASE WHEN l.kind = 'SC' THEN 1 ELSE 0 END)", unit="flag"),
    Feature("n_licences", "取得许可证件数", "attribute", "licences", sql="count(*)", unit="count"),
    # --- inspections
    *_windowed("n_insp", "被检查次数", "inspections", "TRUE"),
    *_windowed("n_insp_fail", "监督检查不符合次数", "inspections", _FAIL, direction=1),
    *_windowed("n_insp_key", "检查发现关键项问题次数", "inspections", _KEY, direction=1),
    *_windowed("n_insp_basic", "检查基本符合次数", "inspections", "result = 'basic'"),
    Feature("key_items_36m", "近36个月检查关键项不符合项数", "sum", "inspections", months=36,
            column="key_items_failed", direction=1),
    Feature("general_items_36m", "近36个月检查一般项不符合项数", "sum", "inspections", months=36,
            column="general_items_failed", direction=1),
    Feature("insp_fail_share_36m", "近36个月检查不符合比例", "share", "inspections", _FAIL, 36, unit="share"),
    Feature("insp_key_share_36m", "近36个月检查发现关键项问题比例", "share", "inspections", _KEY, 36,
            unit="share"),
    Feature("insp_fail_share_all", "历次检查不符合比例", "share", "inspections", _FAIL, unit="share"),
    Feature("insp_fail_trend_12m", "近12个月检查不符合次数较上一年增减", "trend", "inspections", _FAIL, 12),
    *[Feature(f"region_insp_key_share_{m}m", f"所在区域近{m}个月检查发现关键项问题比例", "region_share",
              "inspections", _KEY, m, unit="share") for m in (3, 12)],
    *[Feature(f"region_insp_fail_share_{m}m", f"所在区域近{m}个月检查不符合比例", "region_share",
              "inspections", _FAIL, m, unit="share") for m in (3, 12)],
    Feature("days_since_insp", "距最近一次检查天数", "days_since", "inspections", unit="days"),
    Feature("days_since_insp_fail", "距最近一次检查不符合天数", "days_since", "inspections", _FAIL, unit="days"),
    Feature("days_since_insp_key", "距最近一次发现关键项问题天数", "days_since", "inspections", _KEY,
            unit="days"),
    Feature("last_insp_key_items", "最近一次检查关键项不符合项数", "last", "inspections",
            column="key_items_failed"),
    Feature("last_insp_general_items", "最近一次检查一般项不符合项数", "last", "inspections",
            column="general_items_failed"),
    Feature("last_insp_fail", "最近一次检查不符合", "last", "inspections",
            column="CASE WHEN result = 'fail' THEN 1 ELSE 0 END", unit="flag"),
    # --- sampling
    *_windowed("n_sampling", "被抽检批次", "sampling_tests", "TRUE", windows=(12, 36)),
    *_windowed("n_sampling_fail", "抽检不合格批次", "sampling_tests", _FAIL, direction=1, windows=(12, 36)),
    Feature("days_since_sampling_fail", "距最近一次抽检不合格天数", "days_since", "sampling_tests", _FAIL,
            unit="days"),
    # --- penalties
    *_windowed("n_penalty", "行政处罚次数", "penalties", "TRUE", direction=1, windows=(12, 36)),
    Feature("n_penalty_heavy_36m", "近36个月较重及以上行政处罚次数", "count", "penalties",
            "severity IN ('heavy', 'serious')", 36, direction=1),
    Feature("n_penalty_unrepaired", "未完成信用修复的行政处罚次数", "count", "penalties",
            "NOT coalesce(repaired, FALSE)", direction=1),
    Feature("fine_36m", "近36个月罚没款金额", "sum", "penalties", months=36,
            column="coalesce(fine, 0) + coalesce(confiscation, 0)", unit="amount"),
    Feature("days_since_penalty", "距最近一次行政处罚天数", "days_since", "penalties", unit="days"),
    # --- complaints
    *_windowed("n_complaint", "投诉举报件数", "complaints", "TRUE"),
    *_windowed("n_complaint_verified", "经核查属实的投诉举报件数", "complaints", "coalesce(verified, FALSE)",
               direction=1, windows=(12, 36)),
    Feature("complaint_verified_share_36m", "近36个月投诉举报属实比例", "share", "complaints",
            "coalesce(verified, FALSE)", 36, unit="share"),
    Feature("days_since_complaint", "距最近一次投诉举报天数", "days_since", "complaints", unit="days"),
    # --- lists
    Feature("listed_now", "当前列入经营异常名录或严重违法失信名单", "count", "list_entries",
            "(removed_on IS NULL OR removed_on > {as_of}) AND NOT coalesce(repaired, FALSE)", direction=1,
            unit="flag"),
    Feature("n_listed_ever", "曾列入经营异常名录或严重违法失信名单次数", "count", "list_entries", direction=1),
)

FEATURES: dict[str, Feature] = {f.name: f for f in CATALOGUE}
CATALOGUE_LABELS: dict[str, str] = {f.name: f.label for f in CATALOGUE}
CATALOGUE_MONOTONE: dict[str, int] = {f.name: f.direction for f in CATALOGUE if f.direction}
CATEGORY_FEATURES: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == "category")
# the category features the model reads (encoded by the training), in catalogue order
MODEL_CATEGORIES: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == "category" and f.model_input)


def _d(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _in_window(table: str, f: Feature, as_of: date, months: int | None = None, offset: int = 0) -> str:
    col = EVENT_DATE[table]
    m = f.months if months is None else months
    end = shift_months(as_of, -offset) if offset else as_of
    cond = f"{col} <= {_d(end)}"
    if m is not None:
        cond += f" AND {col} > {_d(shift_months(as_of, -(offset + m)))}"
    return cond


def _aggregate(f: Feature, as_of: date) -> str:
    a = _d(as_of)
    where = f.where.replace("{as_of}", a)
    date_col = EVENT_DATE[f.table]
    win = _in_window(f.table, f, as_of)
    if f.kind == "count":
        return f"sum(CASE WHEN {win} AND ({where}) THEN 1 ELSE 0 END)"
    if f.kind == "sum":
        # an exact decimal sum, as the indicator compiler does: a double sum depends on the order the rows
        # arrive in (DuckDB's threads, Spark's partitions), and the model would see fines differing in the last bit
        return (f"CAST(sum(CAST(round(CASE WHEN {win} AND ({where}) THEN {f.column} ELSE 0 END, 4) "
                f"AS DECIMAL(38, 4))) AS DOUBLE)")
    if f.kind == "share":
        of = f.of.replace("{as_of}", a)
        return (f"CAST(sum(CASE WHEN {win} AND ({where}) THEN 1 ELSE 0 END) AS DOUBLE) / "
                f"nullif(sum(CASE WHEN {win} AND ({of}) THEN 1 ELSE 0 END), 0)")
    if f.kind == "trend":
        before = _in_window(f.table, f, as_of, f.months, offset=f.months)
        return (f"sum(CASE WHEN {win} AND ({where}) THEN 1 ELSE 0 END) - "
                f"sum(CASE WHEN {before} AND ({where}) THEN 1 ELSE 0 END)")
    if f.kind == "days_since":
        return f"date_diff('day', max(CASE WHEN {win} AND ({where}) THEN {date_col} END), {a})"
    raise ValueError(f"feature {f.name}: kind {f.kind!r} is not an aggregate")


def _last_values(fs: list[Feature], table: str, as_of: date) -> str:
    """Values of the latest record (per enterprise) for ``last`` features: a ranked subquery."""
    col = EVENT_DATE[table]
    exprs = ", ".join(f"{f.column} AS {f.name}" for f in fs)
    order = ", ".join(f"{f.column} DESC" for f in fs)
    return (
        f"SELECT enterprise_id, {', '.join(f'max({f.name}) AS {f.name}' for f in fs)} FROM ("
        f"SELECT enterprise_id, {exprs}, row_number() OVER (PARTITION BY enterprise_id ORDER BY {col} DESC, "
        f"{order}) AS rn FROM {table} WHERE {col} <= {_d(as_of)}) t WHERE rn = 1 GROUP BY enterprise_id"
    )


def compile_features(as_of: date, tables: Sequence[str], names: Sequence[str] | None = None) -> str:
    """One SELECT: enterprise_id, status and every catalogue feature at ``as_of`` (ordered by enterprise_id).

    ``tables`` are the snapshot tables present (features of absent tables are NULL); ``names`` limits the
    features (default: the whole catalogue)."""
    fs = [FEATURES[n] for n in names] if names is not None else list(CATALOGUE)
    a = _d(as_of)
    selects = ["e.enterprise_id AS enterprise_id", "e.status AS status"]
    joins = []
    by_table: dict[str, list[Feature]] = {}
    for f in fs:
        by_table.setdefault(f.table, []).append(f)
    for table, group in by_table.items():
        if table == "enterprises":
            selects += [f"CAST({f.sql.replace('{as_of}', a)} AS {'VARCHAR' if f.kind == 'category' else 'DOUBLE'})"
                        f" AS {f.name}" for f in group]
            continue
        present = table in tables
        if table == "licences":
            if present:
                aggs = ", ".join(f"{f.sql.replace('{as_of}', a)} AS {f.name}" for f in group)
                joins.append(f"LEFT JOIN (SELECT l.enterprise_id, {aggs} FROM licences l WHERE l.issued_on <= {a} "
                             f"GROUP BY l.enterprise_id) lic ON lic.enterprise_id = e.enterprise_id")
                for f in group:
                    fill = "0" if f.unit in ("flag", "count") else "NULL"
                    selects.append(f"CAST(coalesce(lic.{f.name}, {fill}) AS DOUBLE) AS {f.name}")
            else:
                selects += [f"CAST(NULL AS DOUBLE) AS {f.name}" for f in group]
            continue
        alias = f"t_{table}"
        aggs_f = [f for f in group if f.kind not in ("last", "region_share")]
        last_f = [f for f in group if f.kind == "last"]
        region_f = [f for f in group if f.kind == "region_share"]
        if not present:
            selects += [f"CAST(NULL AS DOUBLE) AS {f.name}" for f in group]
            continue
        if region_f:
            ra = f"r_{table}"
            aggs = ", ".join(f"{_aggregate(replace(f, kind='share'), as_of)} AS {f.name}" for f in region_f)
            joins.append(f"LEFT JOIN (SELECT rg.region_code AS region_code, {aggs} FROM {table} x JOIN (SELECT "
                         f"enterprise_id AS rg_id, region_code FROM enterprises) rg ON x.enterprise_id = rg.rg_id "
                         f"WHERE {EVENT_DATE[table]} <= {a} GROUP BY rg.region_code) {ra} "
                         f"ON {ra}.region_code = e.region_code")
            selects += [f"CAST({ra}.{f.name} AS DOUBLE) AS {f.name}" for f in region_f]
        if aggs_f:
            aggs = ", ".join(f"{_aggregate(f, as_of)} AS {f.name}" for f in aggs_f)
            joins.append(f"LEFT JOIN (SELECT enterprise_id, {aggs} FROM {table} WHERE {EVENT_DATE[table]} <= {a} "
                         f"GROUP BY enterprise_id) {alias} ON {alias}.enterprise_id = e.enterprise_id")
            for f in aggs_f:
                nullable = f.kind in ("share", "days_since")
                expr = f"{alias}.{f.name}" if nullable else f"coalesce({alias}.{f.name}, 0)"
                selects.append(f"CAST({expr} AS DOUBLE) AS {f.name}")
        if last_f:
            la = f"l_{table}"
            joins.append(f"LEFT JOIN ({_last_values(last_f, table, as_of)}) {la} ON {la}.enterprise_id = "
                         "e.enterprise_id")
            selects += [f"CAST({la}.{f.name} AS DOUBLE) AS {f.name}" for f in last_f]
    return (f"SELECT {', '.join(selects)} FROM enterprises e {' '.join(joins)} "
            f"WHERE e.established_on IS NULL OR e.established_on <= {a} ORDER BY e.enterprise_id")


def catalogue_table(snapshot: Mapping[str, pa.Table], as_of: date, *, names: Sequence[str] | None = None,
                    threads: int = 2) -> pa.Table:
    """Run :func:`compile_features` in DuckDB on the snapshot: enterprise_id, status, features."""
    from ..scoring import connect

    con = connect(threads)
    try:
        present = []
        for name, t in snapshot.items():
            con.register(name, t)
            present.append(name)
        return con.sql(compile_features(as_of, present, names)).to_arrow_table()
    finally:
        con.close()
