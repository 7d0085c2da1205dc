"""Incremental sync keeps history: a re-import that changes a value writes one RecordVersion per changed row."""

import pytest

from foodrisk.enterprises.models import Enterprise, Licence, RecordVersion
from foodrisk.records.models import Inspection

from .conftest import ENT_HEADERS, csv_bytes, ent_row, make_uscc, run_import

INSP = ["检查编号", "统一社会信用代码", "检查日期", "检查类型", "检查机构", "检查人员", "检查结果", "不符合重点项数", "不符合一般项数", "责令整改"]
LIC = ["许可证编号", "统一社会信用代码", "许可类别", "发证日期", "有效期至", "许可状态"]


def insp(no, seq, organisation="上城所", result="符合", key_failed="0"):
    return [no, make_uscc(seq), "2025-03-01", "日常检查", organisation, "李四", result, key_failed, "0", "否"]


@pytest.mark.django_db
def test_reimport_with_one_changed_field_writes_one_version(enterprises):
    rows = [insp("JC1", 1), insp("JC2", 2), insp("JC3", 3)]
    first = run_import(csv_bytes(INSP, rows), "inspections.csv")
    assert first.accepted_new == 3 and not RecordVersion.objects.exists()  # new rows: no history

    rows[1] = insp("JC2", 2, organisation="钱塘所")
    delta = run_import(csv_bytes(INSP, rows), "inspections.csv")
    assert (delta.accepted_updated, delta.unchanged) == (1, 2)
    v = RecordVersion.objects.get()
    assert (v.kind, v.natural_key) == ("inspections", "JC2")
    assert v.changes == {"organisation": {"before": "上城所", "after": "钱塘所"}}
    record = Inspection.objects.get(inspection_no="JC2")
    assert record.organisation == "钱塘所"  # updated in place
    assert v.enterprise_id == record.enterprise_id
    assert (v.source, v.source_batch, v.source_row) == ("test", delta.pk, 2)

    again = run_import(csv_bytes(INSP, rows), "inspections.csv")  # the same file again: idempotent
    assert (again.accepted_updated, again.unchanged) == (0, 3)
    assert RecordVersion.objects.count() == 1


@pytest.mark.django_db
def test_reimport_records_several_fields_and_types(enterprises):
    rows = [insp("JC1", 1)]
    run_import(csv_bytes(INSP, rows), "inspections.csv")
    run_import(csv_bytes(INSP, [insp("JC1", 1, result="不符合", key_failed="2")]), "inspections.csv")
    v = RecordVersion.objects.get()
    assert set(v.changes) == {"result", "key_items_failed"}
    assert v.changes["key_items_failed"] == {"before": 0, "after": 2}
    assert v.changes["result"]["after"] == "fail"


@pytest.mark.django_db
def test_enterprise_and_licence_reimport_history(enterprises):
    rows = [ent_row(1, "杭州老王面馆有限责任公司"), ent_row(2, "杭州鑫民餐饮服务有限公司", address="浙江省杭州市上城区江南大道715号"),
            ent_row(3, "德正（杭州）便利店有限公司", form="食品销售", address="浙江省杭州市上城区金城路533号"),
            ent_row(4, "西湖区阿明小吃店", region="330106", address="浙江省杭州市西湖区文二路524号")]
    run_import(csv_bytes(ENT_HEADERS, rows), "enterprises.csv")
    assert not RecordVersion.objects.exists()  # unchanged
    rows[1][4] = "浙江省杭州市上城区江南大道716号"
    rows[1][3] = "王五"  # the legal representative is encrypted: the change is recorded, masked
    run_import(csv_bytes(ENT_HEADERS, rows), "enterprises.csv")
    v = RecordVersion.objects.get()
    e = Enterprise.objects.get(uscc=make_uscc(2))
    assert (v.kind, v.natural_key, v.enterprise_id) == ("enterprises", e.uscc, e.pk)
    assert v.changes == {"address": {"before": "浙江省杭州市上城区江南大道715号", "after": "浙江省杭州市上城区江南大道716号"},
                         "legal_representative": {"before": "***", "after": "***"}}
    assert "张三" not in str(v.changes) and "王五" not in str(v.changes)

    lic = [["JY23301020000001", make_uscc(1), "餐饮服务", "2021/01/01", "2031/01/01", "有效"]]
    run_import(csv_bytes(LIC, lic), "licences.csv")
    lic[0][4] = "2032/01/01"
    run_import(csv_bytes(LIC, lic), "licences.csv")
    run_import(csv_bytes(LIC, lic), "licences.csv")
    v = RecordVersion.objects.get(kind="licences")
    assert v.natural_key == "JY23301020000001" and v.enterprise_id == Licence.objects.get().enterprise_id
    assert v.changes == {"expires_on": {"before": "2031-01-01", "after": "2032-01-01"}}


