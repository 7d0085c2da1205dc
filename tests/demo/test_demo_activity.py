"""`foodrisk demo_data` leaves the loop visible: warnings raised by the rules and worked by the demo accounts, a
plan, a draw and its tasks with results and a rectification order (foodrisk.demo.activity) — and a second run adds
nothing. A small city (the size of the first-week browser test), as `make demo` builds it."""

import io

import pytest
from django.core.management import call_command

from foodrisk.alerts.models import Alert, AlertEvent
from foodrisk.core.models import AuditEntry
from foodrisk.demo.testing import installation
from foodrisk.records.models import Inspection
from foodrisk.supervision.models import InspectionPlan, RandomDraw, Task

pytestmark = pytest.mark.django_db

ENTERPRISES = 300
DISTRICT = "330102"  # 上城区: the first county of 杭州市, the demo accounts' district


def demo_data(tmp_path):
    out = io.StringIO()
    call_command("demo_data", enterprises=ENTERPRISES, out=str(tmp_path / "city"), stdout=out)
    return out.getvalue()


def counts():
    return {"alerts": Alert.objects.count(), "alert events": AlertEvent.objects.count(),
            "plans": InspectionPlan.objects.count(), "draws": RandomDraw.objects.count(),
            "tasks": Task.objects.count(), "inspections": Inspection.objects.count()}


@pytest.fixture
def city(tmp_path):
    installation()
    return demo_data(tmp_path)


def test_demo_data_shows_the_loop(city):
    """One city, three looks (a city takes seconds to build): warnings, supervision, the audit log."""
    check_warnings(city)
    check_supervision()
    check_audit_log()


def check_warnings(city):
    assert "demo activity: plan #" in city
    district = Alert.objects.filter(organisation__region_id=DISTRICT)
    assert len(set(district.values_list("status", flat=True))) > 1
    assert district.filter(status="raised").exists()  # the inbox keeps work
    assert not Alert.objects.exclude(enterprise__region__code__startswith=DISTRICT).exclude(status="raised").exists()

    closed = district.get(status="closed")
    history = list(closed.events.order_by("pk").values_list("action", "user__username"))
    assert history[0] == ("raise", None)
    assert [(a, u) for a, u in history if u] == [("confirm", "inspector"), ("dispatch", "inspector"), ("handle", "handler"),
                           ("close", "inspector")]
    assert closed.assignee.username == "handler" and closed.outcome == "rectified" and closed.feedback
    assert not Task.objects.open().filter(enterprise=closed.enterprise).exists()  # no rectification pending


def check_supervision():
    plan = InspectionPlan.objects.get()
    draw = RandomDraw.objects.get()
    assert plan.organisation.region_id == DISTRICT and plan.created_by.username == "inspector"
    assert draw.plan == plan and draw.created_by.username == "inspector" and draw.unassigned < draw.items.count()
    tasks = Task.objects.filter(draw_item__draw=draw)
    assert tasks.count() > 3
    done = tasks.filter(status="done").select_related("inspection")
    assert done.count() == 3 and all(t.inspection is not None for t in done)
    failed = done.get(inspection__result="fail")
    rectification = Task.objects.get(kind="rectification")
    assert rectification.parent == failed and rectification.status == "assigned"
    assert failed.inspection.source == "supervision" and failed.inspection.rectification_ordered
    # the failed inspection raised its warning through the rule, for the district
    assert Alert.objects.filter(rule__code="inspection-failed", enterprise=failed.enterprise,
                                organisation__region_id=DISTRICT).exists()


def check_audit_log():
    actions = set(AuditEntry.objects.filter(user__username__in=["inspector", "inspector2", "handler"])
                  .values_list("user__username", "action"))
    assert {("inspector", "supervision.plan.create"), ("inspector", "supervision.draw.run"),
            ("inspector", "alerts.alert.confirm"), ("inspector", "alerts.alert.close"),
            ("handler", "alerts.alert.handle")} <= actions
    assert any(action == "supervision.task.result" for _user, action in actions)


def test_a_second_run_adds_nothing(city, tmp_path):
    before = counts()
    again = demo_data(tmp_path)
    assert "demo city already imported" in again and "warnings raised 0" in again
    assert counts() == before
