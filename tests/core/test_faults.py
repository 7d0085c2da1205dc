"""Fault tests on PostgreSQL: real worker and web processes are killed (SIGKILL) and their database connections
terminated (pg_terminate_backend); the work goes on. Two schedulers claiming the same due schedule start it once.

The worker processes run `foodrisk db_worker` (run_worker.py adds the test job kinds of fault_jobs.py) against
this test's database, with a short heartbeat (0.3 s) and a short dead-after (2 s). Skipped on SQLite (its test
database lives in this process's memory); CI runs them in its PostgreSQL pass.
"""

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from fault_jobs import slow  # noqa: F401  (registers the test job kinds in this process too)

from foodrisk.core.models import AuditEntry, Job, Schedule, WorkerProcess
from foodrisk.core.services import jobs as job_service
from foodrisk.core.services import schedules

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (processes share the database)"),
    pytest.mark.django_db(transaction=True),
]

HERE = Path(__file__).resolve().parent
DEAD_AFTER = 2.0


def database_url():
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(**extra):
    return {**os.environ, "FOODRISK_DATABASE_URL": database_url(), "FOODRISK_TESTING": "1",
            "FOODRISK_REACTIONS_ON_COMMIT": "0", "FOODRISK_WORKER_HEARTBEAT": "0.3",
            "FOODRISK_WORKER_DEAD_AFTER": str(DEAD_AFTER), "FOODRISK_DB_POOL": "0", **extra}


class Process:
    """A child process whose output goes to a file, shown when a test fails."""

    def __init__(self, args, **env):
        self.out = tempfile.NamedTemporaryFile(prefix="foodrisk-fault-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(args, env=process_env(**env), stdout=self.out, stderr=subprocess.STDOUT,
                                     cwd=HERE.parent.parent)

    def output(self):
        return Path(self.out.name).read_text(errors="replace")[-6000:]

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.out.close()
        os.unlink(self.out.name)


def start_worker(**env):
    return Process([sys.executable, str(HERE / "run_worker.py"), "--queue-name", "*", "--interval", "0.2",
                    "--no-startup-delay", "--no-reload", "-v", "2"], **env)


