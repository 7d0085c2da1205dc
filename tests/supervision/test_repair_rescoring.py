"""A credit repair decision changes two records (the repaired penalty / list entry and the credit repair
record) but announces them in one records_changed, so the enterprise is rescored once; the audit entries
and the history of both records are kept."""

import pytest
from django.utils import timezone
from supervision_testkit import MANAGER_PERMS, days_ago, enterprise, person

from foodrisk.core import outbox
from foodrisk.core.models import AuditEntry
from foodrisk.core.services import audit
from foodrisk.core.testing import capture_events
from foodrisk.enterprises.models import RecordVersion
from foodrisk.indicators.services import bootstrap_profile
from foodrisk.records.models import CreditRepair, ListEntry, Penalty
from foodrisk.scoring import services as scoring
from foodrisk.scoring.models import ScoringRun
from foodrisk.supervision.services import repairs

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return person("clerk", "330102", *MANAGER_PERMS), person("chief", "330102", *MANAGER_PERMS)


@pytest.fixture
def events():
    """(kind, set of enterprise ids) of each records_changed emitted during the test."""
    with capture_events("records_changed") as captured:
        yield captured


def emitted(events):
    return [(payload["kind"], set(payload["enterprise_ids"])) for _event, payload in events]


def entries(action, obj):
    return AuditEntry.objects.filter(action=action, object_id=str(obj.pk)).count()


def versions(kind, key):
    return list(RecordVersion.objects.filter(kind=kind, natural_key=key))


def test_approving_a_penalty_repair_rescores_once(people, events, django_capture_on_commit_callbacks):
    clerk, chief = people
    bootstrap_profile("food_2016")
    e = enterprise(21, grade="", static_tier=2)
    p = Penalty.objects.create(enterprise=e, decision_no="P-once", decided_on=days_ago(400), severity="heavy",
                               violation_type="经营超过保质期的食品", fine=50000, confiscation=5000)
    scoring.run_scoring("full", timezone.localdate(), chief)
    e.refresh_from_db()
    before_grade, before_score = e.current_grade, e.current_score
    case = repairs.review(repairs.apply(e, user=clerk, commitment="本企业承诺", penalty=p), user=clerk)
    events.clear()
    outbox.drain()  # the reactions the earlier steps queued
    runs_before = ScoringRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        case = repairs.decide(case, user=chief, approve=True, reason="符合修复条件")

    assert emitted(events) == [("credit_repairs", {e.pk})]
    record = CreditRepair.objects.get(pk=case.record_id)
    # one rescoring run, and the grade reflects the repair
    assert ScoringRun.objects.count() == runs_before + 1
    assert ScoringRun.objects.latest("started_at").kind == "event"
    e.refresh_from_db()
    p.refresh_from_db()
    assert p.repaired and p.repaired_on == timezone.localdate()
    assert e.current_score < before_score
    assert "ABCD".index(e.current_grade) < "ABCD".index(before_grade), (before_grade, e.current_grade)
    # audit entries and history of both records, as a records-service write leaves them
    assert entries("records.penalty.update", p) == 1 and entries("records.creditrepair.update", record) == 1
    assert entries("supervision.repair.approve", case) == 1
    [pv] = versions("penalties", "P-once")
    assert pv.changes["repaired"] == {"before": False, "after": True} and pv.changed_by == chief
    [rv] = versions("credit_repairs", record.repair_no)
    assert rv.changes["decision"] == {"before": "pending", "after": "approved"}
    assert audit.verify().ok


def test_approving_a_list_entry_repair_emits_once(people, events, django_capture_on_commit_callbacks):
    clerk, chief = people
    e = enterprise(22)
    entry = ListEntry.objects.create(enterprise=e, entry_key="s-once", list_kind="serious", listed_on=days_ago(400))
    case = repairs.apply(e, user=clerk, commitment="承诺", list_entry=entry)
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        repairs.decide(case, user=chief, approve=True)
    assert emitted(events) == [("credit_repairs", {e.pk})]
    entry.refresh_from_db()
    assert entry.repaired and entry.removed_on == timezone.localdate()
    assert entries("records.listentry.update", entry) == 1
    assert versions("list_entries", "s-once")


def test_rejecting_emits_once(people, events, django_capture_on_commit_callbacks):
    clerk, chief = people
    e = enterprise(23)
    p = Penalty.objects.create(enterprise=e, decision_no="P-young", decided_on=days_ago(30), severity="heavy",
                               violation_type="经营超过保质期的食品", fine=1000)
    case = repairs.apply(e, user=clerk, commitment="承诺", penalty=p)
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case = repairs.decide(case, user=chief, approve=False)
    assert emitted(events) == [("credit_repairs", {e.pk})]
    p.refresh_from_db()
    assert not p.repaired and entries("records.penalty.update", p) == 0
    assert CreditRepair.objects.get(pk=case.record_id).decision == "rejected"
