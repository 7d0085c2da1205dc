"""Operations endpoints: liveness, readiness (database, cache, worker, last scoring run), metrics, JSON logs."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from prometheus_client import REGISTRY

from foodrisk.core import jobs
from foodrisk.core.logs import JsonFormatter
from foodrisk.core.models import Job
from foodrisk.core.services import jobs as job_service

TOKEN = "scrape-token-for-tests"


@jobs.register("test.ops_fail", _("always fails"))
def failing_job(job):
    raise RuntimeError("scraped failure")


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_liveness_answers_without_touching_the_database(client):
    # no django_db mark: any query would raise
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_reports_each_check_and_nothing_sensitive(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "cache", "worker", "scoring_run"} <= set(body["checks"])
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["cache"]["status"] == "ok"
    assert body["checks"]["scoring_run"] == {"status": "none", "critical": False,
                                             "duration_ms": body["checks"]["scoring_run"]["duration_ms"]}
    text = response.content.decode()
    assert connection.settings_dict["NAME"] not in text and "Traceback" not in text


def test_readiness_is_503_when_the_database_is_unreachable(client, django_db_blocker, tmp_path, caplog):
    unreachable = {"NAME": str(tmp_path / "missing" / "db.sqlite3")}
    if connection.vendor == "postgresql":
        unreachable = {"HOST": "127.0.0.1", "PORT": "1"}  # nothing listens on port 1
    working = connections["default"]
    broken = type(working)({**working.settings_dict, **unreachable}, "default")
    with django_db_blocker.unblock():
        connections["default"] = broken
        try:
            response = client.get("/readyz")
        finally:
            broken.close()
            connections["default"] = working
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "error"
    assert body["checks"]["cache"]["status"] == "ok"  # one failure does not hide the other checks
    assert "missing" not in response.content.decode() and "port" not in response.content.decode()
    assert any("readiness check database failed" in r.message for r in caplog.records)  # logged in full


def _waiting_task(minutes_ago):
    from django_tasks_db.models import DBTaskResult

    from foodrisk.core.tasks import run_job

    result = run_job.enqueue(0)
    DBTaskResult.objects.filter(id=result.id).update(enqueued_at=timezone.now() - timedelta(minutes=minutes_ago))
    return result


@pytest.mark.django_db
def test_readiness_is_503_when_work_waits_and_no_worker_takes_it(client, settings):
    settings.WORKER_STALE_SECONDS = 300
    _waiting_task(minutes_ago=1)
    assert client.get("/readyz").status_code == 200  # due for a minute: a worker may be about to take it
    _waiting_task(minutes_ago=10)
    response = client.get("/readyz")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["status"] == "stale" and worker["oldest_waiting_seconds"] >= 600


@pytest.mark.django_db
def test_a_busy_worker_is_not_stale(client, settings):
    from django_tasks_db.models import DBTaskResult

    from foodrisk.core.models import WorkerProcess

    settings.WORKER_STALE_SECONDS = 300
    _waiting_task(minutes_ago=10)
    busy = _waiting_task(minutes_ago=30)
    DBTaskResult.objects.filter(id=busy.id).update(status="RUNNING", started_at=timezone.now() - timedelta(minutes=20))
    worker = WorkerProcess.objects.create(worker_id="w-busy", pid=1, beat_at=timezone.now() - timedelta(seconds=5))
    response = client.get("/readyz")
    assert response.status_code == 200  # a long job runs and its worker beats: the queue waits behind it
    check = response.json()["checks"]["worker"]
    assert check["live_workers"] == 1 and check["waiting"] == 1 and check["heartbeat_age_seconds"] <= 60
    # the same worker silent for longer than WORKER_DEAD_AFTER_SECONDS: dead, and the waiting work is stale
    WorkerProcess.objects.filter(pk=worker.pk).update(beat_at=timezone.now() - timedelta(hours=1))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["worker"]["live_workers"] == 0


@pytest.mark.django_db
def test_a_late_scoring_run_is_reported_but_keeps_the_node_ready(client, settings):
    from foodrisk.scoring.models import ScoringRun

    settings.SCORING_MAX_AGE_HOURS = 24
    run = ScoringRun.objects.create(kind="full", as_of=timezone.localdate(), status="succeeded")
    ScoringRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(days=3))
    ScoringRun.objects.create(kind="preview", as_of=timezone.localdate(), status="succeeded",
                              finished_at=timezone.now())  # a preview publishes nothing
    response = client.get("/readyz")
    assert response.status_code == 200
    check = response.json()["checks"]["scoring_run"]
    assert check["status"] == "stale" and 3 * 86400 - 5 <= check["age_seconds"] <= 3 * 86400 + 60


@pytest.mark.django_db
def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # off unless a token is configured
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.django_db
def test_metrics_count_requests_failed_jobs_and_queue_depth(client, settings):
    settings.METRICS_TOKEN = TOKEN
    labels = {"method": "GET", "view": "healthz", "status": "200"}
    before = sample("foodrisk_http_request_duration_seconds_count", **labels)
    client.get("/healthz")
    assert sample("foodrisk_http_request_duration_seconds_count", **labels) == before + 1
    not_found = sample("foodrisk_http_request_duration_seconds_count", method="GET", view="unmatched", status="404")
    client.get("/no-such-page/")
    assert sample("foodrisk_http_request_duration_seconds_count", method="GET", view="unmatched",
                  status="404") == not_found + 1

    failures = sample("foodrisk_job_failures_total", kind="test.ops_fail")
    job = Job.objects.create(kind="test.ops_fail", title="fail")
    assert job_service.execute(job.pk) == "failed"
    assert sample("foodrisk_job_failures_total", kind="test.ops_fail") == failures + 1
    assert sample("foodrisk_job_duration_seconds_count", kind="test.ops_fail", status="failed") >= 1

    _waiting_task(minutes_ago=0)
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    assert f'foodrisk_job_failures_total{{kind="test.ops_fail"}} {failures + 1}' in text
    assert 'foodrisk_queue_depth{queue="default"} 1.0' in text
    assert 'foodrisk_http_request_duration_seconds_count{method="GET",status="200",view="healthz"}' in text
    assert 'foodrisk_imported_rows_total{outcome="read"} 0.0' in text
    assert "foodrisk_scored_enterprises_total" in text.replace("# HELP foodrisk_scored_enterprises_total", "")


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("foodrisk.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_access_log_line_is_json_with_the_callers_request_id(client, json_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "req-7f3a.1"})
    assert response["X-Request-ID"] == "req-7f3a.1"
    (line,) = json_lines()
    assert line["request_id"] == "req-7f3a.1"
    assert line["status"] == 200 and line["path"] == "/healthz" and line["view"] == "healthz"
    assert line["level"] == "DEBUG" and line["logger"] == "foodrisk.access" and line["duration_ms"] >= 0


def test_a_request_id_is_generated_when_none_or_a_bad_one_is_given(client, json_lines):
    first = client.get("/healthz")
    second = client.get("/healthz", headers={"X-Request-ID": "bad id\nforged log line"})
    generated = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(len(i) == 32 for i in generated) and generated[0] != generated[1]
    assert [line["request_id"] for line in json_lines()] == generated


def test_log_lines_inside_a_request_or_job_carry_its_id():
    from foodrisk.core import context

    record = logging.LogRecord("foodrisk.x", logging.ERROR, __file__, 1, "saving %s", ("x",), None)
    with context.acting(request_id="job-42"):
        line = json.loads(JsonFormatter().format(record))
    assert line == {"time": line["time"], "level": "ERROR", "logger": "foodrisk.x", "message": "saving x",
                    "request_id": "job-42"}


@pytest.mark.django_db
def test_list_counts_are_shared_per_query_through_the_cache(settings, django_assert_num_queries):
    from django.core.cache import cache

    from foodrisk.core.models import Region
    from foodrisk.core.paginators import CachedCountPaginator, count_cache_key

    settings.LIST_COUNT_CACHE_SECONDS = 60
    Region.objects.bulk_create([Region(code=c, name=c, full_name=c, level="county")
                                for c in ("990101", "990102", "990103", "990201")])
    district = Region.objects.filter(code__startswith="9901").order_by("code")
    other = Region.objects.filter(code__startswith="9902").order_by("code")  # another scope: its own count
    # Only this test's keys: cache.clear() on Redis flushes the whole database, and with it the sessions of
    # tests running at the same time on the other xdist worker.
    cache.delete_many([count_cache_key(district), count_cache_key(other)])
    assert CachedCountPaginator(district, 2).count == 3
    Region.objects.create(code="990104", name="x", full_name="x", level="county")
    with django_assert_num_queries(0):  # the same query within the cache time: no COUNT
        assert CachedCountPaginator(district.all(), 2).count == 3
    assert CachedCountPaginator(other, 2).count == 1
    settings.LIST_COUNT_CACHE_SECONDS = 0
    assert CachedCountPaginator(district.all(), 2).count == 4
