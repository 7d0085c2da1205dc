"""Mapping profiles, format 2: what a profile says, how it is checked when saved, and how the pipeline reads it.

A profile tells the pipeline how one source's file maps onto one record kind (docs/data-formats.md has the
reference with examples):

    {"format": 2, "kind": "inspections",
     "columns": {"Inspection_ID": ["inspection_no"], "License": ["crosswalk:chicago_license"],
                 "DBA_Name": ["enterprise_name"], "Risk": []},            # [] = ignore the column
     "constants": {"organisation": "芝加哥公共卫生局"},                      # a field every row gets
     "values": {"result": {"Pass": "pass", "Pass w/ Conditions": "basic"},   # source value → code
                "region_code": {"60601": "11010560601", "*": "110105"}},       # "*": any other value
     "dates": {"Inspection_Date": "%m/%d/%Y"},                             # strptime pattern per column
     "date_formats": ["iso", "slash", "chinese"],                         # tried for the other date columns
     "derive": {"inspection_no": {"hash": ["enterprise_name", "inspected_on"], "prefix": "DST-"},
                "region_code": {"from_uscc": "uscc"}},
     "read": {"sheet": "检查记录", "header_row": 3}}                        # optional: a workbook's sheet, the header row

Format 1 (the original: "headers" {source header: field}, "values", "date_formats", "derive") still loads:
`upgrade()` reads it as format 2, so stored profiles need no migration.

Everything a profile names is checked by `validate()` when it is saved (form, API, designer, file import);
the pipeline never meets an unknown field, a bad pattern or an unknown code.
"""

import datetime as dt
import hashlib
import re
from collections import Counter

from django.utils.translation import gettext as _

from . import mapping
from . import normalisers as N

FORMAT = 2
CROSSWALK = "crosswalk:"  # target prefix: the source system's own id of the enterprise, e.g. crosswalk:chicago_license
SCHEME_RE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
RECORD_KINDS = tuple(k for k in mapping.KINDS if k not in ("enterprises", "licences"))

# fields that only find the enterprise of a record (they are not stored on the record itself)
LINK_FIELDS = {
    "enterprise_name": ("企业名称", "name"),
    "enterprise_address": ("企业地址", "address"),
    "licence_no": ("许可证编号", "licence"),
}
LINK_LABELS = {"enterprise_name": "企业名称（关联用）", "enterprise_address": "企业地址（关联用）",
               "licence_no": "许可证编号（关联用）"}


def field_types(kind):
    """{field: type} a profile of this kind may fill: the kind's own fields, and for records the link fields."""
    types = dict(mapping.FIELD_TYPES[kind])
    if kind in RECORD_KINDS:
        for f, (_label, t) in LINK_FIELDS.items():
            types.setdefault(f, t)
    return types


def field_labels(kind):
    """{field: Chinese label} for the designer and for messages."""
    labels = {f: header for f, header, _t, _r in mapping.FIELDS[kind]}
    if kind in RECORD_KINDS:
        for f in LINK_FIELDS:
            labels.setdefault(f, LINK_LABELS[f])
    return labels


def is_crosswalk(target):
    return target.startswith(CROSSWALK)


def crosswalk_scheme(target):
    return target[len(CROSSWALK):]


# ==================================================================================== format 1 → 2
def upgrade(config):
    """Any stored configuration as format 2 (a new dict; format 1 is read, not rewritten)."""
    config = dict(config or {})
    if config.get("format") == FORMAT:
        out = {k: config.get(k) for k in ("kind", "columns", "constants", "values", "dates", "date_formats",
                                          "derive", "read")}
    else:
        columns = {}
        for header, field in (config.get("headers") or {}).items():
            columns[header] = [field] if field else []
        out = {"kind": config.get("kind"), "columns": columns, "constants": {}, "values": config.get("values") or {},
               "dates": {}, "date_formats": config.get("date_formats"), "derive": config.get("derive") or {}}
    out["format"] = FORMAT
    for key in ("columns", "constants", "values", "dates", "derive", "read"):
        if not isinstance(out.get(key), dict):
            out[key] = {}
    if not out.get("date_formats"):
        out["date_formats"] = list(N.DEFAULT_DATE_FORMATS)
    return out


