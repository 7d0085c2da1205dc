"""Field specifications per record kind and the built-in mapping profiles (header aliases → canonical
field, value dictionaries, date formats). Profiles are data: they are copied into MappingProfile rows
and can be edited in the UI; this module holds the defaults shipped with the system."""

import json
from pathlib import Path

from .normalisers import DEFAULT_DATE_FORMATS, text

KINDS = ("enterprises", "licences", "inspections", "sampling_tests", "penalties", "complaints", "credit_repairs",
         "list_entries")
KIND_LABELS = {"enterprises": "企业", "licences": "许可证", "inspections": "监督检查", "sampling_tests": "抽检",
               "penalties": "行政处罚", "complaints": "投诉举报", "credit_repairs": "信用修复", "list_entries": "名录"}
# import order of a complete delivery (records need their enterprise first)
KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}
# a delivery imports in stages: every other kind names its enterprise (and nothing of another kind), so once
# the enterprises are in, the other files can be imported side by side
IMPORT_STAGE = {kind: 0 if kind == "enterprises" else 1 for kind in KINDS}

# (canonical field, template header, type, required). A record's enterprise is found by its USCC, licence number,
# a source system's own id (crosswalk) or name + address (profiles.LINK_FIELDS): no record kind requires the USCC. Types: str, name, address, code, uscc, licence, region,
# date, date_future_ok (a date that may lie ahead, e.g. expiry), enum:<name>, bool, count, money, list, items.
FIELDS = {
    "enterprises": [
        ("uscc", "统一社会信用代码", "uscc", True), ("name", "企业名称", "name", True),
        ("former_names", "曾用名", "list", False), ("legal_representative", "法定代表人", "str", False),
        ("address", "经营地址", "address", False), ("region_code", "行政区划代码", "region", True),
        ("business_form", "主体业态", "enum:business_form", True), ("food_categories", "食品类别", "list", False),
        ("scale", "规模", "enum:scale", False), ("established_on", "成立日期", "date", False),
        ("status", "登记状态", "enum:enterprise_status", False), ("static_tier", "静态风险等级", "enum:static_tier", False),
        ("key_supervision", "重点监管", "bool", False)],
    "licences": [
        ("licence_no", "许可证编号", "licence", True), ("uscc", "统一社会信用代码", "uscc", True),
        ("category", "许可类别", "str", False), ("issued_on", "发证日期", "date", True),
        ("expires_on", "有效期至", "date_future_ok", True), ("status", "许可状态", "enum:licence_status", False)],
    "inspections": [
        ("inspection_no", "检查编号", "code", True), ("uscc", "统一社会信用代码", "uscc", False),
        ("inspected_on", "检查日期", "date", True), ("kind", "检查类型", "enum:inspection_kind", True),
        ("organisation", "检查机构", "str", False), ("inspector", "检查人员", "str", False),
        ("result", "检查结果", "enum:inspection_result", True), ("key_items_failed", "不符合重点项数", "count", False),
        ("general_items_failed", "不符合一般项数", "count", False), ("rectification_ordered", "责令整改", "bool", False)],
    "sampling_tests": [
        ("report_no", "报告编号", "code", True), ("uscc", "统一社会信用代码", "uscc", False),
        ("enterprise_name", "被抽样单位名称", "name", False), ("enterprise_address", "被抽样单位地址", "address", False),
        ("sampled_on", "抽样日期", "date", True), ("level", "抽检级别", "enum:sampling_level", True),
        ("product", "食品名称", "str", True), ("category", "分类", "str", False),
        ("result", "检验结论", "enum:sampling_result", True), ("failed_items", "不合格项目║检验结果║标准值", "items", False),
        ("announcement_no", "公告号", "str", False),
        # announcement-only columns (not in the template)
        ("producer_name", "标称生产企业名称", "name", False), ("producer_address", "标称生产企业地址", "address", False),
        ("production_date", "生产日期/批号", "str", False), ("specification", "规格型号", "str", False),
        ("brand", "商标", "str", False), ("laboratory", "检验机构", "str", False)],
    "penalties": [
        ("decision_no", "处罚决定书文号", "code_text", True), ("uscc", "统一社会信用代码", "uscc", False),
        ("decided_on", "处罚决定日期", "date", True), ("violation_type", "违法行为类型", "str", True),
        ("severity", "情节严重程度", "enum:severity", True), ("fine", "罚款金额(元)", "money", False),
        ("confiscation", "没收金额(元)", "money", False), ("licence_revoked", "吊销许可证", "bool", False),
        ("publicity_until", "公示截止日期", "date_future_ok", False)],
    "complaints": [
        ("complaint_no", "投诉编号", "code", True), ("uscc", "统一社会信用代码", "uscc", False),
        ("received_on", "登记日期", "date", True), ("channel", "来源渠道", "enum:complaint_channel", True),
        ("category", "投诉类别", "str", False), ("verified", "是否属实", "bool", True),
        ("status", "办理状态", "enum:complaint_status", False), ("duplicate_of", "重复件编号", "code", False)],
    "credit_repairs": [
        ("repair_no", "修复申请编号", "code", True), ("uscc", "统一社会信用代码", "uscc", False),
        ("target_kind", "修复对象类型", "enum:repair_target", True), ("target_no", "修复对象编号", "str", True),
        ("applied_on", "申请日期", "date", True), ("decided_on", "决定日期", "date", False),
        ("decision", "审核结果", "enum:repair_decision", True)],
    "list_entries": [
        ("uscc", "统一社会信用代码", "uscc", False), ("list_kind", "名录类型", "enum:list_kind", True),
        ("listed_on", "列入日期", "date", True), ("removed_on", "移出日期", "date", False),
        ("reason", "列入原因", "str", False)],
}
TEMPLATE_FIELDS = {kind: [f for f in specs if not (kind == "sampling_tests" and f[0] in (
    "producer_name", "producer_address", "production_date", "specification", "brand", "laboratory"))]
    for kind, specs in FIELDS.items()}
