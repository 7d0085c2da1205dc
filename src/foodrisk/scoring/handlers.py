"""Scoring reacts to other apps' events (connected in ScoringConfig.ready).

- records_changed (after commit): rescore those enterprises. A small set (≤ EVENT_INLINE_LIMIT) is
  scored in-process right away (visible within ~1 s for one enterprise); a bigger one queues one
  incremental job (not queued twice while one is waiting).
- indicator_set_activated (after commit): queue a full run with the new active set.
"""

import logging
import threading
from contextlib import contextmanager

from django.utils import timezone

logger = logging.getLogger(__name__)

EVENT_INLINE_LIMIT = 50
_state = threading.local()


def auto_rescore_enabled():
    return getattr(_state, "enabled", True)


@contextmanager
def no_auto_rescore():
    """Bulk loads (benchmarks, demo data) switch event-triggered rescoring off for the block."""
    previous = auto_rescore_enabled()
    _state.enabled = False
    try:
        yield
    finally:
        _state.enabled = previous


def on_records_changed(sender, kind=None, enterprise_ids=(), **kwargs):
    if not auto_rescore_enabled() or not enterprise_ids:
        return
    from foodrisk.core import context
    from foodrisk.core.models import Job
    from foodrisk.indicators.models import IndicatorSet

    if not IndicatorSet.objects.filter(status="active").exists():
        return
    user = context.current().user
    user = user if getattr(user, "is_authenticated", False) else None
    ids = set(enterprise_ids)
    if len(ids) <= EVENT_INLINE_LIMIT:
        from . import services

        try:
            services.run_scoring("event", timezone.localdate(), user, ids)
        except Exception:  # the records are saved; a failed rescoring must not fail the caller
            logger.exception("event-triggered rescoring of %s failed", sorted(ids)[:10])
        return
    if Job.objects.filter(kind="scoring.incremental", status="queued").exists():
        return
    from foodrisk.core.services import jobs

    jobs.start("scoring.incremental", user=user, params={})


def on_indicator_set_activated(sender, indicator_set=None, user=None, **kwargs):
    if not auto_rescore_enabled():
        return
    from foodrisk.core.services import jobs

    jobs.start("scoring.full", user=user, params={},
               title=f"Full scoring run after activating {indicator_set.code} v{indicator_set.version}")
