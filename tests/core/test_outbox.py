"""The transactional outbox, notification deliveries and the recovery of abandoned work (both databases).

Reactions are task rows written in the transaction of the change: a rolled-back change leaves none, a failing
reaction is retried with backoff and fails alone. Deliveries are retried until sent or given up. A job or task
whose worker went silent is found by recover_abandoned."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from foodrisk.core import jobs, outbox
from foodrisk.core.models import AuditEntry, Delivery, Job, MessageTemplate, Notification, User, WorkerProcess
from foodrisk.core.services import jobs as job_service
from foodrisk.core.services import notifications
from foodrisk.core.sms import LoggingSMSBackend
from foodrisk.core.testing import PASSWORD, grant

pytestmark = pytest.mark.django_db

calls = []


def flaky(n, fail_times=1):
    """A reaction that fails its first `fail_times` runs."""
    calls.append(n)
    if len(calls) <= fail_times:
        raise RuntimeError("gateway down")
    return {"n": n}


outbox.react("test.flaky", "test_outbox.flaky")


@pytest.fixture(autouse=True)
def _worker_mode(settings):
    settings.REACTIONS_ON_COMMIT = False  # the rows stay queued until the test runs them, as a worker would
    calls.clear()
    LoggingSMSBackend.sent.clear()


def rows(event="test.flaky"):
    return DBTaskResult.objects.filter(task_path=outbox.run_reaction.module_path, args_kwargs__args__1=event)


def make_due(qs):
    qs.update(run_after=timezone.now() - dt.timedelta(seconds=1))


def test_a_reaction_is_a_task_row_of_the_writing_transaction():
    with transaction.atomic():
        outbox.emit("test.flaky", n=1)
    assert outbox.pending("test.flaky").count() == 1
    try:
        with transaction.atomic():
            outbox.emit("test.flaky", n=2)
            raise ValueError("the write fails")
    except ValueError:
        pass
    assert outbox.pending("test.flaky").count() == 1  # the rolled-back write left no reaction
    assert calls == []  # nothing runs in the writing process


def test_a_failing_reaction_is_retried_with_backoff_until_it_succeeds():
    with transaction.atomic():
        outbox.emit("test.flaky", n=7)
    assert outbox.drain() == 1
    failed, retry = rows().order_by("enqueued_at")
    assert failed.status == "FAILED" and "gateway down" in failed.traceback  # each failed attempt is visible
    assert retry.status == "READY" and retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert retry.run_after > timezone.now() + dt.timedelta(seconds=5)  # backoff: not before its time
    assert outbox.drain() == 0
    make_due(rows().filter(status="READY"))
    assert outbox.drain() == 1
    assert calls == [7, 7] and rows().filter(status="SUCCESSFUL").get().return_value == {"n": 7}


def test_a_reaction_gives_up_after_its_attempts():
    with transaction.atomic():
        outbox.emit("test.flaky", n=1, fail_times=99)
    for _ in range(outbox.MAX_ATTEMPTS):
        make_due(rows().filter(status="READY"))
        outbox.drain()
    assert rows().filter(status="FAILED").count() == outbox.MAX_ATTEMPTS
    assert not rows().filter(status="READY").exists()
    assert job_service.failed_tasks().count() >= outbox.MAX_ATTEMPTS


def test_suppressed_reactions_are_not_queued():
    with outbox.suppressed("test_outbox."), transaction.atomic():
        outbox.emit("test.flaky", n=1)
    assert not rows().exists()


# ------------------------------------------------------------------------------------------ deliveries
@pytest.fixture
def recipient():
    MessageTemplate.objects.update_or_create(code="test_notice", defaults=dict(
        name="测试", channels=["inapp", "email", "sms"], subject="【通知】{{ what }}", body="内容：{{ what }}"))
    return User.objects.create_user("receiver", password=PASSWORD, email="r@example.cn", phone="13800138000")


def test_notify_writes_the_notice_and_one_delivery_per_channel(recipient, mailoutbox):
    with transaction.atomic():
        [note] = notifications.notify([recipient], "test_notice", {"what": "抽检不合格"}, link="/x/")
    assert Notification.objects.get(pk=note.pk).title == "【通知】抽检不合格"  # in-app at once
    assert set(Delivery.objects.values_list("channel", "status")) == {("email", "pending"), ("sms", "pending")}
    assert mailoutbox == [] and LoggingSMSBackend.sent == []  # outside channels: the worker sends
    outbox.drain()
    assert set(Delivery.objects.values_list("channel", "status", "attempts")) == {("email", "sent", 1),
                                                                                  ("sms", "sent", 1)}
    assert [m.subject for m in mail.outbox] == ["【通知】抽检不合格"]
    assert LoggingSMSBackend.sent == [("13800138000", "【通知】抽检不合格 内容：抽检不合格")]
    # a delivery's task run again (a worker died after sending) sends nothing twice
    notifications.send(Delivery.objects.get(channel="sms").pk)
    assert len(LoggingSMSBackend.sent) == 1


def test_a_failed_delivery_is_retried_with_backoff_then_given_up_and_sent_again_by_an_admin(
        recipient, monkeypatch, client):
    MessageTemplate.objects.filter(code="test_notice").update(channels=["inapp", "sms"])

    class DownGateway:
        def send(self, phone, text):
            raise ConnectionError("短信网关无响应")

    monkeypatch.setattr(notifications, "get_backend", DownGateway)
    with transaction.atomic():
        notifications.notify([recipient], "test_notice", {"what": "x"})
    outbox.drain()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "短信网关无响应" in delivery.last_error and delivery.next_try_at > timezone.now()
    for _ in range(notifications.MAX_ATTEMPTS):
        make_due(DBTaskResult.objects.filter(status="READY"))
        outbox.drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_try_at) == ("failed", notifications.MAX_ATTEMPTS, None)

    admin = grant(User.objects.create_user("admin", password=PASSWORD, national_scope=True), "core.view_delivery",
                  "core.change_delivery")
    client.force_login(admin)
    page = client.get(f"/deliveries/{delivery.pk}/")
    assert page.status_code == 200 and "短信网关无响应" in page.content.decode()
    assert "短信网关无响应" in client.get("/deliveries/?status=failed").content.decode()
    monkeypatch.undo()
    client.post(f"/deliveries/{delivery.pk}/retry/")
    outbox.drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert AuditEntry.objects.filter(action="core.delivery.retry", object_id=str(delivery.pk)).exists()


def test_only_an_admin_may_send_a_delivery_again(recipient, client):
    with transaction.atomic():
        notifications.notify([recipient], "test_notice", {"what": "x"})
    delivery = Delivery.objects.first()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    client.force_login(grant(User.objects.create_user("viewer", password=PASSWORD, national_scope=True),
                             "core.view_delivery"))
    assert client.post(f"/deliveries/{delivery.pk}/retry/").status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


# ------------------------------------------------------------------------------------------ recovery
@jobs.register("test.repeatable", "可重复的测试作业", retry=True)
def repeatable(job):
    return {"ok": True}


@jobs.register("test.once", "不可重复的测试作业")
def once(job):
    return {"ok": True}


def silent_job(kind, attempts=1):
    long_ago = timezone.now() - dt.timedelta(hours=1)
    return Job.objects.create(kind=kind, title=kind, status="running", started_at=long_ago, heartbeat_at=long_ago,
                              attempts=attempts, worker_id="dead")


def test_recovery_runs_a_repeatable_job_again_and_fails_the_others(settings):
    again, not_safe, exhausted = silent_job("test.repeatable"), silent_job("test.once"), silent_job(
        "test.repeatable", attempts=job_service.MAX_ATTEMPTS)
    alive = silent_job("test.repeatable")
    Job.objects.filter(pk=alive.pk).update(heartbeat_at=timezone.now())
    result = job_service.recover_abandoned()
    assert result["retried"] == [again.pk] and sorted(result["failed"]) == sorted([not_safe.pk, exhausted.pk])
    assert Job.objects.get(pk=again.pk).status == "queued"
    assert DBTaskResult.objects.filter(status="READY", task_path="foodrisk.core.tasks.run_job",
                                       args_kwargs__args=[again.pk]).exists()
    for pk in (not_safe.pk, exhausted.pk):
        job = Job.objects.get(pk=pk)
        assert job.status == "failed" and job.error == job_service.ABANDONED_ERROR and job.finished_at
    assert Job.objects.get(pk=alive.pk).status == "running"
    assert job_service.recover_abandoned() == {"retried": [], "failed": [], "tasks": 0}  # once
    assert job_service.execute(again.pk) == "succeeded" and Job.objects.get(pk=again.pk).attempts == 2


def test_recovery_fails_the_scoring_run_of_an_abandoned_job():
    from foodrisk.scoring.models import ScoringRun

    job = silent_job("scoring.full")
    run = ScoringRun.objects.create(kind="full", as_of=timezone.localdate(), job=job)
    job_service.recover_abandoned()
    run.refresh_from_db()
    assert run.status == "failed" and "heartbeat" in run.error
    assert Job.objects.get(pk=job.pk).status == "queued"  # a full run publishes atomically: run again


def test_a_dead_workers_tasks_are_handed_back():
    long_ago = timezone.now() - dt.timedelta(hours=1)
    WorkerProcess.objects.create(worker_id="dead", beat_at=long_ago)
    WorkerProcess.objects.create(worker_id="alive", beat_at=timezone.now())
    with transaction.atomic():
        outbox.emit("test.flaky", n=1)
        outbox.emit("test.flaky", n=2)
    lost, busy = rows().order_by("enqueued_at")
    DBTaskResult.objects.filter(pk=lost.pk).update(status="RUNNING", worker_ids=["dead"])
    DBTaskResult.objects.filter(pk=busy.pk).update(status="RUNNING", worker_ids=["alive"])
    assert job_service.recover_abandoned()["tasks"] == 1
    assert DBTaskResult.objects.get(pk=lost.pk).status == "READY"  # a reaction runs again (idempotent)
    assert DBTaskResult.objects.get(pk=busy.pk).status == "RUNNING"


def test_health_figures():
    assert job_service.worker_heartbeat_age() is None
    WorkerProcess.objects.create(worker_id="w", beat_at=timezone.now() - dt.timedelta(seconds=30))
    assert 29 <= job_service.worker_heartbeat_age() < 60
    assert list(job_service.live_workers()) == list(WorkerProcess.objects.all())
    job_service.start("test.repeatable")
    assert job_service.queue_depth() == {"default": 1}
    silent_job("test.once")
    job_service.recover_abandoned()
    assert job_service.failed_jobs().count() == 1
