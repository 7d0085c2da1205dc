from django.core.management.base import BaseCommand, CommandError

from foodrisk.core.services import audit


class Command(BaseCommand):
    help = "Audit log tools. `foodrisk audit verify` recomputes the hash chain and names the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        result = audit.verify()
        if not result.ok:
            raise CommandError(f"audit chain BROKEN at entry #{result.broken_seq}: {result.reason} "
                               f"({result.checked} entries before it verified)")
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {result.checked} entries verified"))
