"""foodrisk analytics_backfill: rebuild the monthly snapshot (per enterprise, its food categories, the counts)
from the grade history and the published scores (point in time), then the current month from the published
grades, and the monthly inspection counts from the inspection records. Idempotent; run it once after installing or upgrading (a fresh
install, the demo), later the snapshot is kept current when grades are published."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Rebuild the monthly grade snapshot of the statistics pages from the grade history."

    def handle(self, *args, **options):
        from foodrisk.analytics import services

        result = services.backfill(write=self.stdout.write if options["verbosity"] > 1 else None)
        self.stdout.write(f"grade snapshot: {result['months']} months, {result['rows']} rows")
