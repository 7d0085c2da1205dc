"""Helpers to drive the model from a synthetic world (tests, benchmarks, demos).

The world's records run to ``world.as_of``; labels need 12 months after each as-of date, so training
as-of dates end at ``world.as_of − horizon`` and the label snapshot is ``world.to_snapshot()``.
"""

from __future__ import annotations

from datetime import date

from ..compiler import shift_months
from .dataset import Dataset, LabelSpec, build_dataset, month_dates


def synth_dates(
    world, *, history_months: int = 12, horizon_months: int = 12, step_months: int = 1
) -> list[date]:
    """Monthly as-of dates from world start + ``history_months`` to world.as_of − horizon."""
    last = shift_months(world.as_of, -horizon_months)
    first = shift_months(world.start, history_months)
    return month_dates(first, last, step_months)


def synth_dataset(
    world,
    spec,
    *,
    label: LabelSpec | None = None,
    step_months: int = 1,
    history_months: int = 12,
    threads: int = 2,
) -> Dataset:
    label = label or LabelSpec()
    dates = synth_dates(
        world, history_months=history_months, horizon_months=label.horizon_months, step_months=step_months
    )
    return build_dataset(
        world.to_snapshot,
        spec,
        dates,
        label_snapshot=world.to_snapshot(),
        labels_until=world.as_of,
        label=label,
        threads=threads,
    )
