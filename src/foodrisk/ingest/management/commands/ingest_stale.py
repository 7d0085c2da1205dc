"""foodrisk ingest_stale [--minutes N] [--resume]: mark batches whose import process or connection died as failed
(their committed rows and counts stay), and optionally resume them. For cron or a periodic job; the batch pages and
API run the same check when they are opened."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from foodrisk.ingest.models import Batch
from foodrisk.ingest.services import batches


class Command(BaseCommand):
    help = "Mark running import batches without progress as failed (resumable); --resume starts them again."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=float, default=batches.STALE_AFTER.total_seconds() / 60,
                            help="no progress for this long means the process is gone (default %(default)s)")
        parser.add_argument("--resume", action="store_true", help="queue every batch marked failed here again")

    def handle(self, *args, **opts):
        before = set(Batch.objects.filter(status="failed").values_list("pk", flat=True))
        marked = batches.fail_stale_batches(dt.timedelta(minutes=opts["minutes"]))
        self.stdout.write(_("%(count)s interrupted batches marked failed.") % {"count": marked})
        if opts["resume"]:
            for batch in Batch.objects.filter(status="failed").exclude(pk__in=before):
                job = batches.resume_batch(batch)
                self.stdout.write(_("Batch #%(batch)s resumed from row %(row)s as job #%(job)s.")
                                  % {"batch": batch.pk, "row": batch.rows_read + 1, "job": job.pk})
