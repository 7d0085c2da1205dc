"""Import files: encodings, headers, dirty data exactly as recorded, noise, determinism, CLI."""

import csv
import hashlib
import json
import re
import unicodedata
from datetime import date

import openpyxl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from conftest import AS_OF
from foodrisk.synth import TEMPLATES, generate_world, write_import_files
from foodrisk.synth import vocab as V
from foodrisk.synth.cli import main
from foodrisk.synth.ids import org_code_valid
from foodrisk.synth.regions import known_codes
from foodrisk.synth.writer import ANNOUNCEMENT_HEADERS, ENUMS

LICENCE_RE = re.compile(r"^(SC|JY)\d{14}$")
USCC_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def read_file(path, entry):
    if entry["format"] == "xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [["" if v is None else str(v) for v in r] for r in wb.active.iter_rows(values_only=True)]
        wb.close()
        return rows[0], rows[1:]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == entry["bom"], entry["file"]
    text = raw.decode("utf-8-sig" if entry["encoding"] == "utf-8" else entry["encoding"])  # strict
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def files(out_dir):
    d, manifest = out_dir
    return {e["file"]: (e, *read_file(d / e["file"], e)) for e in manifest["files"]}


def load_gt(d, name):
    with open(d / "ground_truth" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def parse_date(s):
    if "年" in s:
        m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s)
        return date(int(m[1]), int(m[2]), int(m[3]))
    if re.fullmatch(r"\d{4}/\d{2}/\d{2}", s):
        return date.fromisoformat(s.replace("/", "-"))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return date.fromisoformat(s)
    raise ValueError(s)


def test_manifest_encodings_and_headers(out_dir, files):
    d, manifest = out_dir
    by = {e["file"]: e for e in manifest["files"]}
    assert {e["kind"] for e in manifest["files"]} == set(TEMPLATES)
    assert any(e["encoding"] == "gbk" for e in manifest["files"])
    assert any(e["bom"] for e in manifest["files"]) and any(not e["bom"] and e["format"] == "csv" for e in manifest["files"])
    assert any(e["format"] == "xlsx" for e in manifest["files"])
    # the GBK file is really GBK (not decodable as UTF-8)
    gbk = next(e for e in manifest["files"] if e["encoding"] == "gbk")
    with pytest.raises(UnicodeDecodeError):
        (d / gbk["file"]).read_bytes().decode("utf-8")
    for name, (entry, header, rows) in files.items():
        assert len(rows) == entry["rows"], name
        if entry["profile"] == "samr_announcement":
            assert tuple(header) == ANNOUNCEMENT_HEADERS
        else:
            assert header == [h for _f, h, *_ in TEMPLATES[entry["kind"]]], name
        assert by[name]["source"]
    assert manifest["as_of"] == "2025-06-30"
    total = {k: 0 for k in TEMPLATES}
    for e in manifest["files"]:
        total[e["kind"]] += e["rows"]
    noise = load_gt(d, "injected_noise.csv")
    dups = {k: sum(1 for r in noise if r["reason_code"] == "duplicate" and r["kind"] == k) for k in TEMPLATES}
    for k, n in manifest["record_counts"].items():
        assert total[k] - dups[k] == n, k


def _cell(files, rec):
    entry, header, rows = files[rec["file"]]
    return rows[int(rec["row"]) - 1][header.index(rec["column"])]


def test_injected_errors_are_exactly_where_recorded(out_dir, files):
    d, _ = out_dir
    errors = load_gt(d, "injected_errors.csv")
    assert {r["reason_code"] for r in errors} >= {
        "uscc_checksum", "uscc_format", "org_code_checksum", "required_missing", "date_future", "date_order", "date_invalid",
        "enum_invalid", "licence_format", "region_invalid", "amount_invalid"}
    seen = set()
    labels = {h: set(ENUMS[fmt[5:]].values()) for k in TEMPLATES for _f, h, fmt, _r in TEMPLATES[k] if fmt.startswith("enum:")}
    known = known_codes()
    for r in errors:
        key = (r["file"], r["row"])
        assert key not in seen, "one injected error per row"
        seen.add(key)
        v = _cell(files, r)
        assert v == r["dirty_value"] and v != r["original_value"], r
        code = r["reason_code"]
        if code == "uscc_checksum":
            assert USCC_RE.match(v) and not stdnum_uscc.is_valid(v) and org_code_valid(v[8:17])
            assert sum(a != b for a, b in zip(v, r["original_value"], strict=True)) == 1 and v[:17] == r["original_value"][:17]
        elif code == "uscc_format":
            assert not USCC_RE.match(v)
        elif code == "org_code_checksum":
            assert stdnum_uscc.is_valid(v) and not org_code_valid(v[8:17])
        elif code == "required_missing":
            assert v == ""
        elif code == "date_invalid":
            with pytest.raises(ValueError):
                parse_date(v)
        elif code == "date_future":
            assert AS_OF < parse_date(v) <= date(2025, 9, 1)
        elif code == "date_order":
            entry, header, rows = files[r["file"]]
            start = {"licences": "发证日期", "list_entries": "列入日期", "credit_repairs": "申请日期"}[r["kind"]]
            assert parse_date(v) < parse_date(rows[int(r["row"]) - 1][header.index(start)])
        elif code == "enum_invalid":
            if r["column"] == "任务来源":
                assert v not in V.LEVEL_LABEL.values()
            else:
                assert v not in labels[r["column"]]
        elif code == "licence_format":
            assert not LICENCE_RE.match(v)
        elif code == "region_invalid":
            assert v not in known and v[:6] not in known
        elif code == "amount_invalid":
            try:
                ok = float(v) >= 0
            except ValueError:
                ok = False
            assert not ok, v
        else:
            raise AssertionError(code)
    # the rate is respected (3 % of rows, some rows have no applicable error)
    n_rows = sum(len(rows) for _e, _h, rows in files.values())
    assert 0.02 * n_rows < len(errors) <= 0.031 * n_rows


