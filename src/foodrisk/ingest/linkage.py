"""Probabilistic entity linkage for large batches (splink 5, DuckDB backend).

`link(pairs, enterprises)` links the distinct (name, address[, region]) pairs of a batch that carry no
USCC to the enterprises in scope and returns, for each pair, the best enterprise with a Fellegi–Sunter
match probability. It is a link_only job between two tables:

* left  = the batch's distinct pairs, keyed by (name_key(name), address_key(address));
* right = one row per enterprise name (current name and each former name), with its address.

Blocking (any rule): the same normalised name; the same address; characters 1–2, 2–3 or 1+3–4 of the name
"core" (the name without leading place names, a bracketed place and the company form), so that one wrong
character near the start still meets a block — Chinese company names start with the city, so a plain name
prefix would not block at all, and characters 3–4 of the core are often the trade (食品, 餐饮): too common.
Comparisons: the name (key exact with term-frequency adjustment; cores equal; keys one character apart;
cores one character apart; Jaro-Winkler ≥ 0.90 / 0.80; else), the address key (exact, Jaro-Winkler ≥ 0.95 / 0.85, else) and the region when both sides know it.
m probabilities are fixed priors (a batch has too few true matches among the blocked pairs for EM to be
stable, and we want the same answer for the same input); u probabilities are estimated by random sampling
with a fixed seed when the enterprise table is big enough, else priors too. The prior that two random
records match is 1 / (number of enterprises): each pair names at most one of them.

The result is deterministic: fixed seed, one DuckDB thread per job order, ties broken by enterprise id.
"""

import logging
import re

from .normalisers import address_key, name_key

SEED = 20261123
MIN_ENTERPRISES_FOR_U = 2000  # below this, random-sampling u is noisy: use the priors
U_MAX_PAIRS = 2e6

_ADDRESS_PLACES = re.compile(r"^(?:(.{2,3}?)省)?(?:(.{2,3}?)市)?(?:(.{1,4}?)[区县市])?")
_BRACKETED = re.compile(r"\([^)]*\)")
_FORM = re.compile(r"(?:股份)?有限(?:责任)?公司.*$|(?:分公司|分店|门店|店|厂|公司)$")

# (m, u) priors per level, most specific first (the null level takes none). DuckDB's string distances count
# UTF-8 bytes: one Chinese character is a Levenshtein distance of 3.
NAME_LEVELS = {"exact": (0.78, 0.00005), "core": (0.08, 0.0002), "lev1": (0.06, 0.0005), "core_lev1": (0.03, 0.001),
               "jw90": (0.02, 0.005), "jw80": (0.02, 0.05), "else": (0.01, 0.94325)}
ADDRESS_LEVELS = {"exact": (0.75, 0.0005), "jw95": (0.12, 0.005), "jw85": (0.08, 0.10), "else": (0.05, 0.8945)}
REGION_LEVELS = {"exact": (0.95, 0.05), "else": (0.05, 0.95)}


def places(address_keys):
    """Place names (province, city, district; with and without 省/市/区/县) found at the start of addresses:
    a set, for name_core's prefix look-ups."""
    found = set()
    for ak in address_keys:
        m = _ADDRESS_PLACES.match(ak or "")
        for part, suffixes in zip(m.groups(), ("省", "市", "区县市"), strict=True):
            if part:
                found.add(part)
                found.update(part + s for s in suffixes)
    return frozenset(found)


def name_core(nk, place_names=frozenset(), longest=None):
    """The distinctive part of a normalised name: no leading place names, no bracketed place, no company
    form (and nothing after it: 有限公司萧山分店). longest: the length of the longest place name (the caller
    computes it once for many names)."""
    core = _BRACKETED.sub("", nk)
    if longest is None:
        longest = max(map(len, place_names), default=0)
    for _ in range(3):
        # the longest place name at the start that leaves at least two characters: a few set look-ups per
        # name instead of a scan of every place name
        for n in range(min(longest, len(core) - 2), 0, -1):
            if core[:n] in place_names:
                core = core[n:]
                break
        else:
            break
    stripped = _FORM.sub("", core)
    return stripped or core


def _mu(level, spec):
    return level.configure(m_probability=spec[0], u_probability=spec[1])


def _name_levels(cll):
    n = NAME_LEVELS
    return [
        cll.NullLevel("name_key"),
        _mu(cll.ExactMatchLevel("name_key", term_frequency_adjustments=True), n["exact"]),
        _mu(cll.CustomLevel("core_l = core_r", "name cores equal"), n["core"]),
        _mu(cll.CustomLevel("levenshtein(name_key_l, name_key_r) <= 3", "one character apart"), n["lev1"]),
        _mu(cll.CustomLevel("levenshtein(core_l, core_r) <= 3", "cores one character apart"), n["core_lev1"]),
        _mu(cll.JaroWinklerLevel("name_key", 0.90), n["jw90"]),
        _mu(cll.JaroWinklerLevel("name_key", 0.80), n["jw80"]),
        _mu(cll.ElseLevel(), n["else"]),
    ]


