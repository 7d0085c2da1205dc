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
    """Start a job for every enabled schedule whose time has come; returns the jobs started."""
    now = now or timezone.now()
    started = []
    for schedule in Schedule.objects.filter(enabled=True):
        if schedule.next_run_at is None:
            Schedule.objects.filter(pk=schedule.pk).update(next_run_at=next_run(schedule, now))
            continue
        if schedule.next_run_at > now:
            continue
        with transaction.atomic():
            job = jobs.start(schedule.job_kind, params=schedule.params, schedule=schedule,
                             title=schedule.name)
            Schedule.objects.filter(pk=schedule.pk).update(last_run_at=now, next_run_at=next_run(schedule, now))
        started.append(job)
    return started
