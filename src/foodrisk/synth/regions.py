"""GB/T 2260 divisions from python-stdnum's ``stdnum/cn/loc.dat`` and the synthetic city built on them.

The file format (parsed here, not through stdnum's private helpers)::

    33 province="浙江省"
      0100 county="杭州市"
      0103 county="[1983-2021]下城区"
      0206 county="[1985-1986]滨海区,[1987-]北仑区"

A name may carry several ``[from-to]name`` periods separated by commas; a division is *current* when its
last period is open-ended (``[1987-]`` or no brackets at all) and *abolished* when it has an end year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

_PERIOD = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


@dataclass(frozen=True)
class Division:
    code: str
    name: str  # current name (or the last known one when abolished)
    current: bool
    province: str


@lru_cache(maxsize=1)
def load_divisions() -> dict[str, Division]:
    """All codes in loc.dat (current and abolished), keyed by 6-digit code."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    out: dict[str, Division] = {}
    prov_code = prov_name = ""
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if not raw.startswith(" "):
            code, _, rest = raw.partition(" ")
            prov_code, prov_name = code, _attr(rest, "province")
            continue
        code, _, rest = raw.strip().partition(" ")
        full = prov_code + code
        value = _attr(rest, "county")
        last = value.split(",")[-1].strip()
        m = _PERIOD.match(last)
        if m:
            current = m.group(2) is None
            name = m.group(3)
        else:
            current, name = True, last
        out[full] = Division(full, name, current, prov_name)
    return out


def _attr(rest: str, key: str) -> str:
    m = re.search(key + r'="([^"]*)"', rest)
    return m.group(1) if m else ""


def known_codes() -> frozenset[str]:
    return frozenset(load_divisions())


@dataclass(frozen=True)
class Station:
    code: str  # 9 digits = county code + 3
    name: str
    district_code: str


@dataclass(frozen=True)
class City:
    code: str
    name: str
    province: str
    districts: tuple[Division, ...]
    stations: tuple[Station, ...] = field(default_factory=tuple)

    @property
    def short(self) -> str:
        """杭州市 → 杭州; used in company names."""
        return self.name[:-1] if self.name.endswith("市") and len(self.name) > 2 else self.name


_STATION_SUFFIXES = ("中心", "城东", "城西", "城南", "城北", "新区", "开发区", "湖滨", "江南", "高新")


def build_city(city_code: str = "330100", rng=None) -> City:
    """Current districts/counties of a prefecture-level city plus 2–4 supervision stations each."""
    import numpy as np

    divs = load_divisions()
    city_code = str(city_code)
    if len(city_code) != 6 or city_code not in divs or not city_code.endswith("00") or city_code.endswith("0000"):
        raise ValueError(f"{city_code!r} is not a prefecture-level code in loc.dat")
    city = divs[city_code]
    if not city.current:
        raise ValueError(f"{city_code} ({city.name}) is abolished")
    prefix = city_code[:4]
    districts = tuple(
        d
        for code, d in sorted(divs.items())
        if code.startswith(prefix) and code != city_code and d.current and d.name not in ("市辖区", "县", "市区")
    )
    if not districts:
        raise ValueError(f"{city_code} has no current districts in loc.dat")
    rng = rng if rng is not None else np.random.default_rng(0)
    stations: list[Station] = []
    for d in districts:
        k = int(rng.integers(2, 5))
        base = d.name[:-1] if len(d.name) > 2 else d.name
        picks = rng.choice(len(_STATION_SUFFIXES), size=k, replace=False)
        for j, p in enumerate(sorted(picks)):
            stations.append(Station(f"{d.code}{j + 1:03d}", f"{base}{_STATION_SUFFIXES[p]}市场监管所", d.code))
    return City(city_code, city.name, city.province, districts, tuple(stations))
