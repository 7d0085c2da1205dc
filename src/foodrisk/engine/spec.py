"""Indicator-set specification: JSON-able dataclasses plus validation.

The Django ``indicators`` app stores ``IndicatorSet.to_dict()`` as data; ``IndicatorSet.from_dict()``
validates it and raises ``SpecError`` listing every problem with the indicator/rule and field it is in.
See docs/indicator-language.md for the format.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import date
from typing import Any

from .schema import BUSINESS_FORMS, ENUMS, SCHEMAS, column_family

AGGREGATIONS = (
    "count",
    "sum",
    "max",
    "min",
    "exists",
    "days_since_last",
    "rate",
    "trend",
    "value",
    "age_months",
)
FILTER_OPS = ("=", "!=", "in", "not_in", ">", ">=", "<", "<=", "is_null", "not_null")
RULE_TYPES = ("veto", "raise", "lower", "new_enterprise")
TEMPLATE_FIELDS = ("value", "label", "points", "name", "code", "weight")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}(\.[a-z][a-z0-9_]{0,30})*$")
FORMAT_RE = re.compile(r"^\.(\d)([f%])$")
MAX_WINDOW_MONTHS = 600

_MISSING = object()


class SpecError(ValueError):
    """An invalid indicator set. ``issues`` is a list of ``(where, field, message)`` tuples."""

    def __init__(self, issues: list[tuple[str, str, str]]):
        self.issues = issues
        lines = [f"{where}: {fld}: {msg}" if fld else f"{where}: {msg}" for where, fld, msg in issues]
        super().__init__("invalid indicator set:\n  " + "\n  ".join(lines))


class _Collector:
    """Accumulates issues so an admin sees every problem at once, not one per save."""

    def __init__(self) -> None:
        self.issues: list[tuple[str, str, str]] = []

    def add(self, where: str, fld: str, msg: str) -> None:
        self.issues.append((where, fld, msg))

    def raise_if_any(self) -> None:
        if self.issues:
            raise SpecError(self.issues)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_keys(d: Any, allowed: set[str], where: str, col: _Collector) -> dict:
    if not isinstance(d, dict):
        col.add(where, "", f"must be an object, got {type(d).__name__}")
        return {}
    for k in d:
        if k not in allowed:
            col.add(where, str(k), "unknown field")
    return d


def _check_items(d: dict, key: str, allowed: set[str], where: str, col: _Collector) -> None:
    """The items of a list of bands / conditions: objects with known keys only. Other keys would be ignored,
    so a typo ("equal", "operator") would silently change what the indicator or rule does."""
    for j, item in enumerate(d.get(key) or []):
        if not isinstance(item, dict):
            col.add(where, key, f"item {j + 1} must be an object")
            continue
        for k in item:
            if k not in allowed:
                col.add(where, f"{key}[{j + 1}].{k}", "unknown field")
        if key == "bands" and "equals" in item and {"min", "max"} & item.keys():
            col.add(where, f"{key}[{j + 1}]", "either equals or min/max, not both")


# ---------------------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A record filter clause ``{field, op, value}`` on a snapshot table column."""

    field: str
    op: str
    value: Any = None

    KEYS = {"field", "op", "value"}

    @classmethod
    def from_dict(cls, d: dict) -> Condition:
        return cls(field=d.get("field"), op=d.get("op"), value=d.get("value"))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op not in ("is_null", "not_null"):
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class RuleCondition:
    """A policy-rule clause ``{indicator, op, value}`` on an indicator's value."""

    indicator: str
    op: str
    value: Any = None

    KEYS = {"indicator", "op", "value"}

    @classmethod
    def from_dict(cls, d: dict) -> RuleCondition:
        return cls(indicator=d.get("indicator"), op=d.get("op"), value=d.get("value"))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"indicator": self.indicator, "op": self.op}
        if self.op not in ("is_null", "not_null"):
            out["value"] = self.value
        return out