# ==================================================================================== validation
class ProfileInvalid(ValueError):
    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("；".join(self.errors))


def valid_date_pattern(pattern):
    """A named pattern (iso, slash, chinese, dot, compact) or a strptime pattern naming a year, month and day
    that reads back a date it wrote."""
    if not isinstance(pattern, str) or not pattern:
        return False
    if pattern in N.DATE_PATTERNS:
        return True
    if "%" not in pattern or not re.search(r"%[Yy]", pattern) or not re.search(r"%[mbB]", pattern) \
            or "%d" not in pattern:
        return False
    try:
        sample = dt.datetime(2024, 11, 23, 13, 45, 30)
        return dt.datetime.strptime(sample.strftime(pattern), pattern).date() == sample.date()
    except (ValueError, TypeError):
        return False


def _pattern_error(where, pattern):
    return _("%(where)s: the date pattern “%(pattern)s” is not valid: use a strptime pattern with a year, a month and a day, e.g. %%Y-%%m-%%d, %%m/%%d/%%Y, %%Y年%%m月%%d日, or a built-in one: iso, slash, chinese, dot, compact.") % {
        "where": where, "pattern": pattern}


def validate(config, *, kind=None, regions=None):
    """The format-2 configuration, checked; raises ProfileInvalid with every problem in Chinese.
    regions: known region codes for region constants (None: not checked here)."""
    if not isinstance(config, dict):
        raise ProfileInvalid([_("The configuration must be an object (a JSON object).")])
    cfg = upgrade(config)
    kind = kind or cfg.get("kind")
    errors = []
    if kind not in mapping.KINDS:
        raise ProfileInvalid([_("Unknown record kind “%(kind)s”; choose one of: %(kinds)s.") % {
            "kind": kind, "kinds": "、".join(f"{k}（{mapping.KIND_LABELS[k]}）" for k in mapping.KINDS)}])
    cfg["kind"] = kind
    types, labels = field_types(kind), field_labels(kind)
    kind_label = mapping.KIND_LABELS[kind]

    def known(field, where):
        if is_crosswalk(field):
            if kind == "licences":
                errors.append(_("%(where)s: a licence file cannot use a source system identifier.") % {"where": where})
            elif not SCHEME_RE.match(crosswalk_scheme(field)):
                errors.append(_("%(where)s: the identifier scheme name “%(scheme)s” is not valid (a lower-case letter first, then lower-case letters, digits or underscores, 2–50 characters).") % {"where": where, "scheme": crosswalk_scheme(field)})
            return
        if field not in types:
            errors.append(_("%(where)s: the field “%(field)s” does not belong to %(kind)s.") % {"where": where, "field": field,
                                                                            "kind": kind_label})

    mapped = set()
    for header, targets in cfg["columns"].items():
        if isinstance(targets, str):
            targets = [targets] if targets else []
            cfg["columns"][header] = targets
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            errors.append(_("The targets of column “%(header)s” must be a list of field names.") % {"header": header})
            continue
        for t in targets:
            known(t, _("Column “%(header)s”") % {"header": header})
            mapped.add(t)
    for field, value in cfg["constants"].items():
        known(field, _("Constant “%(field)s”") % {"field": field})
        if is_crosswalk(field) or not isinstance(value, (str, int, float, bool)) or value == "":
            errors.append(_("The constant “%(field)s” needs a non-empty text or number.") % {"field": field})
            continue
        t = types.get(field, "")
        if t.startswith("enum:") and _enum_code(cfg, kind, field, value) is None:
            errors.append(_("The constant “%(field)s” has the value “%(value)s”, which is not a valid code; choose one of: %(choices)s.") % {
                "field": labels.get(field, field), "value": value, "choices": enum_choices_text(t[5:])})
        if t == "region" and regions is not None and N.code(value) not in regions:
            errors.append(_("The constant “%(field)s” names the region code “%(value)s”, which does not exist.") % {"field": labels.get(field, field),
                                                                                   "value": value})
        mapped.add(field)
    for field, table in cfg["values"].items():
        if types.get(field) == "region":  # a region value map: source value (a ZIP code, a name) → region code
            if not isinstance(table, dict):
                errors.append(_("The value map “%(field)s” must be an object of source value → code.") % {"field": field})
                continue
            bad = [str(v) for v in table.values() if not isinstance(v, str) or not N.code(v).isdigit()
                   or (regions is not None and N.code(v) not in regions)]
            if bad:
                errors.append(_("The value map “%(field)s” names region codes that do not exist: %(bad)s.") % {
                    "field": labels.get(field, field), "bad": "、".join(bad[:5])})
            continue
        if field == "bool":
            if not isinstance(table, dict) or not all(isinstance(v, bool) for v in table.values()):
                errors.append(_("The yes/no value map must map source values to true or false."))
            continue
        t = types.get(field) or ("enum:" + field if field in mapping.ENUMS else None)
        if t is None or not (t.startswith("enum:") or t == "bool"):
            errors.append(_("Value map “%(field)s”: only code-list (enumeration) and yes/no fields take a value map.") % {"field": field})
            continue
        if not isinstance(table, dict):
            errors.append(_("The value map “%(field)s” must be an object of source value → code.") % {"field": field})
            continue
        if t == "bool":
            bad = [str(v) for v in table.values() if not isinstance(v, bool)]
        else:
            codes = {str(c) for c in mapping.ENUMS[t[5:]]}
            bad = [str(v) for v in table.values() if str(v) not in codes]
        if bad:
            errors.append(_("The value map “%(field)s” has invalid codes: %(bad)s; choose from: %(choices)s.") % {
                "field": labels.get(field, field), "bad": "、".join(bad[:5]),
                "choices": _("yes (true), no (false)") if t == "bool" else enum_choices_text(t[5:])})
    for header, pattern in cfg["dates"].items():
        if not valid_date_pattern(pattern):
            errors.append(_pattern_error(_("Column “%(header)s”") % {"header": header}, pattern))
        elif header not in cfg["columns"]:
            errors.append(_("Column “%(header)s” has a date pattern but is not among the mapped columns.") % {"header": header})
    formats = cfg["date_formats"]
    if not isinstance(formats, list):
        errors.append(_("date_formats must be a list of date patterns, e.g. [\"iso\", \"%%d.%%m.%%Y\"]."))
    else:
        for pattern in formats:
            if not valid_date_pattern(pattern):
                errors.append(_pattern_error(_("General date patterns"), pattern))
    errors.extend(_read_errors(cfg["read"]))
    for field, rule in cfg["derive"].items():
        known(field, _("Derived field “%(field)s”") % {"field": field})
        errors.extend(_derive_errors(field, rule, types, labels, mapped))
        mapped.add(field)
    if not errors:
        missing = [f for f in required_fields(kind) if f not in mapped]
        if missing:
            errors.append(_("%(kind)s: required fields missing: %(fields)s (map a column to them, set a constant or derive them).") % {
                "kind": kind_label, "fields": "、".join(f"{labels.get(f, f)}（{f}）" for f in missing)})
        if kind in RECORD_KINDS and not (mapped & {"uscc", "licence_no", "enterprise_name"}
                                         or any(is_crosswalk(t) for t in mapped)):
            errors.append(_("A record must find its enterprise: map a column to the USCC, the licence number, a source system identifier or the enterprise name."))
    if errors:
        raise ProfileInvalid(errors)
    return cfg


