"""foodrisk demo_data --enterprises N [--seed S]: a synthetic city generated with foodrisk.synth into
var/demo and imported through the real ingest path (the files, not a direct loader). Idempotent: a city
whose files were all imported already is skipped. Then a few weeks of use by the demo accounts (foodrisk.demo.activity:
a plan, a draw and its tasks with results, the warnings raised by the rules and some of them worked), also idempotent."""

import hashlib
import json
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from foodrisk.demo import activity


class Command(BaseCommand):
    help = "Generate a synthetic city into var/demo and import it through the ingest pipeline."

    def add_arguments(self, parser):
        parser.add_argument("--enterprises", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--dirty-rate", type=float, default=0.02)
        parser.add_argument("--out", default="", help="directory (default VAR_DIR/demo/city-N-seedS)")

    def handle(self, *args, **opts):
        t0 = time.perf_counter()
        ensure_reference_data()
        out = Path(opts["out"] or Path(settings.VAR_DIR) / "demo" / f"city-{opts['enterprises']}-seed{opts['seed']}")
        manifest = generate_city(out, opts["enterprises"], opts["seed"], opts["years"], opts["dirty_rate"],
                                 self.stdout.write)
        t1 = time.perf_counter()
        batches = import_city(out, manifest, self.stdout.write)
        t2 = time.perf_counter()
        if batches:
            rows = sum(b.rows_read for b in batches)
            self.stdout.write(f"imported {len(batches)} files, {rows} rows in {t2 - t1:.1f}s "
                              f"({rows / max(t2 - t1, 1e-9):.0f} rows/s)")
        score_demo_city(manifest, self.stdout.write)
        snapshot_grades(self.stdout.write)
        activity.run(opts["seed"], self.stdout.write)
        print_counts(self.stdout.write)
        self.stdout.write(f"demo data ready in {time.perf_counter() - t0:.1f}s ({out})")


def ensure_reference_data():
    from foodrisk.core import seeds
    from foodrisk.core.models import Region

    if not Region.objects.exists():
        seeds.load_regions()
    seeds.seed_all()


def generate_city(out, enterprises, seed, years, dirty_rate, write):
    """The synth files (generated once; kept for the next run)."""
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        write(f"synthetic city already generated in {out}")
        return manifest
    from foodrisk.synth.world import generate_world
    from foodrisk.synth.writer import write_import_files

    t0 = time.perf_counter()
    world = generate_world(enterprises, years, seed, date.today())
    manifest = write_import_files(world, out, dirty_rate=dirty_rate, seed=seed)
    write(f"generated {world.n} enterprises, {manifest['ground_truth']['errors']} injected errors in "
          f"{time.perf_counter() - t0:.1f}s")
    return manifest


def import_city(out, manifest, write):
    """Import every file of the manifest unless each was imported (same SHA-256) before."""
    from foodrisk.ingest.delivery import import_manifest
    from foodrisk.ingest.models import Batch

    digests = {hashlib.sha256((out / f["file"]).read_bytes()).hexdigest() for f in manifest["files"]}
    done = set(Batch.objects.filter(file_digest__in=digests, status="succeeded").values_list("file_digest", flat=True))
    if digests <= done:
        write("demo city already imported; skipping the import")
        return []
    return import_manifest(out / "manifest.json", out=write, confirm_duplicate=True)  # some files were imported


# the months before the demo's day scored the first time, so it has a year of grade history as a bureau that scored
# quarterly would: the trend pages have points and last year's inspections a grade in force (the supervision
# figures count an inspection under the grade held when it was made)
HISTORY_MONTHS_BACK = (12, 9, 6, 3)


def score_demo_city(manifest, write):
    """The scoring step of the demo: full scoring runs as of the ends of the months HISTORY_MONTHS_BACK before
    the manifest's day (the first time only), then as of that day.

    An empty indicator library gets the food_2016 profile activated (bootstrap, audited); a library in
    use keeps its active set(s)."""
    from foodrisk.analytics.services import add_months, month_start
    from foodrisk.indicators import services as indicator_services
    from foodrisk.scoring import services as scoring_services
    from foodrisk.scoring.models import ScoringRun

    if not indicator_services.active_sets():
        s = indicator_services.bootstrap_profile("food_2016")
        write(f"indicator library: activated {s.code} v{s.version} (bootstrap)")
    as_of = date.fromisoformat(manifest.get("as_of") or date.today().isoformat())
    if not ScoringRun.objects.filter(published_at__isnull=False).exists():
        for back in HISTORY_MONTHS_BACK:
            day = add_months(month_start(as_of), -back + 1) - timedelta(days=1)  # the month's last day
            run = scoring_services.run_scoring("full", day)
            write(f"scoring run #{run.pk} as of {day}: {run.changed_count} grades changed "
                  f"in {run.timing.get('total_s', 0):.1f}s")
    run = scoring_services.run_scoring("full", as_of)
    write(f"scoring run #{run.pk} as of {as_of}: {run.enterprise_count} scored, {run.changed_count} grades changed, "
          f"distribution {run.grade_distribution} in {run.timing.get('total_s', 0):.1f}s")
    return run


def snapshot_grades(write):
    """The statistics pages' monthly grade snapshot, rebuilt from the grade history (the worker keeps it current
    from now on; here it is ready before the worker has run the run's reactions)."""
    from foodrisk.analytics import services

    result = services.backfill()
    write(f"grade snapshot: {result['months']} months, {result['rows']} rows")


def print_counts(write):
    from foodrisk.enterprises.models import Enterprise, Licence
    from foodrisk.ingest.models import MatchCandidate, QuarantinedRow
    from foodrisk.records.models import RECORD_KINDS

    parts = [f"enterprises {Enterprise.objects.count()}", f"licences {Licence.objects.count()}"]
    parts += [f"{kind} {model.objects.count()}" for kind, model in RECORD_KINDS.items()]
    parts += [f"quarantined (open) {QuarantinedRow.objects.filter(status='open').count()}",
              f"in review {MatchCandidate.objects.filter(status='pending').count()}"]
    write("archive: " + ", ".join(parts))