@pytest.mark.django_db
def test_versions_carry_the_batch_user(enterprises, django_user_model):
    from foodrisk.ingest.services import batches

    from .conftest import IMPORT_DAY

    user = django_user_model.objects.create_user("importer")
    run_import(csv_bytes(INSP, [insp("JC1", 1)]), "inspections.csv")
    batch = batches.create_batch(user=user, source="test", kind="auto", file_name="inspections.csv",
                                  content=csv_bytes(INSP, [insp("JC1", 1, organisation="钱塘所")]), import_day=IMPORT_DAY)
    batches.start_batch(batch, user=user, wait=True)
    batch.refresh_from_db()
    assert batch.started_by_id == user.pk and batch.accepted_updated == 1
    assert RecordVersion.objects.get().changed_by == user


@pytest.mark.django_db
def test_versions_of_corrections_carry_the_corrector_not_the_batch_user(enterprises, django_user_model):
    """A quarantine fix or a confirmed review candidate is written by the person deciding: their name is on the
    audit entry, and on the history of the rows it changes (not the batch's starter's)."""
    from foodrisk.ingest.models import MatchCandidate, QuarantinedRow
    from foodrisk.ingest.services import quarantine

    from .test_pipeline import ANN, ann

    starter = django_user_model.objects.create_user("importer")
    corrector = django_user_model.objects.create_user("corrector")
    run_import(csv_bytes(INSP, [insp("JC1", 1)]), "inspections.csv")
    bad = insp("JC1", 1, organisation="钱塘所")
    bad[2] = "2025-02-30"
    batch = run_import(csv_bytes(INSP, [bad]), "inspections.csv", user=starter)
    assert batch.started_by_id == starter.pk and batch.quarantined == 1
    qrow = QuarantinedRow.objects.get(batch=batch)
    assert quarantine.resubmit(qrow, {**qrow.raw_data, "检查日期": "2025-03-01"}, user=corrector).status == "updated"
    assert RecordVersion.objects.get(kind="inspections").changed_by == corrector

    rows = [ann("杭州鑫民餐饮服务公司", "浙江省杭州市上城区江南大道", product="米饭")]  # a grey-zone match
    quarantine.confirm_candidate(MatchCandidate.objects.get(batch=run_import(csv_bytes(ANN, rows), "ann.csv")))
    rows[0][7] = "粮食加工品"  # the category: not part of the derived report number, so the same record
    again = run_import(csv_bytes(ANN, rows), "ann.csv", user=starter)
    outcome = quarantine.confirm_candidate(MatchCandidate.objects.get(batch=again), user=corrector)
    assert outcome.status == "updated"
    v = RecordVersion.objects.get(kind="sampling_tests")
    assert v.changes["category"]["after"] == "粮食加工品" and v.changed_by == corrector


@pytest.fixture
def read_once(monkeypatch):
    """A chunk's stored rows are read once (issue 11 item 4): the pipeline reads them, locked, to compare, and hands
    them to the history as its before; the history reading them again fails the test."""
    from foodrisk.enterprises import history

    def again(*args, **kwargs):
        raise AssertionError("the history read the chunk's stored rows again")

    monkeypatch.setattr(history, "_stored", again)


@pytest.mark.django_db
def test_record_history_from_the_pipelines_single_read(enterprises, read_once):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run_import(csv_bytes(INSP, [insp("JC1", 1), insp("JC2", 2)]), "inspections.csv")
    with CaptureQueriesContext(connection) as queries:
        delta = run_import(csv_bytes(INSP, [insp("JC1", 1, organisation="钱塘所"), insp("JC2", 2)]), "inspections.csv")
    assert (delta.accepted_updated, delta.unchanged) == (1, 1)
    assert RecordVersion.objects.get().changes == {"organisation": {"before": "上城所", "after": "钱塘所"}}
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].lstrip().upper().startswith("SELECT") and 'FROM "records_inspection"' in q["sql"]]
    assert len(reads) == 1, reads


@pytest.mark.django_db
def test_enterprise_and_licence_history_from_the_pipelines_single_read(enterprises, read_once):
    test_enterprise_and_licence_reimport_history(enterprises)
