"""foodrisk.engine — pure scoring library (no Django): indicator specs → DuckDB SQL → scores and grades.

from foodrisk.engine import load_profile, score, sample_snapshot
result = score(snapshot_tables, load_profile("food_2016"), date(2026, 11, 1))
"""

from .compiler import CompiledQuery, compile_spec
from .profiles import list_profiles, load_profile, profile_dict
from .sample import sample_snapshot
from .scoring import (
    SCORE_SCHEMA,
    ScoreResult,
    SnapshotError,
    decode_details,
    features,
    score,
    validate_snapshot,
)
from .snapshot import Snapshot, empty_snapshot, empty_table, read_snapshot, write_snapshot
from .spec import Band, Condition, Indicator, IndicatorSet, PolicyRule, RuleCondition, SpecError

__all__ = [
    "SCORE_SCHEMA",
    "Band",
    "CompiledQuery",
    "Condition",
    "Indicator",
    "IndicatorSet",
    "PolicyRule",
    "RuleCondition",
    "ScoreResult",
    "Snapshot",
    "SnapshotError",
    "SpecError",
    "compile_spec",
    "decode_details",
    "empty_snapshot",
    "empty_table",
    "features",
    "list_profiles",
    "load_profile",
    "profile_dict",
    "read_snapshot",
    "sample_snapshot",
    "score",
    "validate_snapshot",
    "write_snapshot",
]
