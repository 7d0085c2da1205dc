"""Writes enterprises.xls and enterprises.ods (see README.md). Needs xlwt: pip install --target /tmp/xl xlwt."""

import datetime as dt
import os
import sys
import zipfile
from pathlib import Path

import django

sys.path.insert(0, "/tmp/xl")
sys.path.insert(0, str(Path(__file__).parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
django.setup()

import xlwt  # noqa: E402

from conftest import make_uscc  # noqa: E402

HERE = Path(__file__).parent
HEADERS = ["统一社会信用代码", "企业名称", "经营地址", "行政区划代码", "主体业态", "成立日期", "规模"]
ROWS = [[make_uscc(21), "杭州表格一号餐饮有限公司", "浙江省杭州市上城区解放路21号", 330102, "餐饮服务", dt.date(2018, 3, 1), "小型"],
        [make_uscc(22), "杭州表格二号食品有限公司", "浙江省杭州市上城区解放路22号", 330102, "食品销售", dt.date(2019, 4, 2), "中型"],
        [make_uscc(23), "杭州表格三号超市有限公司", "浙江省杭州市上城区解放路23号", 330102, "食品销售", dt.date(2020, 5, 3), "大型"]]
NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')


def write_xls():
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("企业")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for j, header in enumerate(HEADERS):
        sheet.write(0, j, header)
    for i, row in enumerate(ROWS, 1):
        for j, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(i, j, value, date_style)
            else:
                sheet.write(i, j, value)
    book.save(HERE / "enterprises.xls")


def _ods_cell(value):
    if isinstance(value, dt.date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f'<text:p>{value.isoformat()}</text:p></table:table-cell>')
    if isinstance(value, int):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def write_ods():
    rows = "".join("<table:table-row>" + "".join(map(_ods_cell, row)) + "</table:table-row>" for row in [HEADERS, *ROWS])
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS} office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="企业">{rows}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(HERE / "enterprises.ods", "w") as package:  # the mimetype first and stored, as ODF asks
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


if __name__ == "__main__":
    write_xls()
    write_ods()
