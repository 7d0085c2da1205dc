"""A quarantined row or review candidate keeps the file's cells; the legal representative's cell is kept like
the field itself (issue 12): encrypted in the database, masked on pages, in the API, in the correction workbook
and in audit snapshots; a masked cell sent back unchanged keeps the stored value."""

import io
import json

import openpyxl
import pytest
from django.db import connection

from foodrisk.core.crypto import is_sealed, seal, unseal
from foodrisk.core.models import AuditEntry, User
from foodrisk.enterprises.models import Enterprise
from foodrisk.ingest.models import QuarantinedRow
from foodrisk.ingest.services import quarantine, workbooks

from .conftest import ENT_HEADERS, csv_bytes, ent_row, run_import

pytestmark = pytest.mark.django_db

LEGAL = "法定代表人"


@pytest.fixture
def quarantined(regions):
    row = ent_row(1, "上城老王面馆")
    row[3], row[5] = "欧阳锋", "330167"  # a legal representative, and a region outside the city: quarantined
    batch = run_import(csv_bytes(ENT_HEADERS, [row]), "e.csv")
    assert batch.quarantined == 1
    return QuarantinedRow.objects.get()


def stored_text(qrow):
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_data, corrected_data FROM ingest_quarantinedrow WHERE id = %s", [qrow.pk])
        return json.dumps([str(v) for v in cursor.fetchone()], ensure_ascii=False)


def test_the_cell_is_sealed_in_the_database(quarantined):
    assert is_sealed(quarantined.raw_data[LEGAL]) and unseal(quarantined.raw_data[LEGAL]) == "欧阳锋"
    assert "欧阳锋" not in stored_text(quarantined)
    assert quarantined.raw_data["企业名称"] == "上城老王面馆"  # other cells as read


def test_masked_on_the_page_in_the_api_and_in_the_workbook(quarantined, client):
    client.force_login(User.objects.create_superuser("root", password="x"))
    page = client.get(quarantined.get_absolute_url()).content.decode()
    assert "欧阳锋" not in page and "欧**" in page
    api = client.get(f"/api/ingest/quarantine/{quarantined.pk}/").json()
    assert api["raw_data"][LEGAL] == "欧**"
    ws = openpyxl.load_workbook(io.BytesIO(workbooks.quarantine_xlsx([quarantined]))).active
    cells = [c.value for row in ws.iter_rows() for c in row]
    assert "欧**" in cells and "欧阳锋" not in cells


def test_a_workbook_sent_back_keeps_the_masked_cell_and_takes_a_new_one(quarantined):
    ws_bytes = workbooks.quarantine_xlsx([quarantined])
    wb = openpyxl.load_workbook(io.BytesIO(ws_bytes))
    ws = wb.active
    headers = [c.value for c in ws[1]]
    ws.cell(2, headers.index("行政区划代码") + 1).value = "330102"
    buf = io.BytesIO()
    wb.save(buf)
    result = workbooks.resubmit_workbook(buf.getvalue(), "fixed.xlsx", QuarantinedRow.objects.all())
    assert result["fixed"] == 1
    assert Enterprise.objects.get().legal_representative == "欧阳锋"  # "欧**" sent back: the stored value
    quarantined.refresh_from_db()
    assert is_sealed(quarantined.corrected_data[LEGAL]) and "欧阳锋" not in stored_text(quarantined)


def test_a_retyped_cell_is_taken_as_typed(quarantined):
    corrected = {**quarantine.shown(quarantined.raw_data), "行政区划代码": "330102", LEGAL: "黄药师"}
    quarantine.resubmit(quarantined, corrected)
    assert Enterprise.objects.get().legal_representative == "黄药师"


def test_audit_snapshots_hold_no_clear_value(quarantined):
    quarantine.resubmit(quarantined, {**quarantine.shown(quarantined.raw_data), "企业名称": ""})  # still failing
    quarantined.refresh_from_db()
    quarantine.discard(quarantined, "重复提交")
    entries = AuditEntry.objects.filter(action__startswith="ingest.quarantine.")
    assert {"ingest.quarantine.resubmit_failed", "ingest.quarantine.discard"} <= {e.action for e in entries}
    text = json.dumps([[e.before, e.after] for e in entries], ensure_ascii=False)
    assert "欧阳锋" not in text and '"法定代表人": "***"' in text


def test_rows_stored_before_are_sealed_by_the_migration(quarantined):
    import importlib

    from django.apps import apps

    QuarantinedRow.objects.filter(pk=quarantined.pk).update(
        raw_data={**quarantined.raw_data, LEGAL: "欧阳锋"}, corrected_data={LEGAL: "欧阳锋", "企业名称": "x"})
    migration = importlib.import_module("foodrisk.ingest.migrations.0004_seal_sensitive_cells")
    migration.seal_cells(apps, None)
    quarantined.refresh_from_db()
    assert unseal(quarantined.raw_data[LEGAL]) == "欧阳锋" and unseal(quarantined.corrected_data[LEGAL]) == "欧阳锋"
    assert "欧阳锋" not in stored_text(quarantined)
    migration.seal_cells(apps, None)  # again: sealed cells stay as they are
    quarantined.refresh_from_db()
    assert unseal(quarantined.raw_data[LEGAL]) == "欧阳锋"


def test_seal_helpers():
    sealed = seal("张三丰")
    assert is_sealed(sealed) and unseal(sealed) == "张三丰" and seal("") == ""
    assert not is_sealed({"sealed": "x", "other": 1}) and unseal("plain") == "plain"
