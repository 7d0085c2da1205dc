import datetime as dt

import pytest

from foodrisk.ingest import validators as V
from foodrisk.ingest.models import Batch, Source
from foodrisk.ingest.services.pipeline import Pipeline

from .conftest import IMPORT_DAY, make_uscc

VALID = ["91110000600037341L", "121200004013590816", "91310115MA1K3BTP2B", "91620105L015101280", "9144030071526726XG",
         "91340600MA2PBM9HXD", "92340602MA2PBMEM24", "91230184MA1BUFLT44", "92371000MA3MXH0E3W"]


@pytest.mark.parametrize("code", VALID)
def test_regulation_examples_pass_both_checks(code):
    assert V.check_uscc(code) is None
    assert V.org_code_valid(code[8:17])


@pytest.mark.parametrize(("code", "reason"), [
    ("91110000600037341N", "uscc_checksum"),
    ("A1110000600037341L", "uscc_format"),
    ("9111000060003IOZSV", "uscc_format"),
    ("91110000600037341", "uscc_format"),
])
def test_regulation_invalid_examples(code, reason):
    assert V.check_uscc(code) == reason


@pytest.mark.parametrize("code", ["60003734²", "６０００３７３４1", "6000373４1"])
def test_an_organisation_code_with_non_ascii_digits_is_invalid_not_an_error(code):
    assert V.org_code_valid(code) is False


def test_org_code_checksum_is_switchable():
    good = make_uscc(1234)
    body = good[:16] + ("0" if good[16] != "0" else "1")
    from stdnum.cn import uscc

    bad = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(bad)  # stdnum alone accepts it
    assert V.check_uscc(bad) == "org_code_checksum"
    assert V.check_uscc(bad, False) is None


def test_licence_format():
    assert V.check_licence_no("SC11141010800385") is None
    assert V.check_licence_no("JY23301060014652") is None
    assert V.check_licence_no("QS330106001465") == "licence_format"
    assert V.check_licence_no("SC1114101080038") == "licence_format"


def test_region_check():
    known = {"330102", "330102001"}
    assert V.check_region("330102", known) is None
    assert V.check_region("330102001", known) is None
    assert V.check_region("330167", known) == "region_invalid"
    assert V.check_region("33A102", known) == "region_invalid"


@pytest.fixture
def pipeline_for(regions):
    source = Source.objects.create(name="t")

    def make(kind):
        return Pipeline(Batch(source=source, kind=kind, import_day=IMPORT_DAY))

    return make


def _clean(pipe, data):
    headers = list(data)
    return pipe.clean([data[h] for h in headers], pipe.cell_plan(pipe.profile.columns(headers)))


def test_every_reason_code_on_rows(pipeline_for):
    ent = pipeline_for("enterprises")
    values, reasons = _clean(ent, {"统一社会信用代码": make_uscc(1), "企业名称": "", "行政区划代码": "330167",
                                   "主体业态": "良好", "成立日期": "2019-02-30", "规模": "小型"})
    assert set(reasons) == {"required_missing:name", "region_invalid:region_code", "enum_invalid:business_form",
                            "date_invalid:established_on"}
    lic = pipeline_for("licences")
    _, reasons = _clean(lic, {"许可证编号": "JY2330106001465", "统一社会信用代码": "91110000600037341N",
                              "发证日期": "2026年7月2日", "有效期至": "2026/07/01"})
    assert set(reasons) == {"licence_format:licence_no", "uscc_checksum:uscc", "date_future:issued_on",
                            "date_order:expires_on"}
    pen = pipeline_for("penalties")
    values, reasons = _clean(pen, {"处罚决定书文号": "杭上市监处罚〔2025〕1号", "统一社会信用代码": "A1110000600037341L",
                                   "处罚决定日期": "2025-01-01", "违法行为类型": "经营超过保质期的食品", "情节严重程度": "一般",
                                   "罚款金额(元)": "-100.00", "没收金额(元)": "1O0.00", "吊销许可证": "否"})
    assert set(reasons) == {"uscc_format:uscc", "amount_invalid:fine", "amount_invalid:confiscation"}
    com = pipeline_for("complaints")
    values, reasons = _clean(com, {"投诉编号": "TS1", "统一社会信用代码": make_uscc(2), "登记日期": "2026-01-05",
                                   "来源渠道": "12345", "是否属实": "不详"})
    assert reasons == ["enum_invalid:verified"]
    assert values["received_on"] == dt.date(2026, 1, 5) and values["channel"] == "12345"


def test_all_reasons_on_one_row_are_kept(pipeline_for):
    pipe = pipeline_for("inspections")
    _, reasons = _clean(pipe, {"检查编号": "", "统一社会信用代码": "91110000600037341N", "检查日期": "2026-13-01",
                               "检查类型": "其它", "检查结果": ""})
    assert set(reasons) == {"required_missing:inspection_no", "uscc_checksum:uscc", "date_invalid:inspected_on",
                            "enum_invalid:kind", "required_missing:result"}


def test_values_are_mapped(pipeline_for):
    pipe = pipeline_for("enterprises")
    values, reasons = _clean(pipe, {"统一社会信用代码": " " + make_uscc(3).lower() + " ", "企业名称": "杭州　老王面馆（上城）",
                                    "行政区划代码": "330102", "主体业态": "餐饮服务", "静态风险等级": "Ⅳ",
                                    "重点监管": "是", "食品类别": "热食类；冷食类", "成立日期": "2019年5月1日"})
    assert reasons == []
    assert values["uscc"] == make_uscc(3)
    assert values["name"] == "杭州老王面馆(上城)"
    assert values["static_tier"] == 4 and values["key_supervision"] is True
    assert values["food_categories"] == ["热食类", "冷食类"]
    assert values["established_on"] == dt.date(2019, 5, 1)
