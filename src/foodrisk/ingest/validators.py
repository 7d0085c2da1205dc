"""Identifier checks and the reason codes of docs/data-formats.md (each finding is `code:field`)."""

import re
from functools import lru_cache

from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from foodrisk.core.validators import is_digits

REQUIRED_MISSING = "required_missing"
USCC_FORMAT = "uscc_format"
USCC_CHECKSUM = "uscc_checksum"
ORG_CODE_CHECKSUM = "org_code_checksum"
LICENCE_FORMAT = "licence_format"
REGION_INVALID = "region_invalid"
DATE_INVALID = "date_invalid"
DATE_FUTURE = "date_future"
DATE_ORDER = "date_order"
ENUM_INVALID = "enum_invalid"
AMOUNT_INVALID = "amount_invalid"
ENTITY_UNRESOLVED = "entity_unresolved"
ENTITY_UNKNOWN = "entity_unknown"
# a value that could not be stored as it is (checked against the model field before any write)
NUMBER_TOO_LARGE = "number_too_large"
TEXT_TOO_LONG = "text_too_long"
TEXT_NUL = "text_nul"
ENCODING_INVALID = "encoding_invalid"
DATE_OUT_OF_RANGE = "date_out_of_range"

REASON_CODES = (REQUIRED_MISSING, USCC_FORMAT, USCC_CHECKSUM, ORG_CODE_CHECKSUM, LICENCE_FORMAT, REGION_INVALID,
                DATE_INVALID, DATE_FUTURE, DATE_ORDER, ENUM_INVALID, AMOUNT_INVALID, ENTITY_UNRESOLVED,
                ENTITY_UNKNOWN, NUMBER_TOO_LARGE, TEXT_TOO_LONG, TEXT_NUL, ENCODING_INVALID, DATE_OUT_OF_RANGE)
# counted in the batch report, not errors
NOTE_CODES = ("duplicate", "name_variant", "linked_by_name")

REASON_LABELS = {
    REQUIRED_MISSING: _("required value missing"),
    USCC_FORMAT: _("not a unified social credit code (18 characters)"),
    USCC_CHECKSUM: _("unified social credit code check character wrong"),
    ORG_CODE_CHECKSUM: _("organisation code inside the credit code fails its check"),
    LICENCE_FORMAT: _("licence number format wrong (SC/JY + 14 digits)"),
    REGION_INVALID: _("unknown region code or outside your jurisdiction"),
    DATE_INVALID: _("not a valid date"),
    DATE_FUTURE: _("date after the import day"),
    DATE_ORDER: _("end date before start date"),
    ENUM_INVALID: _("value not in the allowed list"),
    AMOUNT_INVALID: _("not a valid non-negative number"),
    ENTITY_UNRESOLVED: _("enterprise not identified"),
    ENTITY_UNKNOWN: _("credit code names no enterprise in the archive"),
    NUMBER_TOO_LARGE: _("number too large to store"),
    TEXT_TOO_LONG: _("text longer than the field allows"),
    TEXT_NUL: _("contains a NUL character that cannot be stored"),
    ENCODING_INVALID: _("contains bytes that are not valid in the file's encoding"),
    DATE_OUT_OF_RANGE: _("date before 1900-01-01"),
}
NOTE_LABELS = {"duplicate": _("duplicate merged"), "name_variant": _("name variant of a known enterprise"),
               "linked_by_name": _("linked by name and address")}

_USCC_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
_LICENCE_RE = re.compile(r"^(SC|JY)\d{14}$")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def reason(code, field):
    return f"{code}:{field}"


def split_reason(value):
    code, _sep, field = value.partition(":")
    return code, field


# fields every kind may name in a finding, besides its own columns
_COMMON_FIELD_LABELS = {"uscc": "统一社会信用代码", "enterprise_name": "企业名称", "enterprise_address": "企业地址",
                        "region_code": "行政区划代码", "licence_no": "许可证编号"}


@lru_cache(maxsize=32)
def field_labels(kind=""):
    """{field: its Chinese column name} for the findings of a kind (the import template's headers); kind "": of
    every kind (a field's first header)."""
    from .mapping import FIELDS

    labels = dict(_COMMON_FIELD_LABELS)
    for k in [kind] if kind else list(FIELDS):
        for f, header, _t, _r in FIELDS.get(k, ()):
            labels[f] = header if kind else labels.get(f, header)
    return labels


def reason_label(value, kind=""):
    """A finding (`code` or `code:field`) in words, e.g. 「检查日期：不是有效日期」; an unknown code as it is."""
    code, field = split_reason(value)
    label = REASON_LABELS.get(code) or NOTE_LABELS.get(code)
    if label is None:
        return value
    if not field:
        return str(label)
    if field.startswith("crosswalk:"):  # a source system's own identifier (profile_format.CROSSWALK)
        source = _("source identifier %(scheme)s") % {"scheme": field[10:]}  # outside the f-string: xgettext
        return f"{source}：{label}"
    return f"{field_labels(kind).get(field, field)}：{label}"


def org_code_check_char(first8):
    """GB 11714: weights (3,7,9,10,5,8,4,2), C9 = 11 − Σ mod 11; 10 → X, 11 → 0."""
    total = 0
    for ch, weight in zip(first8, _ORG_WEIGHTS, strict=True):
        value = int(ch) if ch.isdigit() else ord(ch) - 55  # A=10 … Z=35
        total += value * weight
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def org_code_valid(code):
    if len(code) != 9 or not all("0" <= c <= "9" or "A" <= c <= "Z" for c in code[:8]):
        return False
    return org_code_check_char(code[:8]) == code[8]


@lru_cache(maxsize=500_000)
def check_uscc(value, org_code_check=True):
    """The reason code a USCC fails with (uscc_format / uscc_checksum / org_code_checksum) or None.

    The format and check character come from python-stdnum (GB 32100); the embedded organisation code
    (positions 9–17, GB 11714) is checked here because stdnum does not.
    """
    if len(value) != 18 or not _USCC_RE.match(value):
        return USCC_FORMAT
    try:
        stdnum_uscc.validate(value)
    except InvalidChecksum:
        return USCC_CHECKSUM
    except ValidationError:
        return USCC_FORMAT
    if org_code_check and not org_code_valid(value[8:17]):
        return ORG_CODE_CHECKSUM
    return None


def check_licence_no(value):
    return None if _LICENCE_RE.match(value) else LICENCE_FORMAT


def check_region(value, known_codes):
    """A 6-digit GB/T 2260 code or a 9+ digit station code, known to the region table."""
    if not is_digits(value) or len(value) < 6 or value not in known_codes:
        return REGION_INVALID
    return None
