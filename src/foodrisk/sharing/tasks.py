"""Worker tasks of the sharing app: the push delivery task, and its job kinds (discovered by core: apps register
their job kinds in tasks.py)."""

from django.tasks import task
from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


@task(queue_name="default")
def send_delivery(delivery_id):
    """One attempt of a push delivery (webhooks.send): queued by the fan-out, by a retry and by a redelivery."""
    from . import webhooks

    return webhooks.send(delivery_id)


def _user_errors():
    from .exchange import ExchangeError

    return (ExchangeError,)


@jobs.register("sharing.export", _("Exchange export for a client system"), permission="sharing.change_clientsystem",
               user_errors=_user_errors())
def export_job(job, export=None, client=None, dataset="enterprise_grade", fmt="csv"):
    """A requested export (export = its id), or a schedule's export (client, dataset, fmt)."""
    from . import exchange
    from .models import ExchangeExport

    if export is not None:
        target = ExchangeExport.objects.select_related("client").get(pk=export)
    else:
        target = exchange.scheduled_export(job, client=client, dataset=dataset, fmt=fmt)
    return exchange.build(job, target)


@jobs.register("sharing.alarm_scan", _("Sharing API anomaly scan"))
def alarm_scan_job(job):
    from . import alarms

    raised = alarms.scan()
    job.log(f"{len(raised)} alarm(s) raised")
    return {"alarms": [a.pk for a in raised]}


@jobs.register("sharing.purge_exports", _("Deletion of expired exchange files"))
def purge_exports_job(job):
    from . import exchange

    count = exchange.purge_expired()
    job.log(f"{count} expired exchange exports' files deleted")
    return {"expired": count}
