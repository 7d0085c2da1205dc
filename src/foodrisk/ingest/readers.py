"""Read an import file into (headers, rows): CSV (the encoding detected per file: UTF-8 with or without BOM,
UTF-16 with BOM, GBK, GB18030), workbooks (XLSX, XLS, ODS through python-calamine; openpyxl as a fallback for
XLSX) and JSON (a list of objects, or {"rows": [...]}).

A file that cannot be read at all raises UnreadableFile with one clear message in Chinese. A file that decodes
but for a few bytes is read with those bytes as U+FFFD, and the rows holding them are quarantined
(`encoding_invalid`) while the rest imports."""

import csv
import io
import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from foodrisk.core.validators import is_digits

logger = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"  # XLSX and ODS
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # XLS (and encrypted workbooks)
WORKBOOK_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# a file with more control bytes than this (besides tab and line ends) is binary data, not a table
_BINARY_SHARE = 0.02
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\r\n")
# a file that decodes this badly in every candidate encoding is not text in any of them
_UNDECODABLE_SHARE = 0.05


class UnreadableFile(ValueError):
    """A file that cannot be read at all. Its message is what the person uploading it sees."""


@dataclass
class Table:
    headers: list
    rows: list  # lists of cells, aligned with headers
    fmt: str = "csv"
    encoding: str = ""
    notes: list = field(default_factory=list)


def decode(data: bytes):
    """(text, encoding, undecodable bytes?) of a text file. A BOM decides (UTF-8, UTF-16 LE/BE); else the first of
    UTF-8, GBK, GB18030 that decodes every byte; else whichever of UTF-8 and GB18030 leaves fewer bytes
    undecodable (they become U+FFFD: one bad byte does not make a UTF-8 file GB18030)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            return text, "utf-8" if encoding == "utf-8-sig" else "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be", \
                "\ufffd" in text
    sample = data[:8192]
    if sum(sample.count(b) for b in _CONTROL_BYTES) > _BINARY_SHARE * len(sample):
        raise UnreadableFile(_("The file is not a table: upload CSV, XLSX, XLS, ODS or JSON."))
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return data.decode(encoding), encoding, False
        except UnicodeDecodeError:
            pass
    decoded = [(text.count("\ufffd"), encoding, text)
               for encoding in ("utf-8", "gb18030") for text in [data.decode(encoding, errors="replace")]]
    bad, encoding, text = min(decoded)
    if bad > _UNDECODABLE_SHARE * max(len(text), 1):
        raise UnreadableFile(_("The file's encoding could not be recognised (not UTF-8, UTF-16, GBK or GB18030). "
                               "Save it as CSV in UTF-8 and upload it again."))
    return text, encoding, True


def detect_encoding(data: bytes):
    """The encoding decode() reads the file with."""
    return decode(data)[1]


def read_csv_bytes(data: bytes, headers_only=False, header_row=1):
    """headers_only: parse the records up to the header row only (the Table's rows stay empty)."""
    content, encoding, lossy = decode(data)
    first_line = content[:4096].split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        rows = list(itertools.islice(reader, header_row if headers_only else None))
    except csv.Error as exc:
        logger.info("unreadable CSV near line %s: %s", reader.line_num, exc)
        raise UnreadableFile(_("The CSV file is malformed near line %(line)s (an unclosed quotation mark or a cell "
                               "longer than 128 KB?).") % {"line": reader.line_num}) from None
    notes = (["bom"] if data.startswith(_BOMS[0][0]) else []) + (["undecodable_bytes"] if lossy else [])
    # blank rows stay so row numbers match the file; the pipeline skips them
    return with_header_row(Table([], rows, "csv", encoding, notes), header_row, raw=True)


def with_header_row(table, header_row=1, *, raw=False):
    """The table read with its headers on row `header_row` (1-based, counted in the file: the rows above are titles
    and are dropped). raw: table.rows still holds the header row itself (headers empty)."""
    rows = table.rows if raw else [table.headers, *table.rows]
    if header_row < 1 or (rows and header_row > len(rows)):
        raise UnreadableFile(_("The header row %(row)s is beyond the end of the file.") % {"row": header_row})
    headers = ["" if h is None else str(h).strip() for h in rows[header_row - 1]] if rows else []
    return Table(headers, rows[header_row:], table.fmt, table.encoding, table.notes)


def workbook_format(data: bytes, name=""):
    """"xlsx" / "xls" / "ods" for a workbook (by its first bytes, else its suffix), None for anything else."""
    suffix = WORKBOOK_SUFFIXES.get(Path(name).suffix.lower())
    if data.startswith(OLE2_MAGIC):
        return "xls"
    if data.startswith(ZIP_MAGIC):
        return "ods" if b"opendocument.spreadsheet" in data[:100] else suffix if suffix == "ods" else "xlsx"
    return suffix


def _sheet(workbook, sheet):
    """The chosen sheet of a calamine workbook: by name, or by 1-based number (None: the first)."""
    if sheet in (None, ""):
        return workbook.get_sheet_by_index(0)
    names = workbook.sheet_names
    if str(sheet) in names:
        return workbook.get_sheet_by_name(str(sheet))
    if isinstance(sheet, int) or is_digits(sheet):
        index = int(sheet) - 1
        if not 0 <= index < len(names):
            raise UnreadableFile(_("The workbook has no sheet %(sheet)s (it has: %(names)s).")
                                 % {"sheet": sheet, "names": "、".join(names)})
        return workbook.get_sheet_by_index(index)
    raise UnreadableFile(_("The workbook has no sheet %(sheet)s (it has: %(names)s).")
                         % {"sheet": sheet, "names": "、".join(names)})


def sheet_names(data: bytes, name=""):
    """The sheet names of a workbook ([] for CSV and JSON, or a workbook that cannot be read)."""
    if not workbook_format(data, name):
        return []
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names)
    except Exception:  # noqa: BLE001 — read_bytes gives the reason
        return []


