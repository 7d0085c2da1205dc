"""Compile an IndicatorSet into one DuckDB SQL statement.

Shape of the generated query (one CTE each):
  ent            enterprises existing at as-of (+ built-in age)
  src_<table>    point-in-time view of each record table (records dated after as-of dropped,
                 future removals/ repaired records neutralised, derived columns added)
  agg_<table>    ONE grouped aggregate per table: count(*) FILTER (WHERE …) etc. per indicator
  vals           enterprises LEFT JOIN the aggregates → one value column v_<code> per indicator
  pts            points per indicator from its bands × weight (p_<code>)
  cats           capped category subtotals (c_<cat>) → rule score (capped, rescaled, new firms)
  blended        + optional model score → total score → base grade index
  graded         policy rules (h_<rule>) → final grade index
  final select   labels, JSON subtotals / rule hits / reasons / details
                 (details as {code: [value, points]}, or with compact_details as
                 [[value, …], [points, …]] in the order of ``CompiledQuery.indicator_codes``)

Every value that comes from the spec (user data) is either validated against a whitelist
(column names, table names, indicator codes) or rendered with ``sql_literal``.
"""

from __future__ import annotations

import calendar
import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .schema import EVENT_DATE, LABELS, column_family
from .spec import FORMAT_RE, Condition, Indicator, IndicatorSet, PolicyRule, parse_template

MODEL_TABLE = "_model_scores"


# ---------------------------------------------------------------------------------------------------------
# Literals and identifiers
# ---------------------------------------------------------------------------------------------------------


