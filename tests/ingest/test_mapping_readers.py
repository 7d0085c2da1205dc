import datetime as dt

import pytest

from foodrisk.ingest import mapping, readers

from .conftest import ENT_HEADERS, csv_bytes, ent_row

ANNOUNCEMENT = ["标称生产企业名称", "标称生产企业地址", "被抽样单位名称", "被抽样单位地址", "食品名称", "规格型号", "商标", "生产日期/批号",
                "不合格项目║检验结果║标准值", "分类", "任务来源", "检验机构", "公告号"]


@pytest.mark.parametrize("kind", mapping.KINDS)
def test_template_headers_detect_their_kind(kind):
    headers = [h for _f, h, _t, _r in mapping.TEMPLATE_FIELDS[kind]]
    assert mapping.detect_profile(headers) == f"template_{kind}"


def test_samr_announcement_profile_is_detected_and_maps():
    assert mapping.detect_profile(ANNOUNCEMENT) == "samr_announcement"
    profile = mapping.BUILTIN_PROFILES["samr_announcement"]
    assert profile["headers"]["被抽样单位名称"] == "enterprise_name"
    assert profile["headers"]["任务来源"] == "level"
    assert profile["headers"]["标称生产企业名称"] == "producer_name"


def test_english_and_alias_headers():
    headers = ["uscc", "name", "region_code", "business_form", "经营场所"]
    assert mapping.detect_profile(headers) == "template_enterprises"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(encoding):
    data = csv_bytes(ENT_HEADERS, [ent_row(1, "杭州老王面馆有限公司")], encoding)
    table = readers.read_bytes(data, "x.csv")
    assert table.headers == ENT_HEADERS
    assert table.rows[0][1] == "杭州老王面馆有限公司"
    assert table.encoding == {"utf-8-sig": "utf-8", "gb18030": "gbk"}.get(encoding, encoding)


def test_xlsx_and_json():
    from foodrisk.core.spreadsheets import xlsx_bytes

    data = xlsx_bytes([ENT_HEADERS, ent_row(1, "杭州老王面馆有限公司")])
    table = readers.read_bytes(data, "x.xlsx")
    assert table.fmt == "xlsx" and table.headers == ENT_HEADERS and table.rows[0][1] == "杭州老王面馆有限公司"
    table = readers.read_bytes('[{"uscc": "1", "name": "甲"}]'.encode(), "x.json")
    assert table.headers == ["uscc", "name"] and table.rows == [["1", "甲"]]


def test_xlsx_dates_are_read_as_dates():
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["检查日期"])
    wb.active.append([dt.datetime(2024, 3, 5)])
    buf = io.BytesIO()
    wb.save(buf)
    table = readers.read_bytes(buf.getvalue(), "x.xlsx")
    from foodrisk.ingest.normalisers import parse_date

    assert parse_date(table.rows[0][0]) == dt.date(2024, 3, 5)
