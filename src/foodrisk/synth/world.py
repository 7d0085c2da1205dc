"""The synthetic world: enterprises with a hidden, drifting risk and the records it produces.

Everything is columnar numpy; Arrow tables are built on demand. Days are ``int32`` days since
1970-01-01 (the Arrow ``date32`` representation). Records are generated from ``start`` to
``as_of + 365 days``: the part after ``as_of`` is the *future* used only for the ground-truth label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import vocab as V
from .ids import jy_numbers, make_usccs, sc_numbers
from .names import addresses, person_names, trade_names
from .regions import City, build_city

EPOCH = date(1970, 1, 1)
NEVER = np.iinfo(np.int32).max
RECORD_KINDS = ("licences", "inspections", "sampling_tests", "penalties", "complaints", "credit_repairs", "list_entries")
KINDS = ("enterprises", *RECORD_KINDS)
SNAPSHOT_TABLES = ("enterprises", "licences", "inspections", "sampling_tests", "penalties", "complaints", "list_entries")
FOOD_LICENCE_START = date(2015, 10, 1)


def to_day(d: date) -> int:
    return (d - EPOCH).days


def from_day(x: int) -> date:
    return EPOCH + timedelta(days=int(x))


def add_years(d: date, k: int) -> date:
    try:
        return d.replace(year=d.year + k)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + k, day=28)


def day_years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pick(rng, options, p, n):
    p = np.asarray(p, dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


@dataclass
class World:
    """A generated city. Attributes:

    - ``seed``, ``years``, ``as_of`` (date), ``start`` (first day of the record window), ``horizon``
      (``as_of`` + 365 days, end of the future label window), ``city`` (:class:`City`)
    - ``enterprises`` and one table per record kind (``licences`` … ``list_entries``): pyarrow Tables with
      the canonical fields of docs/data-formats.md plus ``enterprise_id``, records dated ≤ ``as_of`` only
    - ``future``: dict kind → Table of inspections / sampling_tests / penalties in (as_of, horizon]
    - ``ground_truth``: Table(enterprise_id, uscc, latent_risk, …, future_adverse)
    - ``risk_monthly``: float32 (n, months) latent risk path; ``month_starts``: int32 day of each month
    - ``index``: dict uscc → enterprise_id; ``usccs``: numpy object array indexed by enterprise_id
    """

    seed: int
    years: int
    as_of: date
    start: date
    horizon: date
    city: City
    ent: dict = field(repr=False)  # per-enterprise numpy columns
    ev: dict = field(repr=False)  # kind → dict of numpy columns (all records, past and future)
    risk_monthly: np.ndarray = field(repr=False)
    month_starts: np.ndarray = field(repr=False)
    vocab: dict = field(repr=False)

    # ------------------------------------------------------------------ basic views
    @property
    def n(self) -> int:
        return len(self.ent["uscc"])

    @property
    def usccs(self) -> np.ndarray:
        return self.ent["uscc"]

    @cached_property
    def index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.ent["uscc"].tolist())}

    def table(self, kind: str) -> pa.Table:
        return getattr(self, kind)

    @cached_property
    def enterprises(self) -> pa.Table:
        return _enterprise_table(self)

    @cached_property
    def licences(self) -> pa.Table:
        return _record_table(self, "licences", None, to_day(self.as_of))

    @cached_property
    def inspections(self) -> pa.Table:
        return _record_table(self, "inspections", None, to_day(self.as_of))

    @cached_property
    def sampling_tests(self) -> pa.Table:
        return _record_table(self, "sampling_tests", None, to_day(self.as_of))

    @cached_property
    def penalties(self) -> pa.Table:
        return _record_table(self, "penalties", None, to_day(self.as_of))

    @cached_property
    def complaints(self) -> pa.Table:
        return _record_table(self, "complaints", None, to_day(self.as_of))

    @cached_property
    def credit_repairs(self) -> pa.Table:
        return _record_table(self, "credit_repairs", None, to_day(self.as_of))

    @cached_property
    def list_entries(self) -> pa.Table:
        return _record_table(self, "list_entries", None, to_day(self.as_of))

    @cached_property
    def future(self) -> dict[str, pa.Table]:
        lo, hi = to_day(self.as_of), to_day(self.horizon)
        return {k: _record_table(self, k, lo, hi) for k in ("inspections", "sampling_tests", "penalties")}

    @cached_property
    def ground_truth(self) -> pa.Table:
        return _ground_truth(self)

    def record_counts(self) -> dict[str, int]:
        a = to_day(self.as_of)
        out = {"enterprises": self.n}
        for k in RECORD_KINDS:
            out[k] = int((self.ev[k]["day"] <= a).sum())
        return out

    # ------------------------------------------------------------------ engine snapshot
    def to_snapshot(self, as_of: date | None = None) -> dict[str, pa.Table]:
        """Engine snapshot (docs/data-formats.md) at ``as_of`` (default: the world's as_of)."""
        return _snapshot(self, as_of or self.as_of)

    def write_snapshot(self, out_dir, as_of: date | None = None) -> Path:
        as_of = as_of or self.as_of
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        snap = self.to_snapshot(as_of)
        for name, t in snap.items():
            pq.write_table(t, out / f"{name}.parquet", compression="zstd")
        meta = {"as_of": as_of.isoformat(), "tables": {k: t.num_rows for k, t in snap.items()}}
        (out / "snapshot.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return out


# ======================================================================== generation
def generate_world(n_enterprises: int, years: int = 5, seed: int = 0, as_of: date | str | None = None,
                   city_code: str = "330100") -> World:
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    as_of = as_of or date.today()
    if n_enterprises < 1 or years < 1:
        raise ValueError("need at least one enterprise and one year")
    ss = np.random.SeedSequence(seed)
    r_city, r_ent, r_risk, r_insp, r_samp, r_comp, r_pen, r_list, r_rep, r_lic = (
        np.random.default_rng(s) for s in ss.spawn(10))
    city = build_city(city_code, r_city)
    start = add_years(as_of, -years) + timedelta(days=1)
    horizon = as_of + timedelta(days=365)
    ms = _month_starts(start, horizon)
    ent, vocab = _enterprises(r_ent, n_enterprises, city, as_of, start, horizon)
    z = _risk_paths(r_risk, ent, len(ms) - 1)
    g = _Gen(ent, z, ms, to_day(start), to_day(horizon), to_day(as_of), vocab, city)
    ev = {}
    ev["inspections"] = g.inspections(r_insp)
    ev["sampling_tests"] = g.sampling(r_samp)
    ev["complaints"] = g.complaints(r_comp)
    ev["penalties"] = g.penalties(r_pen, ev)
    g.apply_revocations(ev)
    ev["list_entries"], ev["credit_repairs"] = g.lists_and_repairs(r_list, r_rep, ev)
    ev["licences"] = g.licences(r_lic)
    for k in ("penalties", "list_entries"):
        ev[k]["orig"] = np.arange(len(ev[k]["eid"]))
    for k in ev:
        ev[k] = _sort(ev[k])
    for k, pos in (("penalties", "pen_pos"), ("list_entries", "list_pos")):
        inv = np.empty(len(ev[k]["orig"]), dtype=np.int64)
        inv[ev[k]["orig"]] = np.arange(len(inv))
        vocab[pos] = inv
    _number(ev, ent, vocab, city, r_lic)
    return World(seed, years, as_of, start, horizon, city, ent, ev, _sigmoid(z).astype(np.float32), ms, vocab)


def _month_starts(start: date, horizon: date) -> np.ndarray:
    y, m = start.year, start.month
    out = []
    while True:
        d = date(y, m, 1)
        out.append(to_day(d))
        if d > horizon:
            break
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return np.array(out, dtype=np.int32)


def _enterprises(rng, n, city: City, as_of: date, start: date, horizon: date):
    a = to_day(as_of)
    form = _pick(rng, V.FORMS, V.FORM_P, n).astype(np.int8)
    scale = np.empty(n, dtype=np.int8)
    for fi, f in enumerate(V.FORMS):
        m = form == fi
        scale[m] = _pick(rng, V.SCALES, V.SCALE_P[f], int(m.sum()))
    fname = np.array(V.FORMS)[form]
    # categories and static tier
    cats = np.empty(n, dtype=object)
    tier = np.empty(n, dtype=np.int8)
    cat_code = np.full(n, "", dtype=object)
    sub = np.full(n, "", dtype=object)  # canteen kind / catering main category (for names)
    key = np.zeros(n, dtype=bool)
    for f, table, weights in (("production", V.PRODUCTION_CATEGORIES, V.PRODUCTION_WEIGHTS),
                              ("special", V.SPECIAL_CATEGORIES, V.SPECIAL_WEIGHTS)):
        idx = np.flatnonzero(fname == f)
        ci = _pick(rng, table, weights, len(idx))
        second = _pick(rng, table, weights, len(idx))
        has2 = rng.random(len(idx)) < 0.25
        for j, i in enumerate(idx.tolist()):
            c1 = table[ci[j]]
            c2 = table[second[j]]
            names = [c1[1]] + ([c2[1]] if has2[j] and c2 != c1 else [])
            cats[i] = "；".join(names)
            tier[i] = max(c1[2], c2[2] if has2[j] and c2 != c1 else 0)
            cat_code[i] = c1[0]
            sub[i] = c1[1]
        key[idx] = (tier[idx] == 4) | (rng.random(len(idx)) < 0.05)
    for f, table, weights in (("sales", V.SALES_CATEGORIES, V.SALES_WEIGHTS),
                              ("catering", V.CATERING_CATEGORIES, V.CATERING_WEIGHTS)):
        idx = np.flatnonzero(fname == f)
        k = 1 + rng.binomial(2, 0.35, len(idx))
        w = np.asarray(weights, dtype=float)
        w /= w.sum()
        draws = rng.random((len(idx), 3))
        cum = np.cumsum(w)
        picks = np.searchsorted(cum, draws * cum[-1]).clip(0, len(table) - 1)
        for j, i in enumerate(idx.tolist()):
            chosen = sorted(set(picks[j, : k[j]].tolist()))
            cats[i] = "；".join(table[c][0] for c in chosen)
            tier[i] = max(table[c][1] for c in chosen)
            sub[i] = table[chosen[0]][0]
        if f == "catering":
            key[idx] = tier[idx] == 4
        else:
            key[idx] = rng.random(len(idx)) < 0.01
    idx = np.flatnonzero(fname == "canteen")
    ck = _pick(rng, V.CANTEEN_KINDS, V.CANTEEN_WEIGHTS, len(idx))
    for j, i in enumerate(idx.tolist()):
        cats[i] = "热食类食品制售" + ("；冷食类食品制售" if ck[j] in (4, 5) and j % 5 == 0 else "")
        tier[i] = V.CANTEEN_KINDS[ck[j]][1]
        sub[i] = V.CANTEEN_KINDS[ck[j]][0]
    key[idx] = np.isin(ck, [0, 1])
    # legal form: individual businesses (92), institutions (12), enterprises (91)
    micro_small = scale >= 2
    individual = np.isin(fname, ["sales", "catering"]) & micro_small & (rng.random(n) < np.where(scale == 3, 0.55, 0.2))
    institution = (fname == "canteen") & np.isin(sub, ["学校食堂", "托幼机构食堂", "养老机构食堂", "医疗机构食堂", "机关食堂"]) & (rng.random(n) < 0.8)
    prefix = np.where(individual, "92", np.where(institution, "12", "91"))
    # dates
    age_years = 20.0 * rng.beta(1.1, 1.9, n)
    est = (a - (age_years * 365.25)).astype(np.int64) - rng.integers(0, 30, n)
    est = np.minimum(est, a - 1).astype(np.int32)
    modern = (est >= to_day(FOOD_LICENCE_START)) | individual
    # region
    nd = len(city.districts)
    dweights = np.linspace(1.6, 0.6, nd)  # urban districts first in code order → denser
    dist = _pick(rng, range(nd), dweights, n).astype(np.int16)
    dcodes = np.array([d.code for d in city.districts], dtype=object)
    dnames = np.array([d.name for d in city.districts], dtype=object)
    st_by_d = [[j for j, s in enumerate(city.stations) if s.district_code == d.code] for d in city.districts]
    station = np.array([st_by_d[d][k % len(st_by_d[d])] for d, k in zip(dist.tolist(), rng.integers(0, 12, n).tolist(), strict=True)], dtype=np.int32)
    scodes = np.array([s.code for s in city.stations], dtype=object)
    region = np.where(rng.random(n) < 0.8, scodes[station], dcodes[dist])
    uscc = make_usccs(rng, prefix, dcodes[dist].astype("<U6"), modern).astype(object)
    # people, names, addresses
    legal = person_names(rng, n)
    addr = addresses(rng, city.province, city.name, dnames[dist])
    names = _company_names(rng, fname, sub, individual, institution, city, dnames[dist], legal)
    former = np.full(n, "", dtype=object)
    fm = rng.random(n) < 0.05
    former[fm] = [_rename(nm, rng) for nm in names[fm].tolist()]
    # end of life: cancelled / suspended (revocations come later, from penalties)
    end_day = np.full(n, NEVER, dtype=np.int32)
    end_kind = np.zeros(n, dtype=np.int8)  # 0 none, 1 cancelled, 2 suspended, 3 revoked
    s0, h = to_day(start), to_day(horizon)
    life_lo = np.maximum(est, s0) + 30
    hz = np.where(scale == 3, 0.030, np.where(scale == 2, 0.018, 0.008)) * np.where(individual, 1.5, 1.0)
    t_end = life_lo + rng.exponential(365.25 / hz).astype(np.int64)
    ended = t_end < h
    end_day[ended] = t_end[ended]
    end_kind[ended] = np.where(rng.random(int(ended.sum())) < 0.8, 1, 2)
    ent = {
        "uscc": uscc, "name": names, "former_names": former, "legal_representative": legal, "address": addr,
        "region_code": region, "district": dist, "station": station, "form": form, "categories": cats,
        "category_code": cat_code, "sub": sub, "scale": scale, "established": est, "static_tier": tier,
        "key_supervision": key, "individual": individual, "institution": institution, "end_day": end_day,
        "end_kind": end_kind,
    }
    vocab = {"district_code": dcodes, "district_name": dnames, "station_code": scodes,
             "station_name": np.array([s.name for s in city.stations], dtype=object)}
    return ent, vocab


def _company_names(rng, fname, sub, individual, institution, city, dname, legal):
    n = len(fname)
    tn = trade_names(rng, n)
    suffix = np.array(V.COMPANY_SUFFIXES, dtype=object)[(rng.random(n) < 0.25).astype(int)]
    dshort = np.array([d[:-1] if len(d) > 2 else d for d in dname.tolist()], dtype=object)
    out = np.empty(n, dtype=object)
    r = rng.random((n, 4))
    pool_p = np.array(V.PRODUCTION_INDUSTRY, dtype=object)
    pool_s = np.array(V.SALES_INDUSTRY, dtype=object)
    pool_c = np.array(V.CATERING_INDUSTRY, dtype=object)
    shops_s = np.array(V.SHOP_KINDS_SALES, dtype=object)
    shops_c = np.array(V.SHOP_KINDS_CATERING, dtype=object)
    ix = rng.integers(0, 1000, n)
    for i in range(n):
        f = fname[i]
        if individual[i]:
            shop = shops_s[ix[i] % len(shops_s)] if f == "sales" else shops_c[ix[i] % len(shops_c)]
            who = legal[i] if r[i, 0] < 0.4 else legal[i][0] + "记" if r[i, 0] < 0.7 else tn[i]
            out[i] = f"{city.name}{dname[i]}{who}{shop}" if r[i, 1] < 0.6 else f"{dname[i]}{who}{shop}"
            continue
        if f == "canteen":
            if institution[i]:
                unit = {"学校食堂": "中学", "托幼机构食堂": "幼儿园", "养老机构食堂": "养老院", "医疗机构食堂": "医院", "机关食堂": "机关事务服务中心"}[sub[i]]
                out[i] = f"{city.name}{dname[i]}{tn[i]}{unit}"
            else:
                out[i] = f"{city.short}{tn[i]}{pool_p[ix[i] % len(pool_p)]}{suffix[i]}"
            continue
        pool = pool_p if f in ("production", "special") else pool_s if f == "sales" else pool_c
        ind = pool[ix[i] % len(pool)]
        if f == "production":
            ind = V.PRODUCTION_WORD.get(sub[i], "食品") if r[i, 1] < 0.6 else ("食品", "食品科技")[ix[i] % 2]
        if f == "special":
            ind = "生物科技" if r[i, 2] < 0.6 else "健康产业"
        base = f"{city.short}{tn[i]}{ind}{suffix[i]}" if r[i, 2] < 0.8 else f"{tn[i]}（{city.short}）{ind}{suffix[i]}"
        if f in ("sales", "catering") and r[i, 3] < 0.18:
            br = V.BRANCH_SUFFIXES[ix[i] % 3]
            base = base + (f"{dshort[i]}{br}" if br != "分公司" else f"{dshort[i]}分公司")
        out[i] = base
    # make names unique within the city (real registries forbid identical names)
    seen: dict[str, int] = {}
    for i, nm in enumerate(out.tolist()):
        if nm in seen:
            seen[nm] += 1
            k = seen[nm]
            tail = next((s for s in ("有限责任公司", "有限公司") if nm.endswith(s)), None)
            out[i] = nm + f"第{_cn_number(k)}分公司" if tail else nm[:-1] + f"{_cn_number(k)}店" if nm.endswith("店") else nm + f"{k}号店"
            seen.setdefault(out[i], 0)
        else:
            seen[nm] = 0
    return out


def _cn_number(k: int) -> str:
    d = "零一二三四五六七八九"
    if k < 10:
        return d[k]
    if k < 100:
        return (d[k // 10] if k >= 20 else "") + "十" + (d[k % 10] if k % 10 else "")
    return str(k)


def _rename(name: str, rng) -> str:
    c = V.TRADE_CHARS
    for j, ch in enumerate(name):
        if ch in c and j > 1:
            return name[:j] + c[int(rng.integers(0, len(c)))] + name[j + 1:]
    return name + "（原）"


def _risk_paths(rng, ent, months: int) -> np.ndarray:
    n = len(ent["uscc"])
    form_eff = np.array([-0.1, 0.2, 0.1, -0.1, 0.0])[ent["form"]]  # sales catering production canteen special
    scale_eff = np.array([-0.45, -0.15, 0.05, 0.25])[ent["scale"]]
    z0 = (-2.35 + form_eff + scale_eff + 0.25 * (ent["static_tier"] - 2.2) + 0.2 * ent["individual"]
          + rng.normal(0.0, 0.75, n))
    z = np.empty((n, months), dtype=np.float32)
    block = 200_000
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        steps = rng.normal(0.0, 0.07, (hi - lo, months)).astype(np.float32)
        np.cumsum(steps, axis=1, out=steps)
        steps += z0[lo:hi, None].astype(np.float32)
        z[lo:hi] = steps
    # the supervisor's (noisy, persistent) perception of each enterprise — drives inspection selection
    ent["perceived"] = (z0 + rng.normal(0.0, 0.6, n)).astype(np.float32)
    ent["z0"] = z0.astype(np.float32)
    return z


def _sort(cols: dict) -> dict:
    order = np.lexsort((cols["eid"], cols["day"]))
    return {k: v[order] for k, v in cols.items()}


class _Gen:
    def __init__(self, ent, z, ms, start, horizon, as_of, vocab, city):
        self.ent, self.z, self.ms, self.start, self.horizon, self.as_of = ent, z, ms, start, horizon, as_of
        self.vocab, self.city = vocab, city
        self.n, self.M = z.shape
        self.mlen = np.diff(ms).astype(np.int32)
        self.lo = np.maximum(ent["established"], start)

    def _monthly(self, rng, lam_fn):
        """Poisson draws per enterprise-month, in blocks; returns eid, month, day (within life)."""
        eids, mons = [], []
        block = max(1, 4_000_000 // self.M)
        for lo in range(0, self.n, block):
            hi = min(self.n, lo + block)
            lam = lam_fn(lo, hi)
            alive = (self.ent["established"][lo:hi, None] < self.ms[None, 1:]) & (self.ent["end_day"][lo:hi, None] > self.ms[None, :-1])
            lam = np.where(alive, lam, 0).astype(np.float64)
            cnt = rng.poisson(lam)
            i, m = np.nonzero(cnt)
            c = cnt[i, m]
            eids.append(np.repeat(i + lo, c))
            mons.append(np.repeat(m, c))
        eid = np.concatenate(eids).astype(np.int64)
        mon = np.concatenate(mons).astype(np.int32)
        day = self.ms[mon] + (rng.random(len(eid)) * self.mlen[mon]).astype(np.int32)
        ok = (day >= self.lo[eid]) & (day < self.ent["end_day"][eid]) & (day <= self.horizon)
        return eid[ok], mon[ok], day[ok].astype(np.int32)

    def risk_at(self, eid, mon):
        return _sigmoid(self.z[eid, mon].astype(np.float64))

    def inspections(self, rng):
        e = self.ent
        base = 1.45 * np.array([0.0, 0.9, 1.1, 1.5, 2.3])[e["static_tier"]] * np.where(e["key_supervision"], 1.5, 1.0)
        # selection: the supervisor inspects what looks risky (perception + what recent months showed)
        sel = np.exp(0.9 * (e["perceived"] + 2.35)) / 1.6

        def lam(lo, hi):
            drift = self.z[lo:hi] - e["z0"][lo:hi, None]
            return np.minimum(1.0, (base[lo:hi, None] * sel[lo:hi, None] / 12.0) * np.exp(0.5 * drift))

        eid, mon, day = self._monthly(rng, lam)
        m = len(eid)
        r = self.risk_at(eid, mon)
        kind = _pick(rng, V.INSPECTION_KINDS, (0.6, 0.12, 0.25, 0.03), m).astype(np.int8)
        prod = np.isin(e["form"][eid], [2, 4])
        kind[(kind == 3) & ~prod] = 1
        u = rng.random(m)
        p_fail = 0.01 + 0.8 * r
        p_basic = 0.10 + 0.8 * r
        result = np.where(u < p_fail, 2, np.where(u < p_fail + p_basic, 1, 0)).astype(np.int8)
        key_f = np.where(result == 2, 1 + rng.poisson(0.3 + 3 * r), 0).astype(np.int32)
        gen_f = np.where(result == 2, rng.poisson(1.0 + 4 * r), np.where(result == 1, 1 + rng.poisson(0.5 + 2 * r), 0)).astype(np.int32)
        rect = (result == 2) | ((result == 1) & (rng.random(m) < 0.8))
        insp = rng.integers(0, 6, m).astype(np.int16)  # inspector pair within the station
        return {"eid": eid, "day": day, "kind": kind, "result": result, "key_f": key_f, "gen_f": gen_f,
                "rect": rect, "inspector": insp, "risk": r.astype(np.float32)}

    def sampling(self, rng):
        e = self.ent
        base = 1.2 * np.array([0.45, 0.25, 2.5, 0.3, 4.0])[e["form"]] * np.array([1.5, 1.2, 1.0, 0.8])[e["scale"]]
        sel = np.exp(0.3 * (e["perceived"] + 2.35)) / 1.1

        def lam(lo, hi):
            return np.broadcast_to((base[lo:hi] * sel[lo:hi] / 12.0)[:, None], (hi - lo, self.M))

        eid, mon, day = self._monthly(rng, lam)
        m = len(eid)
        r = self.risk_at(eid, mon)
        prod = np.isin(e["form"][eid], [2, 4])
        lv_p = np.where(prod[:, None], [[0.2, 0.3, 0.3, 0.2]], [[0.05, 0.15, 0.35, 0.45]])
        level = (rng.random(m)[:, None] > np.cumsum(lv_p, axis=1)).sum(axis=1).astype(np.int8)
        fail = rng.random(m) < (0.005 + 0.35 * r)
        return {"eid": eid, "day": day, "level": level, "result": fail.astype(np.int8),
                "product": rng.integers(0, 1 << 30, m).astype(np.int32), "item": rng.integers(0, len(V.FAILED_ITEMS), m).astype(np.int8),
                "lab": rng.integers(0, len(V.TESTING_LABS), m).astype(np.int8),
                "prod_lag": rng.integers(1, 90, m).astype(np.int16), "risk": r.astype(np.float32)}

    def complaints(self, rng):
        e = self.ent
        base = 1.3 * np.array([0.35, 0.6, 0.15, 0.25, 0.3])[e["form"]] * np.array([1.8, 1.3, 1.0, 0.7])[e["scale"]]

        def lam(lo, hi):
            return base[lo:hi, None] / 12.0 * np.exp(0.8 * (self.z[lo:hi] + 2.35)) / 1.5

        eid, mon, day = self._monthly(rng, lam)
        burst = np.zeros(len(eid), dtype=np.int32) - 1
        # bursts: a few enterprises get 6–25 complaints within three weeks (media story, outbreak, fraud)
        nb = max(2, int(self.n * 0.003))
        cand = np.flatnonzero(self.ent["end_day"] > self.horizon)
        if len(cand):
            who = rng.choice(cand, size=min(nb, len(cand)), replace=False)
            bday = np.maximum(self.lo[who], self.start) + (rng.random(len(who)) * (self.horizon - np.maximum(self.lo[who], self.start))).astype(np.int64)
            # keep about a third of bursts in the last 6 months before as_of so they are visible
            recent = rng.random(len(who)) < 0.35
            bday = np.where(recent, self.as_of - rng.integers(5, 180, len(who)), bday)
            bday = np.maximum(bday, self.lo[who])
            k = rng.integers(6, 26, len(who))
            b_eid = np.repeat(who, k)
            b_day = (np.repeat(bday, k) + rng.integers(0, 21, k.sum())).astype(np.int32)
            b_id = np.repeat(np.arange(len(who)), k).astype(np.int32)
            b_mon = (np.searchsorted(self.ms, b_day, side="right") - 1).astype(np.int32)
            okb = (b_day <= self.horizon) & (b_mon < self.M)
            eid = np.concatenate([eid, b_eid[okb]])
            mon = np.concatenate([mon, b_mon[okb]])
            day = np.concatenate([day, b_day[okb]])
            burst = np.concatenate([burst, b_id[okb]])
            self.ent["burst_day"] = np.full(self.n, NEVER, dtype=np.int32)
            self.ent["burst_day"][who] = bday
        m = len(eid)
        r = self.risk_at(eid, mon)
        inb = burst >= 0
        channel = _pick(rng, V.CHANNELS, V.CHANNEL_P, m).astype(np.int8)
        channel[inb & (rng.random(m) < 0.7)] = 1  # bursts mostly through the 12345 hotline
        verified = rng.random(m) < np.where(inb, 0.55, 0.1 + 0.7 * r)
        cat = rng.integers(0, len(V.COMPLAINT_CATEGORIES), m).astype(np.int8)
        close_lag = rng.integers(3, 60, m).astype(np.int32)
        dupflag = inb & (rng.random(m) < 0.4)
        return {"dupflag": dupflag, "eid": eid.astype(np.int64), "day": day.astype(np.int32), "channel": channel, "verified": verified,
                "category": cat, "close_lag": close_lag, "burst": burst, "risk": r.astype(np.float32)}

    def penalties(self, rng, ev):
        ins, sam, com = ev["inspections"], ev["sampling_tests"], ev["complaints"]
        parts = []
        for src, (cols, p) in enumerate((
            (ins, np.where(ins["result"] == 2, 0.25 + 0.5 * ins["risk"], 0.0)),
            (sam, np.where(sam["result"] == 1, 0.55, 0.0)),
            (com, np.where(com["verified"], 0.06, 0.0)),
        )):
            hit = rng.random(len(p)) < p
            parts.append((cols["eid"][hit], cols["day"][hit], cols["risk"][hit], np.full(int(hit.sum()), src, np.int8)))
        eid = np.concatenate([p[0] for p in parts])
        tday = np.concatenate([p[1] for p in parts])
        r = np.concatenate([p[2] for p in parts]).astype(np.float64)
        src = np.concatenate([p[3] for p in parts])
        m = len(eid)
        day = (tday + rng.integers(15, 120, m)).astype(np.int32)
        s = rng.normal(0, 1, m) + 2.5 * (r - 0.1) + np.where(src == 1, 0.3, 0.0)
        sev = np.digitize(s, [-0.4, 0.8, 1.75]).astype(np.int8)
        med = np.array([1500.0, 8000.0, 40000.0, 150000.0])[sev]
        fine = np.round(med * np.exp(rng.normal(0, 0.8, m)) / 100.0) * 100.0
        fine[(sev == 0) & (rng.random(m) < 0.2)] = 0.0
        conf = np.where(rng.random(m) < 0.25, np.round(med / 5 * np.exp(rng.normal(0, 1.0, m)), 2), 0.0)
        revoked = (sev == 3) & (rng.random(m) < 0.3)
        vt = np.where(src == 1, np.where(rng.random(m) < 0.7, 2, 4), rng.integers(0, len(V.VIOLATIONS), m)).astype(np.int8)
        low = (sev == 0) & (fine < 100000)
        pub = np.where(low, day + 91, day + 1095).astype(np.int32)
        ok = (day < self.ent["end_day"][eid]) & (day <= self.horizon)
        cols = {"eid": eid, "day": day, "severity": sev, "fine": fine, "conf": conf, "revoked": revoked,
                "violation": vt, "publicity": pub, "source": src, "risk": r.astype(np.float32)}
        return {k: v[ok] for k, v in cols.items()}

    def apply_revocations(self, ev):
        """A licence revocation ends the enterprise's business: drop everything after it."""
        p = ev["penalties"]
        rv = np.flatnonzero(p["revoked"])
        if len(rv):
            first = np.full(self.n, NEVER, dtype=np.int64)
            np.minimum.at(first, p["eid"][rv], p["day"][rv].astype(np.int64))
            hit = first < self.ent["end_day"]
            self.ent["end_day"] = np.where(hit, first, self.ent["end_day"]).astype(np.int32)
            self.ent["end_kind"] = np.where(hit, 3, self.ent["end_kind"]).astype(np.int8)
        end = self.ent["end_day"].astype(np.int64)
        for k in ("inspections", "sampling_tests", "complaints"):
            c = ev[k]
            ok = c["day"] < end[c["eid"]]
            ev[k] = {kk: v[ok] for kk, v in c.items()}
        c = ev["penalties"]
        ok = c["day"] <= end[c["eid"]]  # the revoking decision itself stays
        ev["penalties"] = {kk: v[ok] for kk, v in c.items()}

    def lists_and_repairs(self, rl, rr, ev):
        e = self.ent
        ms = self.ms
        L = {"eid": [], "day": [], "kind": [], "reason": [], "removed": [], "repaired_day": []}
        # --- abnormal list: annual report missing after 30 June (enterprises only, not 个体/机构)
        y0, y1 = from_day(self.start).year, from_day(self.horizon).year
        corp = np.flatnonzero(np.char.startswith(e["uscc"].astype("<U18"), "91"))
        for y in range(y0, y1 + 1):
            d0 = to_day(date(y, 7, 1))
            if d0 < self.start or d0 > self.horizon:
                continue
            mon = int(np.searchsorted(ms, d0, side="right") - 1)
            alive = corp[(e["established"][corp] < to_day(date(y, 1, 1))) & (e["end_day"][corp] > d0)]
            r = _sigmoid(self.z[alive, min(mon, self.M - 1)].astype(np.float64))
            hit = alive[rl.random(len(alive)) < 0.012 + 0.08 * r]
            L["eid"].append(hit)
            L["day"].append(d0 + rl.integers(0, 45, len(hit)))
            L["kind"].append(np.zeros(len(hit), np.int8))
            L["reason"].append(_pick(rl, V.ABNORMAL_REASONS, V.ABNORMAL_REASON_P, len(hit)).astype(np.int8))
        # --- serious list: some serious penalties, every revocation
        p = ev["penalties"]
        ser = (p["severity"] == 3) & ((rl.random(len(p["eid"])) < 0.4) | p["revoked"])
        L["eid"].append(p["eid"][ser])
        L["day"].append(p["day"][ser] + rl.integers(10, 60, int(ser.sum())))
        L["kind"].append(np.ones(int(ser.sum()), np.int8))
        L["reason"].append(np.where(p["revoked"][ser], 0, rl.integers(1, 4, int(ser.sum()))).astype(np.int8))
        eid = np.concatenate(L["eid"]).astype(np.int64)
        day = np.concatenate(L["day"]).astype(np.int32)
        kind = np.concatenate(L["kind"])
        reason = np.concatenate(L["reason"])
        ok = day <= self.horizon
        eid, day, kind, reason = eid[ok], day[ok], kind[ok], reason[ok]
        m = len(eid)
        removed = np.full(m, NEVER, dtype=np.int32)
        # --- repairs of list entries
        ab = kind == 0
        apply_ab = ab & (rr.random(m) < 0.7)
        a_day = day + 14 + rr.exponential(100, m).astype(np.int32)
        d_day = a_day + rr.integers(3, 20, m)
        a_ok = apply_ab & (rr.random(m) < 0.92)
        se = kind == 1
        apply_se = se & (rr.random(m) < 0.25)
        a_day = np.where(se, day + 365 + rr.exponential(120, m).astype(np.int32), a_day)
        d_day = np.where(se, a_day + rr.integers(10, 40, m), d_day)
        a_ok = np.where(se, apply_se & (rr.random(m) < 0.6), a_ok)
        applies = (apply_ab | apply_se) & (a_day <= self.horizon)
        approved = a_ok & applies & (d_day <= self.horizon)
        removed = np.where(approved, d_day, removed)
        auto = se & ~approved  # serious list: automatic removal after 3 years
        removed = np.where(auto, day + 1095, removed)
        # abnormal without removal for 3 years → serious list
        esc = ab & ~approved & (day + 1095 <= self.horizon)
        removed = np.where(esc, day + 1095, removed)
        if esc.any():
            eid = np.concatenate([eid, eid[esc]])
            kind = np.concatenate([kind, np.ones(int(esc.sum()), np.int8)])
            reason = np.concatenate([reason, np.full(int(esc.sum()), 4, np.int8)])
            removed = np.concatenate([removed, (day[esc] + 2 * 1095).astype(np.int32)])
            day = np.concatenate([day, (day[esc] + 1095).astype(np.int32)])
            applies = np.concatenate([applies, np.zeros(int(esc.sum()), bool)])
            approved = np.concatenate([approved, np.zeros(int(esc.sum()), bool)])
            a_day = np.concatenate([a_day, np.zeros(int(esc.sum()), a_day.dtype)])
            d_day = np.concatenate([d_day, np.zeros(int(esc.sum()), d_day.dtype)])
        m = len(eid)
        lists = {"eid": eid, "day": day, "kind": kind, "reason": reason, "removed": removed.astype(np.int32),
                 "repair_day": np.where(approved, d_day, NEVER).astype(np.int32), "seq": np.arange(m)}
        # --- penalty repairs: general/heavy, not revoked, after 1 year (food), §3.2
        pe = (np.isin(p["severity"], [1, 2])) & ~p["revoked"] & (rr.random(len(p["eid"])) < 0.3)
        pa_day = p["day"] + 365 + rr.exponential(90, len(p["eid"])).astype(np.int32)
        pd_day = pa_day + rr.integers(5, 30, len(p["eid"]))
        p_app = rr.random(len(p["eid"])) < 0.8 - 0.8 * p["risk"]
        pe &= pa_day <= self.horizon
        p["repair_day"] = np.where(pe & p_app & (pd_day <= self.horizon), pd_day, NEVER).astype(np.int32)
        # repairs table: penalties first, then lists
        pi = np.flatnonzero(pe)
        li = np.flatnonzero(applies)
        rep = {
            "eid": np.concatenate([p["eid"][pi], eid[li]]).astype(np.int64),
            "day": np.concatenate([pa_day[pi], a_day[li]]).astype(np.int32),
            "decided": np.concatenate([pd_day[pi], d_day[li]]).astype(np.int32),
            "decision": np.concatenate([np.where(p_app[pi], 1, 2), np.where(approved[li], 1, 2)]).astype(np.int8),
            "target_kind": np.concatenate([np.zeros(len(pi), np.int8), np.ones(len(li), np.int8)]),
            "target": np.concatenate([pi, li]).astype(np.int64),
        }
        return lists, rep

    def licences(self, rng):
        e = self.ent
        n = self.n
        first = np.maximum(e["established"], to_day(FOOD_LICENCE_START) + rng.integers(0, 400, n)) + rng.integers(5, 60, n)
        first = np.minimum(first, self.as_of - 1)
        period = 1826
        k = np.maximum(0, (self.as_of - first) // period)
        not_renewed = (k > 0) & (rng.random(n) < 0.04)
        k = np.where(not_renewed, k - 1, k)
        k = np.minimum(k, np.maximum(0, (e["end_day"].astype(np.int64) - first) // period))
        issued = (first + k * period).astype(np.int32)
        expires = (issued + period - 1).astype(np.int32)
        sc = np.isin(e["form"], [2, 4])
        return {"eid": np.arange(n, dtype=np.int64), "day": issued, "expires": expires, "sc": sc}


# ------------------------------------------------------------------ numbering (strings built once)
def _fmt_ids(prefix: str, year: np.ndarray, seq: np.ndarray, width: int) -> pa.Array:
    ys = pc.cast(pa.array(year), pa.string())
    ss = pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), ys, ss, "")


def _seq_in_year(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Records sorted by day: running number within each year (1-based)."""
    y = day_years(days)
    idx = np.arange(len(days))
    first = np.zeros(len(days), dtype=np.int64)
    if len(days):
        starts = np.flatnonzero(np.r_[True, y[1:] != y[:-1]])
        first = np.repeat(starts, np.diff(np.r_[starts, len(days)]))
    return y, idx - first + 1


def _number(ev, ent, vocab, city, rng):
    for kind, prefix, width in (("inspections", "JC", 8), ("sampling_tests", "CJ", 8), ("complaints", "TS", 8),
                                ("credit_repairs", "XF", 7)):
        c = ev[kind]
        y, s = _seq_in_year(c["day"])
        c["no"] = _fmt_ids(prefix, y, s, width)
    # penalty decision numbers: 杭西市监处罚〔2023〕123号 — numbered per district and year
    p = ev["penalties"]
    d = ent["district"][p["eid"]]
    y = day_years(p["day"])
    order = np.lexsort((np.arange(len(d)), y, d))
    key = d[order].astype(np.int64) * 10000 + y[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.array([], dtype=np.int64)
    first = np.repeat(starts, np.diff(np.r_[starts, len(key)])) if len(key) else starts
    seq = np.empty(len(d), dtype=np.int64)
    seq[order] = np.arange(len(d)) - first + 1
    abbr = np.array([city.short[0] + dn[0] for dn in vocab["district_name"].tolist()], dtype=object)
    pre = pa.array(abbr[d].tolist() if len(d) else [], pa.string())
    mid = pc.binary_join_element_wise(pre, pa.scalar("市监处罚〔"), pc.cast(pa.array(y), pa.string()), pa.scalar("〕"),
                                      pc.cast(pa.array(seq), pa.string()), pa.scalar("号"), "")
    p["no"] = mid
    # licence numbers
    lic = ev["licences"]
    le = lic["eid"]
    dcode = vocab["district_code"][ent["district"][le]]
    num = np.empty(len(le), dtype=object)
    sc = lic["sc"]
    if sc.any():
        num[sc] = sc_numbers(rng, ent["category_code"][le[sc]], dcode[sc])
    jy = ~sc
    if jy.any():
        t = np.array(["1", "2", "2", "3", "1"], dtype=object)[ent["form"][le[jy]]]
        num[jy] = jy_numbers(rng, t, dcode[jy])
    lic["no"] = pa.array(num.tolist(), pa.string())
    # complaints repeated within a burst point at the first complaint of the burst (重复件)
    c = ev["complaints"]
    dup = np.full(len(c["eid"]), -1, dtype=np.int64)
    inb = np.flatnonzero(c["burst"] >= 0)
    if len(inb):
        b = c["burst"][inb]
        order = np.lexsort((inb, b))
        bs, ps = b[order], inb[order]
        starts = np.flatnonzero(np.r_[True, bs[1:] != bs[:-1]])
        first_pos = np.repeat(ps[starts], np.diff(np.r_[starts, len(bs)]))
        is_dup = c["dupflag"][ps] & (ps != first_pos)
        dup[ps[is_dup]] = first_pos[is_dup]
    c["dup_of"] = dup
    c["dup_of_no"] = pc.if_else(pa.array(dup >= 0), pc.take(c["no"], pa.array(np.maximum(dup, 0))), pa.scalar(None, pa.string()))


def hash_str(s: str) -> int:
    h = 2166136261
    for ch in s.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


# ======================================================================== canonical tables
def _labels(codes: np.ndarray, values) -> pa.Array:
    dic = pa.array(list(values), pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dic).cast(pa.string())


def _dates(days: np.ndarray, null_from: int | None = None) -> pa.Array:
    days = np.asarray(days, dtype=np.int32)
    mask = None if null_from is None else days > null_from
    return pa.array(days, type=pa.date32(), mask=mask)


def _enterprise_status(w: World, as_of: int) -> np.ndarray:
    """0 active, 1 cancelled, 2 suspended, 3 revoked at the given day."""
    e = w.ent
    return np.where(e["end_day"] <= as_of, e["end_kind"], 0).astype(np.int8)


STATUS_CODES = ("active", "cancelled", "suspended", "revoked")


def _enterprise_table(w: World) -> pa.Table:
    e = w.ent
    a = to_day(w.as_of)
    st = _enterprise_status(w, a)
    return pa.table({
        "enterprise_id": pa.array(np.arange(w.n, dtype=np.int64)),
        "uscc": pa.array(e["uscc"].tolist(), pa.string()),
        "name": pa.array(e["name"].tolist(), pa.string()),
        "former_names": pa.array([x or None for x in e["former_names"].tolist()], pa.string()),
        "legal_representative": pa.array(e["legal_representative"].tolist(), pa.string()),
        "address": pa.array(e["address"].tolist(), pa.string()),
        "region_code": pa.array(e["region_code"].tolist(), pa.string()),
        "business_form": _labels(e["form"], V.FORMS),
        "food_categories": pa.array(e["categories"].tolist(), pa.string()),
        "scale": _labels(e["scale"], V.SCALES),
        "established_on": _dates(e["established"]),
        "status": _labels(st, STATUS_CODES),
        "static_tier": pa.array(e["static_tier"], pa.int8()),
        "key_supervision": pa.array(e["key_supervision"]),
    })


def _mask(w: World, kind: str, lo: int | None, hi: int) -> np.ndarray:
    d = w.ev[kind]["day"]
    m = d <= hi
    if lo is not None:
        m &= d > lo
    return m


def _take_uscc(w: World, eid: np.ndarray) -> pa.Array:
    return pc.take(_uscc_arrow(w), pa.array(eid))


def _uscc_arrow(w: World) -> pa.Array:
    if "_uscc_arrow" not in w.vocab:
        w.vocab["_uscc_arrow"] = pa.array(w.ent["uscc"].tolist(), pa.string())
    return w.vocab["_uscc_arrow"]


def product_names(w: World, eid: np.ndarray, token: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(product, category) for sampled items, from the enterprise's form/category."""
    e = w.ent
    form = e["form"][eid]
    sub = e["sub"][eid]
    prod = np.empty(len(eid), dtype=object)
    cat = np.empty(len(eid), dtype=object)
    for i, (f, s, t) in enumerate(zip(form.tolist(), sub.tolist(), token.tolist(), strict=True)):
        key = s if f in (2, 4) else "销售" if f == 0 else "餐饮"
        pool = V.PRODUCTS.get(key) or (s,)
        prod[i] = pool[t % len(pool)]
        if f in (2, 4):
            cat[i] = s
        elif key == "销售":
            cat[i] = V.SALES_PRODUCT_CATEGORY.get(prod[i], "食用农产品")
        else:
            cat[i] = "餐饮食品"
    return prod, cat


def announcement_numbers(w: World, day: np.ndarray, level: np.ndarray) -> np.ndarray:
    """National/provincial announcements are published per month: one number per level and month."""
    y = day_years(day)
    mo = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    out = np.empty(len(day), dtype=object)
    prov = w.city.province
    for i, (yy, mm, lv) in enumerate(zip(y.tolist(), mo.tolist(), level.tolist(), strict=True)):
        if lv == 0:
            out[i] = f"市场监管总局食品安全抽检公告{yy}年第{mm * 2}号"
        elif lv == 1:
            out[i] = f"{prov}市场监督管理局食品安全监督抽检信息公告〔{yy}〕第{mm}期"
        else:
            out[i] = ""
    return out


def failed_items_text(item: np.ndarray, fail: np.ndarray) -> np.ndarray:
    pool = np.array(["║".join(t) for t in V.FAILED_ITEMS] + [""], dtype=object)
    return pool[np.where(fail == 1, item, len(V.FAILED_ITEMS))]


def inspector_pairs(w: World) -> np.ndarray:
    if "_inspectors" not in w.vocab:
        rng = np.random.default_rng(hash_str("inspectors" + w.city.code) + w.seed)
        ns = len(w.city.stations)
        a = person_names(rng, ns * 6)
        b = person_names(rng, ns * 6)
        w.vocab["_inspectors"] = np.array([f"{x}、{y}" for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=object)
    return w.vocab["_inspectors"]


def _record_table(w: World, kind: str, lo: int | None, hi: int) -> pa.Table:
    c = w.ev[kind]
    m = _mask(w, kind, lo, hi)
    eid = c["eid"][m]
    a = hi if lo is None else to_day(w.as_of)
    cols: dict[str, pa.Array] = {}
    if kind == "licences":
        st = _enterprise_status(w, a)[eid]
        lst = np.where(st == 3, 2, np.where(st == 1, 3, np.where(c["expires"][m] < a, 1, 0)))
        cols = {"licence_no": c["no"].filter(pa.array(m)), "uscc": _take_uscc(w, eid),
                "kind": _labels(np.where(c["sc"][m], 0, 1), ("SC", "JY")),
                "category": pa.array(_licence_category(w, eid).tolist(), pa.string()),
                "issued_on": _dates(c["day"][m]), "expires_on": _dates(c["expires"][m]),
                "status": _labels(lst, ("valid", "expired", "revoked", "cancelled"))}
    elif kind == "inspections":
        st = w.ent["station"][eid]
        cols = {"inspection_no": c["no"].filter(pa.array(m)), "uscc": _take_uscc(w, eid), "inspected_on": _dates(c["day"][m]),
                "kind": _labels(c["kind"][m], V.INSPECTION_KINDS),
                "organisation": pa.array(w.vocab["station_name"][st].tolist(), pa.string()),
                "inspector": pa.array(inspector_pairs(w)[st * 6 + c["inspector"][m]].tolist(), pa.string()),
                "result": _labels(c["result"][m], V.INSPECTION_RESULTS),
                "key_items_failed": pa.array(c["key_f"][m], pa.int32()), "general_items_failed": pa.array(c["gen_f"][m], pa.int32()),
                "rectification_ordered": pa.array(c["rect"][m])}
    elif kind == "sampling_tests":
        prod, cat = product_names(w, eid, c["product"][m])
        ann = announcement_numbers(w, c["day"][m], c["level"][m])
        cols = {"report_no": c["no"].filter(pa.array(m)), "uscc": _take_uscc(w, eid),
                "enterprise_name": pa.array(w.ent["name"][eid].tolist(), pa.string()),
                "enterprise_address": pa.array(w.ent["address"][eid].tolist(), pa.string()),
                "sampled_on": _dates(c["day"][m]), "level": _labels(c["level"][m], V.LEVELS),
                "product": pa.array(prod.tolist(), pa.string()), "category": pa.array(cat.tolist(), pa.string()),
                "result": _labels(c["result"][m], ("pass", "fail")),
                "failed_items": pa.array([x or None for x in failed_items_text(c["item"][m], c["result"][m]).tolist()], pa.string()),
                "announcement_no": pa.array([x or None for x in ann.tolist()], pa.string())}
    elif kind == "penalties":
        cols = {"decision_no": c["no"].filter(pa.array(m)), "uscc": _take_uscc(w, eid), "decided_on": _dates(c["day"][m]),
                "violation_type": _labels(c["violation"][m], V.VIOLATIONS), "severity": _labels(c["severity"][m], V.SEVERITIES),
                "fine": pa.array(c["fine"][m]), "confiscation": pa.array(c["conf"][m]),
                "licence_revoked": pa.array(c["revoked"][m]), "publicity_until": _dates(c["publicity"][m])}
    elif kind == "complaints":
        close = c["day"][m] + c["close_lag"][m]
        status = np.where(close <= a, 2, np.where(c["day"][m] + 7 <= a, 1, 0))
        cols = {"complaint_no": c["no"].filter(pa.array(m)), "uscc": _take_uscc(w, eid), "received_on": _dates(c["day"][m]),
                "channel": _labels(c["channel"][m], V.CHANNELS), "category": _labels(c["category"][m], V.COMPLAINT_CATEGORIES),
                "verified": pa.array(c["verified"][m]), "status": _labels(status, V.COMPLAINT_STATUSES),
                "duplicate_of": pc.take(c["dup_of_no"], pa.array(np.flatnonzero(m))) if "dup_of_no" in c else pa.nulls(int(m.sum()), pa.string())}
    elif kind == "credit_repairs":
        decided = c["decided"][m]
        pending = decided > a
        dec = np.where(pending, 0, c["decision"][m])
        tk = c["target_kind"][m]
        cols = {"repair_no": c["no"].filter(pa.array(m)), "uscc": _take_uscc(w, eid),
                "target_kind": _labels(tk, ("penalties", "list_entries")),
                "target_no": pa.array(repair_targets(w, tk, c["target"][m]).tolist(), pa.string()),
                "applied_on": _dates(c["day"][m]), "decided_on": _dates(decided, null_from=a),
                "decision": _labels(dec, V.DECISIONS)}
    elif kind == "list_entries":
        reasons = np.where(c["kind"][m] == 0, c["reason"][m], len(V.ABNORMAL_REASONS) + c["reason"][m])
        cols = {"uscc": _take_uscc(w, eid), "list_kind": _labels(c["kind"][m], V.LIST_KINDS), "listed_on": _dates(c["day"][m]),
                "removed_on": _dates(c["removed"][m], null_from=a),
                "reason": _labels(reasons, V.ABNORMAL_REASONS + V.SERIOUS_REASONS)}
    cols["enterprise_id"] = pa.array(eid.astype(np.int64))
    return pa.table(cols)


def _licence_category(w: World, eid: np.ndarray) -> np.ndarray:
    e = w.ent
    f = e["form"][eid]
    jy = np.array(["食品销售", "餐饮服务", "", "单位食堂", ""], dtype=object)[f]
    return np.where(np.isin(f, [2, 4]), e["sub"][eid], jy)


def repair_targets(w: World, tk: np.ndarray, target: np.ndarray) -> np.ndarray:
    out = np.empty(len(tk), dtype=object)
    pen_no = w.ev["penalties"]["no"]
    le = w.ev["list_entries"]
    pi = np.flatnonzero(tk == 0)
    if len(pi):
        out[pi] = pc.take(pen_no, pa.array(w.vocab["pen_pos"][target[pi]])).to_numpy(zero_copy_only=False)
    li = np.flatnonzero(tk == 1)
    if len(li):
        pos = w.vocab["list_pos"][target[li]]
        kinds = np.array(V.LIST_KINDS, dtype=object)[le["kind"][pos]]
        days = le["day"][pos].astype("datetime64[D]").astype(str).astype(object)
        out[li] = kinds + ":" + days
    return out


# ======================================================================== ground truth & snapshot
def _ground_truth(w: World) -> pa.Table:
    a, h = to_day(w.as_of), to_day(w.horizon)
    last = int(np.searchsorted(w.month_starts, a, side="right") - 1)
    n = w.n
    fi = fs = fp = ni = np.zeros(n, dtype=np.int32)

    def count(kind, cond):
        c = w.ev[kind]
        m = (c["day"] > a) & (c["day"] <= h) & cond(c)
        return np.bincount(c["eid"][m], minlength=n).astype(np.int32)

    ni = count("inspections", lambda c: np.ones(len(c["eid"]), bool))
    fi = count("inspections", lambda c: c["result"] == 2)
    fs = count("sampling_tests", lambda c: c["result"] == 1)
    fp = count("penalties", lambda c: np.ones(len(c["eid"]), bool))
    alive = (w.ent["end_day"] > a) & (w.ent["established"] <= a)
    ins_rate = np.bincount(w.ev["inspections"]["eid"][w.ev["inspections"]["day"] <= a], minlength=n) / w.years
    burst = w.ent.get("burst_day", np.full(n, NEVER, np.int32))
    return pa.table({
        "enterprise_id": pa.array(np.arange(n, dtype=np.int64)),
        "uscc": _uscc_arrow(w),
        "latent_risk": pa.array(np.round(w.risk_monthly[:, last].astype(np.float64), 6)),
        "latent_risk_start": pa.array(np.round(w.risk_monthly[:, 0].astype(np.float64), 6)),
        "active_at_as_of": pa.array(alive),
        "inspections_per_year": pa.array(np.round(ins_rate, 3)),
        "complaint_burst_on": _dates(np.where(burst <= a, burst, NEVER), null_from=a),
        "future_inspections": pa.array(ni),
        "future_failed_inspections": pa.array(fi),
        "future_failed_sampling": pa.array(fs),
        "future_penalties": pa.array(fp),
        "future_adverse": pa.array(((fi + fs + fp) > 0) & alive),
    })


def _snapshot(w: World, as_of: date) -> dict[str, pa.Table]:
    a = to_day(as_of)
    if a > to_day(w.as_of):
        raise ValueError("a snapshot cannot be later than the world's as_of")
    e = w.ent
    keep = e["established"] <= a
    ids = np.flatnonzero(keep).astype(np.int64)
    st = _enterprise_status(w, a)[ids]
    out = {"enterprises": pa.table({
        "enterprise_id": pa.array(ids),
        "uscc": pc.take(_uscc_arrow(w), pa.array(ids)),
        "business_form": _labels(e["form"][ids], V.FORMS),
        "scale": _labels(e["scale"][ids], V.SCALES),
        "region_code": _region_arrow(w, ids),
        "status": _labels(st, STATUS_CODES),
        "static_tier": pa.array(e["static_tier"][ids], pa.int8()),
        "established_on": _dates(e["established"][ids]),
        "key_supervision": pa.array(e["key_supervision"][ids]),
        "food_categories": pa.array(e["categories"][ids].tolist(), pa.string()),
    })}
    c = w.ev["licences"]
    m = (c["day"] <= a) & keep[c["eid"]]
    stl = _enterprise_status(w, a)[c["eid"][m]]
    lst = np.where(stl == 3, 2, np.where(stl == 1, 3, np.where(c["expires"][m] < a, 1, 0)))
    out["licences"] = pa.table({"enterprise_id": pa.array(c["eid"][m]), "kind": _labels(np.where(c["sc"][m], 0, 1), ("SC", "JY")),
                                "issued_on": _dates(c["day"][m]), "expires_on": _dates(c["expires"][m]),
                                "status": _labels(lst, ("valid", "expired", "revoked", "cancelled"))})
    c = w.ev["inspections"]
    m = c["day"] <= a
    out["inspections"] = pa.table({"enterprise_id": pa.array(c["eid"][m]), "inspected_on": _dates(c["day"][m]),
                                   "kind": _labels(c["kind"][m], V.INSPECTION_KINDS), "result": _labels(c["result"][m], V.INSPECTION_RESULTS),
                                   "key_items_failed": pa.array(c["key_f"][m], pa.int32()),
                                   "general_items_failed": pa.array(c["gen_f"][m], pa.int32()),
                                   "rectification_ordered": pa.array(c["rect"][m])})
    c = w.ev["sampling_tests"]
    m = c["day"] <= a
    out["sampling_tests"] = pa.table({"enterprise_id": pa.array(c["eid"][m]), "sampled_on": _dates(c["day"][m]),
                                      "level": _labels(c["level"][m], V.LEVELS), "result": _labels(c["result"][m], ("pass", "fail"))})
    c = w.ev["penalties"]
    m = c["day"] <= a
    out["penalties"] = pa.table({"enterprise_id": pa.array(c["eid"][m]), "decided_on": _dates(c["day"][m]),
                                 "severity": _labels(c["severity"][m], V.SEVERITIES),
                                 "violation_type": _labels(c["violation"][m], V.VIOLATIONS),
                                 "fine": pa.array(c["fine"][m]), "confiscation": pa.array(c["conf"][m]),
                                 "licence_revoked": pa.array(c["revoked"][m]), "repaired": pa.array(c["repair_day"][m] <= a)})
    c = w.ev["complaints"]
    m = c["day"] <= a
    out["complaints"] = pa.table({"enterprise_id": pa.array(c["eid"][m]), "received_on": _dates(c["day"][m]),
                                  "channel": _labels(c["channel"][m], V.CHANNELS), "verified": pa.array(c["verified"][m])})
    c = w.ev["list_entries"]
    m = c["day"] <= a
    out["list_entries"] = pa.table({"enterprise_id": pa.array(c["eid"][m]), "list_kind": _labels(c["kind"][m], V.LIST_KINDS),
                                    "listed_on": _dates(c["day"][m]), "removed_on": _dates(c["removed"][m], null_from=a),
                                    "repaired": pa.array(c["repair_day"][m] <= a)})
    return out


def _region_arrow(w: World, ids: np.ndarray) -> pa.Array:
    if "_region_arrow" not in w.vocab:
        w.vocab["_region_arrow"] = pa.array(w.ent["region_code"].tolist(), pa.string())
    return pc.take(w.vocab["_region_arrow"], pa.array(ids))
