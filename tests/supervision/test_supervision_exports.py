import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook
from supervision_testkit import MANAGER_PERMS, enterprise, inspectors, org, person

from foodrisk.core.models import AuditEntry, Job
from foodrisk.core.services import jobs
from foodrisk.supervision.models import ExportRequest
from foodrisk.supervision.services import exports, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    people = inspectors(1)
    clerk = person("clerk", "330102", *MANAGER_PERMS)
    chief = person("chief", "330102", *MANAGER_PERMS)
    mine = enterprise(1, legal_representative="张三")
    theirs = enterprise(2, region_code="330106", legal_representative="李四")
    tasks.create_task(mine, "interview", user=clerk, organisation=org("330102"), assignee=people[0])
    west = person("westboss", "330106", *MANAGER_PERMS)
    tasks.create_task(theirs, "interview", user=west, organisation=org("330106"))
    return clerk, chief


def sheet(job):
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    with job.result_file.open("rb") as f:
        return [[c.value for c in row] for row in load_workbook(f).active.iter_rows()]


def test_sensitive_export_needs_a_second_person(world):
    clerk, chief = world
    req = exports.request_export("tasks", user=clerk, include_sensitive=True, reason="年度台账报送")
    assert req.status == "pending" and req.job is None and not Job.objects.exists()
    with pytest.raises(PermissionDenied):
        exports.approve_export(req, user=clerk)
    req = exports.approve_export(req, user=chief, note="同意")
    assert req.status == "approved" and req.approved_by == chief and req.job.created_by == clerk
    jobs.execute(req.job.pk)
    rows = sheet(req.job)
    flat = [str(v) for row in rows for v in row]
    assert "张三" in flat and "李四" not in flat  # the requester's scope, sensitive field included
    assert len(rows) == 2
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert {"supervision.export.request", "supervision.export.approve", "supervision.export.run"} <= set(actions)


def test_sensitive_export_rules(world):
    clerk, chief = world
    with pytest.raises(ValidationError):
        exports.request_export("tasks", user=clerk, include_sensitive=True)  # no purpose given
    plain = person("plain", "330102", "supervision.add_exportrequest", "supervision.view_task")
    with pytest.raises(PermissionDenied):
        exports.request_export("tasks", user=plain, include_sensitive=True, reason="x")
    req = exports.request_export("tasks", user=clerk, include_sensitive=True, reason="x")
    with pytest.raises(ValidationError):
        exports.reject_export(req, user=chief, note="")
    req = exports.reject_export(req, user=chief, note="用途不明")
    assert req.status == "rejected" and req.job is None
    with pytest.raises(ValidationError):
        exports.approve_export(req, user=chief)
    # a job forged for an unapproved request refuses to run
    forged = ExportRequest.objects.create(ledger="tasks", include_sensitive=True, requested_by=clerk,
                                          status="approved")
    job = jobs.start("supervision.ledger_export", user=clerk, params={"request": forged.pk})
    assert jobs.execute(job.pk) == "failed"


def test_plain_export_runs_at_once_without_sensitive_fields(world):
    clerk, _chief = world
    req = exports.request_export("tasks", user=clerk)
    assert req.status == "approved" and req.job is not None and req.approved_by is None
    jobs.execute(req.job.pk)
    flat = [str(v) for row in sheet(req.job) for v in row]
    assert "张三" not in flat and "监管测试企业1" in flat


def test_repairs_and_alerts_ledgers(world):
    clerk, _chief = world
    rows = exports.ledger_rows("repairs", clerk)
    assert len(rows) == 1  # header only
    if exports.alerts_installed():
        clerk = person("alertclerk", "330102", "alerts.view_alert")
        assert len(exports.ledger_rows("alerts", clerk)) == 1
