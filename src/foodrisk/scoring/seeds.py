"""Scoring's default schedules (what the README promises): a full run on the first of every month and an
incremental run every night for the enterprises whose data changed (DataChange) and that the reactions to
records did not rescore yet — e.g. after a reaction failed for good, or with reactions switched off for a bulk
load. Seeded by migration 0006; an administrator changes or disables them on /schedules/."""

SCHEDULES = [
    {"name": "每月全量评分", "job_kind": "scoring.full", "frequency": "monthly", "day_of_month": 1, "at_time": "02:00"},
    {"name": "每日增量评分", "job_kind": "scoring.incremental", "frequency": "daily", "at_time": "02:30"},
]


def seed_schedules(Schedule=None):
    """Create the schedules whose job kind has none yet (one an administrator deleted comes back only then)."""
    if Schedule is None:
        from foodrisk.core.models import Schedule
    for schedule in SCHEDULES:
        if not Schedule.objects.filter(job_kind=schedule["job_kind"]).exists():
            Schedule.objects.create(**schedule)
