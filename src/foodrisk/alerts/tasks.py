"""Job kinds of alerts. `alerts.scan` runs daily (schedule seeded by migration 0002)."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


@jobs.register("alerts.scan", _("Daily alert scan (licences, credit repairs, overdue escalation)"))
def scan(job, today=None):
    import datetime as dt

    from . import services

    result = services.scan(dt.date.fromisoformat(today) if today else None)
    job.log(f"raised {result['raised']}, repeated {result['repeated']}, escalated {result['escalated']}")
    return result
