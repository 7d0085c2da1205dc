import pytest

from foodrisk.core.models import AuditEntry
from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.ingest.models import MatchCandidate, QualitySnapshot, QuarantinedRow
from foodrisk.ingest.services import IngestError, quarantine, workbooks
from foodrisk.records.models import Inspection, SamplingTest

from .conftest import ENT_HEADERS, assert_counts, csv_bytes, ent_row, make_uscc, run_import

INSP = ["检查编号", "统一社会信用代码", "检查日期", "检查类型", "检查机构", "检查人员", "检查结果", "不符合重点项数", "不符合一般项数", "责令整改"]
ANN = ["被抽样单位名称", "被抽样单位地址", "食品名称", "规格型号", "商标", "生产日期/批号", "不合格项目║检验结果║标准值", "分类", "任务来源",
       "公告号"]


def insp(no, seq, day="2025-03-01", result="符合"):
    return [no, make_uscc(seq), day, "日常检查", "上城所", "李四", result, "0", "0", "否"]


def ann(name, address="", product="酱油", failed=""):
    return [name, address, product, "500g", "", "2025-01-02", failed, "调味品", "国抽", "2025年第1号"]


@pytest.mark.django_db
def test_enterprises_import_and_reimport_is_idempotent(enterprises):
    assert Enterprise.objects.count() == 4
    e = Enterprise.objects.get(uscc=make_uscc(3))
    assert e.name == "德正(杭州)便利店有限公司" and e.region_id == "330102" and e.static_tier == 2
    assert e.legal_representative == "张三" and e.name_initials
    rows = [ent_row(1, "杭州老王面馆有限责任公司"), ent_row(2, "杭州鑫民餐饮服务有限公司", address="浙江省杭州市上城区江南大道715号"),
            ent_row(3, "德正（杭州）便利店有限公司", form="食品销售", address="浙江省杭州市上城区金城路533号"),
            ent_row(4, "西湖区阿明小吃店", region="330106", address="浙江省杭州市西湖区文二路524号")]
    again = run_import(csv_bytes(ENT_HEADERS, rows), "enterprises.csv")
    assert (again.unchanged, again.accepted_new, again.accepted_updated) == (4, 0, 0)
    assert_counts(again)
    # a renamed enterprise keeps its former name
    rows[0][1] = "杭州老王面馆（上城）有限公司"
    renamed = run_import(csv_bytes(ENT_HEADERS, rows), "enterprises.csv")
    assert (renamed.accepted_updated, renamed.unchanged) == (1, 3)
    e1 = Enterprise.objects.get(uscc=make_uscc(1))
    assert e1.name == "杭州老王面馆(上城)有限公司" and "杭州老王面馆有限责任公司" in e1.former_names


def test_a_file_without_a_column_never_erases_what_another_delivered(enterprises):
    """A second system's enterprise file lacks 静态风险等级, 重点监管, 食品类别 and 成立日期: the update takes its name
    and form and keeps the rest as the first system delivered it (a file's missing column is not a blank)."""
    e = Enterprise.objects.get(uscc=make_uscc(3))
    kept = {f: getattr(e, f) for f in ("static_tier", "key_supervision", "food_categories", "established_on",
                                       "scale", "legal_representative")}
    assert kept["static_tier"] == 2 and kept["food_categories"]
    headers = ["统一社会信用代码", "企业名称", "行政区划代码", "主体业态"]
    batch = run_import(csv_bytes(headers, [[make_uscc(3), "德正便利店有限公司", "330102", "食品销售"]]), "other.csv")
    assert batch.accepted_updated == 1, batch.report
    e.refresh_from_db()
    assert e.name == "德正便利店有限公司" and {f: getattr(e, f) for f in kept} == kept


