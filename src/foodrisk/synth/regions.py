"""The synthetic city built on GB/T 2260 divisions (read by ``foodrisk.core.divisions``, the one parser of
python-stdnum's ``stdnum/cn/loc.dat``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from foodrisk.core.divisions import Division, current
from foodrisk.core.divisions import load as load_divisions


def known_codes() -> frozenset[str]:
    """Every code of the table, current and abolished: a synthetic bad region code must be none of them."""
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
    districts = tuple(d for code, d in sorted(current(divs).items()) if code.startswith(prefix) and code != city_code)
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
