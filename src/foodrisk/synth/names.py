"""Chinese company names, people, addresses and name variants."""

from __future__ import annotations

import numpy as np

from . import vocab as V


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(V.SURNAMES, dtype=object)[rng.integers(0, len(V.SURNAMES), n)]
    g1 = np.array(V.GIVEN, dtype=object)[rng.integers(0, len(V.GIVEN), n)]
    g2 = np.array(V.GIVEN, dtype=object)[rng.integers(0, len(V.GIVEN), n)]
    two = rng.random(n) < 0.7
    return np.where(two, s + g1 + g2, s + g1)


def trade_names(rng: np.random.Generator, n: int) -> np.ndarray:
    c = np.array(V.TRADE_CHARS, dtype=object)
    return c[rng.integers(0, len(c), n)] + c[rng.integers(0, len(c), n)]


def addresses(rng: np.random.Generator, province: str, city: str, district_names: np.ndarray) -> np.ndarray:
    n = len(district_names)
    roads = np.array(V.ROADS, dtype=object)[rng.integers(0, len(V.ROADS), n)]
    towns = np.array(V.TOWN_CHARS, dtype=object)[rng.integers(0, len(V.TOWN_CHARS), n)]
    towns2 = np.array(V.TOWN_CHARS, dtype=object)[rng.integers(0, len(V.TOWN_CHARS), n)]
    street = np.where(rng.random(n) < 0.7, "街道", "镇")
    no = rng.integers(1, 999, n).astype(str).astype(object)
    extra = np.where(rng.random(n) < 0.3, (rng.integers(1, 30, n).astype(str).astype(object) + "幢"), "")
    unit = np.where(rng.random(n) < 0.4, rng.integers(101, 1209, n).astype(str).astype(object) + "室", "")
    return province + city + district_names + towns + towns2 + street + roads + no + "号" + extra + unit


def variant(name: str, rng: np.random.Generator) -> str:
    """A different spelling that normalises to the same enterprise (never equal to ``name``)."""
    options = []
    if "（" in name or "）" in name:
        options.append(lambda s: s.replace("（", "(").replace("）", ")"))
    if "(" in name:
        options.append(lambda s: s.replace("(", "（").replace(")", "）"))
    if "有限责任公司" in name:
        options.append(lambda s: s.replace("有限责任公司", "有限公司"))
    elif "有限公司" in name:
        options.append(lambda s: s.replace("有限公司", "有限责任公司"))
    if len(name) > 4:
        k = int(rng.integers(2, len(name) - 1))
        options.append(lambda s, k=k: s[:k] + " " + s[k:])
        options.append(lambda s, k=k: s[:k] + "\u3000" + s[k:])
    if any("0" <= ch <= "9" or "A" <= ch <= "Z" for ch in name):
        options.append(lambda s: "".join(chr(ord(ch) + 0xFEE0) if ("0" <= ch <= "9" or "A" <= ch <= "Z") else ch for ch in s))
    f = options[int(rng.integers(0, len(options)))]
    out = f(name)
    return out if out != name else name + " "