@pytest.mark.django_db
def test_records_counts_duplicates_and_reimport(enterprises):
    rows = [insp("JC1", 1), insp("JC2", 2, result="不符合"), insp("JC1", 1),  # duplicate of row 1
            insp("JC3", 99),  # valid USCC, no such enterprise
            insp("JC4", 1, day="2027-01-01"), ["", "", "", "", "", "", "", "", "", ""]]  # future date, blank row
    data = csv_bytes(INSP, rows)
    batch = run_import(data, "inspections.csv")
    assert batch.kind == "inspections"
    assert batch.rows_read == 5
    assert (batch.accepted_new, batch.merged_duplicates, batch.quarantined) == (2, 1, 2)
    assert_counts(batch)
    reasons = dict(QuarantinedRow.objects.filter(batch=batch).values_list("row_no", "reasons"))
    assert reasons == {4: ["entity_unknown:uscc"], 5: ["date_future:inspected_on"]}
    assert Inspection.objects.get(inspection_no="JC2").result == "fail"
    again = run_import(data, "inspections.csv")
    assert (again.accepted_new, again.accepted_updated, again.unchanged, again.merged_duplicates) == (0, 0, 2, 1)
    assert_counts(again)
    assert Inspection.objects.count() == 2
    snap = QualitySnapshot.objects.get(batch=batch)
    assert snap.field_stats["inspected_on"]["failed"] == 1 and snap.field_stats["uscc"]["failed"] == 1
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"ingest.batch.start", "ingest.batch.finish", "records.inspections.upsert",
            "ingest.quarantine.create"} <= actions


@pytest.mark.django_db
def test_licences_link_by_uscc(enterprises):
    headers = ["许可证编号", "统一社会信用代码", "许可类别", "发证日期", "有效期至", "许可状态"]
    batch = run_import(csv_bytes(headers, [["JY23301020000001", make_uscc(1), "餐饮服务", "2021/01/01", "2031/01/01", "有效"]]),
                       "licences.csv")
    assert batch.accepted_new == 1
    lic = Licence.objects.get()
    assert lic.enterprise.uscc == make_uscc(1) and lic.kind == "JY"


@pytest.mark.django_db
def test_announcement_resolution_exact_variant_grey_and_none(enterprises):
    rows = [ann("杭州老王面馆有限公司", "浙江省杭州市上城区解放路1号"),  # 有限责任公司 → 有限公司 variant
            ann("德正(杭州)便利店 有限责任公司", product="饼干"),  # brackets, space, suffix
            ann("杭州鑫民餐饮服务公司", "浙江省杭州市上城区江南大道", product="米饭"),  # grey zone
            ann("完全不相干的公司名称", "某地", product="面条"),  # no match
            ann("杭州老王面馆有限公司", "浙江省杭州市上城区解放路1号", product="", failed="")]  # product missing
    batch = run_import(csv_bytes(ANN, rows), "announcement.csv")
    assert batch.profile.code == "samr_announcement"
    assert (batch.accepted_new, batch.in_review, batch.quarantined) == (2, 1, 2)
    assert_counts(batch)
    assert batch.report["notes"]["linked_by_name"] == 2
    assert batch.report["notes"]["name_variant"] == 2
    tests = SamplingTest.objects.order_by("source_row")
    assert [t.enterprise.uscc for t in tests] == [make_uscc(1), make_uscc(3)]
    assert tests[0].report_no.startswith("ANN-") and tests[0].result == "pass" and tests[0].level == "national"
    candidate = MatchCandidate.objects.get(batch=batch)
    assert candidate.enterprise.uscc == make_uscc(2) and 0.75 <= candidate.score < 0.92
    reasons = dict(QuarantinedRow.objects.filter(batch=batch).values_list("row_no", "reasons"))
    assert reasons[4] == ["entity_unresolved:enterprise_name"]
    assert reasons[5] == ["required_missing:product"]

    quarantine.confirm_candidate(candidate)
    batch.refresh_from_db()
    assert (batch.accepted_new, batch.in_review) == (3, 0)
    assert_counts(batch)
    assert SamplingTest.objects.filter(enterprise__uscc=make_uscc(2), product="米饭").exists()
    # the same announcement again: unchanged, the grey-zone row waits for review again
    again = run_import(csv_bytes(ANN, rows), "announcement.csv")
    assert (again.unchanged, again.in_review, again.quarantined) == (2, 1, 2)
    other = MatchCandidate.objects.get(batch=again)
    qrow = quarantine.reject_candidate(other, note="not the same shop")
    again.refresh_from_db()
    assert (again.in_review, again.quarantined) == (0, 3)
    assert qrow.reasons == ["entity_unresolved:enterprise_name"]
    assert_counts(again)