@dataclass(frozen=True)
class Band:
    """Points for a value: range ``min <= v < max`` (either bound may be null) or ``equals``.

    ``equals: null`` matches a missing value (e.g. "never inspected").
    """

    points: float
    min: float | None = None
    max: float | None = None
    equals: Any = _MISSING

    KEYS = {"min", "max", "points", "equals"}

    @property
    def is_equals(self) -> bool:
        return self.equals is not _MISSING

    @classmethod
    def from_dict(cls, d: dict) -> Band:
        if "equals" in d:
            return cls(points=d.get("points"), equals=d["equals"])
        return cls(points=d.get("points"), min=d.get("min"), max=d.get("max"))

    def to_dict(self) -> dict:
        if self.is_equals:
            return {"equals": self.equals, "points": self.points}
        return {"min": self.min, "max": self.max, "points": self.points}


@dataclass
class Indicator:
    code: str
    name: str
    category: str
    source: str
    aggregation: str
    bands: list[Band] = _field(default_factory=list)
    description: str = ""
    field: str | None = None
    filter: list[Condition] = _field(default_factory=list)
    window_months: int | None = None
    weight: float = 1.0
    applies_to: list[str] = _field(default_factory=list)
    enabled: bool = True
    explanation: str = ""
    # rate: which records form the denominator (default: all records of the window)
    denominator_filter: list[Condition] = _field(default_factory=list)
    # trend: "diff" = recent - previous; "ratio" = (recent + 1) / (previous + 1)
    trend_mode: str = "diff"

    KEYS = {
        "code",
        "name",
        "category",
        "source",
        "aggregation",
        "bands",
        "description",
        "field",
        "filter",
        "window_months",
        "weight",
        "applies_to",
        "enabled",
        "explanation",
        "denominator_filter",
        "trend_mode",
    }

    @property
    def top_category(self) -> str:
        return self.category.split(".", 1)[0]

    @classmethod
    def from_dict(cls, d: dict) -> Indicator:
        return cls(
            code=d.get("code"),
            name=d.get("name"),
            category=d.get("category"),
            source=d.get("source"),
            aggregation=d.get("aggregation"),
            bands=[Band.from_dict(b) if isinstance(b, dict) else b for b in (d.get("bands") or [])],
            description=d.get("description", "") or "",
            field=d.get("field"),
            filter=[Condition.from_dict(c) if isinstance(c, dict) else c for c in (d.get("filter") or [])],
            window_months=d.get("window_months"),
            weight=d.get("weight", 1.0),
            applies_to=list(d.get("applies_to") or []),
            enabled=d.get("enabled", True),
            explanation=d.get("explanation", "") or "",
            denominator_filter=[
                Condition.from_dict(c) if isinstance(c, dict) else c
                for c in (d.get("denominator_filter") or [])
            ],
            trend_mode=d.get("trend_mode", "diff"),
        )

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "source": self.source,
            "field": self.field,
            "filter": [c.to_dict() for c in self.filter],
            "window_months": self.window_months,
            "aggregation": self.aggregation,
            "bands": [b.to_dict() for b in self.bands],
            "weight": self.weight,
            "applies_to": list(self.applies_to),
            "enabled": self.enabled,
            "explanation": self.explanation,
            "denominator_filter": [c.to_dict() for c in self.denominator_filter],
            "trend_mode": self.trend_mode,
        }

    def value_family(self) -> str:
        """Type family of the indicator value: int, float, bool, string or date."""
        agg = self.aggregation
        if agg in ("count", "days_since_last", "age_months"):
            return "int"
        if agg == "trend":
            return "float" if self.trend_mode == "ratio" else "int"
        if agg == "exists":
            return "bool"
        if agg == "rate":
            return "float"
        if agg == "sum":
            fam = column_family(self.source, self.field or "")
            return "int" if fam == "int" else "float"
        if agg in ("max", "min", "value"):
            return column_family(self.source, self.field or "") or "float"
        return "float"


