"""The closed loop of the issue driven through the web UI with Django's test client, each step by the
person who does it in real life (force_login per user), posting the forms the pages show: the record form
(clerk), the alert page's review / dispatch / feedback / close forms and its task button (supervisor,
inspector), the tablet result form and the rectification forms (inspector, then a second person), the
credit-repair application, check and decision (supervisor records, a second person decides). A supervisor of
the neighbouring district gets 404 on the alert and the task.

Requests commit in production; here every POST runs inside django_capture_on_commit_callbacks(execute=True)
so the after-commit handlers (rescoring, alert rules) run as they would."""

import re

import pytest
from django.contrib.messages import constants, get_messages
from django.test import Client
from django.urls import reverse
from loop_kit import (
    DROP_SCORE,
    INSPECTED_SCORE,
    REPAIRED_SCORE,
    START_SCORE,
    Cast,
    action_names,
    ago,
    audit_mark,
    better,
    build_city,
    grade_the_city,
    old_penalty,
    today,
    upload,
)

from foodrisk.alerts.models import Alert
from foodrisk.core.services import audit
from foodrisk.records.models import CreditRepair, Inspection, SamplingTest
from foodrisk.scoring.models import GradeChange
from foodrisk.supervision.models import RepairCase, Task
from foodrisk.supervision.services.tasks import checklist_for

pytestmark = pytest.mark.django_db


def browser(user):
    client = Client()
    client.force_login(user)
    return client


class UI:
    def __init__(self, capture):
        self.capture = capture

    def get(self, client, url, *fields):
        """GET a page (200) and check that it shows the form fields about to be posted."""
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        for name in fields:
            assert re.search(rf'name="{re.escape(name)}"', html), f"{url} shows no field {name}"
        return response

    def post(self, client, url, data=None, to=None):
        """POST (after-commit handlers run) → a redirect, no error message."""
        with self.capture(execute=True):
            response = client.post(url, data or {})
        errors = [str(m) for m in get_messages(response.wsgi_request) if m.level >= constants.ERROR]
        form = response.context.get("form") if response.context else None
        assert response.status_code == 302, (url, response.status_code, errors, form and form.errors)
        assert not errors, errors
        if to is not None:
            assert response["Location"] == to, (response["Location"], to)
        return response


def profile_urls(client, enterprise):
    response = client.get(reverse("enterprises:enterprise_detail", args=[enterprise.pk]) + "?timeline=all")
    assert response.status_code == 200
    section = next(s for s in response.context["profile_sections"] if s["template"] == "records/profile_timeline.html")
    return {e.url: e for e in section["entries"]}, response


