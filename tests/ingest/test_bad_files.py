"""Files as bureaus deliver them: every encoding and workbook format is read; a file that cannot be read at all
gets ONE clear Chinese message on the upload page, the API and the import command (no 500, no traceback, no
English, no batch left behind); a file with a few undecodable bytes imports all but the rows holding them."""

import random
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from foodrisk.core.spreadsheets import xlsx_bytes
from foodrisk.core.testing import ScopedTestCase
from foodrisk.enterprises.models import Enterprise
from foodrisk.ingest.models import Batch, QuarantinedRow
from foodrisk.ingest.services import IngestError, batches

from .conftest import ENT_HEADERS, assert_counts, csv_bytes, ent_row, run_import

FILES = Path(__file__).parent / "files"
# words a message may carry untranslated: file formats, encodings, products
ALLOWED_LATIN = {"CSV", "XLSX", "XLS", "ODS", "JSON", "UTF", "GBK", "GB", "KB", "Excel", "WPS", "rows"}


def ent_file(*seqs):
    return csv_bytes(ENT_HEADERS, [ent_row(seq, f"杭州第{seq}号面馆有限公司") for seq in seqs])


def unreadable_files():
    noise = random.Random(11)
    whole = xlsx_bytes([ENT_HEADERS, *[ent_row(i, f"杭州第{i}号面馆有限公司") for i in range(1, 40)]])
    return {
        "empty.csv": (b"", "空"),
        "blank.csv": (b"\xef\xbb\xbf \r\n\r\n", "空"),
        "junk.csv": (bytes(noise.randrange(256) for _ in range(4000)), "不是表格"),
        "photo.xlsx": (b"\x89PNG\r\n\x1a\n" + bytes(noise.randrange(256) for _ in range(2000)), "不是表格"),
        "truncated.xlsx": (whole[: len(whole) // 2], "XLSX"),
        "broken.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "XLS"),
        "broken.json": (b'[{"a": 1},', "JSON"),
        "foreign.csv": (csv_bytes(["Inspection ID", "DBA Name", "检查地点"], [["1", "x", "y"]]),
                        "Inspection ID、DBA Name、检查地点"),
    }


def assert_chinese_message(message, expected):
    assert expected in message, message
    assert re.search("[\u4e00-\u9fff]", message), message
    assert "Traceback" not in message and "Error" not in message, message
    latin = set(re.findall(r"[A-Za-z]+", message.replace(expected, "")))
    assert latin <= ALLOWED_LATIN, (latin, message)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(unreadable_files()))
def test_an_unreadable_file_is_refused_with_one_chinese_message(regions, name):
    content, expected = unreadable_files()[name]
    with pytest.raises(IngestError) as refused:
        batches.create_batch(source="区县系统", content=content, file_name=name)
    assert_chinese_message(str(refused.value), expected)
    assert not Batch.objects.exists()


class UnreadableUploads(ScopedTestCase):
    def test_upload_page_and_api_answer_in_chinese_without_500(self):
        self.grant("ingest.add_batch", "ingest.view_batch")
        for name, (content, expected) in unreadable_files().items():
            page = self.client.post(reverse("ingest:upload"), {"new_source": "区县系统", "kind": "auto",
                                                               "file": ContentFile(content, name=name)})
            self.assertEqual(page.status_code, 200, name)
            assert_chinese_message(" ".join(page.context["form"].errors["file"]), expected)
            api = self.client.post("/api/ingest/batches/", {"source": "区县系统", "kind": "auto",
                                                             "file": ContentFile(content, name=name)})
            self.assertEqual(api.status_code, 400, name)
            body = api.json()  # an empty upload is refused by the serializer's file field (DRF's own Chinese)
            assert_chinese_message(body.get("detail") or " ".join(body.get("file", [])), expected)
        self.assertFalse(Batch.objects.exists())


@pytest.mark.django_db
def test_import_command_prints_the_message_alone(regions, tmp_path, capsys):
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(unreadable_files()["truncated.xlsx"][0])
    with pytest.raises(SystemExit) as stopped:
        call_command("import", str(path), source="区县系统", wait=True)
    assert stopped.value.code == 1
    err = capsys.readouterr().err.strip()
    assert_chinese_message(err, "XLSX")
    assert "CommandError" not in err and "\n" not in err


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "gbk",
                                      "gb18030"])
def test_every_encoding_imports(regions, encoding):
    rows = [ent_row(1, "杭州老王面馆有限公司"), ent_row(2, "杭州𠮷野家餐饮有限公司")]  # 𠮷: four bytes in GB18030
    if encoding.endswith("-bom"):
        codec = encoding.removesuffix("-bom")
        content = "\ufeff".encode(codec) + csv_bytes(ENT_HEADERS, rows, codec)
    elif encoding == "gbk":
        rows[1][1] = "杭州吉野家餐饮有限公司"
        content = csv_bytes(ENT_HEADERS, rows, encoding)
    else:
        content = csv_bytes(ENT_HEADERS, rows, encoding)
    batch = run_import(content, f"enterprises-{encoding}.csv")
    assert (batch.status, batch.accepted_new, batch.quarantined) == ("succeeded", 2, 0), batch.report
    assert set(Enterprise.objects.values_list("name", flat=True)) == {rows[0][1], rows[1][1]}
    assert batch.report["encoding"].startswith({"utf-8-sig": "utf-8", "utf-16-le-bom": "utf-16",
                                                "utf-16-be-bom": "utf-16"}.get(encoding, encoding[:5]))


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_undecodable_bytes_quarantine_only_their_row(regions, encoding):
    good = [ent_row(seq, f"杭州第{seq}号面馆有限公司") for seq in range(1, 41)]
    lines = csv_bytes(ENT_HEADERS, good, encoding).split(b"\r\n")
    # row 7's name gets a byte that is valid in neither UTF-8 nor GB18030 after it
    lines[7] = lines[7].replace("面馆".encode(encoding), "面馆".encode(encoding) + b"\xff", 1)
    batch = run_import(b"\r\n".join(lines), "enterprises.csv")
    assert batch.status == "succeeded", batch.error
    assert (batch.rows_read, batch.accepted_new, batch.quarantined) == (40, 39, 1)
    assert_counts(batch)
    assert batch.report["encoding"] == ("utf-8" if encoding == "utf-8" else "gb18030")
    row = QuarantinedRow.objects.get(batch=batch)
    assert (row.row_no, row.reasons) == (7, ["encoding_invalid:name"])
    assert "\ufffd" in row.raw_data["企业名称"] and row.reason_labels == ["企业名称：含有无法识别的字符（文件编码错误）"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["enterprises.xls", "enterprises.ods"])
def test_xls_and_ods_workbooks_import(regions, name):
    batch = run_import((FILES / name).read_bytes(), name)
    assert (batch.status, batch.kind, batch.accepted_new, batch.quarantined) == ("succeeded", "enterprises", 3, 0)
    assert batch.report["format"] == name.rsplit(".", 1)[1]
    first = Enterprise.objects.get(name="杭州表格一号餐饮有限公司")
    assert (first.region_id, first.established_on.isoformat(), first.scale) == ("330102", "2018-03-01", "small")


@pytest.mark.django_db
def test_a_file_of_headers_only_imports_nothing_and_says_so(regions):
    batch = run_import(csv_bytes(ENT_HEADERS, []), "enterprises.csv")
    assert (batch.status, batch.rows_read) == ("succeeded", 0)