@pytest.mark.django_db
def test_quarantine_fix_resubmit_and_discard(enterprises):
    rows = [insp("JC1", 1, day="2025-02-30"), insp("JC2", 2, result="良好")]
    batch = run_import(csv_bytes(INSP, rows), "inspections.csv")
    assert batch.quarantined == 2
    q1, q2 = QuarantinedRow.objects.filter(batch=batch).order_by("row_no")
    still = quarantine.resubmit(q1, {**q1.raw_data, "检查日期": "2025-02-31"})
    assert still.status == "quarantined"
    q1.refresh_from_db()
    assert q1.status == "open" and q1.reasons == ["date_invalid:inspected_on"]
    ok = quarantine.resubmit(q1, {**q1.raw_data, "检查日期": "2025-02-28"})
    assert ok.status == "new"
    q1.refresh_from_db()
    batch.refresh_from_db()
    assert q1.status == "fixed" and batch.quarantined == 1 and batch.accepted_new == 1
    assert_counts(batch)
    quarantine.discard(q2, "duplicate of a paper record")
    q2.refresh_from_db()
    assert q2.status == "discarded"
    with pytest.raises(IngestError):
        quarantine.resubmit(q2, q2.raw_data)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"ingest.quarantine.resubmit", "ingest.quarantine.resubmit_failed", "ingest.quarantine.discard"} <= actions


@pytest.mark.django_db
def test_quarantine_workbook_round_trip(enterprises):
    rows = [insp("JC1", 1, day="2025-02-30"), insp("JC2", 2, result="良好"), insp("JC3", 3, result="其它")]
    batch = run_import(csv_bytes(INSP, rows), "inspections.csv")
    content = workbooks.quarantine_xlsx(QuarantinedRow.objects.filter(batch=batch).order_by("row_no"))
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb.active
    headers = [c.value for c in ws[1]]
    assert headers[:2] == [workbooks.QUARANTINE_ID_HEADER, workbooks.REASONS_HEADER]
    assert "检查日期：不是有效日期" in ws.cell(2, 2).value
    ws.cell(2, headers.index("检查日期") + 1).value = "2025-02-28"
    ws.cell(3, headers.index("检查结果") + 1).value = "基本符合"
    buf = io.BytesIO()
    wb.save(buf)
    result = workbooks.resubmit_workbook(buf.getvalue(), "fixed.xlsx", QuarantinedRow.objects.all())
    assert result == {"fixed": 2, "still_failing": 1, "skipped": 0}
    batch.refresh_from_db()
    assert (batch.accepted_new, batch.quarantined) == (2, 1)
    assert Inspection.objects.get(inspection_no="JC2").result == "basic"


