import time

from django.apps import apps
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Generate a synthetic city and load it straight into the archive (demo; skipped when the archive "
            "already has enterprises), then score it when the scoring app is installed.")

    def add_arguments(self, parser):
        parser.add_argument("--enterprises", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--force", action="store_true", help="load even if enterprises exist")

    def handle(self, *args, enterprises=20000, seed=2026, force=False, **options):
        from foodrisk.enterprises.models import Enterprise
        from foodrisk.synth import generate_world
        from foodrisk.synth.django_load import load_world

        if Enterprise.objects.exists() and not force:
            self.stdout.write(f"demo data present ({Enterprise.objects.count()} enterprises): skipped")
            return
        started = time.perf_counter()
        world = generate_world(enterprises, years=5, seed=seed)
        self.stdout.write(f"synthetic city {world.city.name}: {enterprises} enterprises generated "
                          f"in {time.perf_counter() - started:.1f} s; loading…")
        counts, seconds = load_world(world, progress=self.stdout.write)
        total = sum(counts.values())
        self.stdout.write(f"loaded {total} rows in {seconds:.1f} s ({total / seconds:.0f} rows/s)")
        if apps.is_installed("foodrisk.scoring"):
            from django.core.management import call_command

            call_command("score", "--full", "--wait", stdout=self.stdout)
