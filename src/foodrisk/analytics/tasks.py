"""Job kinds of analytics (discovered by core: apps register their job kinds in tasks.py)."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs

from .reports import ReportError


@jobs.register("analytics.report", _("Statistical report"), permission="analytics.generate_report",
               user_errors=(ReportError,))
def report_job(job, report=None, kind="monthly", region="", business_form="", topic=""):
    """A requested report (report = its id), or a schedule's report of the last complete period of `kind`."""
    from . import reports
    from .report_models import Report

    if report is not None:
        target = Report.objects.select_related("region").get(pk=report)
    else:
        target = reports.scheduled_report(job, kind=kind, region=region, business_form=business_form, topic=topic)
        if target is None:
            job.log("the report of this period exists already")
            return {"report": None}
    return reports.build(job, target)
