"""foodrisk score --full | --incremental [--as-of YYYY-MM-DD] [--engine auto|duckdb|spark] [--wait]

Without --wait the run is queued as a job (the worker runs it); with --wait it runs here and prints
counts, the grade distribution and timing.
"""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Score enterprises with the active indicator set(s) and publish the grades."

    def add_arguments(self, parser):
        kind = parser.add_mutually_exclusive_group(required=True)
        kind.add_argument("--full", action="store_true", help="score every enterprise")
        kind.add_argument("--incremental", action="store_true",
                          help="score enterprises whose data changed since the last successful run")
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--wait", action="store_true", help="run here and now instead of queuing a job")
        parser.add_argument("--engine", choices=["auto", "duckdb", "spark"], default="auto",
                            help="duckdb: score in this process; spark: on settings.SPARK_MASTER (docs/deployment.md); "
                                 "auto (default): Spark for a full run over settings.SPARK_THRESHOLD enterprises")
        parser.add_argument("--bootstrap", metavar="PROFILE", default=None,
                            help="first installation / demo: if the indicator library is empty, activate this "
                                 "policy profile (food_2016, food_2022_draft, anhui) without a second approver")

    def handle(self, *args, full=False, incremental=False, as_of=None, wait=False, bootstrap=None, engine="auto",
               **options):
        from foodrisk.indicators import services as indicator_services
        from foodrisk.scoring import services

        if bootstrap and not indicator_services.active_sets():
            s = indicator_services.bootstrap_profile(bootstrap)
            self.stdout.write(f"bootstrap: activated {s.code} v{s.version} ({bootstrap})")

        kind = "full" if full else "incremental"
        engine = None if engine == "auto" else engine
        if not wait:
            job = services.start_run_job(kind, as_of=as_of, engine=engine)
            self.stdout.write(f"queued job #{job.pk} ({kind}); run `foodrisk db_worker` to process it")
            return
        try:
            run = services.run_scoring(kind, as_of, engine=engine)
        except services.NoActiveIndicatorSet as exc:
            raise CommandError(" ".join(exc.messages))
        self.stdout.write(self.style.SUCCESS(f"run #{run.pk} {run.kind} as of {run.as_of}: {run.status} "
                                             f"(engine: {run.summary.get('engine', 'duckdb')})"))
        self.stdout.write(f"enterprises scored: {run.enterprise_count}")
        self.stdout.write(f"grades changed:     {run.changed_count}")
        self.stdout.write(f"adjustments kept:   {run.adjusted_count}")
        total = sum(run.grade_distribution.values()) or 1
        self.stdout.write("grade distribution: " + "  ".join(
            f"{g} {n} ({100 * n / total:.1f}%)" for g, n in run.grade_distribution.items()))
        self.stdout.write("timing (s): " + json.dumps({k: v for k, v in run.timing.items()
                                                      if not isinstance(v, dict)}))
