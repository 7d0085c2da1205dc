"""Small builders for engine tests: hand-written snapshots and one-indicator specs."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa

from foodrisk.engine import score
from foodrisk.engine.schema import SCHEMAS

AS_OF = date(2026, 6, 30)

_DEFAULTS = {
    "enterprises": {
        "uscc": "91330100SAMPLE01",
        "business_form": "sales",
        "scale": "small",
        "region_code": "330102",
        "status": "active",
        "static_tier": 1,
        "established_on": date(2010, 1, 1),
        "key_supervision": False,
    },
    "licences": {
        "kind": "JY",
        "issued_on": date(2024, 1, 1),
        "expires_on": date(2029, 1, 1),
        "status": "valid",
    },
    "inspections": {
        "inspected_on": date(2026, 1, 1),
        "kind": "routine",
        "result": "pass",
        "key_items_failed": 0,
        "general_items_failed": 0,
        "rectification_ordered": False,
    },
    "sampling_tests": {"sampled_on": date(2026, 1, 1), "level": "city", "result": "pass"},
    "penalties": {
        "decided_on": date(2026, 1, 1),
        "severity": "general",
        "violation_type": "hygiene",
        "fine": 1000.0,
        "confiscation": 0.0,
        "licence_revoked": False,
        "repaired": False,
    },
    "complaints": {"received_on": date(2026, 1, 1), "channel": "12315", "verified": False},
    "list_entries": {
        "list_kind": "abnormal",
        "listed_on": date(2026, 1, 1),
        "removed_on": None,
        "repaired": False,
    },
}


def table(name: str, rows: list[dict]) -> pa.Table:
    full = [{**_DEFAULTS[name], **r} for r in rows]
    return pa.Table.from_pylist(full, schema=SCHEMAS[name])


def snapshot(n_enterprises: int = 1, **records: list[dict]) -> dict[str, pa.Table]:
    """Enterprises 1..n (or ``enterprises=[…]``) plus the given record rows (enterprise_id defaults to 1)."""
    ents = records.pop("enterprises", None) or [{"enterprise_id": i} for i in range(1, n_enterprises + 1)]
    out = {"enterprises": table("enterprises", ents)}
    for name in SCHEMAS:
        if name == "enterprises":
            continue
        rows = [{"enterprise_id": 1, **r} for r in records.get(name, [])]
        out[name] = table(name, rows)
    return out


def one_indicator_set(indicator: dict, **overrides) -> dict:
    """An indicator set holding one indicator (plus overrides of set-level fields)."""
    base = {
        "code": "test",
        "name": "测试指标集",
        "version": 1,
        "description": "",
        "source": "penalties",
        "category": "dynamic",
    }
    ind = {
        "code": "x",
        "name": "测试指标",
        "category": base["category"],
        "source": base["source"],
        "aggregation": "count",
        "bands": [{"min": 1, "max": None, "points": 10}],
        **indicator,
    }
    spec = {
        "code": base["code"],
        "name": base["name"],
        "version": base["version"],
        "cutoffs": {"A": 30, "B": 45, "C": 60},
        "indicators": [ind],
    }
    spec.update(overrides)
    return spec


def run(snap, spec, as_of: date = AS_OF, **kw) -> list[dict]:
    """Score and return decoded rows ordered by enterprise_id."""
    res = score(snap, spec, as_of, **kw)
    rows = res.scores.to_pylist()
    for r in rows:
        for k in ("subtotals", "rule_hits", "reasons", "details"):
            r[k] = json.loads(r[k])
    return rows


def value(snap, indicator: dict, as_of: date = AS_OF, eid: int = 1, **overrides):
    """(value, points) of indicator 'x' for one enterprise."""
    rows = run(snap, one_indicator_set(indicator, **overrides), as_of)
    row = next(r for r in rows if r["enterprise_id"] == eid)
    return tuple(row["details"]["x"])