def quote_ident(name: str) -> str:
    """Double-quote an identifier (names are whitelisted anyway; this guards reserved words)."""
    if "\x00" in name:
        raise ValueError("NUL in identifier")
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any, as_of: date | None = None) -> str:
    """Render a Python value as a DuckDB literal. Strings are single-quoted with quotes doubled."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value!r}")
        return f"CAST({float(value)!r} AS DOUBLE)"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, dict) and set(value) == {"as_of_offset_days"}:
        if as_of is None:
            raise ValueError("relative date without as-of")
        return sql_literal(as_of + timedelta(days=int(value["as_of_offset_days"])))
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL in string literal")
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"cannot render {type(value).__name__} as SQL literal")


def _date_value(value: Any, as_of: date) -> str:
    """Date-column literal: ISO string or {"as_of_offset_days": n}."""
    if isinstance(value, str):
        return sql_literal(date.fromisoformat(value))
    return sql_literal(value, as_of)


def shift_months(d: date, months: int) -> date:
    """d moved by whole calendar months, day clamped to the month's end (2024-03-31 − 1 → 2024-02-29)."""
    idx = d.year * 12 + (d.month - 1) + months
    y, m = divmod(idx, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


# ---------------------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------------------


def _compare(expr: str, op: str, value: Any, fam: str | None, as_of: date) -> str:
    """SQL predicate ``expr op value``. ``!=``/``not_in`` also match missing values."""

    def lit(v: Any) -> str:
        if fam == "date":
            return _date_value(v, as_of)
        if fam == "float" and isinstance(v, int) and not isinstance(v, bool):
            return sql_literal(float(v))
        return sql_literal(v)

    if op == "is_null":
        return f"({expr} IS NULL)"
    if op == "not_null":
        return f"({expr} IS NOT NULL)"
    if op == "=":
        return f"({expr} = {lit(value)})"
    if op == "!=":
        return f"({expr} IS DISTINCT FROM {lit(value)})"
    if op == "in":
        return f"({expr} IN ({', '.join(lit(v) for v in value)}))"
    if op == "not_in":
        return f"coalesce({expr} NOT IN ({', '.join(lit(v) for v in value)}), TRUE)"
    if op in (">", ">=", "<", "<="):
        return f"({expr} {op} {lit(value)})"
    raise ValueError(f"unknown op {op!r}")


def _filter_sql(conds: list[Condition], table: str, as_of: date) -> list[str]:
    return [
        _compare(quote_ident(c.field), c.op, c.value, column_family(table, c.field), as_of) for c in conds
    ]


def _and(parts: list[str]) -> str:
    return " AND ".join(parts) if parts else "TRUE"


# ---------------------------------------------------------------------------------------------------------
# Compiled query
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CompiledQuery:
    sql: str  # full scoring query
    features_sql: str  # indicator values only (vals CTE) — the "bare" floor for benchmarks
    tables: list[str] = field(default_factory=list)
    indicator_codes: list[str] = field(default_factory=list)  # order of the compact details arrays


def _v(code: str) -> str:
    return quote_ident(f"v_{code}")


def _p(code: str) -> str:
    return quote_ident(f"p_{code}")


def _fmt_number(expr: str, fam: str, spec: str | None) -> str:
    """Text of a numeric/bool/string value for explanations; '无记录' when missing."""
    if fam == "bool":
        out = f"CASE WHEN {expr} THEN '是' ELSE '否' END"
    elif fam == "string":
        out = expr
    elif spec:
        m = FORMAT_RE.match(spec)
        digits, kind = int(m.group(1)), m.group(2)
        if kind == "%":
            out = f"printf('%.{digits}f%%', CAST({expr} AS DOUBLE) * 100)"
        else:
            out = f"printf('%.{digits}f', CAST({expr} AS DOUBLE))"
    elif fam == "int":
        out = f"CAST({expr} AS VARCHAR)"
    else:
        # whole numbers print without decimals, others with two
        out = (
            f"CASE WHEN {expr} = round({expr}) AND abs({expr}) < 1e15 "
            f"THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) ELSE printf('%.2f', {expr}) END"
        )
    return f"coalesce({out}, '无记录')"


def _template_sql(ind: Indicator) -> str:
    template = ind.explanation or "{name}：{value}"
    parts: list[str] = []
    for lit, name, spec in parse_template(template):
        if lit:
            parts.append(sql_literal(lit))
        if name == "value":
            parts.append(_fmt_number(_v(ind.code), ind.value_family(), spec))
        elif name == "label":
            labels = LABELS.get(ind.field or "") if ind.aggregation == "value" else None
            if labels:
                v = _v(ind.code)
                whens = " ".join(
                    f"WHEN {sql_literal(k)} THEN {sql_literal(lab)}" for k, lab in labels.items()
                )
                parts.append(
                    f"coalesce(CASE CAST({v} AS VARCHAR) {whens} ELSE CAST({v} AS VARCHAR) END, '无记录')"
                )
            else:
                parts.append(_fmt_number(_v(ind.code), ind.value_family(), spec))
        elif name == "points":
            parts.append(_fmt_number(_p(ind.code), "float", spec))
        elif name == "name":
            parts.append(sql_literal(ind.name))
        elif name == "code":
            parts.append(sql_literal(ind.code))
        elif name == "weight":
            parts.append(sql_literal(str(ind.weight)))
    if not parts:
        return "''"
    return "concat(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def _rule_text(rule: PolicyRule) -> str:
    template = rule.explanation or "{name}"
    out = []
    for lit, name, _spec in parse_template(template):
        out.append(lit)
        if name == "name":
            out.append(rule.name)
        elif name == "code":
            out.append(rule.code)
    return "".join(out)


class _Compiler:
    def __init__(self, spec: IndicatorSet, as_of: date, *, with_model: bool, compact_details: bool = False):
        self.spec = spec
        self.as_of = as_of
        self.asof_sql = sql_literal(as_of)
        self.with_model = with_model
        self.compact_details = compact_details
        self.inds = spec.active_indicators
        self.rules = spec.active_rules
        self.new_rule = next((r for r in self.rules if r.type == "new_enterprise"), None)
        self.need_bf = any(i.applies_to for i in self.inds)

    # -- point-in-time sources -----------------------------------------------------------------------------

    def ent_cte(self) -> str:
        cols = {"enterprise_id"}
        if self.need_bf:
            cols.add("business_form")
        for ind in self.inds:
            if ind.source == "enterprises":
                cols.add(ind.field or "established_on")
        cols.discard("established_on")
        sel = ", ".join(quote_ident(c) for c in sorted(cols))
        return (
            f'SELECT {sel}, "established_on", '
            f'date_sub(\'month\', "established_on", {self.asof_sql}) AS "_age_months" '
            f'FROM enterprises WHERE "established_on" IS NULL OR "established_on" <= {self.asof_sql}'
        )

    def src_cte(self, table: str, inds: list[Indicator]) -> str:
        dcol = quote_ident(EVENT_DATE[table])
        where = [f"{dcol} <= {self.asof_sql}"]
        windows = [i.window_months for i in inds]
        if all(w is not None for w in windows):
            where.append(f"{dcol} > {sql_literal(shift_months(self.as_of, -max(windows)))}")
        if self.spec.exclude_repaired and table in ("penalties", "list_entries"):
            where.append('NOT coalesce("repaired", FALSE)')
        extra = ""
        star = "*"
        if table == "list_entries":
            # a removal after as-of is a future fact: the entry is still listed at as-of
            star = (
                f'* REPLACE (CASE WHEN "removed_on" <= {self.asof_sql} THEN "removed_on" END AS "removed_on")'
            )
            extra = f', ("removed_on" IS NULL OR "removed_on" > {self.asof_sql}) AS "active"'
        elif table == "licences":
            extra = (
                f', ("expires_on" >= {self.asof_sql} '
                "AND coalesce(\"status\", '') NOT IN ('revoked', 'cancelled')) AS \"valid\""
            )
        return f"SELECT {star}{extra} FROM {table} WHERE {' AND '.join(where)}"

    def agg_cte(self, table: str, inds: list[Indicator]) -> str:
        dcol = quote_ident(EVENT_DATE[table])
        cols = []
        for ind in inds:
            conds = _filter_sql(ind.filter, table, self.as_of)
            if ind.window_months is not None and ind.aggregation != "trend":
                conds.append(f"{dcol} > {sql_literal(shift_months(self.as_of, -ind.window_months))}")
            cond = _and(conds)
            filt = f" FILTER (WHERE {cond})" if conds else ""
            agg = ind.aggregation
            code = ind.code
            if agg in ("count", "exists"):
                cols.append(f"count(*){filt} AS {quote_ident('a_' + code)}")
            elif agg == "sum":
                f = quote_ident(ind.field)
                if column_family(table, ind.field) == "int":
                    cols.append(f"CAST(sum({f}){filt} AS BIGINT) AS {quote_ident('a_' + code)}")
                else:
                    # exact decimal sum: parallel double sums are order-dependent (non-deterministic)
                    cols.append(
                        f"CAST(sum(CAST(round({f}, 4) AS DECIMAL(38, 4))){filt} AS DOUBLE) "
                        f"AS {quote_ident('a_' + code)}"
                    )
            elif agg in ("max", "min"):
                cols.append(f"{agg}({quote_ident(ind.field)}){filt} AS {quote_ident('a_' + code)}")
            elif agg == "days_since_last":
                f = quote_ident(ind.field or EVENT_DATE[table])
                cols.append(
                    f"date_diff('day', CAST(max({f}){filt} AS DATE), {self.asof_sql}) AS {quote_ident('a_' + code)}"
                )
            elif agg == "rate":
                cols.append(f"count(*){filt} AS {quote_ident('n_' + code)}")
                dconds = _filter_sql(ind.denominator_filter, table, self.as_of)
                if ind.window_months is not None:
                    dconds.append(f"{dcol} > {sql_literal(shift_months(self.as_of, -ind.window_months))}")
                dfilt = f" FILTER (WHERE {_and(dconds)})" if dconds else ""
                cols.append(f"count(*){dfilt} AS {quote_ident('d_' + code)}")
            elif agg == "trend":
                half = ind.window_months // 2
                mid = sql_literal(shift_months(self.as_of, -half))
                start = sql_literal(shift_months(self.as_of, -ind.window_months))
                base = _filter_sql(ind.filter, table, self.as_of)
                recent = _and([*base, f"{dcol} > {mid}"])
                prev = _and([*base, f"{dcol} > {start}", f"{dcol} <= {mid}"])
                cols.append(f"count(*) FILTER (WHERE {recent}) AS {quote_ident('r_' + code)}")
                cols.append(f"count(*) FILTER (WHERE {prev}) AS {quote_ident('q_' + code)}")
            else:  # pragma: no cover - validated
                raise ValueError(agg)
        return f"SELECT enterprise_id, {', '.join(cols)} FROM src_{table} GROUP BY enterprise_id"

    # -- values --------------------------------------------------------------------------------------------

    def value_expr(self, ind: Indicator) -> str:
        agg = ind.aggregation
        t = f"agg_{ind.source}"

        def a(prefix: str) -> str:
            return f"{t}.{quote_ident(prefix + ind.code)}"

        if agg == "count":
            expr = f"coalesce({a('a_')}, 0)"
        elif agg == "exists":
            expr = f"(coalesce({a('a_')}, 0) > 0)"
        elif agg == "sum":
            zero = "0" if ind.value_family() == "int" else "CAST(0 AS DOUBLE)"
            expr = f"coalesce({a('a_')}, {zero})"
        elif agg in ("max", "min"):
            fam = ind.value_family()
            expr = f"CAST({a('a_')} AS {'BIGINT' if fam == 'int' else 'DOUBLE'})"
        elif agg == "days_since_last":
            expr = f"CAST({a('a_')} AS BIGINT)"
        elif agg == "rate":
            expr = f"CAST({a('n_')} AS DOUBLE) / nullif({a('d_')}, 0)"
        elif agg == "trend":
            r, q = f"coalesce({a('r_')}, 0)", f"coalesce({a('q_')}, 0)"
            expr = f"({r} - {q})" if ind.trend_mode == "diff" else f"(({r} + 1.0) / ({q} + 1.0))"
        elif agg == "value":
            col = f"ent.{quote_ident(ind.field)}"
            fam = ind.value_family()
            expr = f"CAST({col} AS BIGINT)" if fam == "int" else col
        elif agg == "age_months":
            f = ind.field or "established_on"
            expr = (
                'ent."_age_months"'
                if f == "established_on"
                else f"date_sub('month', CAST(ent.{quote_ident(f)} AS DATE), {self.asof_sql})"
            )
        else:  # pragma: no cover
            raise ValueError(agg)
        if ind.applies_to:
            forms = ", ".join(sql_literal(b) for b in ind.applies_to)
            expr = f'CASE WHEN ent."business_form" IN ({forms}) THEN {expr} END'
        return expr

    def points_expr(self, ind: Indicator) -> str:
        if ind.weight == 0 or not ind.bands:
            return f"CAST(0 AS DOUBLE) AS {_p(ind.code)}"
        v = _v(ind.code)
        fam = ind.value_family()
        null_pts = next((b.points for b in ind.bands if b.is_equals and b.equals is None), 0)
        whens = [f"WHEN {v} IS NULL THEN {sql_literal(float(null_pts))}"]
        for b in ind.bands:
            if b.is_equals:
                if b.equals is None:
                    continue
                eq = b.equals
                if fam == "float" and isinstance(eq, int) and not isinstance(eq, bool):
                    eq = float(eq)
                cond = f"{v} = {sql_literal(eq)}"
            else:
                parts = []
                if b.min is not None:
                    parts.append(f"{v} >= {sql_literal(float(b.min))}")
                if b.max is not None:
                    parts.append(f"{v} < {sql_literal(float(b.max))}")
                cond = _and(parts)
            whens.append(f"WHEN {cond} THEN {sql_literal(float(b.points))}")
        case = f"CASE {' '.join(whens)} ELSE CAST(0 AS DOUBLE) END"
        if ind.applies_to:
            forms = ", ".join(sql_literal(b) for b in ind.applies_to)
            case = f'CASE WHEN "_bf" IN ({forms}) THEN {case} ELSE CAST(0 AS DOUBLE) END'
        w = float(ind.weight)
        expr = case if w == 1.0 else f"({case}) * {sql_literal(w)}"
        return f"{expr} AS {_p(ind.code)}"

    def partial_sum(self, prefixes: list[str]) -> str:
        """Points of the indicators under the given category paths (top-level ones capped)."""
        terms = []
        for c in prefixes:
            if "." not in c:
                terms.append(quote_ident("c_" + c))
            else:
                members = [_p(i.code) for i in self.inds if i.category == c or i.category.startswith(c + ".")]
                terms.append("(" + " + ".join(members or ["CAST(0 AS DOUBLE)"]) + ")")
        return " + ".join(terms)

    def rule_cond(self, rule: PolicyRule) -> str:
        by_code = {i.code: i for i in self.inds}
        parts = []
        for c in rule.when:
            ind = by_code[c.indicator]
            parts.append(_compare(_v(ind.code), c.op, c.value, ind.value_family(), self.as_of))
        joined = (" AND " if rule.match == "all" else " OR ").join(parts)
        return f"coalesce(({joined}), FALSE)"

    # -- assembly ------------------------------------------------------------------------------------------

    def compile(self) -> CompiledQuery:
        spec = self.spec
        by_table: dict[str, list[Indicator]] = {}
        for ind in self.inds:
            if ind.source != "enterprises":
                by_table.setdefault(ind.source, []).append(ind)

        ctes = [("ent", self.ent_cte())]
        for table, inds in by_table.items():
            ctes.append((f"src_{table}", self.src_cte(table, inds)))
            ctes.append((f"agg_{table}", self.agg_cte(table, inds)))
        joins = "".join(f" LEFT JOIN agg_{t} ON agg_{t}.enterprise_id = ent.enterprise_id" for t in by_table)
        val_cols = ", ".join(f"{self.value_expr(i)} AS {_v(i.code)}" for i in self.inds)
        bf = ', ent."business_form" AS "_bf"' if self.need_bf else ""
        ctes.append(
            (
                "vals",
                f'SELECT ent.enterprise_id, ent."_age_months"{bf}, {val_cols} FROM ent{joins}',
            )
        )
        features_sql = _with(ctes) + " SELECT * FROM vals"

        ctes.append(("pts", "SELECT *, " + ", ".join(self.points_expr(i) for i in self.inds) + " FROM vals"))

        # categories holding only signal indicators (weight 0) are left out of the subtotals
        cats = [
            c
            for c in spec.top_categories()
            if c in spec.categories or any(i.top_category == c and i.weight != 0 for i in self.inds)
        ]
        cat_cols = []
        for c in cats:
            members = [_p(i.code) for i in self.inds if i.top_category == c]
            s = " + ".join(members) if members else "CAST(0 AS DOUBLE)"
            cap = spec.categories.get(c).cap if c in spec.categories else None
            expr = f"round({s}, 6)" if cap is None else f"round(least({sql_literal(float(cap))}, {s}), 6)"
            cat_cols.append(f"{expr} AS {quote_ident('c_' + c)}")
        ctes.append(("cats", "SELECT *, " + ", ".join(cat_cols) + " FROM pts"))

        cap = sql_literal(float(spec.score_cap))
        total_raw = " + ".join(quote_ident("c_" + c) for c in cats) or "CAST(0 AS DOUBLE)"
        normal = f"{sql_literal(float(spec.scale))} * ({total_raw})"
        if self.new_rule is not None:
            nr = self.new_rule
            is_new = f'coalesce("_age_months" < {int(nr.max_age_months)}, FALSE)'
            static = self.partial_sum(nr.categories)
            raw = f"CASE WHEN {is_new} THEN {sql_literal(float(nr.factor))} * ({static}) ELSE {normal} END"
        else:
            is_new = "FALSE"
            raw = normal
        ctes.append(
            (
                "scored",
                f'SELECT *, {is_new} AS "_is_new", round(greatest(0, least({cap}, {raw})), 4) AS rule_score FROM cats',
            )
        )

        wr = float(spec.blend.get("rule", 1.0))
        wm = float(spec.blend.get("model", 0.0))
        if self.with_model:
            model_join = f" LEFT JOIN {MODEL_TABLE} m ON m.enterprise_id = scored.enterprise_id"
            model_col = "CAST(m.model_score AS DOUBLE)"
        else:
            model_join = ""
            model_col = "CAST(NULL AS DOUBLE)"
        if wm > 0 and self.with_model:
            total = (
                f"CASE WHEN {model_col} IS NULL THEN rule_score ELSE round(({sql_literal(wr)} * rule_score + "
                f"{sql_literal(wm)} * {model_col}) / {sql_literal(wr + wm)}, 4) END"
            )
        else:
            total = "rule_score"
        grades = spec.grades
        cut = spec.cutoff_list()
        gi_case = (
            "CASE "
            + " ".join(f"WHEN total_score <= {sql_literal(c)} THEN {i}" for i, c in enumerate(cut))
            + f" ELSE {len(grades) - 1} END"
        )
        ctes.append(
            (
                "blended",
                f"SELECT scored.*, {model_col} AS model_score, {total} AS total_score FROM scored{model_join}",
            )
        )

        hit_cols = []
        pol_rules = [r for r in self.rules if r.type != "new_enterprise"]
        for r in pol_rules:
            hit_cols.append(f"{self.rule_cond(r)} AS {quote_ident('h_' + r.code)}")
        ctes.append(
            ("based", "SELECT *, " + ", ".join([f"{gi_case} AS base_gi", *hit_cols]) + " FROM blended")
        )

        def steps(kind: str) -> str:
            rs = [r for r in pol_rules if r.type == kind]
            if not rs:
                return "0"
            return (
                "greatest(0, "
                + ", ".join(
                    f"CASE WHEN {quote_ident('h_' + r.code)} THEN {int(r.steps)} ELSE 0 END" for r in rs
                )
                + ")"
            )

        vetoes = [r for r in pol_rules if r.type == "veto"]
        n = len(grades)
        # an upgrade situation rules out a downgrade; a veto fixes the grade whatever else hit
        adj = f"least({n - 1}, greatest(0, base_gi + raise_steps - CASE WHEN raise_steps > 0 THEN 0 ELSE lower_steps END))"
        if vetoes:
            veto_any = " OR ".join(quote_ident("h_" + r.code) for r in vetoes)
            if len(vetoes) == 1:
                veto_gi = str(grades.index(vetoes[0].grade))
            else:
                veto_gi = (
                    "greatest("
                    + ", ".join(
                        f"CASE WHEN {quote_ident('h_' + r.code)} THEN {grades.index(r.grade)} ELSE -1 END"
                        for r in vetoes
                    )
                    + ")"
                )
            final_gi = f"CASE WHEN {veto_any} THEN {veto_gi} ELSE {adj} END"
        else:
            final_gi = adj
        ctes.append(
            (
                "stepped",
                f"SELECT *, {steps('raise')} AS raise_steps, {steps('lower')} AS lower_steps FROM based",
            )
        )
        ctes.append(("graded", f"SELECT *, {final_gi} AS final_gi FROM stepped"))

        # rule hits (codes) and their texts, in spec order; lower rules overridden by a raise are dropped
        # JSON arrays are assembled as text with concat_ws (which skips NULLs): much cheaper per row
        # than list lambdas; every piece is either a JSON literal made here or to_json() of a value
        hit_items = []
        text_items = []
        for r in self.rules:
            if r.type == "new_enterprise":
                cond = '"_is_new"'
            elif r.type == "lower":
                cond = f"({quote_ident('h_' + r.code)} AND raise_steps = 0)"
            else:
                cond = quote_ident("h_" + r.code)
            hit_items.append(f"CASE WHEN {cond} THEN {sql_literal(json.dumps(r.code))} END")
            text_items.append(
                f"CASE WHEN {cond} THEN {sql_literal(json.dumps(_rule_text(r), ensure_ascii=False))} END"
            )

        scored_inds = [(k, i) for k, i in enumerate(self.inds) if i.weight != 0 and i.bands]
        top_n = int(spec.top_reasons) if scored_inds else 0
        if top_n:
            # candidates: indicators with points > 0, sorted by points desc then spec order; NULLs last
            keys = ", ".join(
                f"CASE WHEN {_p(i.code)} > 0 THEN {{'np': -{_p(i.code)}, 'o': {k}}} END"
                for k, i in scored_inds
            )
            ctes.append(("ranked", f"SELECT *, list_sort([{keys}], 'ASC', 'NULLS LAST') AS _top FROM graded"))
            texts = " ".join(f"WHEN {k} THEN {_template_sql(i)}" for k, i in scored_inds)
            for j in range(1, top_n + 1):
                text_items.append(f"CAST(to_json(CASE _top[{j}].o {texts} END) AS VARCHAR)")
            last = "ranked"
        else:
            last = "graded"

        def json_list(items: list[str]) -> str:
            if not items:
                return "'[]'"
            return f"concat('[', concat_ws(',', {', '.join(items)}), ']')"

        def grade_label(idx: str) -> str:
            return (
                "CASE "
                + " ".join(f"WHEN {idx} = {i} THEN {sql_literal(g)}" for i, g in enumerate(grades))
                + " END"
            )

        def json_value(i: Indicator) -> str:
            v = _v(i.code)
            fam = i.value_family()
            if fam == "string":
                out = f"CAST(to_json({v}) AS VARCHAR)"
            elif fam == "bool":
                out = f"CASE WHEN {v} THEN 'true' ELSE 'false' END"
            else:
                out = f"CAST({v} AS VARCHAR)"
            return f"coalesce({out}, 'null')"

        subtotals = (
            "json_object(" + ", ".join(f"{sql_literal(c)}, {quote_ident('c_' + c)}" for c in cats) + ")"
        )
        def json_points(i: Indicator) -> str:
            if i.weight == 0 or not i.bands:
                return "'0.0'"
            # most points are 0: skip the (costly) double → text conversion for them
            return f"CASE WHEN {_p(i.code)} = 0 THEN '0.0' ELSE CAST({_p(i.code)} AS VARCHAR) END"

        if not self.inds:
            details = "'[[],[]]'" if self.compact_details else "'{}'"
        elif self.compact_details:
            # [[value, …], [points, …]] in indicator order: the codes are stored once, not on every row
            values = ", ',', ".join(json_value(i) for i in self.inds)
            points = ", ',', ".join(json_points(i) for i in self.inds)
            details = f"concat('[[', {values}, '],[', {points}, ']]')"
        else:
            detail_parts = []
            for n_i, i in enumerate(self.inds):
                sep = "," if n_i else ""
                detail_parts.append(sql_literal(f"{sep}{json.dumps(i.code)}:["))
                detail_parts.append(json_value(i))
                detail_parts.append("','")
                detail_parts.append(json_points(i))
                detail_parts.append("']'")
            details = "concat('{', " + ", ".join(detail_parts) + ", '}')"
        final = (
            "SELECT enterprise_id, "
            f"CAST({subtotals} AS VARCHAR) AS subtotals, "
            "rule_score, model_score, total_score, "
            f"{grade_label('base_gi')} AS base_grade, "
            f"{grade_label('final_gi')} AS grade, "
            '"_is_new" AS new_enterprise, '
            f"{json_list(hit_items)} AS rule_hits, "
            f"{json_list(text_items)} AS reasons, "
            f"{details} AS details "
            f"FROM {last} ORDER BY enterprise_id"
        )
        return CompiledQuery(sql=_with(ctes) + " " + final, features_sql=features_sql, tables=list(by_table),
                             indicator_codes=[i.code for i in self.inds])


def _with(ctes: list[tuple[str, str]]) -> str:
    return "WITH " + ",\n".join(f"{name} AS ({body})" for name, body in ctes)


def compile_spec(
    spec: IndicatorSet, as_of: date, *, with_model: bool = False, compact_details: bool = False
) -> CompiledQuery:
    """Compile a validated IndicatorSet for one as-of date."""
    return _Compiler(spec, as_of, with_model=with_model, compact_details=compact_details).compile()
