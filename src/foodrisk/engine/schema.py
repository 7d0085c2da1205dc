"""Snapshot table schemas (docs/data-formats.md, "Engine snapshot").

Shared by the spec validator (which columns an indicator may name) and snapshot I/O.
"""

from __future__ import annotations

import pyarrow as pa

# Canonical Arrow schema of each snapshot table.
SCHEMAS: dict[str, pa.Schema] = {
    "enterprises": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("uscc", pa.string()),
            ("business_form", pa.string()),
            ("scale", pa.string()),
            ("region_code", pa.string()),
            ("status", pa.string()),
            ("static_tier", pa.int8()),
            ("established_on", pa.date32()),
            ("key_supervision", pa.bool_()),
            # the enterprise's food categories / business activities joined by "；" (current state, no date)
            ("food_categories", pa.string()),
        ]
    ),
    "licences": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("kind", pa.string()),
            ("issued_on", pa.date32()),
            ("expires_on", pa.date32()),
            ("status", pa.string()),
        ]
    ),
    "inspections": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("inspected_on", pa.date32()),
            ("kind", pa.string()),
            ("result", pa.string()),
            ("key_items_failed", pa.int32()),
            ("general_items_failed", pa.int32()),
            ("rectification_ordered", pa.bool_()),
        ]
    ),
    "sampling_tests": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("sampled_on", pa.date32()),
            ("level", pa.string()),
            ("result", pa.string()),
        ]
    ),
    "penalties": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("decided_on", pa.date32()),
            ("severity", pa.string()),
            ("violation_type", pa.string()),
            ("fine", pa.float64()),
            ("confiscation", pa.float64()),
            ("licence_revoked", pa.bool_()),
            ("repaired", pa.bool_()),
        ]
    ),
    "complaints": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("received_on", pa.date32()),
            ("channel", pa.string()),
            ("verified", pa.bool_()),
        ]
    ),
    "list_entries": pa.schema(
        [
            ("enterprise_id", pa.int64()),
            ("list_kind", pa.string()),
            ("listed_on", pa.date32()),
            ("removed_on", pa.date32()),
            ("repaired", pa.bool_()),
        ]
    ),
}

TABLE_NAMES: tuple[str, ...] = tuple(SCHEMAS)
RECORD_TABLES: tuple[str, ...] = tuple(t for t in SCHEMAS if t != "enterprises")

# The date that places a record in time; records dated after as-of are invisible.
EVENT_DATE: dict[str, str] = {
    "licences": "issued_on",
    "inspections": "inspected_on",
    "sampling_tests": "sampled_on",
    "penalties": "decided_on",
    "complaints": "received_on",
    "list_entries": "listed_on",
}

# Columns the engine derives per as-of (usable in filters like real columns).
DERIVED: dict[str, dict[str, str]] = {
    # still listed at as-of: removal on/before as-of ends the listing
    "list_entries": {"active": "bool"},
    # licence in force at as-of: not expired and not revoked/cancelled
    "licences": {"valid": "bool"},
}

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("enterprises", "business_form"): ("production", "sales", "catering", "canteen", "special"),
    ("enterprises", "scale"): ("large", "medium", "small", "micro"),
    ("enterprises", "status"): ("active", "cancelled", "revoked", "suspended"),
    ("licences", "kind"): ("SC", "JY"),
    ("licences", "status"): ("valid", "expired", "revoked", "cancelled"),
    ("inspections", "kind"): ("routine", "special", "random", "flight"),
    ("inspections", "result"): ("pass", "basic", "fail"),
    ("sampling_tests", "level"): ("national", "provincial", "city", "county"),
    ("sampling_tests", "result"): ("pass", "fail"),
    ("penalties", "severity"): ("minor", "general", "heavy", "serious"),
    ("complaints", "channel"): ("12315", "12345", "letter", "visit", "online"),
    ("list_entries", "list_kind"): ("abnormal", "serious"),
}

# Chinese labels of enumeration codes (for explanations: the {label} placeholder)
LABELS: dict[str, dict[str, str]] = {
    "business_form": {
        "production": "食品生产",
        "sales": "食品销售",
        "catering": "餐饮服务",
        "canteen": "单位食堂",
        "special": "特殊食品",
    },
    "scale": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "status": {"active": "存续", "cancelled": "注销", "revoked": "吊销", "suspended": "歇业"},
    "static_tier": {"1": "Ⅰ", "2": "Ⅱ", "3": "Ⅲ", "4": "Ⅳ"},
    "kind": {"routine": "日常检查", "special": "专项检查", "random": "双随机抽查", "flight": "飞行检查"},
    "result": {"pass": "符合", "basic": "基本符合", "fail": "不符合"},
    "level": {"national": "国抽", "provincial": "省抽", "city": "市抽", "county": "县抽"},
    "severity": {"minor": "轻微", "general": "一般", "heavy": "较重", "serious": "严重"},
    "list_kind": {"abnormal": "经营异常名录", "serious": "严重违法失信名单"},
}

BUSINESS_FORMS = ENUMS[("enterprises", "business_form")]


def type_family(t: pa.DataType) -> str:
    """Coarse type family used for validation: int, float, string, bool, date or other."""
    if pa.types.is_dictionary(t):
        return type_family(t.value_type)
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return "date"
    if pa.types.is_null(t):
        return "null"
    return "other"


def column_family(table: str, column: str) -> str | None:
    """Family of a (canonical or derived) column, None if the table has no such column."""
    schema = SCHEMAS.get(table)
    if schema is None:
        return None
    if column in schema.names:
        return type_family(schema.field(column).type)
    return DERIVED.get(table, {}).get(column)


def columns(table: str) -> list[str]:
    """Canonical plus derived column names of a table."""
    return list(SCHEMAS[table].names) + list(DERIVED.get(table, {}))