@dataclass
class PolicyRule:
    """veto (→ fixed grade), raise (+steps), lower (−steps) or new_enterprise (static-only score)."""

    code: str
    name: str
    type: str
    when: list[RuleCondition] = _field(default_factory=list)
    match: str = "all"
    grade: str | None = None
    steps: int = 1
    explanation: str = ""
    enabled: bool = True
    description: str = ""
    # new_enterprise only
    max_age_months: int | None = None
    categories: list[str] = _field(default_factory=list)
    factor: float = 1.0

    KEYS = {
        "code",
        "name",
        "type",
        "when",
        "match",
        "grade",
        "steps",
        "explanation",
        "enabled",
        "description",
        "max_age_months",
        "categories",
        "factor",
    }

    @classmethod
    def from_dict(cls, d: dict) -> PolicyRule:
        return cls(
            code=d.get("code"),
            name=d.get("name"),
            type=d.get("type"),
            when=[RuleCondition.from_dict(c) if isinstance(c, dict) else c for c in (d.get("when") or [])],
            match=d.get("match", "all"),
            grade=d.get("grade"),
            steps=d.get("steps", 1),
            explanation=d.get("explanation", "") or "",
            enabled=d.get("enabled", True),
            description=d.get("description", "") or "",
            max_age_months=d.get("max_age_months"),
            categories=list(d.get("categories") or []),
            factor=d.get("factor", 1.0),
        )

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "enabled": self.enabled,
            "explanation": self.explanation,
        }
        if self.type == "new_enterprise":
            out.update(
                max_age_months=self.max_age_months, categories=list(self.categories), factor=self.factor
            )
        else:
            out.update(when=[c.to_dict() for c in self.when], match=self.match)
            if self.type == "veto":
                out["grade"] = self.grade
            else:
                out["steps"] = self.steps
        return out


@dataclass
class Category:
    name: str = ""
    cap: float | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "cap": self.cap}


