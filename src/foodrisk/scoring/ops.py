"""What operations watch about scoring: the age of the last published run (readiness, not critical: the
published grades stay valid while a run is late) and scoring totals for Prometheus, read from the runs table
so that the rate is right whichever worker scored."""

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .choices import RunKind, RunStatus
from .models import ScoringRun

# A preview scores against a draft indicator set and publishes nothing.
PUBLISHING_KINDS = [RunKind.FULL, RunKind.INCREMENTAL, RunKind.EVENT]


def last_published_run():
    return (ScoringRun.objects.filter(status=RunStatus.SUCCEEDED, kind__in=PUBLISHING_KINDS,
                                      finished_at__isnull=False).order_by("-finished_at").first())


def scoring_run_age():
    run = last_published_run()
    if run is None:
        return {"status": "none"}
    age = (timezone.now() - run.finished_at).total_seconds()
    return {"status": "ok" if age <= settings.SCORING_MAX_AGE_HOURS * 3600 else "stale", "age_seconds": round(age)}


def scoring_metrics():
    scored = CounterMetricFamily("foodrisk_scored_enterprises", "Enterprises scored by published runs, by run kind.",
                                 labels=["kind"])
    runs = CounterMetricFamily("foodrisk_scoring_runs", "Scoring runs, by kind and outcome.", labels=["kind", "status"])
    for kind, status, count, enterprises in (ScoringRun.objects.values_list("kind", "status")
                                             .annotate(n=Count("id"), e=Sum("enterprise_count")).order_by()):
        runs.add_metric([kind, status], count)
        if status == RunStatus.SUCCEEDED:
            scored.add_metric([kind], enterprises or 0)
    yield scored
    yield runs
    run = last_published_run()
    if run is not None:
        age = GaugeMetricFamily("foodrisk_scoring_last_run_age_seconds", "Seconds since the last published run ended.")
        age.add_metric([], (timezone.now() - run.finished_at).total_seconds())
        yield age
