"""Value normalisation: full-width → half-width (NFKC), brackets, whitespace, company suffixes, dates.

Everything here is a pure function of its input (no Django), cached where values repeat a lot.
"""

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_ALL_SPACES = re.compile(r"\s+")
# NFKC already turns （）［］ into ()[]; these are the bracket look-alikes it leaves alone.
_BRACKETS = str.maketrans({"【": "[", "】": "]", "〔": "(", "〕": ")", "﹙": "(", "﹚": ")", "〈": "<", "〉": ">"})
# variants that name the same company form (the longer spelling first)
COMPANY_SUFFIXES = (("股份有限公司", "股份有限公司"), ("有限责任公司", "有限公司"), ("有限公司", "有限公司"))


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
    value = _TIME_TAIL.sub("", value)
    for name in formats:
        match = DATE_PATTERNS[name].match(value)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                raise Invalid(value) from None
    raise Invalid(value)


def parse_amount(value):
    """Money in yuan: a non-negative Decimal with two places; 1,200.00 and ¥ are tolerated."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        raw = text(value).replace(",", "").replace("¥", "").replace("元", "").strip()
        if not raw:
            return None
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise Invalid(raw) from None
    if not amount.is_finite() or amount < 0:
        raise Invalid(str(value))
    return amount.quantize(Decimal("0.01"))


def parse_count(value):
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    raw = text(value)
    if not raw:
        return None
    if not raw.isdigit():
        raise Invalid(raw)
    return int(raw)


def split_list(value):
    """`a；b;c` → ["a", "b", "c"] (the template separator is the full-width semicolon)."""
    raw = text(value)
    if not raw:
        return []
    return [part.strip() for part in re.split(r"[;；]", raw) if part.strip()]


def failed_items(value):
    """`项目║结果║标准值` (several separated by ；) → [{"item", "result", "standard"}]."""
    out = []
    for part in split_list(value):
        bits = [b.strip() for b in re.split(r"[║|]", part)]
        bits += [""] * (3 - len(bits))
        out.append({"item": bits[0], "result": bits[1], "standard": bits[2]})
    return out
