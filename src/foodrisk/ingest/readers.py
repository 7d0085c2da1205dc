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


def read_csv_bytes(data: bytes, headers_only=False):
    """headers_only: parse the first record only (the Table's rows stay empty)."""
    content, encoding, lossy = decode(data)
    first_line = content[:4096].split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        rows = list(itertools.islice(reader, 1 if headers_only else None))
    except csv.Error as exc:
        logger.info("unreadable CSV near line %s: %s", reader.line_num, exc)
        raise UnreadableFile(_("The CSV file is malformed near line %(line)s (an unclosed quotation mark or a cell "
                               "longer than 128 KB?).") % {"line": reader.line_num}) from None
    headers = [h.strip() for h in rows[0]] if rows else []
    body = rows[1:] if rows else []  # blank rows stay so row numbers match the file; the pipeline skips them
    notes = (["bom"] if data.startswith(_BOMS[0][0]) else []) + (["undecodable_bytes"] if lossy else [])
    return Table(headers, body, "csv", encoding, notes)


def workbook_format(data: bytes, name=""):
    """"xlsx" / "xls" / "ods" for a workbook (by its first bytes, else its suffix), None for anything else."""
    suffix = WORKBOOK_SUFFIXES.get(Path(name).suffix.lower())
    if data.startswith(OLE2_MAGIC):
        return "xls"
    if data.startswith(ZIP_MAGIC):
        return "ods" if b"opendocument.spreadsheet" in data[:100] else suffix if suffix == "ods" else "xlsx"
    return suffix


def read_workbook_bytes(data: bytes, fmt="xlsx"):
    """The first sheet of an XLSX, XLS or ODS workbook."""
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except PasswordError:
        raise UnreadableFile(_("The workbook is protected by a password: remove the password and upload it again."))\
            from None
    except Exception as exc:  # calamine could not read it: openpyxl reads some XLSX it refuses
        rows = _openpyxl_rows(data) if fmt == "xlsx" else None
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


def _openpyxl_rows(data):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
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


def read_bytes(data: bytes, name="", headers_only=False):
    """headers_only: a CSV file's first record only (workbooks and JSON are read whole). Raises UnreadableFile."""
    if not data.lstrip(b"\xef\xbb\xbf \r\n\t"):
        raise UnreadableFile(_("The file is empty."))
    fmt = workbook_format(data, name)
    if fmt:
        return read_workbook_bytes(data, fmt)
    stripped = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    if Path(name).suffix.lower() == ".json" or stripped[:1] in (b"[", b"{"):
        return read_json_bytes(data)
    return read_csv_bytes(data, headers_only)


def read_path(path):
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name)


def read_headers(data: bytes, name=""):
    """A Table with the headers of read_bytes(data, name) (rows left empty for CSV: only the first record
    is parsed)."""
    return read_bytes(data, name, headers_only=True)