def test_clean_rows_are_clean(out_dir, files):
    d, _ = out_dir
    dirty = {(r["file"], int(r["row"])) for r in load_gt(d, "injected_errors.csv")}
    for name, (entry, _header, rows) in files.items():
        if entry["profile"] != "template":
            continue
        tmpl = TEMPLATES[entry["kind"]]
        for i, row in enumerate(rows, start=1):
            if (name, i) in dirty:
                continue
            for (f, h, fmt, req), v in zip(tmpl, row, strict=True):
                if req:
                    assert v != "", (name, i, h)
                if not v:
                    continue
                if f == "uscc":
                    assert stdnum_uscc.is_valid(v) and org_code_valid(v[8:17]), (name, i, v)
                elif f == "licence_no":
                    assert LICENCE_RE.match(v), (name, i, v)
                elif fmt == "date":
                    dt = parse_date(v)
                    if f not in ("expires_on", "publicity_until"):
                        assert dt <= AS_OF, (name, i, h, v)
                elif fmt.startswith("enum:"):
                    assert v in ENUMS[fmt[5:]].values(), (name, i, h, v)
                elif fmt == "money":
                    assert float(v) >= 0
                elif f == "region_code":
                    assert v[:6] in known_codes()


def test_date_styles_are_mixed(files):
    styles = set()
    for _entry, _header, rows in files.values():
        for row in rows[:2000]:
            for v in row:
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                    styles.add("iso")
                elif re.fullmatch(r"\d{4}/\d{2}/\d{2}", v):
                    styles.add("slash")
                elif re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", v):
                    styles.add("cn")
    assert styles == {"iso", "slash", "cn"}


def test_noise_is_recorded(out_dir, files, world):
    d, _ = out_dir
    noise = load_gt(d, "injected_noise.csv")
    codes = {r["reason_code"] for r in noise}
    assert codes == {"duplicate", "name_variant", "linked_by_name"}
    name_of = dict(zip(world.enterprises.column("uscc").to_pylist(), world.enterprises.column("name").to_pylist(), strict=True))
    cross = 0
    for r in noise:
        entry, header, rows = files[r["file"]]
        row = rows[int(r["row"]) - 1]
        if r["reason_code"] == "duplicate":
            src_file, src_row = r["original_value"].split("#")
            other = files[src_file][2][int(src_row) - 1]
            if src_file == r["file"]:
                assert other == row and int(src_row) < int(r["row"])
            else:
                cross += 1
                assert other[0] == row[0] == r["dirty_value"]  # same complaint number in both sources
        elif r["reason_code"] == "linked_by_name":
            assert r["original_value"] in name_of and "统一社会信用代码" not in header
            nm = _cell(files, r)
            assert nm == r["dirty_value"]
        else:
            v = _cell(files, r)
            assert v == r["dirty_value"] != r["original_value"]
            norm = lambda s: unicodedata.normalize("NFKC", s).replace(" ", "").replace("有限责任公司", "有限公司")  # noqa: E731
            assert norm(v) == norm(r["original_value"])
    assert cross > 0
    # announcement rows name a real enterprise (name + address), never a USCC
    links = [r for r in noise if r["reason_code"] == "linked_by_name"]
    entry, header, rows = files[links[0]["file"]]
    assert len(links) == len(rows)
    addr_of = dict(zip(world.enterprises.column("uscc").to_pylist(), world.enterprises.column("address").to_pylist(), strict=True))
    for r in links[:500]:
        row = rows[int(r["row"]) - 1]
        assert row[header.index("被抽样单位地址")] == addr_of[r["original_value"]]


def test_ground_truth_latent_risk(out_dir, world):
    d, _ = out_dir
    rows = load_gt(d, "latent_risk.csv")
    assert len(rows) == world.n
    assert {"uscc", "latent_risk", "future_adverse"} <= set(rows[0])
    assert all(0 < float(r["latent_risk"]) < 1 for r in rows)
    assert {r["future_adverse"] for r in rows} == {"0", "1"}


def _digest(path):
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    for k in ("a", "b"):
        w = generate_world(600, years=3, seed=9, as_of=AS_OF)
        write_import_files(w, tmp_path / k, dirty_rate=0.05, seed=9)
    da, db = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert da == db and any(k.endswith(".xlsx") for k in da)
    w = generate_world(600, years=3, seed=10, as_of=AS_OF)
    write_import_files(w, tmp_path / "c", dirty_rate=0.05, seed=10)
    assert _digest(tmp_path / "c")["enterprises.csv"] != da["enterprises.csv"]


def test_cli(tmp_path, capsys):
    rc = main(["--enterprises", "300", "--years", "2", "--seed", "4", "--dirty-rate", "0.05", "--out", str(tmp_path),
               "--as-of", "2024-12-31", "--formats", "csv", "--snapshot"])
    assert rc == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == "2024-12-31" and all(e["format"] == "csv" for e in manifest["files"])
    assert (tmp_path / "snapshot" / "snapshot.json").exists()
    assert (tmp_path / "ground_truth" / "latent_risk.csv").exists()
    assert "300 enterprises" in capsys.readouterr().out
    assert main(["--out", str(tmp_path), "--formats", "pdf"]) == 2
