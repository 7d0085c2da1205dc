from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from scoring_testkit import (
    AS_OF,
    make_enterprise,
    make_population,
    penalty,
    scoring_world,
)

from foodrisk import engine
from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import capture_events
from foodrisk.enterprises.models import Enterprise
from foodrisk.indicators import services as isvc
from foodrisk.records.services import save_record, upsert_records
from foodrisk.scoring import services
from foodrisk.scoring.handlers import no_auto_rescore
from foodrisk.scoring.models import GradeChange, Score, ScoringRun
from foodrisk.scoring.snapshot import build_snapshot

pytestmark = pytest.mark.django_db


def grades():
    return dict(Enterprise.objects.values_list("id", "current_grade"))


@pytest.fixture
def world():
    return scoring_world()


def test_snapshot_matches_engine_schema_and_point_in_time(world):
    _a, _b, ents, _s = world
    e = ents[0]
    with no_auto_rescore():
        save_record(penalty(e, "P-old", on=AS_OF - timedelta(days=10), repaired=True,
                            repaired_on=AS_OF + timedelta(days=5)))
        save_record(penalty(e, "P-future", on=AS_OF + timedelta(days=1)))
    snap = build_snapshot(AS_OF)
    for name, table in snap.items():
        assert table.schema == engine.schema.SCHEMAS[name], name
    assert snap["enterprises"].num_rows == len(ents)
    pen = snap["penalties"].to_pylist()
    assert len(pen) == 1  # the future penalty is not read
    assert pen[0]["repaired"] is False  # repaired only after as-of
    assert pen[0]["fine"] == 20000.0
    sub = build_snapshot(AS_OF, [e.pk])
    assert sub["enterprises"]["enterprise_id"].to_pylist() == [e.pk]


def test_full_run_publishes_grades_and_history(world):
    author, _b, ents, active = world
    with capture_events("grade_changed") as received:
        run = services.run_scoring("full", AS_OF, author)
    assert received == [("grade_changed", {"run_id": run.pk})]  # the changes are read from the run's rows
    assert run.status == "succeeded" and run.published_at and run.enterprise_count == len(ents)
    expected = engine.score(build_snapshot(AS_OF), active.spec, AS_OF)
    for e in Enterprise.objects.all():
        row = expected.row(e.pk)
        assert e.current_grade == row["grade"] and e.graded_at is not None
        assert e.current_score == pytest.approx(row["total_score"])
    assert Score.objects.filter(run=run).count() == len(ents)
    s = Score.objects.filter(run=run).first()
    assert s.indicator_set == active and s.indicator_set_version == active.version
    assert isinstance(s.reasons, list)
    # stored compact ([[values], [points]] in the run's indicator order), read back as the engine's object
    assert isinstance(s.details, list) and len(s.details) == 2
    assert run.summary["indicator_codes"][str(active.pk)] == [i.code for i in engine.IndicatorSet.from_dict(
        active.spec).active_indicators]
    assert s.indicator_details() == expected.row(s.enterprise_id)["details"]
    assert GradeChange.objects.filter(run=run, old_grade="").count() == len(ents)
    assert sum(run.grade_distribution.values()) == len(ents)
    assert {"snapshot_s", "engine_s", "publish_s", "total_s"} <= set(run.timing)
    assert AuditEntry.objects.filter(action="scoring.run.publish", object_id=str(run.pk)).exists()
    # second run: nothing changed → no history rows, previous grade recorded
    graded_at = dict(Enterprise.objects.values_list("id", "graded_at"))
    run2 = services.run_scoring("full", AS_OF, author)
    assert run2.changed_count == 0 and not GradeChange.objects.filter(run=run2).exists()
    # unchanged grades and scores: no enterprise row rewritten, graded_at = when the values were published
    assert run2.timing["enterprises_updated"] == 0
    assert dict(Enterprise.objects.values_list("id", "graded_at")) == graded_at
    assert set(Score.objects.filter(run=run2).values_list("previous_grade", flat=True)) <= set("ABCD")


def test_grade_changed_is_queued_in_the_publishing_transaction(world, settings):
    from foodrisk.core import outbox

    settings.REACTIONS_ON_COMMIT = False  # leave the reaction to a worker
    author, *_ = world
    run = services.run_scoring("full", AS_OF, author)
    rows = {row.args_kwargs["args"][0]: row for row in outbox.pending("grade_changed")}
    assert set(rows) == {"foodrisk.alerts.handlers.on_grade_changed", "foodrisk.analytics.handlers.on_grade_changed",
                         "foodrisk.sharing.webhooks.on_grade_changed"}
    row = rows["foodrisk.alerts.handlers.on_grade_changed"]
    assert row.args_kwargs["args"][:3] == ["foodrisk.alerts.handlers.on_grade_changed", "grade_changed",
                                           {"run_id": run.pk}]
    assert outbox.drain() >= 1 and not outbox.pending("grade_changed")  # what a worker would do


