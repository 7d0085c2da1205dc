"""Read an import file into (headers, rows): CSV in UTF-8 / UTF-8 with BOM / GBK / GB18030, XLSX
(python-calamine, openpyxl as fallback) and JSON (a list of objects, or {"rows": [...]})."""

import csv
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    headers: list
    rows: list  # lists of cells, aligned with headers
    fmt: str = "csv"
    encoding: str = ""
    notes: list = field(default_factory=list)


def detect_encoding(data: bytes):
    """BOM → utf-8-sig; valid UTF-8 → utf-8; otherwise GBK if it decodes, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gbk")
        return "gbk"
    except UnicodeDecodeError:
        return "gb18030"


def read_csv_bytes(data: bytes, headers_only=False):
    """headers_only: parse the first record only (the Table's rows stay empty)."""
    encoding = detect_encoding(data)
    content = data.decode(encoding, errors="replace")
    sample = content[:4096]
    delimiter = ","
    if "\t" in sample.split("\n", 1)[0] and "," not in sample.split("\n", 1)[0]:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    rows = list(itertools.islice(reader, 1 if headers_only else None))
    headers = [h.strip() for h in rows[0]] if rows else []
    body = rows[1:] if rows else []  # blank rows stay so row numbers match the file; the pipeline skips them
    return Table(headers, body, "csv", "utf-8" if encoding == "utf-8-sig" else encoding,
                 ["bom"] if encoding == "utf-8-sig" else [])


def read_xlsx_bytes(data: bytes):
    rows = None
    try:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # a file calamine cannot read: try openpyxl
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    while rows and not any(c not in (None, "") for c in rows[0]):
        rows.pop(0)
    if not rows:
        return Table([], [], "xlsx")
    headers = ["" if h is None else str(h).strip() for h in rows[0]]
    body = [["" if c is None else c for c in r] for r in rows[1:]]
    while body and not any(c != "" for c in body[-1]):
        body.pop()
    return Table(headers, body, "xlsx")


def read_json_bytes(data: bytes):
    payload = json.loads(data.decode(detect_encoding(data)))
    if isinstance(payload, dict):
        payload = payload.get("rows") or payload.get("data") or []
    headers = []
    for row in payload:
        for key in row:
            if key not in headers:
                headers.append(key)
    body = [[row.get(h, "") for h in headers] for row in payload]
    return Table(headers, body, "json", "utf-8")


def read_bytes(data: bytes, name="", headers_only=False):
    """headers_only: a CSV file's first record only (XLSX and JSON are read whole)."""
    suffix = Path(name).suffix.lower()
    if data.startswith(XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
        return read_xlsx_bytes(data)
    stripped = data.lstrip(b"\xef\xbb\xbf \r\n\t")
    if suffix == ".json" or stripped[:1] in (b"[", b"{"):
        return read_json_bytes(data)
    return read_csv_bytes(data, headers_only)


def read_path(path):
    path = Path(path)
    return read_bytes(path.read_bytes(), path.name)


def read_headers(data: bytes, name=""):
    """A Table with the headers of read_bytes(data, name) (rows left empty for CSV: only the first record
    is parsed)."""
    return read_bytes(data, name, headers_only=True)
