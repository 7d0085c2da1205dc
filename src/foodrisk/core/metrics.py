"""Prometheus metrics (prometheus-client), exposed at /metrics.

Two kinds, by where the truth lives:

* **Counted in the process** that does the work: request latency (web) and job duration and failures
  (worker). Under gunicorn several processes serve /metrics in turn, so each process writes its values
  to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode) and /metrics adds up
  every process's files, the worker's included when it runs on the node with the same directory
  (gunicorn.conf.py sets it up; docs/deployment.md). Without the variable (runserver, tests) the
  process's own default registry is served.
* **Read from the database at scrape time**: queue depth, jobs by status and what apps register with
  :func:`register_collector` (scoring: enterprises scored and the last run's age; ingest: rows imported).
  These are true for the whole installation whichever process or node did the work, so Prometheus'
  ``rate()`` over them gives scoring and import rates without any process having to stay up.
"""

import hmac
import logging
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "foodrisk_http_request_duration_seconds", "Time to answer an HTTP request, by route and status.",
    ["method", "view", "status"], buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
JOB_DURATION = Histogram(
    "foodrisk_job_duration_seconds", "Time a background job ran, by kind and outcome.",
    ["kind", "status"], buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
JOB_FAILURES = Counter("foodrisk_job_failures", "Background jobs that ended failed, by kind.", ["kind"])

_collectors = []


def register_collector(func):
    """An app adds metrics read at scrape time: ``func()`` yields prometheus-client metric families."""
    if func not in _collectors:
        _collectors.append(func)
    return func


class _DatabaseCollector:
    def collect(self):
        for func in [_queue_metrics, *_collectors]:
            try:
                yield from func()
            except Exception:  # one failing source must not hide the others (nor the request metrics)
                logger.exception("metrics collector %s failed", getattr(func, "__name__", func))


def _queue_metrics():
    from django.db.models import Count

    from .models import Job
    from .services import jobs as job_services

    depth = GaugeMetricFamily("foodrisk_queue_depth", "Tasks waiting for a worker, by queue.", labels=["queue"])
    for queue, count in job_services.queue_depth().items():
        depth.add_metric([queue], count)
    yield depth
    live = GaugeMetricFamily("foodrisk_live_workers", "Worker processes with a fresh heartbeat.")
    live.add_metric([], job_services.live_workers().count())
    yield live
    failed = GaugeMetricFamily("foodrisk_failed_tasks", "Task runs (reactions, deliveries, jobs) failed in 24 h.")
    failed.add_metric([], job_services.failed_tasks().count())
    yield failed
    jobs = GaugeMetricFamily("foodrisk_jobs", "User-visible jobs queued or running.", labels=["status"])
    counts = dict(Job.objects.filter(status__in=["queued", "running"]).values_list("status").annotate(n=Count("id")))
    for status in ("queued", "running"):
        jobs.add_metric([status], counts.get(status, 0))
    yield jobs


def exposition():
    """The text Prometheus scrapes: this node's process metrics plus the database-derived ones."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry()
    database.register(_DatabaseCollector())
    return generate_latest(processes) + generate_latest(database), CONTENT_TYPE_LATEST


def token_matches(request, token):
    """/metrics is for the scraper only: a bearer token from FOODRISK_METRICS_TOKEN (constant-time compare)."""
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