def read_workbook_bytes(data: bytes, fmt="xlsx", sheet=None):
    """One sheet (default the first) of an XLSX, XLS or ODS workbook."""
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        rows = _sheet(CalamineWorkbook.from_filelike(io.BytesIO(data)), sheet).to_python(skip_empty_area=False)
    except UnreadableFile:
        raise
    except PasswordError:
        raise UnreadableFile(_("The workbook is protected by a password: remove the password and upload it again."))\
            from None
    except Exception as exc:  # calamine could not read it: openpyxl reads some XLSX it refuses
        rows = _openpyxl_rows(data, sheet) if fmt == "xlsx" else None
        if rows is None:
            logger.info("unreadable %s workbook: %s", fmt, exc)
            raise UnreadableFile(_("The %(format)s file cannot be read: it is damaged, incomplete or not a "
                                   "workbook. Save it again from Excel or WPS and upload it again.")
                                 % {"format": fmt.upper()}) from None
    while rows and not any(c not in (None, "") for c in rows[0]):
        rows.pop(0)
    if not rows:
        return Table([], [], fmt)
    headers = ["" if h is None else str(h).strip() for h in rows[0]]
    body = [["" if c is None else c for c in r] for r in rows[1:]]
    while body and not any(c != "" for c in body[-1]):
        body.pop()
    return Table(headers, body, fmt)


def read_xlsx_bytes(data: bytes):
    return read_workbook_bytes(data, "xlsx")


def _openpyxl_rows(data, sheet=None):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = (workbook.worksheets[int(sheet) - 1] if isinstance(sheet, int) or is_digits(sheet)
              else workbook[sheet]) if sheet not in (None, "") else workbook.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    except Exception:  # noqa: BLE001 — any failure means: not readable by openpyxl either
        return None


def read_json_bytes(data: bytes):
    text = decode(data)[0]
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(_("The JSON file is malformed at line %(line)s, column %(column)s.")
                             % {"line": exc.lineno, "column": exc.colno}) from None
    if isinstance(payload, dict):
        payload = payload.get("rows") or payload.get("data") or []
    if not isinstance(payload, list) or not all(isinstance(row, dict) for row in payload):
        raise UnreadableFile(_("The JSON file must hold a list of objects (one per row), or {\"rows\": [...]}."))
    headers = []
    for row in payload:
        for key in row:
            if key not in headers:
                headers.append(key)
    body = [[row.get(h, "") for h in headers] for row in payload]
    return Table(headers, body, "json", "utf-8")


def read_bytes(data: bytes, name="", headers_only=False, sheet=None, header_row=1):
    """headers_only: a CSV file's records up to the header row only (workbooks and JSON are read whole). sheet: a
    workbook's sheet by name or 1-based number (default the first); header_row: the 1-based row of the headers
    (rows above are titles). Raises UnreadableFile."""
    if not data.lstrip(b"\xef\xbb\xbf \r\n\t"):
        raise UnreadableFile(_("The file is empty."))
    header_row = int(header_row or 1)
    fmt = workbook_format(data, name)
    if fmt:
        table = read_workbook_bytes(data, fmt, sheet)
        return with_header_row(table, header_row) if header_row > 1 else table
    stripped = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    if Path(name).suffix.lower() == ".json" or stripped[:1] in (b"[", b"{"):
        return read_json_bytes(data)
    return read_csv_bytes(data, headers_only, header_row)


def read_path(path):
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name)


def read_headers(data: bytes, name="", sheet=None, header_row=1):
    """A Table with the headers of read_bytes(data, name, …) (rows left empty for CSV: only the records up to the
    header row are parsed)."""
    return read_bytes(data, name, headers_only=True, sheet=sheet, header_row=header_row)