def _address_levels(cll):
    a = ADDRESS_LEVELS
    return [
        cll.NullLevel("address_key"),
        _mu(cll.ExactMatchLevel("address_key"), a["exact"]),
        _mu(cll.JaroWinklerLevel("address_key", 0.95), a["jw95"]),
        _mu(cll.JaroWinklerLevel("address_key", 0.85), a["jw85"]),
        _mu(cll.ElseLevel(), a["else"]),
    ]


def settings(n_enterprises, with_region):
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    comparisons = [
        cl.CustomComparison(_name_levels(cll), "name_key"),
        cl.CustomComparison(_address_levels(cll), "address_key"),
    ]
    if with_region:
        comparisons.append(cl.CustomComparison([
            cll.NullLevel("region"),
            cll.ExactMatchLevel("region").configure(m_probability=REGION_LEVELS["exact"][0],
                                                    u_probability=REGION_LEVELS["exact"][1]),
            cll.ElseLevel().configure(m_probability=REGION_LEVELS["else"][0], u_probability=REGION_LEVELS["else"][1]),
        ], "region"))
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=1.0 / max(2, n_enterprises),
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[
            "l.name_key = r.name_key",
            "l.address_key = r.address_key",
            "l.core_head = r.core_head",
            "l.core_next = r.core_next",
            "l.core_skip = r.core_skip",
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _row(uid, nk, ak, region, place_names, longest):
    core = name_core(nk, place_names, longest)
    return {"unique_id": uid, "name_key": nk or None, "address_key": ak or None, "region": region or None,
            "core": core or None, "core_head": core[:2] or None, "core_next": core[1:3] if len(core) >= 3 else None,
            "core_skip": core[0] + core[2:4] if len(core) >= 4 else None}


def link(pairs, enterprises):
    """Link pairs to enterprises.

    pairs: iterable of (name, address) or (name, address, region); enterprises: iterable of
    (id, name, former_names, address) or with a fifth item, the region code.
    Returns {(name_key, address_key): (enterprise_id, probability, runner_up_probability)} for every
    pair that had a candidate; pairs without any candidate are absent.
    """
    import pyarrow as pa

    enterprises = list(enterprises)
    place_names = places(address_key(e[3] or "") for e in enterprises)
    longest = max(map(len, place_names), default=0)
    left, seen = [], {}
    for p in pairs:
        name, addr = p[0], p[1]
        region = p[2] if len(p) > 2 else None
        if not name:
            continue
        key = (name_key(name), address_key(addr or ""))
        if key in seen:
            continue
        seen[key] = len(left)
        left.append(_row(len(left), key[0], key[1], region, place_names, longest))
    right, owner, n_ent = [], [], 0
    for e in enterprises:
        pk, name, former, addr = e[:4]
        region = e[4] if len(e) > 4 else None
        n_ent += 1
        ak = address_key(addr or "")
        names = {name_key(n) for n in [name, *(former or [])] if n}
        for nk in sorted(names):
            right.append(_row(len(right), nk, ak, region, place_names, longest))
            owner.append(pk)
    if not left or not right:
        return {}
    with_region = any(r["region"] for r in left) and any(r["region"] for r in right)

    import duckdb
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    con = duckdb.connect(":memory:", config={"threads": 1})  # one thread: reproducible sampling and order
    try:
        db_api = DuckDBAPI(connection=con)
        schema = pa.schema([("unique_id", pa.int64()), ("name_key", pa.string()), ("address_key", pa.string()),
                            ("region", pa.string()), ("core", pa.string()), ("core_head", pa.string()), ("core_next", pa.string()), ("core_skip", pa.string())])
        df_l = db_api.register(pa.Table.from_pylist(left, schema), dataset_display_name="pairs")
        df_r = db_api.register(pa.Table.from_pylist(right, schema), dataset_display_name="enterprises")
        linker = Linker([df_l, df_r], settings(n_ent, with_region), log_level=None)
        if n_ent >= MIN_ENTERPRISES_FOR_U:
            _quiet(lambda: linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED))
        pred = linker.inference.predict()
        sql = f"""
            select unique_id_l, unique_id_r, match_probability from {pred.physical_name}
            where source_dataset_l = 'pairs' and source_dataset_r = 'enterprises'
            union all
            select unique_id_r, unique_id_l, match_probability from {pred.physical_name}
            where source_dataset_l = 'enterprises' and source_dataset_r = 'pairs'
        """
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    best = {}  # left id → {enterprise id: probability}
    for lid, rid, p in rows:
        cands = best.setdefault(int(lid), {})
        pk = owner[int(rid)]
        if p > cands.get(pk, -1.0):
            cands[pk] = float(p)
    out = {}
    for key, lid in seen.items():
        cands = best.get(lid)
        if not cands:
            continue
        ranked = sorted(cands.items(), key=lambda kv: (-kv[1], kv[0]))
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        out[key] = (ranked[0][0], ranked[0][1], runner_up)
    return out


def _quiet(fn):
    log = logging.getLogger("splink")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return fn()
    finally:
        log.setLevel(level)
