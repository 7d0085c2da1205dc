"""Every scoring run's outcome is one entry in the hash-chained audit log: published, previewed, failed
(after the rollback), marked stale, or published with every enterprise kept from a newer run."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from scoring_testkit import AS_OF, scoring_world

from foodrisk import engine
from foodrisk.core.models import AuditEntry
from foodrisk.core.services import audit
from foodrisk.indicators import services as isvc
from foodrisk.scoring import services
from foodrisk.scoring.models import ScoringRun
from foodrisk.scoring.snapshot import build_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return scoring_world()


def run_entries(run):
    return list(AuditEntry.objects.filter(object_type="scoring.scoringrun", object_id=str(run.pk)).order_by("seq"))


def only_entry(run, action):
    entries = run_entries(run)
    assert [e.action for e in entries] == [action]
    return entries[0]


def engine_failure(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(engine, "score", boom)


def test_published_run_has_one_entry_with_counts(world):
    author, _b, ents, _s = world
    run = services.run_scoring("full", AS_OF, author)
    entry = only_entry(run, "scoring.run.publish")
    assert entry.user == author
    assert entry.details["run"] == run.pk and entry.details["kind"] == "full"
    assert entry.details["as_of"] == AS_OF.isoformat()
    assert entry.details["enterprises"] == len(ents) and entry.details["changed"] == len(ents)
    assert entry.details["superseded"] == 0
    assert audit.verify().ok


def test_preview_run_has_one_entry(world):
    author, _b, ents, v1 = world
    services.run_scoring("full", AS_OF, author)
    draft = isvc.update_spec(isvc.copy_version(v1, user=author),
                             dict(v1.spec, cutoffs={"A": 1, "B": 2, "C": 3}), user=author)
    run = services.preview(draft, as_of=AS_OF, user=author)
    entry = only_entry(run, "scoring.run.preview")
    assert entry.user == author
    assert entry.details["run"] == run.pk and entry.details["kind"] == "preview"
    assert entry.details["as_of"] == AS_OF.isoformat()
    assert entry.details["indicator_set"] == f"{draft.code} v{draft.version}"
    assert entry.details["enterprises"] == len(ents) == run.enterprise_count
    assert entry.details["moved"] == run.summary["moved"] and entry.details["distribution"]["D"] == len(ents)
    assert audit.verify().ok


def test_failed_run_has_one_entry_after_the_rollback(world, monkeypatch):
    author, *_ = world
    engine_failure(monkeypatch)
    with pytest.raises(RuntimeError):
        services.run_scoring("full", AS_OF, author)
    run = ScoringRun.objects.get()
    assert run.status == "failed" and "engine exploded" in run.error
    entry = only_entry(run, "scoring.run.fail")
    assert entry.user == author
    assert entry.details["run"] == run.pk and entry.details["kind"] == "full"
    assert entry.details["as_of"] == AS_OF.isoformat()
    assert entry.details["error"] == "RuntimeError: engine exploded"
    assert audit.verify().ok


def test_failure_while_publishing_keeps_only_the_fail_entry(world, monkeypatch):
    """The publish transaction rolls back (with any entry written in it); the failure entry comes after."""
    author, *_ = world

    def boom(run, now_db):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "publish_grades", boom)
    with pytest.raises(RuntimeError):
        services.run_scoring("full", AS_OF, author)
    run = ScoringRun.objects.get()
    assert only_entry(run, "scoring.run.fail").details["error"] == "RuntimeError: disk full"
    assert audit.verify().ok


def test_failed_preview_has_one_entry(world, monkeypatch):
    author, _b, _ents, v1 = world
    engine_failure(monkeypatch)
    with pytest.raises(RuntimeError):
        services.preview(v1, as_of=AS_OF, user=author)
    run = ScoringRun.objects.get(kind="preview")
    assert run.status == "failed"
    entry = only_entry(run, "scoring.run.fail")
    assert entry.details["kind"] == "preview" and "engine exploded" in entry.details["error"]
    assert audit.verify().ok


def test_run_marked_stale_has_one_entry(world):
    _a, _b, _ents, active = world
    zombie = ScoringRun.objects.create(kind="incremental", as_of=AS_OF, indicator_set=active)
    ScoringRun.objects.filter(pk=zombie.pk).update(started_at=timezone.now() - timedelta(hours=7))
    fresh = ScoringRun.objects.create(kind="full", as_of=AS_OF, indicator_set=active)  # still running: left alone
    assert services.fail_stale_runs() == 1
    assert services.fail_stale_runs() == 0  # already failed: no second entry
    zombie.refresh_from_db()
    assert zombie.status == "failed" and zombie.error == services.STALE_ERROR
    entry = only_entry(zombie, "scoring.run.fail")
    assert entry.details == {"run": zombie.pk, "kind": "incremental", "as_of": AS_OF.isoformat(),
                             "error": services.STALE_ERROR}
    assert run_entries(fresh) == []
    assert audit.verify().ok


def test_run_overtaken_by_a_newer_run_records_what_it_kept(world):
    """A run that started before another run published keeps those enterprises' fresher grades; its entry
    says how many it left alone (here all of them: nothing of its own was published)."""
    author, _b, ents, active = world
    old = ScoringRun.objects.create(kind="full", as_of=AS_OF, indicator_set=active)
    ScoringRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(minutes=5))
    old.refresh_from_db()
    services.run_scoring("full", AS_OF, author)  # publishes every enterprise after `old` started
    parts = services.score_snapshot(build_snapshot(AS_OF), isvc.active_sets(), AS_OF)
    with transaction.atomic():
        services._publish(old, parts, AS_OF, None, {})
    entry = only_entry(old, "scoring.run.publish")
    assert entry.details["enterprises"] == 0 and entry.details["superseded"] == len(ents)
    assert audit.verify().ok