@pytest.mark.django_db
def test_resubmitting_many_rows_costs_queries_per_batch_not_per_row(enterprises):
    """A corrected workbook of thousands of rows must not run a dozen queries a row: one pipeline pass per
    batch. Still an audit entry per row, the chain intact, and the batch counts adding up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodrisk.core.services import audit

    rows = [insp(f"JC{n}", 1 + n % 3, result="良好") for n in range(44)]  # 良好 is no inspection result
    batch = run_import(csv_bytes(INSP, rows), "inspections.csv")
    assert batch.quarantined == 44
    qrows = list(QuarantinedRow.objects.filter(batch=batch).select_related("batch", "batch__source"))

    def fixed(q):
        return {**q.raw_data, "检查结果": "基本符合"}

    audited = AuditEntry.objects.filter(action="ingest.quarantine.resubmit").count()
    with CaptureQueriesContext(connection) as few:
        outcomes = quarantine.resubmit_many([(q, fixed(q)) for q in qrows[:4]])
    with CaptureQueriesContext(connection) as many:
        outcomes += quarantine.resubmit_many([(q, fixed(q)) for q in qrows[4:40]]
                                           + [(q, q.raw_data) for q in qrows[40:]])  # 4 still failing
    assert len(many) <= len(few) + 2, [q["sql"][:120] for q in many.captured_queries]
    assert [o.status for o in outcomes] == ["new"] * 40 + ["quarantined"] * 4
    assert Inspection.objects.filter(inspection_no__startswith="JC", result="basic").count() == 40
    batch.refresh_from_db()
    assert (batch.accepted_new, batch.quarantined) == (40, 4)
    assert_counts(batch)
    assert QuarantinedRow.objects.filter(batch=batch, status="fixed").count() == 40
    assert AuditEntry.objects.filter(action="ingest.quarantine.resubmit").count() == audited + 40
    assert AuditEntry.objects.filter(action="ingest.quarantine.resubmit_failed").count() == 4
    assert audit.verify().ok
    with pytest.raises(IngestError):  # a row already fixed is not resubmitted again
        quarantine.resubmit_many([(qrows[0], fixed(qrows[0]))])


@pytest.mark.django_db
def test_gbk_csv_and_xlsx_files_import(enterprises):
    from foodrisk.core.spreadsheets import xlsx_bytes

    gbk = run_import(csv_bytes(INSP, [insp("JC1", 1)], "gbk"), "inspections.csv")
    assert gbk.accepted_new == 1 and gbk.report["encoding"] == "gbk"
    xl = run_import(xlsx_bytes([INSP, insp("JC2", 2)]), "inspections.xlsx")
    assert xl.accepted_new == 1 and xl.report["format"] == "xlsx"


@pytest.mark.django_db
def test_scoped_batch_cannot_touch_other_regions(enterprises, regions):
    from foodrisk.core.models import Organisation, User

    org = Organisation.objects.create(code="X", name="上城区局", region=regions["330102"])
    user = User.objects.create_user("district", password="x-Pass-2026!x", organisation=org)
    rows = [ent_row(10, "上城新店"), ent_row(11, "西湖新店", region="330106")]
    batch = run_import(csv_bytes(ENT_HEADERS, rows), "enterprises.csv", user=user)
    assert batch.region_id == "330102"
    assert batch.accepted_new == 1
    assert QuarantinedRow.objects.get(batch=batch).reasons == ["region_invalid:region_code"]
    # a record of a 西湖区 enterprise is unknown to a 上城区 batch
    recs = run_import(csv_bytes(INSP, [insp("JC9", 4)]), "inspections.csv", user=user)
    assert QuarantinedRow.objects.get(batch=recs).reasons == ["entity_unknown:uscc"]


@pytest.mark.django_db
def test_a_large_announcement_batch_is_linked_by_splink(enterprises):
    """Above the size threshold (a system parameter) the import hands every name-only pair to splink at once."""
    from foodrisk.core.models import Parameter

    Parameter.objects.create(key="entity_splink_min_pairs", name="splink", value_type="int", value=1)
    rows = [ann("杭州老王面馆有限责任公司 ", "浙江省杭州市上城区解放路1号"),  # exact: not counted, links as before
            ann("德正(杭州)便利店", "浙江省杭州市上城区金城路533号", product="饼干"),  # suffix dropped: fuzzy
            ann("完全不相干的公司名称", "某地", product="面条")]
    batch = run_import(csv_bytes(ANN, rows), "announcement.csv")
    assert batch.report["linkage"] == "splink"
    assert_counts(batch)
    linked = dict(SamplingTest.objects.values_list("product", "enterprise__uscc"))
    assert linked == {"酱油": make_uscc(1), "饼干": make_uscc(3)}
    reasons = dict(QuarantinedRow.objects.filter(batch=batch).values_list("row_no", "reasons"))
    assert reasons == {3: ["entity_unresolved:enterprise_name"]}
    Parameter.objects.filter(key="entity_splink_min_pairs").update(value=5000)
    small = run_import(csv_bytes(ANN, rows[1:2]), "announcement-small.csv")
    assert small.report["linkage"] == "rapidfuzz"
    # row by row, rapidfuzz does not link the name without its company form: it is quarantined, not lost
    assert small.report["reasons"] == {"entity_unresolved:enterprise_name": 1}
    assert_counts(small)


@pytest.mark.django_db
def test_import_command_takes_the_region_by_code(enterprises, tmp_path, capsys):
    from django.core.management import call_command

    from foodrisk.ingest.models import Batch

    from .conftest import IMPORT_DAY

    path = tmp_path / "inspections.csv"
    path.write_bytes(csv_bytes(INSP, [insp("JC1", 1)]))
    with pytest.raises(SystemExit):
        call_command("import", str(path), source="test", region="999999", wait=True)
    assert capsys.readouterr().err.strip() == "没有该行政区划：999999"
    call_command("import", str(path), source="test", region="330102", wait=True, import_day=IMPORT_DAY)
    batch = Batch.objects.get(file_name="inspections.csv")
    assert batch.region_id == "330102" and batch.accepted_new == 1
