"""The closed loop of the issue, driven through the service functions (the same ones views, API and jobs
call): failed national sampling → rescoring and a grade drop → alerts → review and dispatch → a task from
the alert → failed inspection with a rectification order → rectification evidence verified by a second
person, alert handled and closed → credit repair of the old penalty approved by a second person →
rescoring and a better grade. Every step is checked on the profile timeline and in the audit log.

Event handlers run after commit; each step runs in django_capture_on_commit_callbacks(execute=True), as the
commit of a real request would run them."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from loop_kit import (
    DISTRICT,
    DROP_SCORE,
    INSPECTED_SCORE,
    REPAIRED_SCORE,
    START_SCORE,
    Cast,
    action_names,
    actions_since,
    ago,
    audit_mark,
    better,
    build_city,
    grade_the_city,
    old_penalty,
    timeline_urls,
    today,
    upload,
)

from foodrisk.alerts import services as alerts
from foodrisk.alerts.models import Alert
from foodrisk.core.services import audit
from foodrisk.enterprises.models import Enterprise
from foodrisk.records import services as records
from foodrisk.records.models import CreditRepair, Inspection, SamplingTest
from foodrisk.scoring.models import GradeChange, Score
from foodrisk.supervision.choices import TaskKind, TaskSource, TaskStatus
from foodrisk.supervision.services import repairs, tasks

pytestmark = pytest.mark.django_db


def latest_score(enterprise):
    return Score.objects.filter(enterprise=enterprise).order_by("-run_id").first()


def changes_of(enterprise):
    return list(GradeChange.objects.filter(enterprise=enterprise).order_by("at", "pk")
                .values_list("old_grade", "new_grade"))


@pytest.fixture
def english():
    with translation.override("en"):  # the timeline facts are compared with their English msgids
        yield


def test_closed_loop_through_the_services(django_capture_on_commit_callbacks, english):
    cast = Cast()
    target = build_city()

    # ---- the demo city is graded: 35 enterprises, the target is A with its old penalty --------------------
    run = grade_the_city(cast)
    assert run.status == "succeeded" and run.enterprise_count == 35
    assert sum(1 for n in run.grade_distribution.values() if n) >= 2, run.grade_distribution
    target.refresh_from_db()
    assert (target.current_grade, target.current_score) == ("A", START_SCORE)
    assert changes_of(target) == [("", "A")]
    penalty = old_penalty(target)
    assert penalty.decided_on < ago(365) and not penalty.repaired
    assert penalty.get_absolute_url() in timeline_urls(target, cast.supervisor)

    # ---- 1. a failed national sampling test is recorded → rescoring, grade drop, alerts ------------------
    mark = audit_mark()
    with django_capture_on_commit_callbacks(execute=True):
        sampling = records.save_record(SamplingTest(
            enterprise=target, report_no="GC26330100123456", sampled_on=ago(6), level="national", product="东北大米",
            category="粮食加工品", result="fail", announcement_no="2026年第12期",
            failed_items=[{"item": "镉(以Cd计)", "result": "0.35mg/kg", "standard": "≤0.2mg/kg"}]), user=cast.clerk)
    target.refresh_from_db()
    drop_grade = target.current_grade
    assert (drop_grade, target.current_score) == ("C", DROP_SCORE)  # base B (31 > 30), raised one step
    score = latest_score(target)
    assert score.run.kind == "event" and score.base_grade == "B" and score.grade == "C"
    assert "raise_sampling_np" in str(score.rule_hits)
    assert changes_of(target) == [("", "A"), ("A", "C")]
    raised = {a.rule.code: a for a in Alert.objects.filter(enterprise=target)}
    assert {"sampling-failed", "grade-into-c", "grade-drop-2"} <= set(raised), set(raised)
    alert = raised["sampling-failed"]
    assert alert.status == "raised" and alert.level == "red" and alert.organisation == cast.district
    assert f"samplingtest:{sampling.pk}" in {o.fingerprint for o in alert.occurrence_set.all()}
    assert alert in alerts.queue(cast.supervisor, "mine")
    assert not alerts.queue(cast.outsider, "all").filter(pk=alert.pk).exists()
    assert sampling.get_absolute_url() in timeline_urls(target, cast.supervisor)
    entry = timeline_urls(target, cast.supervisor)[sampling.get_absolute_url()]
    assert entry.alert and "镉(以Cd计)" in entry.facts
    assert {"records.samplingtest.create", "scoring.run.publish", "alerts.alert.raise"} <= action_names(mark)
    assert ("records.samplingtest.create", "records.samplingtest", str(sampling.pk), "clerk") in actions_since(mark)

    # ---- 2. the district supervisor confirms and dispatches it to the inspector -------------------------
    mark = audit_mark()
    with django_capture_on_commit_callbacks(execute=True):
        alerts.review(alert, user=cast.supervisor, confirm=True, note="国抽不合格，属实，需现场核查")
    with django_capture_on_commit_callbacks(execute=True):
        alerts.dispatch(alert, user=cast.supervisor, organisation=cast.district, assignee=cast.inspector,
                        instructions="核查不合格批次的进货来源并下架封存")
    alert.refresh_from_db()
    assert alert.status == "dispatched" and alert.assignee == cast.inspector
    assert alert.assigned_organisation == cast.district and alert.deadline >= today()
    assert alert in alerts.queue(cast.inspector, "mine")
    assert {"alerts.alert.confirm", "alerts.alert.dispatch"} <= action_names(mark)

    # ---- 3. a supervision task is made from the alert --------------------------------------------------
    mark = audit_mark()
    with django_capture_on_commit_callbacks(execute=True):
        task = tasks.create_task_from_alert(alert, user=cast.supervisor)
    assert (task.kind, task.source, task.source_ref) == (TaskKind.INSPECTION, TaskSource.ALERT, str(alert.pk))
    assert task.assignee == cast.inspector and task.organisation == cast.district
    assert task.status == TaskStatus.ASSIGNED and task.due_on == alert.deadline
    assert ("supervision.task.create", "supervision.task", str(task.pk), "supervisor") in actions_since(mark)

    # ---- 4. the inspector records a failed inspection (one key item) with a rectification order ---------
    template = tasks.checklist_for(task)
    items = list(template.items.all())
    key_item = next(i for i in items if i.key)
    answers = {str(i.pk): "fail" if i == key_item else "pass" for i in items}
    changes_before = changes_of(target)
    mark = audit_mark()
    with django_capture_on_commit_callbacks(execute=True):
        task, inspection, rectification = tasks.record_result(
            task, user=cast.inspector, answers=answers, findings="货架上发现同批次大米未下架",
            photos=[upload("现场照片.jpg")], rectification_days=10)
    assert task.status == TaskStatus.DONE and task.inspection == inspection
    inspection = Inspection.objects.get(pk=inspection.pk)
    assert (inspection.result, inspection.key_items_failed, inspection.rectification_ordered) == ("fail", 1, True)
    assert inspection.source == "supervision" and task.outcome == inspection.get_result_display()
    assert rectification.kind == TaskKind.RECTIFICATION and rectification.parent == task
    assert rectification.assignee == cast.inspector and rectification.source_ref == inspection.inspection_no
    target.refresh_from_db()
    assert target.current_score == INSPECTED_SCORE
    assert not better(target.current_grade, drop_grade)  # the grade is not better (still C)
    assert changes_of(target) == changes_before
    assert latest_score(target).run.kind == "event" and latest_score(target).total_score == INSPECTED_SCORE
    assert Alert.objects.filter(enterprise=target, rule__code="inspection-failed", status="raised").exists()
    assert inspection.get_absolute_url() in timeline_urls(target, cast.supervisor)
    assert {"records.inspection.create", "records.attachment.create", "supervision.task.result",
            "supervision.task.create", "scoring.run.publish", "alerts.alert.raise"} <= action_names(mark)

    # ---- 5. the inspector reports back on the alert; rectification evidence in; a second person verifies --
    mark = audit_mark()
    with django_capture_on_commit_callbacks(execute=True):
        alerts.handle(alert, user=cast.inspector, feedback="已现场检查，责令整改并封存同批次产品",
                      files=[upload("封存记录.jpg")])
    with django_capture_on_commit_callbacks(execute=True):
        tasks.submit_rectification(rectification, user=cast.inspector, note="企业已下架召回并完善进货查验记录",
                                   files=[upload("整改报告.jpg")])
    rectification.refresh_from_db()
    assert rectification.status == TaskStatus.VERIFYING and tasks.evidence_of(rectification).count() == 1
    with pytest.raises(PermissionDenied):  # the inspector may not verify evidence (no verify_task)
        tasks.verify_rectification(rectification, user=cast.inspector, accepted=True)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.verify_rectification(rectification, user=cast.chief, accepted=True, note="整改到位")
    rectification.refresh_from_db()
    assert rectification.status == TaskStatus.DONE and rectification.verified_by == cast.chief
    with django_capture_on_commit_callbacks(execute=True):
        alerts.close(alert, user=cast.supervisor, outcome="rectified", note="整改已核验")
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.outcome == "rectified"
    assert [e.action for e in alert.events.order_by("at", "pk")] == ["raise", "confirm", "dispatch", "handle",
                                                                     "close"]
    target.refresh_from_db()
    assert target.current_grade == drop_grade  # closing the rectification changes no indicator
    assert {"alerts.alert.handle", "alerts.alert.close", "supervision.task.submit", "supervision.task.verify",
            "records.attachment.create"} <= action_names(mark)

    # ---- 6. later: credit repair of the old penalty, recorded by one person, approved by another ---------
    mark = audit_mark()
    with django_capture_on_commit_callbacks(execute=True):
        case = repairs.apply(target, user=cast.supervisor, penalty=penalty, evidence=[upload("守信承诺书.jpg")],
                             commitment="本企业承诺依法诚信经营，已履行行政处罚决定")
    repair_record = CreditRepair.objects.get(pk=case.record_id)
    assert repair_record.get_absolute_url() in timeline_urls(target, cast.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        case = repairs.review(case, user=cast.chief)
    assert case.status == "reviewed" and case.checks_passed, case.checks
    with pytest.raises(PermissionDenied):  # the person who recorded it may not decide
        repairs.decide(case, user=cast.supervisor, approve=True)
    with django_capture_on_commit_callbacks(execute=True):
        case = repairs.decide(case, user=cast.chief, approve=True)
    assert case.status == "approved" and case.decided_by == cast.chief
    penalty.refresh_from_db()
    assert penalty.repaired and penalty.repaired_on == today()
    repair_record.refresh_from_db()
    assert repair_record.decision == "approved"
    target.refresh_from_db()
    assert (target.current_grade, target.current_score) == ("B", REPAIRED_SCORE)
    assert better(target.current_grade, drop_grade)  # lowered again: B is better than C right after the drop
    assert changes_of(target) == [("", "A"), ("A", "C"), ("C", "B")]
    shown = timeline_urls(target, cast.supervisor)
    assert "credit repaired" in shown[penalty.get_absolute_url()].facts
    assert not shown[penalty.get_absolute_url()].alert
    assert "Approved" in shown[repair_record.get_absolute_url()].facts
    assert {"supervision.repair.apply", "supervision.repair.review", "supervision.repair.approve",
            "records.creditrepair.create", "records.creditrepair.update", "records.penalty.update",
            "scoring.run.publish"} <= action_names(mark)

    # ---- the whole path in one profile and one audit log -------------------------------------------------
    shown = timeline_urls(target, cast.supervisor)
    for record in (sampling, inspection, penalty, repair_record):
        assert record.get_absolute_url() in shown
    assert not timeline_urls(target, cast.clerk).keys() - shown.keys()
    assert Enterprise.objects.in_scope(cast.outsider).filter(pk=target.pk).count() == 0
    assert target.region_id == DISTRICT
    result = audit.verify()
    assert result.ok, result
