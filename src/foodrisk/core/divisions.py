"""GB/T 2260 administrative divisions read from python-stdnum's ``stdnum/cn/loc.dat`` — the one parser of that
file, used by ``foodrisk seed`` (core.seeds) and by the synthetic city (synth.regions). No Django import, so the
synthetic generator can use it outside a configured project.

The file is stdnum's numdb format: a province line, then indented 4-digit county lines under it::

    21 province="辽宁省"
      0200 county="[-1980]旅大市,[1981-]大连市"
      0103 county="[1983-2021]下城区"
      0101 county="东城区"

A name is a comma-separated history of ``[from-to]name`` periods (either year may be missing; no brackets means
one open period). stdnum itself reads it the same way (``stdnum.cn.ric.get_birth_place`` splits on ``,`` and
``]``). A division is *current* when its **last** period is open-ended, whatever its earlier periods were — so
``[-1980]旅大市,[1981-]大连市`` is the current 大连市, not an abolished code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"
# Statistical placeholders of the code table, not divisions anyone is responsible for: 市辖区 / 县 group the
# districts / counties of a prefecture, 市区 (before 1983) the urban area.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "市区"})

_LINE = re.compile(r'^(?P<indent>\s*)(?P<digits>\d+)\s+(?P<kind>province|county)="(?P<value>[^"]*)"')
_PERIOD = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.*)$")


@dataclass(frozen=True)
class Period:
    name: str
    start: int | None  # None: from before the table begins
    end: int | None  # None: still in force


@dataclass(frozen=True)
class Division:
    code: str  # 6 digits
    name: str  # the current name, or the last known one when abolished
    level: str  # province / prefecture / county, from the code's shape
    history: tuple[Period, ...]
    province: str  # name of the province line the division sits under

    @property
    def current(self) -> bool:
        return self.history[-1].end is None

    @property
    def placeholder(self) -> bool:
        return self.name in PLACEHOLDER_NAMES


def parse_history(value: str) -> tuple[Period, ...]:
    """``[-1980]旅大市,[1981-]大连市`` → (旅大市 …–1980, 大连市 1981–)."""
    periods = []
    for part in value.split(","):
        match = _PERIOD.match(part.strip())
        if match:
            start, end = match["start"], match["end"]
            periods.append(Period(match["name"], int(start) if start else None, int(end) if end else None))
        else:
            periods.append(Period(part.strip(), None, None))
    return tuple(periods)


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return PROVINCE
    return PREFECTURE if code.endswith("00") else COUNTY


def parse(text: str) -> dict[str, Division]:
    """Every code of a loc.dat text (current and abolished), keyed by 6-digit code, in file order."""
    divisions: dict[str, Division] = {}
    province_digits = province_name = ""
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue  # comments and blank lines
        history = parse_history(match["value"])
        if match["kind"] == "province":
            province_digits, province_name = match["digits"], history[-1].name
            code = f"{province_digits}0000"
        else:
            code = province_digits + match["digits"]
            if code in divisions:  # the province's own xx0000 county row repeats the province line
                continue
        divisions[code] = Division(code, history[-1].name, level_of(code), history, province_name)
    return divisions


@lru_cache(maxsize=1)
def load() -> dict[str, Division]:
    """All divisions of the installed python-stdnum's loc.dat."""
    return parse(resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8"))


def current(divisions: dict[str, Division]) -> dict[str, Division]:
    """Divisions in force today, without the statistical placeholders."""
    return {code: d for code, d in divisions.items() if d.current and not d.placeholder}


def parent_code(code: str, present) -> str | None:
    """The nearest enclosing division among ``present``: a county's prefecture, else its province (counties
    directly under a municipality's placeholder 市辖区, or a prefecture row missing from the table)."""
    if level_of(code) == PROVINCE:
        return None
    if level_of(code) == COUNTY and f"{code[:4]}00" in present:
        return f"{code[:4]}00"
    return f"{code[:2]}0000"
