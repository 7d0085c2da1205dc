"""Job kinds of supervision (run by the django.tasks worker through core.services.jobs)."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


@jobs.register("supervision.flag_overdue", _("Flag overdue supervision tasks"), retry=True)
def flag_overdue(job):
    from .services.tasks import flag_overdue as run

    return {"newly_overdue": run()}