FIELD_TYPES = {kind: {f: t for f, _h, t, _r in specs} for kind, specs in FIELDS.items()}
REQUIRED = {kind: tuple(f for f, _h, _t, r in specs if r) for kind, specs in FIELDS.items()}
# end-before-start rules: (start, end) — the end field carries the reason
DATE_ORDER = {"licences": ("issued_on", "expires_on"), "list_entries": ("listed_on", "removed_on"),
              "credit_repairs": ("applied_on", "decided_on")}
NATURAL_KEY = {"enterprises": "uscc", "licences": "licence_no", "inspections": "inspection_no",
               "sampling_tests": "report_no", "penalties": "decision_no", "complaints": "complaint_no",
               "credit_repairs": "repair_no", "list_entries": "entry_key"}
# the fields whose pass rate the quality report shows (the ≥ 99 % target)
KEY_FIELDS = {
    "enterprises": ("uscc", "name", "region_code", "business_form", "established_on"),
    "licences": ("licence_no", "uscc", "issued_on", "expires_on"),
    "inspections": ("inspection_no", "uscc", "inspected_on", "kind", "result"),
    "sampling_tests": ("report_no", "uscc", "enterprise_name", "sampled_on", "level", "product", "result"),
    "penalties": ("decision_no", "uscc", "decided_on", "severity", "fine"),
    "complaints": ("complaint_no", "uscc", "received_on", "channel", "verified"),
    "credit_repairs": ("repair_no", "uscc", "applied_on", "decided_on", "decision"),
    "list_entries": ("uscc", "list_kind", "listed_on", "removed_on"),
}

