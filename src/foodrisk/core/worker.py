"""The background worker: django-tasks-db's `db_worker` loop, plus what keeps work from being lost or stuck.

- a heartbeat: the process stamps its WorkerProcess row every WORKER_HEARTBEAT_SECONDS from a thread (also while
  a long task runs), and every job stamps its own Job.heartbeat_at (services.jobs.execute);
- recovery: every worker, at start and then every few heartbeats, looks for work whose worker went silent for
  WORKER_DEAD_AFTER_SECONDS (killed, host lost) — services.jobs.recover_abandoned;
- reconnection: a lost database connection (server restart, failover, pg_terminate_backend) is closed and
  re-opened after a short backoff instead of ending the process; a task interrupted by it is handed back.
"""

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connections
from django.tasks import default_task_backend
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

logger = logging.getLogger("foodrisk.worker")

_current = threading.local()


def current_worker_id():
    """The id of the worker running this thread's task ('' outside a worker, e.g. a job run in a web process)."""
    return getattr(_current, "worker_id", "")


class Beat(threading.Thread):
    """Calls `beat()` every `interval` seconds until stopped; a database error is logged and the thread's
    connection dropped, so the next beat reconnects."""

    def __init__(self, beat, interval, name):
        super().__init__(name=name, daemon=True)
        self._beat, self.interval, self._stop_event = beat, interval, threading.Event()

    def run(self):
        try:
            while not self._stop_event.wait(self.interval):
                try:
                    self._beat()
                except DatabaseError:
                    logger.warning("%s: heartbeat not written", self.name, exc_info=True)
                    _drop_connections()
        finally:
            connections.close_all()

    def stop(self):
        self._stop_event.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout=self.interval + 5)


def _drop_connections():
    for conn in connections.all(initialized_only=True):
        try:
            conn.close()
        except Exception:  # a broken connection may fail to close; it is discarded either way
            logger.debug("closing a broken connection failed", exc_info=True)


def _lost_connection(exc):
    return isinstance(exc, InterfaceError | OperationalError) and not (
        isinstance(exc, OperationalError) and is_locked_database_exception(exc))


def claim_next(tasks, worker_id):
    """Lock and claim the next ready task of the queryset (SKIP LOCKED on PostgreSQL), or None."""
    with exclusive_transaction(tasks.db):
        try:
            task_result = tasks.get_locked()
        except OperationalError as exc:
            if is_locked_database_exception(exc):  # SQLite busy: try again later
                return None
            raise
        if task_result is not None:
            task_result.claim(worker_id)
    return task_result


def run_ready(*, task_paths=None, exclude_paths=None, limit=1000, worker_id="in-process"):
    """Run ready tasks in this process (optionally only / all but these task paths) until none is left or `limit`
    ran; the worker's own runner records success or failure. Returns the number run."""
    runner = Worker(queue_names=["*"], interval=0, batch=True, backend_name=default_task_backend.alias,
                    startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[])
    tasks = DBTaskResult.objects.ready().filter(backend_name=default_task_backend.alias)
    if task_paths:
        tasks = tasks.filter(task_path__in=task_paths)
    if exclude_paths:
        tasks = tasks.exclude(task_path__in=exclude_paths)
    done = 0
    while done < limit:
        task_result = claim_next(tasks, worker_id)
        if task_result is None:
            break
        runner.run_task(task_result)
        done += 1
    return done


class Worker(db_worker.Worker):
    RECOVERY_EVERY_BEATS = 3

    def run(self):
        from .models import WorkerProcess
        from .services import jobs

        _current.worker_id = self.worker_id
        self._register()
        beat = Beat(self._beat, settings.WORKER_HEARTBEAT_SECONDS, f"heartbeat-{self.worker_id[:8]}")
        beat.start()
        next_recovery, backoff = 0.0, 1.0
        self._claimed, self._to_hand_back = None, []
        try:
            while self.running:
                try:
                    if self._to_hand_back:
                        jobs.release_lost_tasks(self._to_hand_back, reason="database connection lost while it ran")
                        self._to_hand_back = []
                    if time.monotonic() >= next_recovery:
                        jobs.recover_abandoned()
                        next_recovery = time.monotonic() + settings.WORKER_HEARTBEAT_SECONDS * self.RECOVERY_EVERY_BEATS
                    if self._step():
                        return
                    backoff = 1.0
                except DatabaseError as exc:
                    if not _lost_connection(exc):
                        raise
                    logger.warning("database connection lost (%s); reconnecting in %.0f s", exc, backoff)
                    _drop_connections()
                    if self._claimed is not None:  # the task the lost connection broke: handed back once reconnected
                        self._to_hand_back.append(self._claimed.pk)
                        self._claimed = None
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
        finally:
            beat.stop()
            try:
                WorkerProcess.objects.filter(worker_id=self.worker_id).update(stopped_at=timezone.now())
            except DatabaseError:
                logger.warning("worker %s: stop not recorded", self.worker_id)

    def _register(self):
        from .models import WorkerProcess

        WorkerProcess.objects.update_or_create(worker_id=self.worker_id, defaults={
            "hostname": socket.gethostname()[:255], "pid": os.getpid(), "beat_at": timezone.now(),
            "queues": ",".join(self.queue_names)[:200], "stopped_at": None})

    def _beat(self):
        from .models import WorkerProcess

        WorkerProcess.objects.filter(worker_id=self.worker_id).update(beat_at=timezone.now())

    def _step(self):
        """One turn of the stock loop: claim and run a task, or sleep. True when the worker should stop."""
        close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        self._claimed = task_result = claim_next(tasks, self.worker_id)
        if task_result is not None:
            self.run_task(task_result)
        self._claimed = None
        if self.batch and task_result is None:
            return True
        if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
            return True
        close_old_connections()
        if self.running and task_result is None:
            time.sleep(self.interval)
        return False
