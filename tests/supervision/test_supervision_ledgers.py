"""Ledgers (台账) export through the one export path (core.services.exports): no second copy."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook
from supervision_testkit import MANAGER_PERMS, enterprise, inspectors, org, person

from foodrisk.core.models import AuditEntry, Job
from foodrisk.core.services import exports, jobs
from foodrisk.supervision.services import tasks

pytestmark = pytest.mark.django_db
LEDGER = "supervision:task_list"


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


def sheet(content):
    return [[c.value for c in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]


def job_sheet(job_id):
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded", job.error
    with job.result_file.open("rb") as f:
        return sheet(f.read())


def test_ledger_export_masks_the_legal_representative(world):
    clerk, _chief = world
    req = exports.request_export(LEDGER, user=clerk)
    assert req.status == "approved" and req.job is None
    _name, content = exports.produce(req)
    rows = sheet(content)
    assert rows[0][5] == "法定代表人"  # the ledger's own layout, not the page table
    flat = [str(v) for row in rows for v in row]
    assert "监管测试企业1" in flat and "监管测试企业2" not in flat
    assert "张*" in flat and "张三" not in flat


def test_sensitive_ledger_export_needs_a_second_person(world):
    clerk, chief = world
    req = exports.request_export(LEDGER, user=clerk, include_sensitive=True, reason="年度台账报送")
    assert req.status == "pending" and req.job is None
    with pytest.raises(PermissionDenied):
        exports.approve_export(req, user=clerk)
    req = exports.approve_export(req, user=chief, note="同意")
    assert req.job.created_by == clerk
    jobs.execute(req.job.pk)
    flat = [str(v) for row in job_sheet(req.job.pk) for v in row]
    assert "张三" in flat and "李四" not in flat
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"core.export.request", "core.export.approve", "export"} <= actions


def test_a_user_without_export_permission_cannot_export_a_ledger(world):
    handler = person("handler", "330102", "supervision.view_task")
    with pytest.raises(PermissionDenied):
        exports.request_export(LEDGER, user=handler)