MAX_HEADER_ROW = 50


def _read_errors(read):
    """How the file is read: "sheet" (a workbook's sheet name or 1-based number), "header_row" (1-based)."""
    errors = []
    unknown = sorted(set(read) - {"sheet", "header_row"})
    if unknown:
        errors.append(_("Unknown reading options: %(keys)s (use sheet and header_row).") % {"keys": "、".join(unknown)})
    sheet = read.get("sheet")
    if sheet is not None and not ((isinstance(sheet, str) and sheet.strip() and len(sheet) <= 100)
                                  or (isinstance(sheet, int) and not isinstance(sheet, bool) and sheet >= 1)):
        errors.append(_("The sheet must be a sheet name or a number from 1."))
    row = read.get("header_row")
    if row is not None and not (isinstance(row, int) and not isinstance(row, bool) and 1 <= row <= MAX_HEADER_ROW):
        errors.append(_("The header row must be a number from 1 to %(max)s.") % {"max": MAX_HEADER_ROW})
    return errors


def read_options(config):
    """{"sheet", "header_row"} for readers.read_bytes from a stored configuration (defaults: first sheet, row 1)."""
    read = (config or {}).get("read") or {}
    return {"sheet": read.get("sheet"), "header_row": read.get("header_row") or 1}


def _derive_errors(field, rule, types, labels, mapped=frozenset()):
    if not isinstance(rule, dict):
        return [_("The rule of the derived field “%(field)s” must be an object.") % {"field": field}]
    if "hash" in rule:
        parts = rule["hash"]
        if not isinstance(parts, list) or not parts or not all(isinstance(p, str) and p in types for p in parts):
            return [_("The derived key “%(field)s” needs the fields its digest is computed from (fields of this kind).") % {"field": labels.get(field, field)}]
        if field in parts:
            return [_("The derived key “%(field)s” cannot be computed from itself.") % {"field": labels.get(field, field)}]
        if not isinstance(rule.get("prefix", ""), str) or len(rule.get("prefix", "")) > 10:
            return [_("The prefix of a derived key has at most 10 characters.")]
        return []
    if "from_uscc" in rule:
        if types.get(field) != "region" or rule["from_uscc"] not in types or types[rule["from_uscc"]] != "uscc":
            return [_("“Region from the USCC” applies to the region field only and must name the USCC field.")]
        return []
    if "from_crosswalk" in rule:
        if types.get(field) != "uscc" or CROSSWALK + str(rule["from_crosswalk"]) not in mapped:
            return [_("“USCC from a source system identifier” applies to the USCC field only and must name an identifier scheme a column maps to.")]
        return []
    if "from" in rule:
        return [] if rule["from"] in types else [_("The derived field “%(field)s” names an unknown source field.") % {"field": field}]
    if "failed_if_present" in rule:
        return [] if rule["failed_if_present"] in types else [_("The derived field “%(field)s” names an unknown source field.") % {"field": field}]
    return [_("The rule of the derived field “%(field)s” is unknown (use hash, from_uscc, from_crosswalk, from or failed_if_present).") % {"field": field}]


