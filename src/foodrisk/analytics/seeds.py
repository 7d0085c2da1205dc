"""Default report schedules (报表计划) as data: core Schedule rows of job kind `analytics.report` whose parameters
name the report kind and optionally the region (a region code), business form and topic. Each runs monthly; the
job reports on the last complete period of its kind and makes nothing when that report exists, so the quarterly
and annual ones make one report per quarter and per year. Seeded disabled by migration 0003: an administrator
adds the region parameter (a region code; none: nationwide) and enables them on /schedules/."""

SCHEDULES = [
    {"name": "统计月报", "params": {"kind": "monthly"}, "day_of_month": 2, "at_time": "06:00"},
    {"name": "统计季报", "params": {"kind": "quarterly"}, "day_of_month": 3, "at_time": "06:00"},
    {"name": "统计年报", "params": {"kind": "annual"}, "day_of_month": 5, "at_time": "06:00"},
]


def seed_schedules(Schedule=None):
    """Create the report schedules of a kind that has none yet."""
    if Schedule is None:
        from foodrisk.core.models import Schedule
    for row in SCHEDULES:
        if not Schedule.objects.filter(job_kind="analytics.report", params__kind=row["params"]["kind"]).exists():
            Schedule.objects.create(job_kind="analytics.report", frequency="monthly", enabled=False, **row)
