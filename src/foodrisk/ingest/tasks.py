"""Job kinds of the ingest app."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


def _user_errors():
    from .readers import UnreadableFile
    from .services import IngestError

    return (IngestError, UnreadableFile)


@jobs.register("ingest.batch", _("Import a data file"), queue="ingest", permission="ingest.add_batch",
               user_errors=_user_errors())
def import_batch(job, batch_id):
    from .models import Batch
    from .services import batches

    batch = Batch.objects.select_related("source", "profile", "region").get(pk=batch_id)
    job.log(batches.batch_title(batch))
    report = batches.run_batch(batch, progress=job.progress, log=job.log)
    batch.refresh_from_db()
    return {"batch_id": batch.pk, **batches.counts(batch), "rows_per_second": report.get("rows_per_second")}