def wait_for(condition, timeout, what, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    detail = f"\n--- process output ---\n{process.output()}" if process is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")


def job_status(job):
    return Job.objects.values_list("status", flat=True).get(pk=job.pk)


def terminate_other_connections():
    """pg_terminate_backend on every other connection to this test database; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_killed_workers_job_is_detected_and_run_again():
    from django_tasks_db.models import DBTaskResult

    from foodrisk.scoring.models import ScoringRun
    from foodrisk.scoring.services import ABANDONED_ERROR

    job = job_service.start("test.slow", params={"seconds": 120, "with_run": True})
    first_task = Job.objects.get(pk=job.pk).task_id
    doomed = start_worker()
    survivor = None
    try:
        wait_for(lambda: ScoringRun.objects.filter(job=job).exists(), 240, "the job to start its run", doomed)
        beat = Job.objects.get(pk=job.pk).heartbeat_at
        wait_for(lambda: Job.objects.get(pk=job.pk).heartbeat_at > beat, 10, "the job's heartbeat to move", doomed)
        doomed.kill()  # SIGKILL mid-run: nothing in the process can mark anything
        assert job_status(job) == "running"
        assert ScoringRun.objects.get(job=job).status == "running"

        survivor = start_worker()
        wait_for(lambda: job_status(job) == "succeeded", 240, "the job to be run again", survivor)
    finally:
        doomed.stop()
        if survivor is not None:
            survivor.stop()
    job.refresh_from_db()
    assert job.attempts == 2 and job.result == {"attempt": 2}
    assert "stopped responding" in job.log and "queued again" in job.log
    run = ScoringRun.objects.get(job=job)  # the run of the dead attempt: failed, nothing published
    assert run.status == "failed" and run.error == ABANDONED_ERROR and run.published_at is None
    assert DBTaskResult.objects.get(id=first_task).status == "FAILED"
    entry = AuditEntry.objects.get(action="core.job.abandoned", object_id=str(job.pk))
    assert entry.details["retried"] is True


def test_a_killed_workers_job_that_is_not_safe_to_repeat_is_marked_failed():
    job = job_service.start("test.slow_once", params={"seconds": 120})
    doomed = start_worker()
    survivor = None
    try:
        wait_for(lambda: job_status(job) == "running", 240, "the job to start", doomed)
        doomed.kill()
        survivor = start_worker()
        wait_for(lambda: job_status(job) == "failed", 240, "the job to be marked failed", survivor)
    finally:
        doomed.stop()
        if survivor is not None:
            survivor.stop()
    job.refresh_from_db()
    assert job.attempts == 1 and job.error == job_service.ABANDONED_ERROR and "not retried" in job.log


def test_the_worker_reconnects_after_its_connections_are_terminated():
    worker = start_worker(FOODRISK_DB_POOL="1")  # pooled, as in production
    try:
        wait_for(lambda: WorkerProcess.objects.filter(stopped_at__isnull=True).exists(), 240, "the worker", worker)
        for _ in range(2):  # idle: its pooled connections are terminated between tasks
            assert terminate_other_connections() >= 1
            job = job_service.start("test.slow", params={"seconds": 0.1})
            wait_for(lambda job=job: job_status(job) == "succeeded", 30, "a job after the disconnect", worker)
            assert worker.alive(), worker.output()
        # busy: terminated while a job runs — the job is retried (its kind is safe to repeat) and succeeds
        job = job_service.start("test.slow", params={"seconds": 1.5})
        wait_for(lambda: job_status(job) == "running", 30, "the job to start", worker)
        assert terminate_other_connections() >= 1
        wait_for(lambda: job_status(job) == "succeeded", 60, "the interrupted job to succeed", worker)
        assert worker.alive(), worker.output()
        beat = WorkerProcess.objects.get(stopped_at__isnull=True).beat_at
        wait_for(lambda: WorkerProcess.objects.get(stopped_at__isnull=True).beat_at > beat, 10,
                 "the worker's heartbeat to go on", worker)
    finally:
        worker.stop()


def free_port():
    """A free port in FOODRISK_TEST_PORTS (e.g. 8150-8159) when set, else one the system picks."""
    low, _, high = os.environ.get("FOODRISK_TEST_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise AssertionError("no free port")


def test_web_requests_succeed_after_their_pooled_connections_are_terminated(django_user_model):
    import requests

    from foodrisk.core.testing import PASSWORD

    django_user_model.objects.create_superuser("ops", password=PASSWORD)
    port = free_port()
    server = Process([sys.executable, "-m", "gunicorn", "foodrisk.wsgi:application", "--workers", "2",
                      "--bind", f"127.0.0.1:{port}", "--timeout", "60"], FOODRISK_DB_POOL="1")
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    try:
        def up():
            try:
                return session.get(f"{base}/accounts/login/", timeout=60).status_code == 200
            except requests.RequestException:  # not listening yet, or still importing
                return False

        wait_for(up, 240, "the web server", server)
        login = session.post(f"{base}/accounts/login/", data={
            "username": "ops", "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{base}/accounts/login/"}, timeout=30, allow_redirects=False)
        assert login.status_code == 302, login.text[:500]
        url = f"{base}/api/core/regions/"
        assert [session.get(url, timeout=30).status_code for _ in range(6)] == [200] * 6  # both workers' pools
        assert terminate_other_connections() >= 2
        statuses = [session.get(url, timeout=30).status_code for _ in range(20)]
    finally:
        server.stop()
    assert statuses == [200] * 20


def test_two_schedulers_start_a_due_schedule_once(monkeypatch):
    now = timezone.now()
    schedule = Schedule.objects.create(name="每日", job_kind="test.slow", frequency="daily",
                                       next_run_at=now - dt.timedelta(minutes=1), params={"seconds": 0})
    both_inside = threading.Barrier(2, timeout=1.5)
    start = job_service.start

    def start_and_wait(*args, **kwargs):  # hold the claim until the other node got as far (or gave up)
        job = start(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait()
        return job

    monkeypatch.setattr(schedules.jobs, "start", start_and_wait)
    started, errors = [], []

    def node():
        try:
            started.extend(schedules.run_due(now))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=node) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(started) == 1 and Job.objects.filter(schedule=schedule).count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run_at > now
