"""Periodic jobs defined as data. `foodrisk scheduler` calls run_due() every minute."""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from ..models import Schedule
from . import jobs

BEIJING = ZoneInfo("Asia/Shanghai")


def next_run(schedule, after):
    """The first run time strictly after `after`, in Beijing local time as the schedule says."""
    local = after.astimezone(BEIJING)
    at = schedule.at_time
    if isinstance(at, str):
        at = dt.time.fromisoformat(at)
    if schedule.frequency == "hourly":
        candidate = local.replace(minute=at.minute, second=0, microsecond=0)
        if candidate <= local:
            candidate += dt.timedelta(hours=1)
        return candidate
    candidate = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if schedule.frequency == "daily":
        return candidate if candidate > local else candidate + dt.timedelta(days=1)
    if schedule.frequency == "weekly":
        days = (schedule.weekday - 1 - candidate.weekday()) % 7
        candidate += dt.timedelta(days=days)
        return candidate if candidate > local else candidate + dt.timedelta(days=7)
    # monthly: the configured day, clipped to the month's length (31 → 30 in April)
    year, month = candidate.year, candidate.month
    for _ in range(3):
        day = min(schedule.day_of_month, calendar.monthrange(year, month)[1])
        candidate = candidate.replace(year=year, month=month, day=day)
        if candidate > local:
            return candidate
        month = month % 12 + 1
        year += month == 1
    raise AssertionError("unreachable")


def run_due(now=None):
    """Start a job for every enabled schedule whose time has come; returns the jobs started.

    Several scheduler nodes may run this at once: each due schedule is claimed in a transaction with
    `SELECT … FOR UPDATE SKIP LOCKED` and re-checked there, so a schedule another node holds is skipped and one
    it has just moved on is no longer due — a run starts once. (SQLite has no FOR UPDATE, but our transactions
    there take the write lock at BEGIN, which serialises the re-check the same way.)"""
    now = now or timezone.now()
    for schedule in Schedule.objects.filter(enabled=True, next_run_at__isnull=True):
        Schedule.objects.filter(pk=schedule.pk, next_run_at__isnull=True).update(next_run_at=next_run(schedule, now))
    started = []
    due = list(Schedule.objects.filter(enabled=True, next_run_at__lte=now).values_list("pk", flat=True))
    for pk in due:
        with transaction.atomic():
            schedule = (Schedule.objects.select_for_update(skip_locked=True)
                        .filter(pk=pk, enabled=True, next_run_at__lte=now).first())
            if schedule is None:  # claimed by another node, or no longer due
                continue
            job = jobs.start(schedule.job_kind, params=schedule.params, schedule=schedule, title=schedule.name)
            Schedule.objects.filter(pk=pk).update(last_run_at=now, next_run_at=next_run(schedule, now))
        started.append(job)
    return started