def required_fields(kind):
    return mapping.REQUIRED[kind]


def enum_choices_text(enum):
    return "、".join(f"{code}（{label}）" for code, label in mapping.ENUMS[enum].items())


def _enum_code(cfg, kind, field, value):
    enum = field_types(kind)[field][5:]
    table = {N.text(k).lower(): v for k, v in mapping.default_value_dictionaries()[enum].items()}
    table.update({N.text(k).lower(): v for k, v in (cfg["values"].get(field) or {}).items()})
    return table.get(N.text(value).lower())


# ==================================================================================== derived keys
def derived_key(values, fields, prefix=""):
    """The stable record key of a row without a number: SHA-1 over the chosen fields' cleaned values (names
    and addresses by their matching key, dates ISO, blanks empty) joined by "|", first 20 hex digits upper
    case, after the prefix. Re-importing the same file gives the same keys; None when every part is blank."""
    parts = []
    for f in fields:
        v = values.get(f)
        parts.append(N.name_key(v) if isinstance(v, str) else "" if v is None else
                     v.isoformat() if isinstance(v, dt.date) else str(v))
    if not any(parts):
        return None
    return f"{prefix}{hashlib.sha1('|'.join(parts).encode('utf-8')).hexdigest()[:20].upper()}"


# ==================================================================================== the compiled form
class Compiled:
    """A validated profile, ready for the pipeline: column plan, constants, value tables, date patterns."""

    def __init__(self, config, kind):
        cfg = upgrade(config)
        self.kind = kind
        self.types = field_types(kind)
        self.columns_by_header = {}
        for header, targets in cfg["columns"].items():
            if isinstance(targets, str):
                targets = [targets] if targets else []
            self.columns_by_header.setdefault(mapping.header_key(header), []).extend(targets)
        self.dates_by_header = {mapping.header_key(h): p for h, p in cfg["dates"].items()}
        self.constants = dict(cfg["constants"])
        self.values = mapping.default_value_dictionaries()
        for name, extra in cfg["values"].items():
            if name == "bool" or not isinstance(extra, dict):
                continue
            t = self.types.get(name, "")
            enum = t[5:] if t.startswith("enum:") else name
            self.values.setdefault(enum, {}).update(extra)
        self.values = {enum: {N.text(k).lower(): v for k, v in vals.items()} for enum, vals in self.values.items()}
        self.bools = {N.text(k).lower(): v for k, v in mapping.BOOL_VALUES.items()}
        # a region column's values read through the profile's map first (a ZIP code → its station; "*" any other)
        self.region_values = {N.text(k).lower(): N.code(v) for name, extra in cfg["values"].items()
                              if self.types.get(name) == "region" and isinstance(extra, dict) for k, v in extra.items()}
        for name, extra in cfg["values"].items():
            if isinstance(extra, dict) and (name == "bool" or self.types.get(name) == "bool"):
                self.bools.update({N.text(k).lower(): bool(v) for k, v in extra.items()})
        self.date_formats = tuple(cfg["date_formats"] or N.DEFAULT_DATE_FORMATS)
        self.derive = cfg["derive"]
        self.schemes = sorted({crosswalk_scheme(t) for ts in self.columns_by_header.values() for t in ts
                               if is_crosswalk(t)})

    def columns(self, headers):
        """[(column index, field, date formats or None)]: every target of every known column; a field fed by
        two columns takes the first. Crosswalk targets come as "crosswalk:<scheme>"."""
        cols, seen = [], set()
        for i, h in enumerate(headers):
            if not h:
                continue
            key = mapping.header_key(h)
            for f in self.columns_by_header.get(key, ()):
                if f in seen or not (f in self.types or is_crosswalk(f)):
                    continue
                seen.add(f)
                pattern = self.dates_by_header.get(key)
                cols.append((i, f, (pattern,) if pattern else None))
        return cols

    def maps(self, field):
        """Whether the profile fills this field (a column, a constant or a derive rule)."""
        return (field in self.constants or field in self.derive
                or any(field in ts for ts in self.columns_by_header.values()))


