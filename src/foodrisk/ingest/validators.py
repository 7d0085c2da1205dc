"""Identifier checks and the reason codes of docs/data-formats.md (each finding is `code:field`)."""

import re
from functools import lru_cache

from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

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

REASON_CODES = (REQUIRED_MISSING, USCC_FORMAT, USCC_CHECKSUM, ORG_CODE_CHECKSUM, LICENCE_FORMAT, REGION_INVALID,
                DATE_INVALID, DATE_FUTURE, DATE_ORDER, ENUM_INVALID, AMOUNT_INVALID, ENTITY_UNRESOLVED,
                ENTITY_UNKNOWN)
# counted in the batch report, not errors
NOTE_CODES = ("duplicate", "name_variant", "linked_by_name")

_USCC_RE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
_LICENCE_RE = re.compile(r"^(SC|JY)\d{14}$")
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def reason(code, field):
    return f"{code}:{field}"


def split_reason(value):
    code, _, field = value.partition(":")
    return code, field


def org_code_check_char(first8):
    """GB 11714: weights (3,7,9,10,5,8,4,2), C9 = 11 − Σ mod 11; 10 → X, 11 → 0."""
    total = 0
    for ch, weight in zip(first8, _ORG_WEIGHTS, strict=True):
        value = int(ch) if ch.isdigit() else ord(ch) - 55  # A=10 … Z=35
        total += value * weight
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def org_code_valid(code):
    if len(code) != 9 or not all(c.isdigit() or "A" <= c <= "Z" for c in code[:8]):
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
    if not value.isdigit() or len(value) < 6 or value not in known_codes:
        return REGION_INVALID
    return None
