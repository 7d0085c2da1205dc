"""Exports a person can use (issue 14 item 4): in every XLSX/CSV export dates are dates, booleans 是/否, time
stamps Beijing time; CSV cells starting with = + - @ neutralised. The one writer (core.spreadsheets) and the
list exports through it."""

import csv
import datetime as dt
import io

import openpyxl
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import timezone

from foodrisk.core import spreadsheets
from foodrisk.core.models import ExportRequest
from foodrisk.core.testing import ScopedTestCase, export_list
from foodrisk.enterprises.testing import make_enterprise, make_licence

UTC_STAMP = dt.datetime(2026, 12, 4, 16, 30, 5, tzinfo=dt.UTC)  # 2026-12-05 00:30:05 in Beijing
ROWS = [["日期", "时间", "是否", "否", "文本", "负数", "公式"],
        [dt.date(2026, 3, 1), UTC_STAMP, True, False, "@SUM(1)", "-3", "=1+1"],
        [None, None, None, "+86 123", "-x", 12.5, "面馆"]]


def csv_cells(content):
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


class WriterTests(SimpleTestCase):
    def test_csv(self):
        rows = csv_cells(spreadsheets.csv_bytes(ROWS))
        self.assertEqual(rows[1], ["2026-03-01", "2026-12-05 00:30:05", "是", "否", "'@SUM(1)", "-3", "'=1+1"])
        self.assertEqual(rows[2], ["", "", "", "'+86 123", "'-x", "12.5", "面馆"])

    def test_xlsx(self):
        sheet = openpyxl.load_workbook(io.BytesIO(spreadsheets.xlsx_bytes(ROWS))).active
        date, stamp, yes, no, text, _n, formula = (c for c in sheet[2])
        self.assertTrue(date.is_date and stamp.is_date)
        self.assertEqual(date.value, dt.datetime(2026, 3, 1))
        self.assertEqual(stamp.value, dt.datetime(2026, 12, 5, 0, 30, 5))  # Beijing wall-clock time
        self.assertEqual((yes.value, no.value), ("是", "否"))
        self.assertEqual((text.data_type, formula.data_type, formula.value), ("s", "s", "=1+1"))  # never a formula

    def test_a_naive_time_stamp_is_taken_as_utc(self):
        self.assertEqual(spreadsheets.beijing(dt.datetime(2026, 1, 1, 20, 0)), dt.datetime(2026, 1, 2, 4, 0))


class ListExportValueTests(ScopedTestCase):
    def test_booleans_dates_and_time_stamps_of_list_exports(self):
        yes = make_enterprise(self.region_a, name="重点面馆", key_supervision=True)
        make_enterprise(self.region_a, name="普通面馆", key_supervision=False)
        make_licence(yes, issued_on=dt.date(2024, 1, 2), expires_on=dt.date(2029, 1, 1))
        self.grant("enterprises.view_enterprise", "enterprises.view_licence", "core.export_data")

        rows = csv_cells(export_list(self.client, reverse("enterprises:enterprise_list")).content)
        column = [c for c in range(len(rows[0])) if {r[c] for r in rows[1:]} == {"是", "否"}]
        self.assertEqual(len(column), 1, rows)  # the key-supervision column, and no other
        self.assertFalse({"True", "False"} & {v for r in rows for v in r})

        book = export_list(self.client, reverse("enterprises:licence_list"), "xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
        issued = [c for c in sheet[2] if c.is_date]
        self.assertIn(dt.datetime(2024, 1, 2), [c.value for c in issued])

        self.grant("core.view_exportrequest")
        rows = csv_cells(export_list(self.client, reverse("core:exportrequest_list")).content)
        stamps = {timezone.localtime(r.requested_at, dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
                  for r in ExportRequest.objects.all()}
        flat = {v for r in rows for v in r}
        self.assertTrue(stamps & flat, (stamps, rows[:3]))
        self.assertFalse(any(v.endswith("+00:00") for v in flat))