# ==================================================================================== the designer's helpers
def _vocabulary(kind):
    """[(phrase, target)] the suggestions match headers against: field names, template headers, aliases."""
    out = []
    for f, header, _t, _r in mapping.FIELDS[kind]:
        out += [(f, f), (header, f)]
    template = mapping.BUILTIN_PROFILES.get(f"template_{kind}", {}).get("headers", {})
    out += [(h, f) for h, f in template.items() if f]
    if kind in RECORD_KINDS:
        for f, (label, _t) in LINK_FIELDS.items():
            out += [(f, f), (label, f), (LINK_LABELS[f], f)]
        out += [(alias, "enterprise_name") for alias in ("单位名称", "主体名称", "商户名称", "店名", "dba_name", "dba",
                                                          "business_name", "name")]
        out += [(alias, "enterprise_address") for alias in ("地址", "经营地址", "住所", "address", "street")]
    for f, aliases in {**mapping.ENGLISH_ALIASES, **EXTRA_ALIASES}.items():
        if f in field_types(kind):
            out += [(a, f) for a in aliases]
    return out


# headers other systems use (English exports included), beyond mapping.ENGLISH_ALIASES
EXTRA_ALIASES = {
    "inspection_no": ("inspection_id", "检查单号", "检查记录编号"),
    "inspected_on": ("inspection_date", "检查时间"),
    "kind": ("inspection_type",),
    "result": ("results", "结果", "结论", "检查结论"),
    "key_items_failed": ("critical_count", "criticalcount", "关键项不合格数", "严重问题数"),
    "general_items_failed": ("serious_count", "seriouscount", "一般问题数"),
    "established_on": ("mindate", "成立时间", "开业日期"),
    "region_code": ("所属区县", "区县", "辖区", "所在区"),
    "complaint_no": ("投诉单号",), "received_on": ("投诉日期", "受理日期", "登记时间"),
    "decided_on": ("处罚时间",), "fine": ("罚款", "罚没金额", "罚款金额"), "violation_type": ("违法行为", "案由"),
    "name": ("doing_business_as_name", "dba_name", "店名", "商户名称"),
}