ENUMS = {
    "business_form": {"production": "食品生产", "sales": "食品销售", "catering": "餐饮服务", "canteen": "单位食堂",
                      "special": "特殊食品"},
    "scale": {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"},
    "enterprise_status": {"active": "存续", "cancelled": "注销", "revoked": "吊销", "suspended": "歇业"},
    "static_tier": {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"},
    "licence_status": {"valid": "有效", "expired": "过期", "revoked": "吊销", "cancelled": "注销"},
    "inspection_kind": {"routine": "日常检查", "special": "专项检查", "random": "双随机抽查", "flight": "飞行检查"},
    "inspection_result": {"pass": "符合", "basic": "基本符合", "fail": "不符合"},
    "sampling_level": {"national": "国抽", "provincial": "省抽", "city": "市抽", "county": "县抽"},
    "sampling_result": {"pass": "合格", "fail": "不合格"},
    "severity": {"minor": "轻微", "general": "一般", "heavy": "较重", "serious": "严重"},
    "complaint_channel": {"12315": "12315", "12345": "12345", "letter": "来信", "visit": "来访", "online": "网络"},
    "complaint_status": {"open": "待处理", "handling": "处理中", "closed": "已办结"},
    "repair_decision": {"pending": "待审核", "approved": "准予修复", "rejected": "不予修复"},
    "repair_target": {"penalties": "行政处罚", "list_entries": "名录"},
    "list_kind": {"abnormal": "经营异常名录", "serious": "严重违法失信名单"},
}
EXTRA_VALUES = {
    "static_tier": {"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4, "一级": 1, "二级": 2,
                    "三级": 3, "四级": 4},
    "sampling_level": {"国家": "national", "国家市场监督管理总局": "national", "市场监管总局": "national",
                       "省级": "provincial", "市级": "city", "县级": "county", "区县": "county"},
    "complaint_channel": {"信件": "letter", "网上": "online", "互联网": "online"},
    "repair_target": {"处罚": "penalties", "行政处罚信息": "penalties", "经营异常名录": "list_entries",
                      "严重违法失信名单": "list_entries"},
    "inspection_result": {"合格": "pass", "不合格": "fail", "通过": "pass"},
}
BOOL_VALUES = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "true": True,
               "false": False, "1": True, "0": False, "有": True, "无": False, "√": True, "×": False}


def default_value_dictionaries():
    """label → code for every enumeration (codes map to themselves)."""
    out = {}
    for name, labels in ENUMS.items():
        values = {str(code): code for code in labels}
        values.update({label: code for code, label in labels.items()})
        values.update(EXTRA_VALUES.get(name, {}))
        out[name] = values
    return out


# English aliases a source system may use in addition to the canonical field names themselves
ENGLISH_ALIASES = {
    "uscc": ("USCC", "credit_code", "unified_social_credit_code", "社会信用代码", "统一代码"),
    "name": ("enterprise_name", "company_name", "企业(机构)名称", "主体名称", "单位名称"),
    "region_code": ("区划代码", "所属区划", "region"),
    "address": ("住所", "地址", "经营场所"),
    "legal_representative": ("法定代表人(负责人)", "负责人"),
    "licence_no": ("licence_number", "license_no", "许可证号"),
    "decided_on": ("处罚日期", "决定日期"),
    "decision_no": ("决定书文号", "行政处罚决定书文号"),
}


def _template_profile(kind):
    headers = {}
    for field, header, _t, _r in FIELDS[kind]:
        headers[header] = field
        headers[field] = field
    for field, aliases in ENGLISH_ALIASES.items():
        if field in FIELD_TYPES[kind]:
            for alias in aliases:
                headers.setdefault(alias, field)
    if kind == "sampling_tests":
        headers.pop("decided_on", None)
    if kind == "credit_repairs":
        headers["决定日期"] = "decided_on"
    return {"kind": kind, "headers": headers, "values": {}, "date_formats": list(DEFAULT_DATE_FORMATS),
            "derive": {}}


SAMR_ANNOUNCEMENT = {
    "kind": "sampling_tests",
    "headers": {
        "标称生产企业名称": "producer_name", "标称生产企业地址": "producer_address",
        "被抽样单位名称": "enterprise_name", "被抽样单位地址": "enterprise_address", "食品名称": "product",
        "规格型号": "specification", "商标": "brand", "生产日期/批号": "production_date",
        "不合格项目║检验结果║标准值": "failed_items", "分类": "category", "任务来源": "level",
        "检验机构": "laboratory", "公告号": "announcement_no", "抽样日期": "sampled_on", "报告编号": "report_no",
        "检验结论": "result", "统一社会信用代码": "uscc", "序号": "",
    },
    "values": {},
    "date_formats": list(DEFAULT_DATE_FORMATS),
    # announcements carry no report number, sampling date or conclusion column: derive them
    "derive": {
        "report_no": {"hash": ["announcement_no", "enterprise_name", "product", "specification", "brand",
                               "production_date", "producer_name"], "prefix": "ANN-"},
        "sampled_on": {"from": "production_date"},
        "result": {"failed_if_present": "failed_items"},
    },
}

BUILTIN_PROFILES = {f"template_{kind}": _template_profile(kind) for kind in KINDS}
BUILTIN_PROFILES["samr_announcement"] = SAMR_ANNOUNCEMENT
PROFILE_NAMES = {f"template_{kind}": f"{KIND_LABELS[kind]}导入模板" for kind in KINDS}
PROFILE_NAMES["samr_announcement"] = "市场监管总局/省局抽检信息公告"
# profiles made in the mapping designer and shipped as data (builtin_profiles/<code>.json: {"name", "config",
# "regions"}), e.g. Chicago's licence and inspection files, which the validity benchmark imports unedited.
# "regions": the supervision stations the profile's region value map names ([{"code", "name", "parent"}]); they
# are created when the profile is first used for an import, under a parent county that exists
# (services.profiles.ensure_profile_regions), never for an installation that does not use the profile
BUILTIN_REGIONS = {}
for _path in sorted((Path(__file__).parent / "builtin_profiles").glob("*.json")):
    _doc = json.loads(_path.read_text(encoding="utf-8"))
    BUILTIN_PROFILES[_path.stem] = _doc["config"]
    PROFILE_NAMES[_path.stem] = _doc["name"]
    BUILTIN_REGIONS[_path.stem] = _doc.get("regions") or []


def profile_code_for(kind, profile_hint=""):
    if profile_hint and profile_hint != "template":
        return profile_hint
    return f"template_{kind}"


def header_key(header):
    """Headers compared tidy: NFKC, no spaces, full-width brackets folded."""
    return text(header).replace(" ", "").lower()


def detect_profile(headers, profiles=None):
    """The profile code whose headers fit best (required fields present, most columns recognised)."""
    profiles = profiles or BUILTIN_PROFILES
    keys = {header_key(h) for h in headers if h}
    best, best_score = None, 0.0
    for code, profile in profiles.items():
        if "columns" in profile:  # format 2 (profiles.py): a column's first target; constants count as derived
            mapping = {header_key(h): ts[0] for h, ts in profile["columns"].items() if ts}
        else:
            mapping = {header_key(h): f for h, f in profile.get("headers", {}).items() if f}
        fields = {mapping[k] for k in keys if k in mapping}
        if not fields:
            continue
        kind = profile["kind"]
        derived = set(profile.get("derive") or {}) | set(profile.get("constants") or {})
        required = [f for f in REQUIRED[kind] if f not in derived]
        missing = sum(1 for f in required if f not in fields)
        recognised = sum(1 for k in keys if k in mapping) / max(1, len(keys))
        score = recognised - missing * 0.5 + (0.01 if code.startswith("template_") else 0)
        if score > best_score:
            best, best_score = code, score
    return best