@dataclass
class IndicatorSet:
    code: str
    version: str | int
    name: str
    indicators: list[Indicator]
    cutoffs: dict[str, float]
    grades: list[str] = _field(default_factory=lambda: ["A", "B", "C", "D"])
    description: str = ""
    categories: dict[str, Category] = _field(default_factory=dict)
    score_cap: float = 100.0
    # multiplier on the sum of category subtotals (e.g. Anhui 100+20 → 100: 100/120)
    scale: float = 1.0
    blend: dict[str, float] = _field(default_factory=lambda: {"rule": 1.0, "model": 0.0})
    rules: list[PolicyRule] = _field(default_factory=list)
    # credit repair: records flagged repaired (penalties, list entries) stop counting
    exclude_repaired: bool = True
    top_reasons: int = 3

    KEYS = {
        "code",
        "version",
        "name",
        "indicators",
        "cutoffs",
        "grades",
        "description",
        "categories",
        "score_cap",
        "scale",
        "blend",
        "rules",
        "exclude_repaired",
        "top_reasons",
    }

    # -- construction --------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: dict) -> IndicatorSet:
        col = _Collector()
        d = _check_keys(d, cls.KEYS, "indicator set", col)
        inds = []
        for i, raw in enumerate(d.get("indicators") or []):
            where = f"indicator #{i + 1}"
            if isinstance(raw, dict) and isinstance(raw.get("code"), str):
                where = f"indicator '{raw['code']}'"
            raw = _check_keys(raw, Indicator.KEYS, where, col)
            for key, allowed in (("bands", Band.KEYS), ("filter", Condition.KEYS),
                                 ("denominator_filter", Condition.KEYS)):
                _check_items(raw, key, allowed, where, col)
            if raw:
                inds.append(Indicator.from_dict(raw))
        rules = []
        for i, raw in enumerate(d.get("rules") or []):
            where = f"rule #{i + 1}"
            if isinstance(raw, dict) and isinstance(raw.get("code"), str):
                where = f"rule '{raw['code']}'"
            raw = _check_keys(raw, PolicyRule.KEYS, where, col)
            _check_items(raw, "when", RuleCondition.KEYS, where, col)
            if raw:
                rules.append(PolicyRule.from_dict(raw))
        cats: dict[str, Category] = {}
        raw_cats = d.get("categories") or {}
        if not isinstance(raw_cats, dict):
            col.add("indicator set", "categories", "must be an object {code: {name, cap}}")
            raw_cats = {}
        for k, v in raw_cats.items():
            v = _check_keys(v, {"name", "cap"}, f"category '{k}'", col)
            cats[k] = Category(name=v.get("name", "") or "", cap=v.get("cap"))
        col.raise_if_any()
        spec = cls(
            code=d.get("code"),
            version=d.get("version"),
            name=d.get("name"),
            description=d.get("description", "") or "",
            indicators=inds,
            cutoffs=d.get("cutoffs") or {},
            grades=list(d.get("grades") or ["A", "B", "C", "D"]),
            categories=cats,
            score_cap=d.get("score_cap", 100.0),
            scale=d.get("scale", 1.0),
            blend=dict(d.get("blend") or {"rule": 1.0, "model": 0.0}),
            rules=rules,
            exclude_repaired=d.get("exclude_repaired", True),
            top_reasons=d.get("top_reasons", 3),
        )
        spec.validate()
        return spec

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "grades": list(self.grades),
            "cutoffs": dict(self.cutoffs),
            "score_cap": self.score_cap,
            "scale": self.scale,
            "blend": dict(self.blend),
            "exclude_repaired": self.exclude_repaired,
            "top_reasons": self.top_reasons,
            "categories": {k: c.to_dict() for k, c in self.categories.items()},
            "indicators": [i.to_dict() for i in self.indicators],
            "rules": [r.to_dict() for r in self.rules],
        }

    # -- helpers -------------------------------------------------------------------------------------------

    @property
    def active_indicators(self) -> list[Indicator]:
        return [i for i in self.indicators if i.enabled]

    @property
    def active_rules(self) -> list[PolicyRule]:
        return [r for r in self.rules if r.enabled]

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(code)

    def top_categories(self) -> list[str]:
        """Top-level categories in first-use order (declared ones first)."""
        seen = list(self.categories)
        for ind in self.active_indicators:
            if ind.top_category not in seen:
                seen.append(ind.top_category)
        return seen

    def required_tables(self) -> dict[str, set[str]]:
        """table → canonical columns the enabled indicators read (derived columns excluded)."""
        from .schema import DERIVED, EVENT_DATE

        need: dict[str, set[str]] = {"enterprises": {"enterprise_id", "established_on"}}
        if any(i.applies_to for i in self.active_indicators):
            need["enterprises"].add("business_form")
        for ind in self.active_indicators:
            cols = need.setdefault(ind.source, {"enterprise_id"})
            if ind.source in EVENT_DATE:
                cols.add(EVENT_DATE[ind.source])
            if ind.field:
                cols.add(ind.field)
            for c in ind.filter + ind.denominator_filter:
                cols.add(c.field)
        if self.exclude_repaired:
            for t in ("penalties", "list_entries"):
                if t in need:
                    need[t].add("repaired")
        if "list_entries" in need:
            need["list_entries"].add("removed_on")
        if "licences" in need:
            need["licences"].update({"expires_on", "status"})
        for t, derived in DERIVED.items():
            if t in need:
                need[t] -= set(derived)
        return need

    # -- validation ----------------------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise SpecError listing every problem; no-op when valid."""
        col = _Collector()
        where = "indicator set"
        if not isinstance(self.code, str) or not CODE_RE.match(self.code):
            col.add(where, "code", "must be lower-case letters, digits and _ (starting with a letter)")
        if self.version is None or self.version == "" or isinstance(self.version, bool):
            col.add(where, "version", "is required")
        if not isinstance(self.name, str) or not self.name.strip():
            col.add(where, "name", "is required")
        grades = self.grades
        if (
            not isinstance(grades, list)
            or len(grades) < 2
            or not all(isinstance(g, str) and g for g in grades)
            or len(set(grades)) != len(grades)
        ):
            col.add(where, "grades", "must be a list of at least 2 distinct grade labels, low risk first")
            grades = ["A", "B", "C", "D"]
        self._validate_cutoffs(grades, col)
        for key in ("score_cap", "scale"):
            v = getattr(self, key)
            if not _is_number(v) or v <= 0:
                col.add(where, key, "must be a positive number")
        if not isinstance(self.exclude_repaired, bool):
            col.add(where, "exclude_repaired", "must be true or false")
        if (
            not isinstance(self.top_reasons, int)
            or isinstance(self.top_reasons, bool)
            or not (0 <= self.top_reasons <= 20)
        ):
            col.add(where, "top_reasons", "must be an integer 0–20")
        b = self.blend
        if not isinstance(b, dict) or set(b) - {"rule", "model"}:
            col.add(where, "blend", 'must be {"rule": w, "model": w}')
        else:
            wr, wm = b.get("rule", 1.0), b.get("model", 0.0)
            if not (_is_number(wr) and _is_number(wm) and wr >= 0 and wm >= 0 and wr + wm > 0):
                col.add(where, "blend", "weights must be non-negative numbers with a positive sum")
        for k, c in self.categories.items():
            if not isinstance(k, str) or not CODE_RE.match(k):
                col.add(f"category '{k}'", "", "code must be lower-case letters, digits and _")
            if c.cap is not None and (not _is_number(c.cap) or c.cap < 0):
                col.add(f"category '{k}'", "cap", "must be a non-negative number or null")

        if not isinstance(self.indicators, list) or not self.indicators:
            col.add(where, "indicators", "at least one indicator is required")
        seen: set[str] = set()
        for ind in self.indicators:
            _validate_indicator(ind, col)
            if isinstance(ind.code, str):
                if ind.code in seen:
                    col.add(f"indicator '{ind.code}'", "code", "duplicate code")
                seen.add(ind.code)
        if self.indicators and not self.active_indicators:
            col.add(where, "indicators", "at least one indicator must be enabled")

        by_code = {i.code: i for i in self.indicators if isinstance(i.code, str)}
        rule_codes: set[str] = set()
        n_new = 0
        for rule in self.rules:
            rw = f"rule '{rule.code}'"
            if not isinstance(rule.code, str) or not CODE_RE.match(rule.code):
                col.add(rw, "code", "must be lower-case letters, digits and _ (starting with a letter)")
            elif rule.code in rule_codes:
                col.add(rw, "code", "duplicate code")
            rule_codes.add(rule.code)
            if not isinstance(rule.name, str) or not rule.name.strip():
                col.add(rw, "name", "is required")
            if not isinstance(rule.enabled, bool):
                col.add(rw, "enabled", "must be true or false")
            if rule.type not in RULE_TYPES:
                col.add(rw, "type", f"must be one of {', '.join(RULE_TYPES)}")
                continue
            _validate_template(rule.explanation, rw, col, allowed=("name", "code"))
            if rule.type == "new_enterprise":
                if rule.enabled:
                    n_new += 1
                if (
                    not isinstance(rule.max_age_months, int)
                    or isinstance(rule.max_age_months, bool)
                    or not (1 <= rule.max_age_months <= MAX_WINDOW_MONTHS)
                ):
                    col.add(rw, "max_age_months", "must be a positive integer")
                if not rule.categories:
                    col.add(rw, "categories", "list the categories that count for a new enterprise")
                cats_used = [i.category for i in self.active_indicators if isinstance(i.category, str)]
                for c in rule.categories:
                    if not any(u == c or u.startswith(f"{c}.") for u in cats_used):
                        col.add(rw, "categories", f"no enabled indicator is in category '{c}'")
                if not _is_number(rule.factor) or rule.factor <= 0:
                    col.add(rw, "factor", "must be a positive number")
                if rule.when:
                    col.add(rw, "when", "not used by new_enterprise (the condition is the age)")
                continue
            if rule.match not in ("all", "any"):
                col.add(rw, "match", "must be 'all' or 'any'")
            if not rule.when:
                col.add(rw, "when", "at least one condition is required")
            for cond in rule.when:
                _validate_rule_condition(cond, by_code, rw, col)
            if rule.type == "veto":
                if rule.grade not in grades:
                    col.add(rw, "grade", f"must be one of {', '.join(grades)}")
            elif (
                not isinstance(rule.steps, int)
                or isinstance(rule.steps, bool)
                or not (1 <= rule.steps < len(grades))
            ):
                col.add(rw, "steps", f"must be an integer 1–{len(grades) - 1}")
        if n_new > 1:
            col.add(where, "rules", "at most one enabled new_enterprise rule")
        col.raise_if_any()

    def _validate_cutoffs(self, grades: list[str], col: _Collector) -> None:
        where = "indicator set"
        c = self.cutoffs
        if not isinstance(c, dict):
            col.add(where, "cutoffs", "must be an object {grade: max score}")
            return
        expected = grades[:-1]
        if set(c) != set(expected):
            col.add(
                where,
                "cutoffs",
                f"must give an upper score for each grade but the last: {', '.join(expected)} (got {', '.join(map(str, c))})",
            )
            return
        vals = [c[g] for g in expected]
        if not all(_is_number(v) for v in vals):
            col.add(where, "cutoffs", "values must be numbers")
        elif any(b <= a for a, b in zip(vals, vals[1:], strict=False)):
            col.add(where, "cutoffs", "must increase from the lowest-risk grade to the highest")

    def cutoff_list(self) -> list[float]:
        return [float(self.cutoffs[g]) for g in self.grades[:-1]]