def test_incremental_rescoring_only_changed_enterprises(world):
    author, _b, ents, _s = world
    services.run_scoring("full", AS_OF, author)
    with no_auto_rescore():
        upsert_records("penalties", [dict(enterprise_id=ents[1].pk, decision_no="P-inc", decided_on=AS_OF,
                                          violation_type="x", severity="heavy", fine=1)])
    run = services.run_scoring("incremental", AS_OF, author)
    assert run.enterprise_count == 1
    assert list(Score.objects.filter(run=run).values_list("enterprise_id", flat=True)) == [ents[1].pk]
    # nothing changed since → an empty incremental run
    run = services.run_scoring("incremental", AS_OF, author)
    assert run.status == "succeeded" and run.enterprise_count == 0


def test_incremental_without_previous_run_scores_everyone(world):
    author, _b, ents, _s = world
    run = services.run_scoring("incremental", AS_OF, author)
    assert run.enterprise_count == len(ents)


def test_failure_midway_leaves_published_grades_untouched(world, monkeypatch):
    author, _b, ents, _s = world
    services.run_scoring("full", AS_OF, author)
    before = grades()
    scores_before = Score.objects.count()
    isvc_set = isvc.copy_version(_s, user=author)
    # make the next run change every grade, then fail after the Score rows are written
    isvc.update_spec(isvc_set, dict(isvc_set.spec, cutoffs={"A": 1, "B": 2, "C": 3}), user=author)
    isvc.submit(isvc_set, user=author)
    isvc.approve(isvc_set, user=_b)
    services.preview(isvc_set, as_of=AS_OF, user=_b)  # new cut-offs: activated on a preview, confirmed
    with no_auto_rescore():
        isvc.activate(isvc_set, user=_b, confirmed=True)

    def boom(run, now_db):
        assert Score.objects.filter(run=run).count() == len(ents)  # scores were written …
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "publish_grades", boom)
    with pytest.raises(RuntimeError):
        services.run_scoring("full", AS_OF, author)
    failed = ScoringRun.objects.latest("started_at")
    assert failed.status == "failed" and "disk full" in failed.error and failed.published_at is None
    assert grades() == before  # … but nothing was published
    assert Score.objects.count() == scores_before
    assert not GradeChange.objects.filter(run=failed).exists()


def test_killed_worker_run_left_running_changes_nothing(world):
    author, _b, ents, _s = world
    services.run_scoring("full", AS_OF, author)
    before = grades()
    last = services.last_successful_run()
    zombie = ScoringRun.objects.create(kind="full", as_of=AS_OF, indicator_set=_s, status="running")
    assert grades() == before
    assert services.last_successful_run() == last  # incremental still counts from the last good run
    ScoringRun.objects.filter(pk=zombie.pk).update(started_at=timezone.now() - timedelta(hours=7))
    assert services.fail_stale_runs() == 1
    zombie.refresh_from_db()
    assert zombie.status == "failed"


def test_event_triggered_rescoring_after_a_penalty(world, django_capture_on_commit_callbacks):
    author, _b, _ents, _s = world
    e = make_enterprise(999, tier=1)
    services.run_scoring("full", timezone.localdate(), author)
    e.refresh_from_db()
    assert e.current_grade == "A"
    with django_capture_on_commit_callbacks(execute=True):
        save_record(penalty(e, "P-event", on=timezone.localdate() - timedelta(days=3)), user=author)
    e.refresh_from_db()
    assert e.current_grade in ("C", "D")
    run = ScoringRun.objects.get(kind="event")
    assert run.enterprise_count == 1 and run.status == "succeeded"
    change = GradeChange.objects.get(run=run)
    assert (change.old_grade, change.new_grade) == ("A", e.current_grade)
    assert any("处罚" in r or "违法" in r for r in change.reasons)


def test_event_without_active_set_is_ignored(django_capture_on_commit_callbacks):
    e = make_enterprise(1)
    with django_capture_on_commit_callbacks(execute=True):
        save_record(penalty(e, "P-none"))
    assert not ScoringRun.objects.exists()


def test_newer_event_grade_is_not_overwritten_by_an_older_full_run(world):
    from django.db import transaction

    author, _b, ents, _s = world
    services.run_scoring("full", AS_OF, author)  # grades every enterprise now
    old = ScoringRun.objects.create(kind="full", as_of=AS_OF, indicator_set=_s)
    ScoringRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(minutes=5))
    old.refresh_from_db()
    parts = services.score_snapshot(build_snapshot(AS_OF), isvc.active_sets(), AS_OF)
    with transaction.atomic():
        services._publish(old, parts, AS_OF, None, {})
    assert old.enterprise_count == 0  # everyone was graded after this run's snapshot began