def suggest_targets(kind, header, limit=3):
    """[(target, score 0–100)] for a source header: exact alias first, then a rapidfuzz match over the vocabulary."""
    from rapidfuzz import fuzz, process

    key = mapping.header_key(header).replace("_", "").replace(" ", "")
    if not key:
        return []
    vocab = _vocabulary(kind)
    phrases = {}
    for phrase, target in vocab:
        phrases.setdefault(mapping.header_key(phrase).replace("_", "").replace(" ", ""), target)
    if key in phrases:
        return [(phrases[key], 100)]
    hits = process.extract(key, list(phrases), scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=80)
    out, seen = [], set()
    for phrase, score, _i in hits:
        target = phrases[phrase]
        if target not in seen:
            seen.add(target)
            out.append((target, round(score)))
    return out[:limit]


def suggest_value(enum, value):
    """The code a source value most likely means (a known label, else a fuzzy match over the labels and the
    English words the codes are), or None."""
    from rapidfuzz import fuzz, process

    table = {N.text(k).lower(): v for k, v in mapping.default_value_dictionaries()[enum].items()}
    table.update({k.lower(): v for k, v in VALUE_HINTS.get(enum, {}).items()})
    text = N.text(value).lower()
    if text in table:
        return table[text]
    hit = process.extractOne(text, list(table), scorer=fuzz.WRatio, score_cutoff=70)
    return table[hit[0]] if hit else None


# English (and common Chinese) words for our codes, so that a foreign export's values get suggestions
VALUE_HINTS = {
    "inspection_result": {"pass": "pass", "passed": "pass", "pass w/ conditions": "basic", "conditional": "basic",
                          "pass with conditions": "basic", "fail": "fail", "failed": "fail", "基本合格": "basic"},
    "inspection_kind": {"canvass": "routine", "routine": "routine", "complaint": "special", "license": "special",
                        "random": "random", "双随机": "random", "日常": "routine", "专项": "special"},
    "enterprise_status": {"aai": "active", "active": "active", "aac": "cancelled", "rev": "revoked",
                          "inactive": "cancelled", "在营": "active", "开业": "active"},
    "severity": {"minor": "minor", "serious": "serious", "较轻": "minor"},
    "business_form": {"restaurant": "catering", "retail food establishment": "catering", "grocery store": "sales",
                      "school": "canteen", "day care": "canteen", "hospital": "canteen", "餐饮": "catering",
                      "食堂": "canteen", "超市": "sales", "便利店": "sales", "食品厂": "production"},
    "complaint_status": {"办结": "closed", "已结": "closed", "在办": "handling"},
}


DATE_CANDIDATES = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y%m%d", "%m/%d/%Y", "%d/%m/%Y",
                   "%d.%m.%Y", "%m-%d-%Y", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%m/%d/%Y %H:%M",
                   "%Y-%m-%dT%H:%M:%S", "%d-%b-%Y", "%b %d, %Y")


def detect_date_pattern(values):
    """The first candidate strptime pattern that reads every non-blank sample value (None: not dates)."""
    texts = [N.text(v) for v in values if v not in (None, "") and not isinstance(v, (dt.date, dt.datetime))]
    if not texts:
        return None
    for pattern in DATE_CANDIDATES:
        try:
            for t in texts:
                dt.datetime.strptime(t, pattern)
        except ValueError:
            continue
        return pattern
    return None


def distinct_values(rows, index, limit=40):
    """The most frequent distinct texts of a column in the sample, with counts."""
    counter = Counter(N.text(r[index]) for r in rows if index < len(r) and r[index] not in (None, ""))
    return counter.most_common(limit)


def to_jsonable(cfg):
    """The configuration as stored (format 2, keys in a stable order)."""
    cfg = upgrade(cfg)
    out = {k: cfg[k] for k in ("format", "kind", "columns", "constants", "values", "dates", "date_formats", "derive")}
    if cfg["read"]:  # only when a profile reads other than the first sheet from row 1 (older profiles stay equal)
        out["read"] = cfg["read"]
    return out