def _validate_indicator(ind: Indicator, col: _Collector) -> None:
    w = f"indicator '{ind.code}'"
    if not isinstance(ind.code, str) or not CODE_RE.match(ind.code):
        col.add(w, "code", "must be lower-case letters, digits and _ (starting with a letter, ≤ 63)")
    if not isinstance(ind.name, str) or not ind.name.strip():
        col.add(w, "name", "is required")
    if not isinstance(ind.category, str) or not CATEGORY_RE.match(ind.category):
        col.add(w, "category", "must be a dotted lower-case path like 'dynamic.inspection'")
    if not isinstance(ind.description, str):
        col.add(w, "description", "must be text")
    if not isinstance(ind.enabled, bool):
        col.add(w, "enabled", "must be true or false")
    if not _is_number(ind.weight):
        col.add(w, "weight", "must be a finite number")
    if not isinstance(ind.applies_to, list):
        col.add(w, "applies_to", "must be a list of business forms")
    else:
        for bf in ind.applies_to:
            if bf not in BUSINESS_FORMS:
                col.add(w, "applies_to", f"unknown business form {bf!r} (one of {', '.join(BUSINESS_FORMS)})")
    if ind.source not in SCHEMAS:
        col.add(w, "source", f"unknown table {ind.source!r} (one of {', '.join(SCHEMAS)})")
        return
    agg = ind.aggregation
    if agg not in AGGREGATIONS:
        col.add(w, "aggregation", f"unknown aggregation {agg!r} (one of {', '.join(AGGREGATIONS)})")
        return
    is_ent = ind.source == "enterprises"
    if agg in ("value", "age_months"):
        if not is_ent:
            col.add(
                w, "source", f"aggregation {agg} reads an enterprise attribute: source must be 'enterprises'"
            )
    elif is_ent:
        col.add(w, "source", f"aggregation {agg} needs a record table, not 'enterprises'")

    fam = column_family(ind.source, ind.field) if isinstance(ind.field, str) else None
    if ind.field is not None and fam is None:
        col.add(w, "field", f"table {ind.source} has no column {ind.field!r}")
    if agg in ("count", "exists", "rate", "trend") and ind.field is not None:
        col.add(w, "field", f"not used by aggregation {agg}; leave it empty")
    if agg in ("sum", "max", "min", "value") and ind.field is None:
        col.add(w, "field", f"aggregation {agg} needs a field")
    if agg in ("sum", "max", "min") and fam is not None and fam not in ("int", "float"):
        col.add(w, "field", f"aggregation {agg} needs a numeric column; {ind.field} is {fam}")
    if agg in ("days_since_last", "age_months") and ind.field is not None and fam not in (None, "date"):
        col.add(w, "field", f"aggregation {agg} needs a date column; {ind.field} is {fam}")

    if ind.window_months is not None:
        if (
            not isinstance(ind.window_months, int)
            or isinstance(ind.window_months, bool)
            or not (1 <= ind.window_months <= MAX_WINDOW_MONTHS)
        ):
            col.add(w, "window_months", f"must be an integer 1–{MAX_WINDOW_MONTHS} or null (all time)")
        elif is_ent:
            col.add(w, "window_months", "not used for enterprise attributes; leave it null")
    if agg == "trend":
        wm = ind.window_months
        if not isinstance(wm, int) or isinstance(wm, bool) or wm < 2 or wm % 2:
            col.add(
                w, "window_months", "trend needs an even window (e.g. 12 = last 6 months vs the 6 before)"
            )
        if ind.trend_mode not in ("diff", "ratio"):
            col.add(w, "trend_mode", "must be 'diff' or 'ratio'")
    if ind.denominator_filter and agg != "rate":
        col.add(w, "denominator_filter", "only used by aggregation rate")
    if is_ent and ind.filter:
        col.add(w, "filter", "enterprise attributes take no filter (use applies_to)")
    for key in ("filter", "denominator_filter"):
        for cond in getattr(ind, key):
            _validate_filter(cond, ind.source, w, key, col)

    vfam = ind.value_family()
    if not isinstance(ind.bands, list):
        col.add(w, "bands", "must be a list")
        return
    if not ind.bands and ind.weight != 0:
        col.add(w, "bands", "at least one band is required (or weight 0 for a signal-only indicator)")
    for j, band in enumerate(ind.bands):
        bw = f"bands[{j + 1}]"
        if not _is_number(band.points):
            col.add(w, bw, "points must be a number")
        if band.is_equals:
            v = band.equals
            if v is None:
                continue
            if vfam == "bool" and not isinstance(v, bool):
                col.add(w, bw, "equals must be true/false for a yes/no value")
            elif vfam == "string" and not isinstance(v, str):
                col.add(w, bw, "equals must be text for a text value")
            elif vfam in ("int", "float") and not _is_number(v):
                col.add(w, bw, "equals must be a number for a numeric value")
            elif vfam == "string":
                allowed = ENUMS.get((ind.source, ind.field or ""))
                if allowed and v not in allowed:
                    col.add(w, bw, f"unknown value {v!r} for {ind.field} (one of {', '.join(allowed)})")
        else:
            if vfam not in ("int", "float"):
                col.add(w, bw, f"range bands need a numeric value; this value is {vfam} (use equals)")
                continue
            lo, hi = band.min, band.max
            if lo is not None and not _is_number(lo):
                col.add(w, bw, "min must be a number or null")
            elif hi is not None and not _is_number(hi):
                col.add(w, bw, "max must be a number or null")
            elif lo is not None and hi is not None and hi <= lo:
                col.add(w, bw, "max must be greater than min (bands are min <= value < max)")
    _validate_template(ind.explanation, w, col, allowed=TEMPLATE_FIELDS)


