from django.core.management.base import BaseCommand

from foodrisk.core import seeds


class Command(BaseCommand):
    help = "Load GB/T 2260 regions, default roles, dictionaries, parameters and message templates (idempotent)."

    def handle(self, *args, **options):
        added = seeds.load_regions()
        seeds.seed_all()
        self.stdout.write(f"regions added: {added}; roles, dictionaries, parameters and templates in place")
