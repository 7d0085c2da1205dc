"""Rows out as files: XLSX (every text cell written as a string) and CSV (formula-looking cells neutralised).

A spreadsheet runs a cell that starts with =, +, -, @ (or a tab / carriage return before them) as a formula:
`=HYPERLINK(...)` or `=cmd|' /C calc'!A0` typed into an enterprise name would run on the reader's machine.
OWASP's advice: prefix such a cell with an apostrophe. Plain numbers (-3, +12.5) are left as they are.

Values a person can use, in every export: a date is a date (an Excel date cell; YYYY-MM-DD in CSV), a
time stamp is Beijing time (Asia/Shanghai, whatever the server's zone; an Excel date-time cell; YYYY-MM-DD
HH:MM:SS in CSV), a yes/no value is 是/否 (never True/False).
"""

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext as _

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*$")
BEIJING = ZoneInfo("Asia/Shanghai")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def neutralise(value):
    """A text cell that a spreadsheet would evaluate becomes inert text ("'=1+1")."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


def beijing(value):
    """A time stamp as naive Beijing wall-clock time (an aware one converted; a naive one taken as UTC, as Django
    stores them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BEIJING).replace(tzinfo=None, microsecond=0)


def _cell(value):
    """The cell of a value: a model as its text, None empty, a yes/no value 是/否, a time stamp in Beijing time;
    dates and numbers stay what they are (each writer formats them)."""
    if isinstance(value, models.Model):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return beijing(value)
    return value


def _csv_text(value):
    value = _cell(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(value)


def csv_bytes(rows):
    """UTF-8 with a BOM (so Excel reads the Chinese text), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows, sheet="Sheet1"):
    """Strings are written with write_string: never a formula, a URL or a number guessed from text; dates and time
    stamps as Excel date cells."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#E7EEF7"})
    date_style = workbook.add_format({"num_format": DATE_FORMAT})
    datetime_style = workbook.add_format({"num_format": DATETIME_FORMAT})
    widths = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            value = _cell(value)
            if r == 0:
                worksheet.write_string(r, c, str(value), bold)
            elif isinstance(value, str):
                worksheet.write_string(r, c, value)
            elif isinstance(value, dt.datetime):
                worksheet.write_datetime(r, c, value, datetime_style)
                widths[c] = max(widths.get(c, 0), 19)
            elif isinstance(value, dt.date):
                worksheet.write_datetime(r, c, dt.datetime.combine(value, dt.time.min), date_style)
                widths[c] = max(widths.get(c, 0), 11)
            else:
                worksheet.write(r, c, value)
    for c, width in widths.items():
        worksheet.set_column(c, c, width)
    worksheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def file_bytes(rows, fmt, sheet="Sheet1"):
    return csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows, sheet=sheet)