def _validate_value_for(
    fam: str, op: str, value: Any, enum: tuple[str, ...] | None, w: str, fld: str, col
) -> None:
    """Check a filter/rule literal against the type family of what it is compared with."""
    if op in ("is_null", "not_null"):
        if value is not None:
            col.add(w, fld, f"op {op} takes no value")
        return
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            col.add(w, fld, f"op {op} needs a non-empty list value")
            return
        items = value
    else:
        if value is None:
            col.add(w, fld, f"op {op} needs a value (use is_null / not_null for missing values)")
            return
        items = [value]
    if op in (">", ">=", "<", "<=") and fam not in ("int", "float", "date"):
        col.add(w, fld, f"op {op} needs a numeric or date column, not {fam}")
        return
    for v in items:
        if fam in ("int", "float"):
            ok = _is_number(v)
        elif fam == "bool":
            ok = isinstance(v, bool)
        elif fam == "string":
            ok = isinstance(v, str) and "\x00" not in v
            if ok and enum and v not in enum:
                col.add(w, fld, f"unknown value {v!r} (one of {', '.join(enum)})")
        elif fam == "date":
            ok = _is_date_literal(v)
        else:
            ok = False
        if not ok:
            col.add(w, fld, f"value {v!r} does not fit a {fam} column")


