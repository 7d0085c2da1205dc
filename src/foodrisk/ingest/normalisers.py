"""Value normalisation: full-width → half-width (NFKC), brackets, whitespace, company suffixes, dates.

Everything here is a pure function of its input (no Django), cached where values repeat a lot.
"""

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_ALL_SPACES = re.compile(r"\s+")
# NFKC already turns （）［］ into ()[]; these are the bracket look-alikes it leaves alone.
_BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "(", "〕": ")", "﹙": "(", "﹚": ")", "〈": "<", "〉": ">"})
# variants that name the same company form (the longer spelling first)
COMPANY_SUFFIXES = (("股份有限公司", "股份有限公司"), ("有限责任公司", "有限公司"), ("有限公司", "有限公司"))


# characters a database cannot store in text (PostgreSQL refuses NUL; lone surrogates are not UTF-8) and the mark a
# decoder leaves for bytes that were not valid in the file's encoding
UNSTORABLE = re.compile("[\x00\ud800-\udfff\ufffd]")


def storable(value):
    """Text with every unstorable character replaced by U+FFFD (a quarantined row's raw cells, shown as they were)."""
    return UNSTORABLE.sub("\ufffd", value) if UNSTORABLE.search(value) else value


def text(value):
    """A cell as tidy text: NFKC (full-width letters/digits/space → ASCII), one space between words."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, str):
        value = str(value)
    if value.isascii():
        if " " not in value and value.isprintable():  # no whitespace at all (most codes and numbers)
            return value
        return _SPACES.sub(" ", value).strip()
    return _text(value)


@lru_cache(maxsize=200_000)
def _text(value):
    value = unicodedata.normalize("NFKC", value).translate(_BRACKETS)
    return _SPACES.sub(" ", value).strip()


@lru_cache(maxsize=200_000)
def name_key(name):
    """The matching key of a company name: no spaces at all, ASCII brackets, 有限责任公司 → 有限公司, lower case."""
    value = _ALL_SPACES.sub("", text(name)).lower()
    for long, short in COMPANY_SUFFIXES:
        if long != short and value.endswith(long):
            value = value[: -len(long)] + short
            break
    return value


def company_name(name):
    """Display form of a name: tidy text with no spaces between Chinese characters."""
    value = text(name)
    return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", value)


@lru_cache(maxsize=200_000)
def address_key(address):
    """Address tidied for comparison: no spaces, no trailing punctuation, 号楼 → 幢."""
    value = _ALL_SPACES.sub("", text(address)).lower()
    return value.replace("号楼", "幢").rstrip(",.;，。；")


def address(value):
    return company_name(value)


def code(value):
    """Identifiers (USCC, licence numbers): tidy text, upper case, no spaces or hyphens inside."""
    value = text(value)
    if not value:
        return ""
    return value.replace(" ", "").replace("-", "").upper()


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_DOT = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$")
_CHINESE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
DATE_PATTERNS = {"iso": _ISO, "slash": _SLASH, "chinese": _CHINESE, "dot": _DOT, "compact": _COMPACT}
DEFAULT_DATE_FORMATS = ("iso", "slash", "chinese")
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


class Invalid(ValueError):
    """A value that cannot be read as its type."""


def parse_date(value, formats=DEFAULT_DATE_FORMATS):
    """A date from a cell: a date/datetime (XLSX), `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY年M月D日` (and the
    profile's extra formats). Blank → None; anything else → Invalid."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _parse_date_text(text(value), tuple(formats))


@lru_cache(maxsize=50_000)
def _parse_date_text(value, formats):
    if not value:
        return None
    bare = _TIME_TAIL.sub("", value)
    for name in formats:
        pattern = DATE_PATTERNS.get(name)
        if pattern is None:  # a strptime pattern of the profile (checked when the profile was saved)
            for candidate in (value, bare):
                try:
                    return dt.datetime.strptime(candidate, name).date()
                except ValueError:
                    continue
            continue
        match = pattern.match(bare)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                raise Invalid(value) from None
    raise Invalid(value)


class OutOfRange(Invalid):
    """A number too large to be any real amount or count: no stored field could hold it."""


# numbers with more integer digits than this are refused before any arithmetic (1e308, 26-digit amounts): every
# stored field is narrower, and the Decimal context (28 digits) could not even round them to cents
NUMBER_MAX_DIGITS = 24
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_CURRENCY_PREFIXES = ("¥", "RMB", "人民币")
_UNIT_SUFFIXES = (("万元", 10_000), ("万", 10_000), ("元", 1))  # the longer spelling first


def parse_number(value):
    """A Decimal from a cell, tolerant of how people write numbers: surrounding spaces, thousands separators
    (1,234), full-width digits (１２３, by NFKC), ¥/人民币/RMB and the units 元, 万 and 万元 (1.5万元 → 15000).
    Blank → None; not a number → Invalid; more than NUMBER_MAX_DIGITS integer digits → OutOfRange."""
    if value is None or value == "":
        return None
    if value.__class__ is bool:
        raise Invalid(str(value))
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back as this float (2.0, not 2.000…)
    else:
        raw = text(value)
        if not raw:
            return None
        digits, factor = raw.replace(",", "").replace(" ", ""), 1
        for prefix in _CURRENCY_PREFIXES:
            if digits.startswith(prefix):
                digits = digits[len(prefix):]
                break
        for suffix, unit in _UNIT_SUFFIXES:
            if digits.endswith(suffix):
                digits, factor = digits[: -len(suffix)], unit
                break
        if not _NUMBER.fullmatch(digits):
            raise Invalid(raw)
        number = Decimal(digits)
        if number.is_finite() and number and number.adjusted() < NUMBER_MAX_DIGITS:
            number *= factor
    if not number.is_finite():
        raise Invalid(str(value))
    if number and number.adjusted() >= NUMBER_MAX_DIGITS:
        raise OutOfRange(str(value))
    return number if number else Decimal(0)  # -0 and 0E+3 read as plain 0


def parse_amount(value):
    """Money in yuan: a non-negative Decimal with two places (see parse_number for what is tolerated)."""
    amount = parse_number(value)
    if amount is None:
        return None
    if amount < 0:
        raise Invalid(str(value))
    return amount.quantize(_CENTS)


def parse_count(value):
    """A non-negative whole number: 2, 2.0, "2.0", "1,234", "１２"; 2.5 is not a count."""
    number = parse_number(value)
    if number is None:
        return None
    if number < 0 or number != number.to_integral_value():
        raise Invalid(str(value))
    return int(number)


_CENTS = Decimal("0.01")


_LIST_SEPARATORS = re.compile(r"[;；]")
_LIST_CELL_SEPARATORS = re.compile(r"[;；|｜]")


def split_list(value, *, pipes=False):
    """`a；b;c` → ["a", "b", "c"] (the template separator is the full-width semicolon). pipes: a list cell
    (food categories, former names) also splits on `|` (`Retail Sales | Tavern`, as other systems write it);
    failed items keep `|` for their own inner separator."""
    raw = text(value)
    if not raw:
        return []
    sep = _LIST_CELL_SEPARATORS if pipes else _LIST_SEPARATORS
    return [part.strip() for part in sep.split(raw) if part.strip()]


def failed_items(value):
    """`项目║结果║标准值` (several separated by ；) → [{"item", "result", "standard"}]."""
    out = []
    for part in split_list(value):
        bits = [b.strip() for b in re.split(r"[║|]", part)]
        bits += [""] * (3 - len(bits))
        out.append({"item": bits[0], "result": bits[1], "standard": bits[2]})
    return out
