"""Liveness and readiness.

/healthz answers from the process alone (no database): the process is up and serving. /readyz runs each
registered check and answers 503 when a critical one fails, so a load balancer takes the node out until its
database, cache or worker is back. Checks report a status word and a few numbers, never an error text, a
host name or a version: the endpoints are unauthenticated. Failures are logged in full on the server.

Apps add checks with :func:`register` (scoring adds the age of the last scoring run) so that core does not
import the apps above it.
"""

import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    func: object
    critical: bool = True


_checks = {}


def register(name, func, *, critical=True):
    """``func()`` returns a dict with at least ``status`` ("ok" means healthy) and optional numbers."""
    _checks[name] = Check(name, func, critical)


def readiness():
    """(ready, {name: result}) — every check runs, so one failure does not hide another."""
    results, ready = {}, True
    for check in _checks.values():
        started = time.perf_counter()
        try:
            result = dict(check.func())
        except Exception:
            logger.exception("readiness check %s failed", check.name)
            result = {"status": "error"}
        result["critical"] = check.critical
        result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if check.critical and result["status"] != "ok":
            ready = False
        results[check.name] = result
    return ready, results


def check_database():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok"}


def check_cache():
    from django.core.cache import cache

    key, value = f"foodrisk:readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    found = cache.get(key)
    cache.delete(key)
    return {"status": "ok" if found == value else "unavailable"}


def waiting_tasks():
    """django-tasks-db rows that are due and not picked up by a worker yet."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready()


def _oldest_waiting_seconds(now):
    from django.db.models import Min, Q
    from django_tasks_db.models import get_date_max

    # a task without run_after carries the date-max sentinel and is due since it was enqueued
    sentinel = get_date_max()
    due = waiting_tasks().aggregate(now=Min("enqueued_at", filter=Q(run_after=sentinel)),
                                    later=Min("run_after", filter=~Q(run_after=sentinel)))
    oldest = min((t for t in due.values() if t), default=None)
    return None if oldest is None else (now - oldest).total_seconds()


def worker_heartbeat():
    """The workers' heartbeats (WorkerProcess rows, stamped by every `foodrisk db_worker`), the queues and the
    task runs that failed in the last 24 hours (core.services.jobs' health functions).

    The worker is *stale* when no worker process has beaten within WORKER_DEAD_AFTER_SECONDS while a task has
    been due for longer than WORKER_STALE_SECONDS: work is waiting and nobody is alive to take it. A busy worker
    keeps beating during a long job, so a queue waiting behind it is not stale; no worker and no work is idle."""
    from .services import jobs

    if not settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db."):
        return {"status": "ok", "mode": "in-process"}
    now = timezone.now()
    age = jobs.worker_heartbeat_age(now)
    depth = jobs.queue_depth()
    result = {"status": "ok", "live_workers": jobs.live_workers(now).count(), "waiting": sum(depth.values()),
              "failed_tasks_24h": jobs.failed_tasks().count()}
    if age is not None:
        result["heartbeat_age_seconds"] = round(age)
    oldest = _oldest_waiting_seconds(now)
    if oldest is not None:
        result["oldest_waiting_seconds"] = round(oldest)
    if not result["live_workers"] and oldest is not None and oldest > settings.WORKER_STALE_SECONDS:
        result["status"] = "stale"
    return result


register("database", check_database)
register("cache", check_cache)
register("worker", worker_heartbeat)
