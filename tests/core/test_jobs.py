import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs
from foodrisk.core.models import Job, Schedule
from foodrisk.core.services import jobs as job_service
from foodrisk.core.services import schedules

BJ = ZoneInfo("Asia/Shanghai")


@jobs.register("test.count", _("count to n"))
def count_job(job, n=3):
    for i in range(n):
        job.progress(i + 1, n)
        job.log(f"step {i + 1}")
    job.attach("result.txt", b"done")
    return {"counted": n}


@jobs.register("test.fail", _("always fails"))
def failing_job(job):
    job.log("about to fail")
    raise ValueError("boom")


@pytest.mark.django_db(transaction=True)
def test_job_runs_through_the_task_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "scoring", "ingest"]}}
    job = job_service.start("test.count", params={"n": 4})
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.result == {"counted": 4}
    assert job.progress == 1.0
    assert "step 4" in job.log
    assert job.result_file.read() == b"done"


@pytest.mark.django_db
def test_failed_job_is_marked_failed_with_error():
    job = Job.objects.create(kind="test.fail", title="fail")
    assert job_service.execute(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and "boom" in job.error and "about to fail" in job.log


@pytest.mark.django_db
def test_job_start_is_queued_in_the_database_backend(django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        job = job_service.start("test.count", params={"n": 1})
    job.refresh_from_db()
    assert job.status == "queued" and job.task_id
    assert DBTaskResult.objects.filter(id=job.task_id).exists()


def _schedule(**kw):
    return Schedule(name="s", job_kind="test.count", at_time=dt.time(2, 0), **kw)


def test_next_run_daily_weekly_monthly():
    after = dt.datetime(2026, 1, 30, 3, 0, tzinfo=BJ)  # a Friday, after 02:00
    assert schedules.next_run(_schedule(frequency="daily"), after) == dt.datetime(2026, 1, 31, 2, 0, tzinfo=BJ)
    assert schedules.next_run(_schedule(frequency="weekly", weekday=1), after) == dt.datetime(2026, 2, 2, 2, 0, tzinfo=BJ)
    monthly = schedules.next_run(_schedule(frequency="monthly", day_of_month=31), after)
    assert monthly == dt.datetime(2026, 1, 31, 2, 0, tzinfo=BJ)
    feb = schedules.next_run(_schedule(frequency="monthly", day_of_month=31), monthly)
    assert feb == dt.datetime(2026, 2, 28, 2, 0, tzinfo=BJ)


@pytest.mark.django_db
def test_due_schedule_starts_a_job_once():
    now = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)
    Schedule.objects.create(name="月度全量评分", job_kind="test.count", frequency="daily",
                            next_run_at=now - dt.timedelta(minutes=1), params={"n": 1})
    started = schedules.run_due(now)
    assert len(started) == 1 and started[0].title == "月度全量评分"
    assert schedules.run_due(now) == []
