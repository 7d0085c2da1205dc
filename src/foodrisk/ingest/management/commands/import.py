"""foodrisk import FILE --source NAME [--kind KIND|auto] [--region CODE] [--wait]
foodrisk import --manifest DIR/manifest.json [--workers N]   (a synth output directory, in dependency order;
after the enterprises, files of different kinds in up to N processes on PostgreSQL)"""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from foodrisk.ingest import mapping
from foodrisk.ingest.delivery import DeliveryError, import_file, import_manifest


class Command(BaseCommand):
    help = "Import a data file (CSV/XLSX/JSON) through the ingest pipeline, or every file of a manifest."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the file to import")
        parser.add_argument("--source", help="source system name (created if new)")
        parser.add_argument("--kind", default="auto", choices=["auto", *mapping.KINDS])
        parser.add_argument("--profile", default="", help="mapping profile code (default: detected)")
        parser.add_argument("--manifest", help="manifest.json of a foodrisk synth output directory")
        parser.add_argument("--wait", action="store_true", help="run now in this process and print the report")
        parser.add_argument("--import-day", type=dt.date.fromisoformat, default=None,
                            help="the day dates are checked against (default today; a manifest names its own)")
        parser.add_argument("--user", default="", help="username the batch is started by")
        parser.add_argument("--workers", type=int, default=None,
                            help="processes importing a manifest's files side by side once its enterprises are in "
                                 "(default FOODRISK_INGEST_WORKERS or one per core, at most 4; PostgreSQL only)")
        parser.add_argument("--force", action="store_true",
                            help="import a file again although the same file (SHA-256) was already imported")
        parser.add_argument("--region", default="", help="region code the data belongs to (default: the user's "
                                                         "jurisdiction; a manifest's city)")

    def handle(self, *args, **opts):
        from foodrisk.core.models import User

        user = User.objects.filter(username=opts["user"]).first() if opts["user"] else None
        if opts["user"] and user is None:
            raise CommandError(_("No user named %(name)s.") % {"name": opts["user"]})
        try:
            self._handle(opts, user)
        except DeliveryError as exc:
            # the message alone (in Chinese where it comes from the ingest services), without CommandError's
            # English class name in front
            self.stderr.write(str(exc))
            raise SystemExit(1) from None

    def _handle(self, opts, user):
        if opts["manifest"]:
            batches = import_manifest(opts["manifest"], user=user, out=self.stdout.write,
                                      import_day=opts["import_day"], region=opts["region"] or None,
                                      workers=opts["workers"], confirm_duplicate=opts["force"])
            self.stdout.write(_("%(n)s files imported.") % {"n": len(batches)})
            return
        if not opts["file"] or not opts["source"]:
            raise CommandError(_("Give FILE and --source NAME, or --manifest DIR/manifest.json."))
        batch = import_file(Path(opts["file"]), source=opts["source"], kind=opts["kind"], profile=opts["profile"],
                            wait=opts["wait"], user=user, import_day=opts["import_day"], region=opts["region"] or None,
                            confirm_duplicate=opts["force"])
        from foodrisk.ingest.services.batches import batch_title, format_report

        if opts["wait"]:
            self.stdout.write(format_report(batch))
        else:
            self.stdout.write(_("%(batch)s queued as job #%(job)s; the worker imports it (foodrisk db_worker).")
                              % {"batch": batch_title(batch), "job": batch.job_id})
