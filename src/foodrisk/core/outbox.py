"""Transactional outbox: follow-up work stored as task rows (django-tasks-db) inside the writing transaction and
run by the worker with retries.

An app declares what it reacts to (in its AppConfig.ready), naming a function by its dotted path:

    outbox.react("records_changed", "foodrisk.scoring.handlers.on_records_changed")

and a service emits the event inside the transaction of the write it tells about:

    outbox.emit("records_changed", kind="penalties", enterprise_ids=[3, 5])

Each reaction gets its own task row, so a failing reaction is retried alone (backoff, MAX_ATTEMPTS) and never
undoes the write or the other reactions; a rolled-back write leaves no task. A reaction may run more than once
(a retry, a worker that died after running it), so it must be idempotent. Payloads are JSON: ids, not objects.
"""

import datetime as dt
import logging
import threading
from collections import defaultdict
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.tasks import default_task_backend, task
from django.utils import timezone
from django.utils.module_loading import import_string

from . import context

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
JOB_TASK = "foodrisk.core.tasks.run_job"  # user-visible jobs: left to the worker even when draining
_reactions = defaultdict(list)  # event → [(dotted path, queue)]
_draining = threading.local()
_suppressed = threading.local()


def react(event, handler, *, queue="default"):
    """Run `handler(**payload)` in the worker for every `event` emitted from now on (once per path)."""
    if (handler, queue) not in _reactions[event]:
        _reactions[event].append((handler, queue))


def reactions(event):
    return list(_reactions.get(event, ()))


def backoff(attempt):
    """Wait before attempt + 1: 10 s, 40 s, 1.5 min, 2.7 min … (quadratic), at most an hour."""
    return dt.timedelta(seconds=min(3600, 10 * attempt * attempt))


def enqueue(task_obj, *args, run_after=None, queue=None, **kwargs):
    """Queue a task in the caller's transaction when the backend stores tasks in this database (the outbox:
    committed with the write, or gone with it); other backends (the immediate one some tests use) after commit."""
    if queue is not None or run_after is not None:
        task_obj = task_obj.using(**({"queue_name": queue} if queue else {}),
                                  **({"run_after": run_after} if run_after else {}))
    backend = task_obj.get_backend()
    if _stores_in_database(backend):
        result = task_obj.enqueue(*args, **kwargs)
        if settings.REACTIONS_ON_COMMIT and task_obj.module_path != JOB_TASK:
            transaction.on_commit(drain)
        return result
    transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs))
    return None


def _stores_in_database(backend):
    from django_tasks_db import DatabaseBackend

    return isinstance(backend, DatabaseBackend)


@contextmanager
def suppressed(prefix):
    """Bulk loads (demo data, benchmarks) queue no reactions whose path starts with `prefix` inside the block."""
    previous = getattr(_suppressed, "prefixes", ())
    _suppressed.prefixes = (*previous, prefix)
    try:
        yield
    finally:
        _suppressed.prefixes = previous


def is_suppressed(handler):
    return handler.startswith(getattr(_suppressed, "prefixes", ()) or ("\0",))


def emit(event, **payload):
    """Queue every reaction to `event` inside the current transaction; the acting user travels along."""
    actor = context.current().user
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    for handler, queue in reactions(event):
        if not is_suppressed(handler):
            enqueue(run_reaction, handler, event, payload, actor_id, queue=queue)


@task(queue_name="default")
def run_reaction(handler, event, payload, actor_id=None, attempt=1):
    """Run one reaction; on an error queue the next attempt (after a backoff) and fail this task row, so the
    admin sees each failed attempt with its traceback."""
    from .models import User

    user = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        with context.acting(user=user, request_id=f"reaction-{event}"):
            return import_string(handler)(**payload)
    except Exception:
        if attempt < MAX_ATTEMPTS:
            logger.warning("reaction %s to %s failed (attempt %s); retrying", handler, event, attempt, exc_info=True)
            with transaction.atomic():
                enqueue(run_reaction, handler, event, payload, actor_id, attempt=attempt + 1,
                        run_after=timezone.now() + backoff(attempt))
        else:
            logger.exception("reaction %s to %s failed after %s attempts", handler, event, attempt)
        raise


def drain(limit=1000):
    """Run the ready follow-up tasks (reactions, deliveries; not jobs) in this process, as the worker would
    (tests; REACTIONS_ON_COMMIT). What they queue in turn is run by the same loop; a nested call returns at once."""
    if getattr(_draining, "active", False):
        return 0
    from .worker import run_ready

    _draining.active = True
    try:
        return run_ready(exclude_paths=[JOB_TASK], limit=limit)
    finally:
        _draining.active = False


def pending(event=None):
    """Reaction task rows not yet run (ready or waiting for their retry time)."""
    from django_tasks_db.models import DBTaskResult

    qs = DBTaskResult.objects.filter(status="READY", task_path=run_reaction.module_path,
                                     backend_name=default_task_backend.alias)
    return qs.filter(args_kwargs__args__1=event) if event else qs
