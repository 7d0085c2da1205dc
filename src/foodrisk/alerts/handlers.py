"""Alerts react to other apps' events (connected in AlertsConfig.ready), after their commit.

- records_changed → record-driven rules for those enterprises (penalty, inspection, sampling,
  complaints, credit repair rejected, listing, jumps).
- grade_changed → grade-drop rules.
A failure is logged, never raised into the caller (the records and grades are already saved).
"""

import logging
import threading
from contextlib import contextmanager

logger = logging.getLogger(__name__)
_state = threading.local()
INLINE_LIMIT = 200  # larger batches are evaluated by the worker (job "alerts.evaluate")


def _defer(**params):
    from foodrisk.core.services import jobs

    jobs.start("alerts.evaluate", params=params)


def enabled():
    return getattr(_state, "enabled", True)


@contextmanager
def paused():
    """Bulk loads (demo data, benchmarks) switch event-raised alerts off for the block."""
    previous = enabled()
    _state.enabled = False
    try:
        yield
    finally:
        _state.enabled = previous


def on_records_changed(sender, kind=None, enterprise_ids=(), **kwargs):
    if not enabled() or not enterprise_ids:
        return
    from . import services

    try:
        if len(enterprise_ids) > INLINE_LIMIT:
            return _defer(enterprise_ids=sorted(enterprise_ids), kind=kind)
        services.evaluate_records(enterprise_ids, {kind} if kind else None)
    except Exception:
        logger.exception("alerts for records_changed(%s) failed", kind)


def on_grade_changed(sender, run=None, adjustment=None, changes=(), **kwargs):
    if not enabled() or not changes:
        return
    from . import services

    try:
        if len(changes) > INLINE_LIMIT and adjustment is None:
            if getattr(run, "pk", None) is not None:  # the job reads the run's GradeChange rows: small parameters
                return _defer(run_id=run.pk)
            return _defer(grade_changes=list(changes))
        services.evaluate_grade_changes(changes, run=run, adjustment=adjustment)
    except Exception:
        logger.exception("alerts for grade_changed (run %s) failed", getattr(run, "pk", None))