def test_closed_loop_through_the_ui(django_capture_on_commit_callbacks):
    ui = UI(django_capture_on_commit_callbacks)
    cast = Cast()
    target = build_city()
    grade_the_city(cast)
    target.refresh_from_db()
    assert (target.current_grade, target.current_score) == ("A", START_SCORE)
    penalty = old_penalty(target)
    clerk, supervisor, inspector, chief, outsider = (browser(u) for u in (
        cast.clerk, cast.supervisor, cast.inspector, cast.chief, cast.outsider))

    # ---- 1. the clerk records the failed national sampling test on the record form ----------------------
    add_url = reverse("records:samplingtest_add") + f"?enterprise={target.pk}"
    ui.get(clerk, add_url, "enterprise", "report_no", "sampled_on", "level", "product", "result", "failed_items")
    mark = audit_mark()
    ui.post(clerk, add_url, {
        "enterprise": target.pk, "report_no": "GC26330100654321", "sampled_on": ago(6).isoformat(),
        "level": "national", "product": "东北大米", "category": "粮食加工品", "result": "fail",
        "failed_items": "镉(以Cd计)║0.35mg/kg║≤0.2mg/kg", "announcement_no": "2026年第12期",
        "producer_name": "", "producer_address": ""})
    sampling = SamplingTest.objects.get(report_no="GC26330100654321")
    target.refresh_from_db()
    drop_grade = target.current_grade
    assert (drop_grade, target.current_score) == ("C", DROP_SCORE)
    assert list(GradeChange.objects.filter(enterprise=target).order_by("at", "pk")
                .values_list("old_grade", "new_grade")) == [("", "A"), ("A", "C")]
    alert = Alert.objects.get(enterprise=target, rule__code="sampling-failed")
    assert Alert.objects.filter(enterprise=target, rule__code__in=["grade-into-c", "grade-drop-2"]).count() == 2
    urls, _page = profile_urls(supervisor, target)
    assert sampling.get_absolute_url() in urls
    assert {"records.samplingtest.create", "scoring.run.publish", "alerts.alert.raise"} <= action_names(mark)

    # ---- 2. the supervisor finds it in the queue, confirms and dispatches it --------------------------
    queue = supervisor.get(reverse("alerts:my_alerts"))
    assert queue.status_code == 200 and alert.get_absolute_url() in queue.content.decode()
    alert_url = alert.get_absolute_url()
    ui.get(supervisor, alert_url, "review-decision", "review-note")
    mark = audit_mark()
    ui.post(supervisor, reverse("alerts:alert_action", args=[alert.pk, "review"]),
            {"review-decision": "confirm", "review-note": "国抽不合格，属实"}, to=alert_url)
    ui.get(supervisor, alert_url, "dispatch-organisation", "dispatch-assignee", "dispatch-deadline",
           "dispatch-instructions")
    ui.post(supervisor, reverse("alerts:alert_action", args=[alert.pk, "dispatch"]), {
        "dispatch-organisation": cast.district.pk, "dispatch-assignee": cast.inspector.pk,
        "dispatch-deadline": "", "dispatch-instructions": "核查不合格批次并下架封存"}, to=alert_url)
    alert.refresh_from_db()
    assert alert.status == "dispatched" and alert.assignee == cast.inspector
    assert {"alerts.alert.confirm", "alerts.alert.dispatch"} <= action_names(mark)

    # ---- 3. …and makes a supervision task of it (the button on the alert page) -----------------------
    task_url = reverse("supervision:alert_task", args=[alert.pk])
    page = ui.get(supervisor, alert_url, "kind")
    assert f'action="{task_url}"' in page.content.decode()
    response = ui.post(supervisor, task_url, {"kind": "inspection"})
    task = Task.objects.get(source="alert", source_ref=str(alert.pk))
    assert response["Location"] == task.get_absolute_url()
    assert task.kind == "inspection" and task.assignee == cast.inspector and task.status == "assigned"

    # the neighbouring district sees neither the alert nor the task
    assert outsider.get(alert_url).status_code == 404
    assert outsider.get(task.get_absolute_url()).status_code == 404
    assert outsider.post(reverse("alerts:alert_action", args=[alert.pk, "close"]),
                         {"close-outcome": "resolved"}).status_code == 404
    assert outsider.get(reverse("supervision:task_result", args=[task.pk])).status_code == 404
    assert "access.out_of_scope" in action_names(mark)

    # ---- 4. the inspector records the failed inspection on the tablet form ---------------------------
    my_tasks = inspector.get(reverse("supervision:my_tasks"))
    assert my_tasks.status_code == 200 and task.get_absolute_url() in my_tasks.content.decode()
    result_url = reverse("supervision:task_result", args=[task.pk])
    items = list(checklist_for(task).items.all())
    key_item = next(i for i in items if i.key)
    ui.get(inspector, result_url, "inspected_on", "findings", "photos", "order_rectification",
           *(f"item_{i.pk}" for i in items))
    mark = audit_mark()
    ui.post(inspector, result_url, {
        "inspected_on": today().isoformat(), "findings": "货架上发现同批次大米未下架", "order_rectification": "on",
        "rectification_days": "10", "photos": upload("现场照片.jpg"),
        **{f"item_{i.pk}": "fail" if i == key_item else "pass" for i in items}}, to=task.get_absolute_url())
    task.refresh_from_db()
    inspection = Inspection.objects.get(pk=task.inspection_id)
    assert task.status == "done"
    assert (inspection.result, inspection.key_items_failed, inspection.rectification_ordered) == ("fail", 1, True)
    rectification = Task.objects.get(parent=task, kind="rectification")
    target.refresh_from_db()
    assert target.current_score == INSPECTED_SCORE and not better(target.current_grade, drop_grade)
    urls, _page = profile_urls(inspector, target)
    assert inspection.get_absolute_url() in urls
    assert {"records.inspection.create", "supervision.task.result", "supervision.task.create",
            "records.attachment.create", "scoring.run.publish"} <= action_names(mark)

    # ---- 5. feedback on the alert, rectification evidence, verification by a second person, closing ----
    mark = audit_mark()
    ui.get(inspector, alert_url, "handle-feedback", "handle-files")
    ui.post(inspector, reverse("alerts:alert_action", args=[alert.pk, "handle"]), {
        "handle-feedback": "已现场检查，责令整改", "handle-files": upload("封存记录.jpg")}, to=alert_url)
    ui.get(inspector, rectification.get_absolute_url(), "files", "note")
    ui.post(inspector, reverse("supervision:task_action", args=[rectification.pk, "submit"]), {
        "files": upload("整改报告.jpg"), "note": "已下架召回并完善进货查验记录"}, to=rectification.get_absolute_url())
    rectification.refresh_from_db()
    assert rectification.status == "verifying"
    page = ui.get(chief, rectification.get_absolute_url(), "accepted", "note")
    assert page.context["can_verify"]
    assert not inspector.get(rectification.get_absolute_url()).context["can_verify"]
    ui.post(chief, reverse("supervision:task_action", args=[rectification.pk, "verify"]),
            {"accepted": "on", "note": "整改到位"}, to=rectification.get_absolute_url())
    rectification.refresh_from_db()
    assert rectification.status == "done" and rectification.verified_by == cast.chief
    ui.get(supervisor, alert_url, "close-outcome", "close-note")
    ui.post(supervisor, reverse("alerts:alert_action", args=[alert.pk, "close"]),
            {"close-outcome": "rectified", "close-note": "整改已核验"}, to=alert_url)
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.outcome == "rectified"
    assert {"alerts.alert.handle", "supervision.task.submit", "supervision.task.verify",
            "alerts.alert.close"} <= action_names(mark)

    # ---- 6. credit repair: recorded by the supervisor, checked and approved by the second person -------
    apply_url = reverse("supervision:repaircase_add") + f"?enterprise={target.pk}"
    page = ui.get(supervisor, apply_url, "enterprise", "penalty", "commitment", "evidence")
    assert f'value="{penalty.pk}"' in page.content.decode()
    mark = audit_mark()
    ui.post(supervisor, apply_url, {"enterprise": target.pk, "penalty": penalty.pk, "list_entry": "",
                                    "commitment": "本企业承诺依法诚信经营", "evidence": upload("守信承诺书.jpg")})
    case = RepairCase.objects.get(enterprise=target, penalty=penalty)
    case_url = case.get_absolute_url()
    assert not supervisor.get(case_url).context["can_decide"]  # the recorder may not decide
    refused = supervisor.post(reverse("supervision:repaircase_action", args=[case.pk, "decide"]), {"approve": "1"})
    assert refused.status_code == 302 and any(m.level == constants.ERROR for m in get_messages(refused.wsgi_request))
    case.refresh_from_db()
    assert case.status == "applied"
    page = ui.get(chief, case_url, "approve", "reason")
    assert page.context["can_review"] and page.context["can_decide"]
    ui.post(chief, reverse("supervision:repaircase_action", args=[case.pk, "review"]), to=case_url)
    case.refresh_from_db()
    assert case.status == "reviewed" and case.checks_passed, case.checks
    ui.post(chief, reverse("supervision:repaircase_action", args=[case.pk, "decide"]),
            {"approve": "1", "reason": ""}, to=case_url)
    case.refresh_from_db()
    penalty.refresh_from_db()
    assert case.status == "approved" and penalty.repaired
    target.refresh_from_db()
    assert (target.current_grade, target.current_score) == ("B", REPAIRED_SCORE)
    assert better(target.current_grade, drop_grade)
    assert list(GradeChange.objects.filter(enterprise=target).order_by("at", "pk")
                .values_list("old_grade", "new_grade")) == [("", "A"), ("A", "C"), ("C", "B")]
    assert {"supervision.repair.apply", "supervision.repair.review", "supervision.repair.approve",
            "records.penalty.update", "records.creditrepair.update", "scoring.run.publish"} <= action_names(mark)

    # ---- the profile shows the whole path; the audit chain is intact --------------------------------
    urls, page = profile_urls(supervisor, target)
    repair_record = CreditRepair.objects.get(pk=case.record_id)
    for record in (sampling, inspection, penalty, repair_record):
        assert record.get_absolute_url() in urls
    assert not urls[penalty.get_absolute_url()].alert  # a repaired penalty no longer counts against it
    html = page.content.decode()
    assert rectification.get_absolute_url() in html and case_url in html  # measures section: tasks, repairs
    grades = [s.grade for s in page.context["scores"]]  # the grade history on the profile, newest first
    assert [g for i, g in enumerate(grades) if i == 0 or grades[i - 1] != g] == ["B", "C", "A"], grades
    assert outsider.get(target.get_absolute_url()).status_code == 404
    result = audit.verify()
    assert result.ok, result