def _is_date_literal(v: Any) -> bool:
    if isinstance(v, dict):
        return (
            set(v) == {"as_of_offset_days"}
            and isinstance(v["as_of_offset_days"], int)
            and not isinstance(v["as_of_offset_days"], bool)
        )
    if isinstance(v, str):
        try:
            date.fromisoformat(v)
        except ValueError:
            return False
        return len(v) == 10
    return False


def _validate_filter(cond: Condition, table: str, w: str, key: str, col: _Collector) -> None:
    fld = f"{key}.{cond.field}" if isinstance(cond.field, str) else key
    if not isinstance(cond.field, str):
        col.add(w, key, "each condition needs a field")
        return
    fam = column_family(table, cond.field)
    if fam is None:
        col.add(w, fld, f"table {table} has no column {cond.field!r}")
        return
    if cond.op not in FILTER_OPS:
        col.add(w, fld, f"unknown op {cond.op!r} (one of {', '.join(FILTER_OPS)})")
        return
    _validate_value_for(fam, cond.op, cond.value, ENUMS.get((table, cond.field)), w, fld, col)


def _validate_rule_condition(
    cond: RuleCondition, by_code: dict[str, Indicator], w: str, col: _Collector
) -> None:
    ind = by_code.get(cond.indicator) if isinstance(cond.indicator, str) else None
    fld = f"when.{cond.indicator}"
    if ind is None:
        col.add(w, fld, f"unknown indicator {cond.indicator!r}")
        return
    if not ind.enabled:
        col.add(w, fld, f"indicator {cond.indicator!r} is disabled; enable it (weight 0 = signal only)")
        return
    if cond.op not in FILTER_OPS:
        col.add(w, fld, f"unknown op {cond.op!r} (one of {', '.join(FILTER_OPS)})")
        return
    fam = ind.value_family()
    enum = ENUMS.get((ind.source, ind.field or "")) if ind.aggregation == "value" else None
    _validate_value_for(fam, cond.op, cond.value, enum, w, fld, col)


def parse_template(template: str) -> list[tuple[str, str | None, str | None]]:
    """Split an explanation template into (literal, field, format_spec) parts."""
    return [(lit, name, spec or None) for lit, name, spec, _conv in string.Formatter().parse(template)]


def _validate_template(template: Any, w: str, col: _Collector, allowed: tuple[str, ...]) -> None:
    if not isinstance(template, str):
        col.add(w, "explanation", "must be text")
        return
    try:
        parts = parse_template(template)
    except ValueError as exc:
        col.add(w, "explanation", f"bad template ({exc}); write {{{{ and }}}} for literal braces")
        return
    for _lit, name, spec in parts:
        if name is None:
            continue
        if name not in allowed:
            col.add(w, "explanation", f"unknown placeholder {{{name}}} (allowed: {', '.join(allowed)})")
        if spec and not FORMAT_RE.match(spec):
            col.add(w, "explanation", f"unsupported format {spec!r} (use .Nf or .N%)")
        if "\x00" in _lit:
            col.add(w, "explanation", "contains a NUL character")
