import time

from django.core.management.base import BaseCommand

from foodrisk.core.services import schedules


class Command(BaseCommand):
    help = "Start the jobs of due schedules; loops every --interval seconds unless --once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=int, default=30)

    def handle(self, *args, once=False, interval=30, **options):
        while True:
            for job in schedules.run_due():
                self.stdout.write(f"started job #{job.pk} {job.kind}")
            if once:
                return
            time.sleep(interval)
