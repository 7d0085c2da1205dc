"""Job kinds of the ingest app."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


@jobs.register("ingest.batch", _("Import a data file"), queue="ingest", permission="ingest.add_batch")
def import_batch(job, batch_id):
    from .models import Batch
    from .services import batches

    batch = Batch.objects.select_related("source", "profile", "region").get(pk=batch_id)
    job.log(f"batch #{batch.pk}: {batch.file_name} ({batch.kind})")
    report = batches.run_batch(batch, progress=job.progress, log=job.log)
    batch.refresh_from_db()
    return {"batch_id": batch.pk, **batches.counts(batch), "rows_per_second": report.get("rows_per_second")}
