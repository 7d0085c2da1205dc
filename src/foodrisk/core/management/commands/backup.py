from django.core.management.base import BaseCommand, CommandError

from foodrisk.core.services import backup


class Command(BaseCommand):
    help = "Back up the database and uploaded files into a timestamped folder (`--verify PATH` checks one)."

    def add_arguments(self, parser):
        parser.add_argument("--out", default="var/backups")
        parser.add_argument("--no-media", action="store_true")
        parser.add_argument("--verify", metavar="PATH")

    def handle(self, *args, out="var/backups", no_media=False, verify=None, **options):
        if verify:
            bad = backup.verify_backup(verify)
            if bad:
                raise CommandError(f"backup damaged: {', '.join(bad)}")
            self.stdout.write(self.style.SUCCESS("backup intact"))
            return
        target, manifest = backup.backup(out, include_media=not no_media)
        for name, meta in manifest["files"].items():
            self.stdout.write(f"  {name}: {meta['bytes']} bytes sha256 {meta['sha256'][:16]}…")
        self.stdout.write(self.style.SUCCESS(f"backup written to {target}"))
