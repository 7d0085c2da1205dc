"""The scoring schedules the README promises are seeded: a full run on the 1st of each month, an incremental run
each night — and the scheduler starts them when they fall due."""

import datetime as dt

import pytest

from foodrisk.core.models import Job, Schedule
from foodrisk.core.services import schedules
from foodrisk.scoring.seeds import seed_schedules

BJ = schedules.BEIJING


@pytest.mark.django_db
def test_full_monthly_and_incremental_daily_are_seeded_and_start_when_due():
    # migration 0006 seeds them; a TransactionTestCase of the same worker may have flushed its rows: seed again
    seed_schedules()
    full = Schedule.objects.get(job_kind="scoring.full")
    incremental = Schedule.objects.get(job_kind="scoring.incremental")
    assert (full.frequency, full.day_of_month, full.enabled) == ("monthly", 1, True)
    assert (incremental.frequency, incremental.enabled) == ("daily", True)
    seed_schedules()  # idempotent: seeding again adds nothing
    assert Schedule.objects.filter(job_kind__in=("scoring.full", "scoring.incremental")).count() == 2

    night = dt.datetime(2026, 2, 27, 12, 0, tzinfo=BJ)
    assert schedules.run_due(night) == []  # next times computed, nothing due yet
    full.refresh_from_db()
    assert full.next_run_at == dt.datetime(2026, 3, 1, 2, 0, tzinfo=BJ)
    started = schedules.run_due(dt.datetime(2026, 3, 1, 2, 31, tzinfo=BJ))
    assert {job.kind for job in started} >= {"scoring.full", "scoring.incremental"}
    assert Job.objects.filter(kind="scoring.full", title="每月全量评分").exists()
