"""Rows out as files: XLSX (every text cell written as a string) and CSV (formula-looking cells neutralised).

A spreadsheet runs a cell that starts with =, +, -, @ (or a tab / carriage return before them) as a formula:
`=HYPERLINK(...)` or `=cmd|' /C calc'!A0` typed into an enterprise name would run on the reader's machine.
OWASP's advice: prefix such a cell with an apostrophe. Plain numbers (-3, +12.5) are left as they are.
"""

import csv
import io
import re

from django.db import models

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*$")


def neutralise(value):
    """A text cell that a spreadsheet would evaluate becomes inert text ("'=1+1")."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


def _cell(value):
    if isinstance(value, models.Model):
        return str(value)
    return "" if value is None else value


def csv_bytes(rows):
    """UTF-8 with a BOM (so Excel reads the Chinese text), every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(_cell(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows, sheet="Sheet1"):
    """Strings are written with write_string: never a formula, a URL or a number guessed from text."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#E7EEF7"})
    for r, row in enumerate(rows):
        style = bold if r == 0 else None
        for c, value in enumerate(row):
            value = _cell(value)
            if isinstance(value, str):
                worksheet.write_string(r, c, value, style)
            else:
                worksheet.write(r, c, value, style)
    worksheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def file_bytes(rows, fmt, sheet="Sheet1"):
    return csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows, sheet=sheet)
