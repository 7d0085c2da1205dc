"""Policy profiles shipped as JSON (seeded from shared/domain/regulations.md §2 and §7)."""

from __future__ import annotations

import json
from importlib import resources

from ..spec import IndicatorSet


def list_profiles() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".json"))


def profile_dict(name: str) -> dict:
    """The raw JSON dict of a shipped profile (a fresh copy each call)."""
    if name not in list_profiles():
        raise KeyError(f"unknown profile {name!r} (one of {', '.join(list_profiles())})")
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8"))


def load_profile(name: str) -> IndicatorSet:
    return IndicatorSet.from_dict(profile_dict(name))
