"""Import files as a bureau would receive them, with injected (recorded) dirty data and noise."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import vocab as V
from .ids import USCC_ALPHABET, org_check_char, uscc_check_char
from .names import variant
from .regions import known_codes
from .world import World, announcement_numbers, from_day, hash_str, to_day

CHUNK = 100_000
XLSX_MAX_ROWS = 1_048_575
DUP_RATE = 0.003
ERROR_COLUMNS = ("file", "row", "kind", "field", "reason_code", "original_value", "dirty_value", "column")
CODE_WEIGHT = {"uscc_checksum": 2.0, "uscc_format": 1.0, "org_code_checksum": 1.0, "required_missing": 2.0,
               "date_future": 1.0, "date_order": 1.5, "date_invalid": 1.0, "enum_invalid": 1.5,
               "licence_format": 3.0, "region_invalid": 3.0, "amount_invalid": 3.0}

# (canonical field, template header, format, required)
TEMPLATES: dict[str, list[tuple[str, str, str, bool]]] = {
    "enterprises": [
        ("uscc", "统一社会信用代码", "str", True), ("name", "企业名称", "str", True), ("former_names", "曾用名", "str", False),
        ("legal_representative", "法定代表人", "str", False), ("address", "经营地址", "str", False),
        ("region_code", "行政区划代码", "str", True), ("business_form", "主体业态", "enum:form", True),
        ("food_categories", "食品类别", "str", False), ("scale", "规模", "enum:scale", False),
        ("established_on", "成立日期", "date", False), ("status", "登记状态", "enum:status", False),
        ("static_tier", "静态风险等级", "enum:tier", False), ("key_supervision", "重点监管", "bool", False)],
    "licences": [
        ("licence_no", "许可证编号", "str", True), ("uscc", "统一社会信用代码", "str", True), ("category", "许可类别", "str", False),
        ("issued_on", "发证日期", "date", True), ("expires_on", "有效期至", "date", True), ("status", "许可状态", "enum:licence_status", False)],
    "inspections": [
        ("inspection_no", "检查编号", "str", True), ("uscc", "统一社会信用代码", "str", True), ("inspected_on", "检查日期", "date", True),
        ("kind", "检查类型", "enum:inspection_kind", True), ("organisation", "检查机构", "str", False), ("inspector", "检查人员", "str", False),
        ("result", "检查结果", "enum:inspection_result", True), ("key_items_failed", "不符合重点项数", "int", False),
        ("general_items_failed", "不符合一般项数", "int", False), ("rectification_ordered", "责令整改", "bool", False)],
    "sampling_tests": [
        ("report_no", "报告编号", "str", True), ("uscc", "统一社会信用代码", "str", False), ("enterprise_name", "被抽样单位名称", "str", False),
        ("enterprise_address", "被抽样单位地址", "str", False), ("sampled_on", "抽样日期", "date", True),
        ("level", "抽检级别", "enum:level", True), ("product", "食品名称", "str", True), ("category", "分类", "str", False),
        ("result", "检验结论", "enum:sampling_result", True), ("failed_items", "不合格项目║检验结果║标准值", "str", False),
        ("announcement_no", "公告号", "str", False)],
    "penalties": [
        ("decision_no", "处罚决定书文号", "str", True), ("uscc", "统一社会信用代码", "str", True), ("decided_on", "处罚决定日期", "date", True),
        ("violation_type", "违法行为类型", "str", True), ("severity", "情节严重程度", "enum:severity", True),
        ("fine", "罚款金额(元)", "money", False), ("confiscation", "没收金额(元)", "money", False),
        ("licence_revoked", "吊销许可证", "bool", False), ("publicity_until", "公示截止日期", "date", False)],
    "complaints": [
        ("complaint_no", "投诉编号", "str", True), ("uscc", "统一社会信用代码", "str", True), ("received_on", "登记日期", "date", True),
        ("channel", "来源渠道", "enum:channel", True), ("category", "投诉类别", "str", False), ("verified", "是否属实", "bool", True),
        ("status", "办理状态", "enum:complaint_status", False), ("duplicate_of", "重复件编号", "str", False)],
    "credit_repairs": [
        ("repair_no", "修复申请编号", "str", True), ("uscc", "统一社会信用代码", "str", True), ("target_kind", "修复对象类型", "str", True),
        ("target_no", "修复对象编号", "str", True), ("applied_on", "申请日期", "date", True), ("decided_on", "决定日期", "date", False),
        ("decision", "审核结果", "enum:decision", True)],
    "list_entries": [
        ("uscc", "统一社会信用代码", "str", True), ("list_kind", "名录类型", "enum:list_kind", True), ("listed_on", "列入日期", "date", True),
        ("removed_on", "移出日期", "date", False), ("reason", "列入原因", "str", False)],
}
ANNOUNCEMENT_HEADERS = ("标称生产企业名称", "标称生产企业地址", "被抽样单位名称", "被抽样单位地址", "食品名称", "规格型号", "商标",
                        "生产日期/批号", "不合格项目║检验结果║标准值", "分类", "任务来源", "检验机构", "公告号")
# canonical field each announcement column carries (None = not a canonical field)
ANNOUNCEMENT_FIELDS = (None, None, "enterprise_name", "enterprise_address", "product", None, None, None, "failed_items",
                       "category", "level", None, "announcement_no")
ENUMS = {
    "form": V.FORM_LABEL, "scale": V.SCALE_LABEL, "status": V.STATUS_LABEL, "tier": V.TIER_LABEL,
    "licence_status": V.LICENCE_STATUS_LABEL, "inspection_kind": V.INSPECTION_KIND_LABEL,
    "inspection_result": V.INSPECTION_RESULT_LABEL, "level": V.LEVEL_LABEL, "sampling_result": V.SAMPLING_RESULT_LABEL,
    "severity": V.SEVERITY_LABEL, "channel": V.CHANNEL_LABEL, "complaint_status": V.COMPLAINT_STATUS_LABEL,
    "decision": V.DECISION_LABEL, "list_kind": V.LIST_KIND_LABEL,
}
DATE_PAIRS = {"licences": ("issued_on", "expires_on"), "list_entries": ("listed_on", "removed_on"),
              "credit_repairs": ("applied_on", "decided_on")}
START_DATE = {"enterprises": "established_on", "licences": "issued_on", "inspections": "inspected_on",
              "sampling_tests": "sampled_on", "penalties": "decided_on", "complaints": "received_on",
              "credit_repairs": "applied_on", "list_entries": "listed_on"}


@dataclass
class FileSpec:
    file: str
    kind: str
    source: str
    encoding: str  # "utf-8", "utf-8-sig" (BOM) or "gbk"
    fmt: str  # csv | xlsx
    date_styles: tuple[float, float, float]  # P(iso), P(slash), P(chinese)
    profile: str = "template"
    duplicates: bool = True


def _fmt_date(d: date, style: int) -> str:
    if style == 0:
        return d.isoformat()
    if style == 1:
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    return f"{d.year}年{d.month}月{d.day}日"


class _Log:
    def __init__(self):
        self.errors: list[tuple] = []
        self.noise: list[tuple] = []


class _Writer:
    """Streams one file: header, rows in chunks, duplicates inserted, dirty cells injected."""

    def __init__(self, spec: FileSpec, headers, fields, out_dir: Path, log: _Log, rng, world: World, dirty_rate: float):
        self.spec, self.headers, self.fields = spec, list(headers), list(fields)
        self.col = {f: i for i, f in enumerate(fields) if f}
        self.log, self.rng, self.world, self.rate = log, rng, world, dirty_rate
        self.path = out_dir / spec.file
        self.rows_out = 0
        self.as_of = world.as_of
        if spec.fmt == "xlsx":
            import xlsxwriter

            self.wb = xlsxwriter.Workbook(str(self.path), {"constant_memory": True, "strings_to_numbers": False,
                                                           "strings_to_formulas": False, "strings_to_urls": False})
            self.wb.set_properties({"created": datetime(2000, 1, 1), "author": "foodrisk.synth", "title": spec.file})
            self.ws = self.wb.add_worksheet("Sheet1")
            self.ws.write_row(0, 0, self.headers)
        else:
            self.fh = open(self.path, "w", encoding=spec.encoding, newline="", errors="strict")  # noqa: SIM115 - closed by close()
            self.csv = csv.writer(self.fh, lineterminator="\r\n")
            self.csv.writerow(self.headers)

    def close(self):
        if self.spec.fmt == "xlsx":
            self.wb.close()
        else:
            self.fh.close()

    def write_chunk(self, rows: list[list[str]], protect: np.ndarray, noise: list[list[tuple]], dates: list[list[int]],
                    want_rows: np.ndarray | None = None) -> dict[int, int]:
        """rows: clean formatted rows; protect: rows never dirtied (noise carriers); noise: per-row list of
        (field, code, original, dirty) already applied; dates: per-row date style. Returns {input idx: output row}
        for ``want_rows``."""
        n = len(rows)
        rng = self.rng
        dup_src = np.zeros(n, dtype=bool)
        if self.spec.duplicates and n > 10:
            k = int(round(DUP_RATE * n))
            cand = np.flatnonzero(~protect)
            if k and len(cand):
                dup_src[rng.choice(cand, size=min(k, len(cand)), replace=False)] = True
        n_out = n + int(dup_src.sum())
        k_dirty = int(round(self.rate * n_out))
        cand = np.flatnonzero(~protect & ~dup_src)
        dirty = np.sort(rng.choice(cand, size=min(k_dirty, len(cand)), replace=False)) if k_dirty and len(cand) else np.array([], int)
        dirt: dict[int, tuple] = {}
        for i in dirty.tolist():
            got = self._inject(rows[i], dates[i])
            if got is not None:
                dirt[i] = got
        # output order with duplicate copies inserted a little later in the file
        inserts: dict[int, list[int]] = {}
        for i in np.flatnonzero(dup_src).tolist():
            at = min(n - 1, i + int(rng.integers(1, 40)))
            inserts.setdefault(at, []).append(i)
        out_rows: list[list[str]] = []
        pos: dict[int, int] = {}
        want = set(want_rows.tolist()) if want_rows is not None else set()
        base = self.rows_out
        for i in range(n):
            out_rows.append(rows[i])
            rownum = base + len(out_rows)
            pos[i] = rownum
            if i in dirt:
                f, code, orig, dv = dirt[i]
                self.log.errors.append((self.spec.file, rownum, self.spec.kind, f, code, orig, dv, self.headers[self.col[f]]))
            for f, code, orig, dv in noise[i]:
                self.log.noise.append((self.spec.file, rownum, self.spec.kind, f, code, orig, dv, self.headers[self.col[f]]))
            for j in inserts.get(i, ()):
                out_rows.append(list(rows[j]))
                key = self.fields[0] if self.fields[0] else "enterprise_name"
                self.log.noise.append((self.spec.file, base + len(out_rows), self.spec.kind, key, "duplicate",
                                       f"{self.spec.file}#{pos[j]}", rows[j][self.col[key]], self.headers[self.col[key]]))
        self._emit(out_rows)
        return {i: pos[i] for i in want}

    def _emit(self, rows):
        if self.spec.fmt == "xlsx":
            for r in rows:
                self.rows_out += 1
                self.ws.write_row(self.rows_out, 0, r)
        else:
            self.csv.writerows(rows)
            self.rows_out += len(rows)

    # ------------------------------------------------------------------ dirty data
    def _inject(self, row: list[str], style: int):
        kind = self.spec.kind
        cands: list[tuple[str, str]] = []
        tmpl = {f: (fmt, req) for f, _h, fmt, req in TEMPLATES[kind]}
        for f, i in self.col.items():
            v = row[i]
            fmt, req = tmpl.get(f, ("str", False))
            if self.spec.profile == "samr_announcement":
                if f == "product" and v:
                    cands.append(("required_missing", f))
                if f == "level" and v:
                    cands.append(("enum_invalid", f))
                continue
            if not v:
                continue
            if req:
                cands.append(("required_missing", f))
            if f == "uscc":
                cands += [("uscc_checksum", f), ("uscc_format", f), ("org_code_checksum", f)]
            if fmt == "date":
                cands.append(("date_invalid", f))
            if fmt.startswith("enum:"):
                cands.append(("enum_invalid", f))
            if f == "licence_no":
                cands.append(("licence_format", f))
            if f == "region_code":
                cands.append(("region_invalid", f))
            if fmt == "money" and v not in ("0.00", ""):
                cands.append(("amount_invalid", f))
        # date_future: the start date, unless that would also break an order rule
        sf = START_DATE.get(kind)
        if sf in self.col and row[self.col[sf]] and self.spec.profile == "template":
            pair = DATE_PAIRS.get(kind)
            if pair and row[self.col[pair[1]]]:
                if kind == "licences":
                    cands.append(("date_future", sf))  # checked below against expires_on
                else:
                    cands.append(("date_future", pair[1]))
            else:
                cands.append(("date_future", sf))
        pair = DATE_PAIRS.get(kind)
        if pair and self.spec.profile == "template" and row[self.col[pair[0]]] and row[self.col[pair[1]]]:
            cands.append(("date_order", pair[1]))
        if not cands:
            return None
        by_code: dict[str, list[str]] = {}
        for c, f in cands:
            by_code.setdefault(c, []).append(f)
        codes = list(by_code)
        w = np.array([CODE_WEIGHT[c] for c in codes])
        attempts = []
        for j in self.rng.choice(len(codes), size=len(codes), replace=False, p=w / w.sum()).tolist():
            fs = by_code[codes[j]]
            attempts += [(codes[j], fs[k]) for k in self.rng.permutation(len(fs)).tolist()]
        for code, f in attempts:
            i = self.col[f]
            orig = row[i]
            dv = self._mutate(code, f, orig, row, style)
            if dv is None or dv == orig:
                continue
            row[i] = dv
            return (f, code, orig, dv)
        return None

    def _parse(self, s: str) -> date:
        if "年" in s:
            y, rest = s.split("年")
            m, rest = rest.split("月")
            return date(int(y), int(m), int(rest.rstrip("日")))
        return date.fromisoformat(s.replace("/", "-"))

    def _mutate(self, code, f, v, row, style):
        rng = self.rng
        if code == "required_missing":
            return ""
        if code == "uscc_checksum":
            alt = [c for c in USCC_ALPHABET if c != v[-1]]
            return v[:-1] + alt[int(rng.integers(0, len(alt)))]
        if code == "uscc_format":
            body = v[8:17]
            for bad, good in (("O", "0"), ("I", "1"), ("Z", "2"), ("S", "5")):
                hits = [k for k, ch in enumerate(body) if ch == good]
                if hits and rng.random() < 0.8:
                    k = 8 + hits[int(rng.integers(0, len(hits)))]
                    return v[:k] + bad + v[k + 1:]
            k = int(rng.integers(0, 18))
            return v[:k] + v[k + 1:]
        if code == "org_code_checksum":
            good = org_check_char(v[8:16])
            alt = [c for c in "0123456789X" if c != good]
            body = v[:16] + alt[int(rng.integers(0, len(alt)))]
            return body + uscc_check_char(body)
        if code == "licence_format":
            r = rng.random()
            if r < 0.4:
                k = int(rng.integers(2, len(v)))
                return v[:k] + v[k + 1:]
            if r < 0.7:
                return "QS" + v[4:16]
            k = int(rng.integers(2, len(v)))
            return v[:k] + ("O" if v[k] == "0" else "l") + v[k + 1:]
        if code == "region_invalid":
            bad = _bad_regions(self.world.city.code)
            return bad[int(rng.integers(0, len(bad)))]
        if code == "enum_invalid":
            return V.BAD_ENUM_VALUES[int(rng.integers(0, len(V.BAD_ENUM_VALUES)))]
        if code == "amount_invalid":
            if rng.random() < 0.5 or "0" not in v:
                return "-" + v
            k = v.index("0")
            return v[:k] + "O" + v[k + 1:]
        if code == "date_invalid":
            d = self._parse(v)
            r = int(rng.integers(0, 4))
            if r == 0:
                return f"{d.year}-02-{int(rng.integers(30, 32))}"
            if r == 1:
                return f"{d.year}-13-{d.day:02d}"
            if r == 2:
                return f"{d.year}-{d.month:02d}-32"
            return f"{d.year}{d.month:02d}{d.day:02d}0"
        if code == "date_future":
            nd = self.as_of + timedelta(days=int(rng.integers(1, 61)))
            if self.spec.kind == "licences":
                exp = row[self.col["expires_on"]]
                if exp and self._parse(exp) <= nd:
                    return None
            return _fmt_date(nd, style)
        if code == "date_order":
            pair = DATE_PAIRS[self.spec.kind]
            start = self._parse(row[self.col[pair[0]]])
            nd = start - timedelta(days=int(rng.integers(1, 200)))
            return _fmt_date(nd, style)
        raise ValueError(code)


_BAD_REGION_CACHE: dict[str, list[str]] = {}


def _bad_regions(city_code: str) -> list[str]:
    if city_code not in _BAD_REGION_CACHE:
        known = known_codes()
        pre = city_code[:4]
        _BAD_REGION_CACHE[city_code] = [c for c in (f"{pre}{k:02d}" for k in range(60, 80)) if c not in known][:8] + [
            c for c in (f"{city_code[:2]}{k:02d}01" for k in range(80, 99)) if c not in known][:4]
    return _BAD_REGION_CACHE[city_code]


# ======================================================================== formatting
class _Formatter:
    def __init__(self, kind: str, fields: list[str]):
        self.tmpl = {f: fmt for f, _h, fmt, _r in TEMPLATES[kind]}
        self.fields = fields
        self.cache: list[dict] = [{}, {}, {}]

    def cell(self, f: str, v, style: int) -> str:
        if v is None:
            return ""
        fmt = self.tmpl.get(f, "str")
        if fmt == "str":
            return str(v)
        if fmt == "date":
            c = self.cache[style]
            s = c.get(v)
            if s is None:
                s = c[v] = _fmt_date(v, style)
            return s
        if fmt == "bool":
            return "是" if v else "否"
        if fmt == "money":
            return f"{v:.2f}"
        if fmt == "int":
            return str(v)
        return ENUMS[fmt[5:]][v]


def _styles(rng, p, n) -> np.ndarray:
    return rng.choice(3, size=n, p=np.asarray(p) / sum(p))


def _rng_for(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, hash_str(name)])


def _table_rows(world: World, kind: str, table: pa.Table, spec: FileSpec, writer: _Writer, rng, name_variant_rate=0.0,
                protect_idx: np.ndarray | None = None, want: np.ndarray | None = None, extra_noise=None) -> dict[int, int]:
    fields = [f for f, *_ in TEMPLATES[kind]]
    fm = _Formatter(kind, fields)
    got: dict[int, int] = {}
    for lo in range(0, max(table.num_rows, 1), CHUNK):
        hi = min(table.num_rows, lo + CHUNK)
        if hi <= lo:
            break
        part = table.slice(lo, hi - lo)
        cols = [part.column(f).to_pylist() for f in fields]
        n = hi - lo
        st = _styles(rng, spec.date_styles, n).tolist()
        rows = [[fm.cell(f, col[i], st[i]) for f, col in zip(fields, cols, strict=True)] for i in range(n)]
        protect = np.zeros(n, dtype=bool)
        noise: list[list[tuple]] = [[] for _ in range(n)]
        if protect_idx is not None:
            m = (protect_idx >= lo) & (protect_idx < hi)
            protect[protect_idx[m] - lo] = True
        if extra_noise:
            for i in range(lo, hi):
                if i in extra_noise:
                    noise[i - lo].append(extra_noise[i])
                    protect[i - lo] = True
        if name_variant_rate and "enterprise_name" in fields:
            ci = fields.index("enterprise_name")
            for i in np.flatnonzero(rng.random(n) < name_variant_rate).tolist():
                if protect[i] or not rows[i][ci]:
                    continue
                orig = rows[i][ci]
                rows[i][ci] = variant(orig, rng)
                noise[i].append(("enterprise_name", "name_variant", orig, rows[i][ci]))
                protect[i] = True
        w_local = None
        if want is not None:
            m = (want >= lo) & (want < hi)
            w_local = want[m] - lo
        res = writer.write_chunk(rows, protect, noise, st, w_local)
        got.update({lo + k: v for k, v in res.items()})
    return got


# ======================================================================== public entry point
def default_specs(formats: tuple[str, ...]) -> dict[str, FileSpec]:
    xlsx = "xlsx" in formats
    return {
        "enterprises": FileSpec("enterprises.csv", "enterprises", "市场主体登记系统", "utf-8-sig", "csv", (0.85, 0.10, 0.05), duplicates=False),
        "licences": FileSpec("licences.csv", "licences", "食品生产经营许可系统", "utf-8", "csv", (0.95, 0.05, 0.0)),
        "inspections": FileSpec("inspections.csv", "inspections", "智慧监管监督检查系统", "utf-8", "csv", (0.97, 0.0, 0.03)),
        "sampling_tests": FileSpec("sampling_tests.csv", "sampling_tests", "食品安全抽检监测系统", "utf-8-sig", "csv", (0.9, 0.0, 0.1)),
        "announcements": FileSpec("sampling_samr_announcements." + ("xlsx" if xlsx else "csv"), "sampling_tests",
                                  "市场监管部门食品安全抽检信息公告", "utf-8", "xlsx" if xlsx else "csv", (0.7, 0.3, 0.0),
                                  profile="samr_announcement", duplicates=False),
        "penalties": FileSpec("penalties." + ("xlsx" if xlsx else "csv"), "penalties", "行政执法办案系统", "utf-8",
                              "xlsx" if xlsx else "csv", (0.6, 0.0, 0.4)),
        "complaints_12315": FileSpec("complaints_12315.csv", "complaints", "全国12315平台", "utf-8", "csv", (1.0, 0.0, 0.0)),
        "complaints_12345": FileSpec("complaints_12345.csv", "complaints", "12345政务服务便民热线", "gbk", "csv", (0.0, 1.0, 0.0)),
        "credit_repairs": FileSpec("credit_repairs.csv", "credit_repairs", "市场监管信用修复平台", "utf-8", "csv", (1.0, 0.0, 0.0)),
        "list_entries": FileSpec("list_entries.csv", "list_entries", "国家企业信用信息公示系统", "utf-8-sig", "csv", (0.9, 0.0, 0.1)),
    }


def write_import_files(world: World, out_dir, dirty_rate: float = 0.02, seed: int = 0,
                       formats: tuple[str, ...] | list[str] = ("csv", "xlsx")) -> dict:
    """Write import files, ground truth and manifest.json under ``out_dir``; returns the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ground_truth").mkdir(exist_ok=True)
    specs = default_specs(tuple(formats))
    log = _Log()
    files = []

    def run(key, table, kind=None, **kw):
        spec = specs[key]
        kind = kind or spec.kind
        fields = [f for f, *_ in TEMPLATES[kind]]
        headers = [h for _f, h, *_ in TEMPLATES[kind]]
        w = _Writer(spec, headers, fields, out, log, _rng_for(seed, spec.file + ":dirty"), world, dirty_rate)
        try:
            got = _table_rows(world, kind, table, spec, w, _rng_for(seed, spec.file), **kw)
        finally:
            w.close()
        files.append(_file_entry(spec, w.rows_out))
        return got

    run("enterprises", world.enterprises)
    run("licences", world.licences)
    run("inspections", world.inspections)
    st = world.sampling_tests
    lv = st.column("level").to_numpy(zero_copy_only=False)
    ann = np.isin(lv, ["national", "provincial"])
    run("sampling_tests", st.filter(pa.array(~ann)), name_variant_rate=0.03)
    _fit_xlsx(specs["announcements"], int(ann.sum()))
    _fit_xlsx(specs["penalties"], world.penalties.num_rows)
    _write_announcements(world, st.filter(pa.array(ann)), specs["announcements"], out, log, seed, dirty_rate, files)
    run("penalties", world.penalties)
    # complaints: 12345 hotline (GBK) and the 12315 platform; the hotline forwards some cases to 12315
    cp = world.complaints
    ch = cp.column("channel").to_numpy(zero_copy_only=False)
    hot = cp.filter(pa.array(ch == "12345"))
    fwd_rng = _rng_for(seed, "forwarded")
    fwd = np.flatnonzero(fwd_rng.random(hot.num_rows) < 0.08)
    rows_12345 = run("complaints_12345", hot, protect_idx=fwd, want=fwd)
    plat_idx = np.flatnonzero(ch != "12345")
    hot_idx = np.flatnonzero(ch == "12345")[fwd]
    merged = np.sort(np.concatenate([plat_idx, hot_idx]))
    fwd_pos = {int(np.searchsorted(merged, g)): k for k, g in enumerate(hot_idx.tolist())}
    hot_no = hot.column("complaint_no").to_pylist()
    extra = {p: ("complaint_no", "duplicate", f"{specs['complaints_12345'].file}#{rows_12345[int(fwd[k])]}", hot_no[int(fwd[k])])
             for p, k in fwd_pos.items()}
    run("complaints_12315", cp.take(pa.array(merged)), extra_noise=extra)
    run("credit_repairs", world.credit_repairs)
    run("list_entries", world.list_entries)
    # ground truth
    _write_csv(out / "ground_truth" / "injected_errors.csv", ERROR_COLUMNS, log.errors)
    _write_csv(out / "ground_truth" / "injected_noise.csv", ERROR_COLUMNS, log.noise)
    _write_latent(world, out / "ground_truth" / "latent_risk.csv")
    manifest = {
        "generator": "foodrisk.synth", "seed": seed, "world_seed": world.seed, "as_of": world.as_of.isoformat(),
        "import_day": world.as_of.isoformat(), "window_start": world.start.isoformat(), "years": world.years,
        "city": {"code": world.city.code, "name": world.city.name, "province": world.city.province,
                 "districts": [{"code": d.code, "name": d.name} for d in world.city.districts],
                 "stations": [{"code": s.code, "name": s.name} for s in world.city.stations]},
        "dirty_rate": dirty_rate, "files": files,
        "ground_truth": {
            "latent_risk": "ground_truth/latent_risk.csv", "injected_errors": "ground_truth/injected_errors.csv",
            "injected_noise": "ground_truth/injected_noise.csv", "errors": len(log.errors), "noise": len(log.noise)},
        "notes": {
            "row": "1-based data row, header excluded",
            "selection_bias": "inspection frequency rises with the supervisor's (noisy) perception of risk and with "
                              "latent-risk drift; see inspections_per_year in latent_risk.csv",
            "future_adverse": "failed inspection, failed sampling or penalty in (as_of, as_of + 365 days]; "
                              "only observed where the enterprise was inspected/sampled (selection bias)",
            "duplicate": "original_value names the first occurrence as file#row",
            "linked_by_name": "announcement rows carry no USCC; original_value is the true USCC",
        },
        "record_counts": world.record_counts(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _fit_xlsx(spec: FileSpec, rows: int) -> None:
    """An XLSX sheet holds at most 1,048,575 data rows; larger sources are delivered as CSV instead."""
    if spec.fmt == "xlsx" and rows * (1 + 2 * DUP_RATE) > XLSX_MAX_ROWS:
        spec.fmt = "csv"
        spec.file = spec.file[: -len(".xlsx")] + ".csv"


def _file_entry(spec: FileSpec, rows: int) -> dict:
    return {"file": spec.file, "kind": spec.kind, "source": spec.source, "encoding": spec.encoding.replace("-sig", ""),
            "bom": spec.encoding == "utf-8-sig", "format": spec.fmt, "profile": spec.profile, "rows": rows}


def _write_csv(path: Path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _write_latent(world: World, path: Path):
    gt = world.ground_truth
    cols = ["uscc", "enterprise_id", "latent_risk", "latent_risk_start", "active_at_as_of", "inspections_per_year",
            "complaint_burst_on", "future_inspections", "future_failed_inspections", "future_failed_sampling",
            "future_penalties", "future_adverse"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for lo in range(0, gt.num_rows, CHUNK):
            part = gt.slice(lo, CHUNK)
            data = []
            for c in cols:
                vals = part.column(c).to_pylist()
                if c in ("active_at_as_of", "future_adverse"):
                    vals = [int(v) for v in vals]
                elif c == "latent_risk" or c == "latent_risk_start":
                    vals = [f"{v:.6f}" for v in vals]
                elif c == "complaint_burst_on":
                    vals = ["" if v is None else v.isoformat() for v in vals]
                data.append(vals)
            w.writerows(zip(*data, strict=True))


def _write_announcements(world: World, st: pa.Table, spec: FileSpec, out: Path, log: _Log, seed: int, rate: float, files):
    """SAMR announcement layout: no USCC; the sampled unit named (sometimes a variant) with its address."""
    rng = _rng_for(seed, spec.file)
    fields = list(ANNOUNCEMENT_FIELDS)
    w = _Writer(spec, ANNOUNCEMENT_HEADERS, fields, out, log, _rng_for(seed, spec.file + ":dirty"), world, rate)
    ev = world.ev["sampling_tests"]
    a = to_day(world.as_of)
    idx_all = np.flatnonzero((ev["day"] <= a) & np.isin(ev["level"], [0, 1]))
    producers = np.flatnonzero(np.isin(world.ent["form"], [2, 4]))
    try:
        for lo in range(0, st.num_rows, CHUNK):
            part = st.slice(lo, CHUNK)
            n = part.num_rows
            idx = idx_all[lo:lo + n]
            eid = part.column("enterprise_id").to_numpy()
            names = part.column("enterprise_name").to_pylist()
            addrs = part.column("enterprise_address").to_pylist()
            usccs = part.column("uscc").to_pylist()
            prods = part.column("product").to_pylist()
            cats = part.column("category").to_pylist()
            failed = part.column("failed_items").to_pylist()
            levels = part.column("level").to_pylist()
            ann = announcement_numbers(world, ev["day"][idx], ev["level"][idx]).tolist()
            pday = (ev["day"][idx] - ev["prod_lag"][idx]).tolist()
            lab = ev["lab"][idx].tolist()
            style = _styles(rng, spec.date_styles, n).tolist()
            own = np.isin(world.ent["form"][eid], [2, 4])
            other = producers[rng.integers(0, max(1, len(producers)), n) % max(1, len(producers))] if len(producers) else eid
            rows, noise = [], []
            protect = np.zeros(n, dtype=bool)
            vr = rng.random(n)
            for i in range(n):
                if own[i]:
                    pn, pa_ = names[i], addrs[i]
                elif cats[i] in ("食用农产品", "餐饮食品"):
                    pn, pa_ = "/", "/"
                else:
                    pn, pa_ = world.ent["name"][other[i]], world.ent["address"][other[i]]
                nm = names[i]
                nz = []
                if vr[i] < 0.25:
                    v = variant(nm, rng)
                    nz.append(("enterprise_name", "name_variant", nm, v))
                    nm = v
                nz.insert(0, ("enterprise_name", "linked_by_name", usccs[i], nm))
                protect[i] = vr[i] < 0.25
                pd = _fmt_date(from_day(pday[i]), style[i]) if cats[i] not in ("食用农产品",) else _fmt_date(from_day(pday[i] + 0), style[i])
                rows.append([pn, pa_, nm, addrs[i], prods[i], V.SPECS[i % len(V.SPECS)], V.BRANDS[(i * 7) % len(V.BRANDS)], pd,
                             failed[i] or "", cats[i], V.LEVEL_LABEL[levels[i]], V.TESTING_LABS[lab[i]], ann[i]])
                noise.append(nz)
            w.write_chunk(rows, protect, noise, style)
    finally:
        w.close()
    files.append(_file_entry(spec, w.rows_out))