def test_newer_run_that_changed_nothing_still_supersedes_an_older_run(world):
    """The guard must not depend on graded_at: a newer run that republished the same grades leaves
    graded_at alone, yet its (fresher) grades win over a run that started before it."""
    from django.db import transaction

    author, _b, ents, _s = world
    first = services.run_scoring("full", AS_OF, author)
    an_hour_ago = timezone.now() - timedelta(hours=1)  # the first run was published long before `old` began
    ScoringRun.objects.filter(pk=first.pk).update(started_at=an_hour_ago, published_at=an_hour_ago)
    Enterprise.objects.update(graded_at=an_hour_ago)
    old = ScoringRun.objects.create(kind="full", as_of=AS_OF, indicator_set=_s)
    ScoringRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(minutes=5))
    old.refresh_from_db()
    newer = services.run_scoring("event", AS_OF, author, {ents[0].pk, ents[1].pk})
    assert newer.timing["enterprises_updated"] == 0  # same grades: graded_at untouched
    before = grades()
    Enterprise.objects.filter(pk__in=[ents[0].pk, ents[1].pk]).update(current_grade="D")  # make a change visible
    parts = services.score_snapshot(build_snapshot(AS_OF), isvc.active_sets(), AS_OF)
    with transaction.atomic():
        services._publish(old, parts, AS_OF, None, {})
    assert old.enterprise_count == len(ents) - 2  # the two the event run published after old started are kept
    after = grades()
    assert after[ents[0].pk] == after[ents[1].pk] == "D"
    assert all(after[e.pk] == before[e.pk] for e in ents[2:])


def test_activation_and_rollback_restore_previous_grades(world):
    author, approver, ents, v1 = world
    services.run_scoring("full", AS_OF, author)
    g1 = grades()
    v2 = isvc.copy_version(v1, user=author)
    isvc.update_spec(v2, dict(v2.spec, cutoffs={"A": 1, "B": 2, "C": 3}), user=author)
    isvc.submit(v2, user=author)
    isvc.approve(v2, user=approver)
    with no_auto_rescore():
        with pytest.raises(ValidationError, match="影响预览"):  # other cut-offs: no activation without a preview
            isvc.activate(v2, user=approver, confirmed=True)
        preview = services.preview(v2, as_of=AS_OF, user=approver)
        with pytest.raises(ValidationError, match="确认"):  # … nor without the confirmation
            isvc.activate(v2, user=approver)
        isvc.activate(v2, user=approver, confirmed=True)
    assert preview.summary["target"]["kind"] == "indicator_set"
    services.run_scoring("full", AS_OF, author)
    g2 = grades()
    assert g2 != g1 and set(g2.values()) == {"D"}
    with no_auto_rescore():
        with pytest.raises(ValidationError):  # the rollback restores other cut-offs: previewed too
            isvc.rollback(v1, user=author, confirmed=True)
        services.preview(v1, as_of=AS_OF, user=author)
        v3 = isvc.rollback(v1, user=author, confirmed=True)
    run = services.run_scoring("full", AS_OF, author)
    assert grades() == g1
    assert set(Score.objects.filter(run=run).values_list("indicator_set", flat=True)) == {v3.pk}


def test_a_preview_goes_stale_when_grades_are_published_after_it(world):
    author, approver, ents, v1 = world
    v2 = isvc.copy_version(v1, user=author)
    isvc.update_spec(v2, dict(v2.spec, blend={"rule": 0.5, "model": 0.5}), user=author)  # another blend
    isvc.submit(v2, user=author)
    isvc.approve(v2, user=approver)
    services.preview(v2, as_of=AS_OF, user=approver)
    services.run_scoring("full", AS_OF, author)
    with pytest.raises(ValidationError, match="重新运行"), no_auto_rescore():
        isvc.activate(v2, user=approver, confirmed=True)
    services.preview(v2, as_of=AS_OF, user=approver)
    with no_auto_rescore():
        assert isvc.activate(v2, user=approver, confirmed=True).status == "active"


def test_preview_migration_matrix(world):
    author, approver, ents, v1 = world
    services.run_scoring("full", AS_OF, author)
    current = grades()
    draft = isvc.copy_version(v1, user=author)
    draft = isvc.update_spec(draft, dict(draft.spec, cutoffs={"A": 1, "B": 2, "C": 3}), user=author)
    before_scores = Score.objects.count()
    run = services.preview(draft, as_of=AS_OF, user=author)
    m = run.summary["matrix"]
    assert run.kind == "preview" and run.status == "succeeded"
    for old in "ABCD":
        n_old = sum(1 for g in current.values() if g == old)
        assert m[old]["D"] == n_old
        assert sum(m[old].values()) == n_old
    moved = sum(1 for g in current.values() if g != "D")
    assert run.summary["moved"] == moved and run.summary["up"] == moved
    assert len(run.summary["sample"]) == min(moved, 30)
    assert all(s["new"] == "D" and s["reasons"] is not None for s in run.summary["sample"])
    assert grades() == current and Score.objects.count() == before_scores  # nothing published
    assert draft.status == "draft"


