from django.core.management.base import BaseCommand, CommandError

from foodrisk.core.services import audit, backup


class Command(BaseCommand):
    help = ("Restore a backup folder (`foodrisk backup`) into the configured database, which must be empty, and "
            "the media root, which must be empty; then verify the audit chain against the backup's signed "
            "checkpoint. Stop web, worker and scheduler first; run `foodrisk migrate` after if the code is newer.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup folder, e.g. var/backups/foodrisk-20260101T030000Z")

    def handle(self, *args, path, **options):
        try:
            summary = backup.restore(path, out=self.stdout.write)
        except (backup.RestoreError, audit.AuditChainBroken) as exc:
            raise CommandError(f"restore failed: {exc}") from None
        self.stdout.write(self.style.SUCCESS(
            f"restored {path}: {summary['entries']} audit entries verified, {summary['media_files']} files"))