def test_preview_job_runs_in_process(world, django_capture_on_commit_callbacks):
    from foodrisk.core.models import Job
    from foodrisk.core.services import jobs

    author, approver, ents, v1 = world
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start("indicators.preview", user=author, params={"indicator_set": v1.pk, "as_of": "2026-03-31"},
                         run_now=True)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    assert job.result["population"] == len(ents)


def test_score_command_with_bootstrap_prints_counts(capsys):
    from django.core.management import call_command

    make_population(3, 1)
    from django.core.exceptions import ValidationError
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("score", "--full", "--wait", "--as-of", "2026-03-31")
    call_command("score", "--full", "--wait", "--as-of", "2026-03-31", "--bootstrap", "food_2016")
    out = capsys.readouterr().out
    assert "enterprises scored: 4" in out and "grade distribution" in out and "timing" in out
    assert AuditEntry.objects.filter(action="indicators.indicatorset.bootstrap").exists()
    with pytest.raises(ValidationError):
        isvc.bootstrap_profile("anhui")


def test_postgresql_copy_snapshot_equals_row_snapshot(world):
    """PostgreSQL reads the snapshot by COPY into Arrow; it must give exactly what the row path gives
    (repaired flags from repaired_on and approved credit repairs, point-in-time licence status)."""
    from django.db import connection

    from foodrisk.records.models import CreditRepair, ListEntry
    from foodrisk.scoring import snapshot

    if connection.vendor != "postgresql":
        pytest.skip("COPY path is PostgreSQL only")
    _a, _b, ents, _s = world
    e, f = ents[0], ents[1]
    base = {"source": "t", "first_seen_at": timezone.now(), "last_seen_at": timezone.now()}
    with no_auto_rescore():
        save_record(penalty(e, "P-rep-late", on=AS_OF - timedelta(days=10), repaired=True,
                            repaired_on=AS_OF + timedelta(days=5)))
        save_record(penalty(e, "P-rep-ok", on=AS_OF - timedelta(days=40), repaired=True,
                            repaired_on=AS_OF - timedelta(days=5)))
        save_record(penalty(f, "P-cr", on=AS_OF - timedelta(days=50), licence_revoked=True))
        save_record(penalty(f, "P-cr-late", on=AS_OF - timedelta(days=60)))
        for no, kind, target, decided, decision in [
                ("R1", "penalties", "P-cr", AS_OF - timedelta(days=1), "approved"),
                ("R2", "penalties", "P-cr-late", AS_OF + timedelta(days=1), "approved"),
                ("R3", "list_entries", f"abnormal:{AS_OF - timedelta(days=90)}", AS_OF, "approved"),
                ("R4", "list_entries", "K-2", AS_OF - timedelta(days=3), "rejected")]:
            CreditRepair.objects.create(enterprise=f, repair_no=no, target_kind=kind, target_no=target,
                                        applied_on=AS_OF - timedelta(days=100), decided_on=decided,
                                        decision=decision, **base)
        for key, on, rep in [("K-1", AS_OF - timedelta(days=90), False), ("K-2", AS_OF - timedelta(days=80), False),
                             ("K-3", AS_OF - timedelta(days=70), True)]:
            ListEntry.objects.create(enterprise=f, entry_key=key, list_kind="abnormal", listed_on=on, **base)
            if rep:
                ListEntry.objects.filter(entry_key=key).update(repaired=True)
    for as_of in (AS_OF, AS_OF - timedelta(days=45)):
        for pit in (False, True):
            for ids in (None, [e.pk, f.pk]):
                rows = snapshot._build_rows(as_of, ids, pit)
                copied = snapshot._build_pg(as_of, ids, pit)
                for name, table in rows.items():
                    keys = [(c, "ascending") for c in table.column_names]
                    assert copied[name].schema == table.schema, name
                    assert copied[name].sort_by(keys).equals(table.sort_by(keys)), (name, as_of, pit, ids)
    copied = snapshot._build_pg(AS_OF, [e.pk, f.pk], False)
    pen = {r["decided_on"]: r["repaired"] for r in copied["penalties"].to_pylist()}
    days = {d: pen.get(AS_OF - timedelta(days=d)) for d in (10, 40, 50, 60)}
    assert days == {10: False, 40: True, 50: True, 60: False}  # by repaired_on, or by an approved repair
    listed = {r["listed_on"]: r["repaired"] for r in copied["list_entries"].to_pylist()}
    assert [listed[AS_OF - timedelta(days=d)] for d in (90, 80, 70)] == [True, False, True]
