"""The generated world: identifiers, proportions, risk signal, snapshot schema."""

import json
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from stdnum.cn import uscc as stdnum_uscc

from conftest import AS_OF
from foodrisk.synth import generate_world
from foodrisk.synth.ids import org_check_char, org_code_valid, uscc_valid_vec
from foodrisk.synth.regions import build_city, load_divisions


def test_regions_parse_loc_dat_and_skip_abolished():
    divs = load_divisions()
    assert divs["330106"].name == "西湖区" and divs["330106"].current
    assert not divs["330103"].current  # [1983-2021]下城区
    assert divs["330206"].name == "北仑区" and divs["330206"].current  # two periods, last open
    city = build_city("330100")
    codes = {d.code for d in city.districts}
    assert city.name == "杭州市" and city.province == "浙江省"
    assert "330106" in codes and "330103" not in codes and "330104" not in codes and "330101" not in codes
    per = {}
    for s in city.stations:
        assert len(s.code) == 9 and s.code[:6] == s.district_code and s.code.isdigit()
        per[s.district_code] = per.get(s.district_code, 0) + 1
    assert set(per) == codes and all(2 <= k <= 4 for k in per.values())
    with pytest.raises(ValueError):
        build_city("330106")  # a district, not a prefecture


def test_org_code_check_matches_published_examples():
    for code in ("91110000600037341L", "121200004013590816", "91310115MA1K3BTP2B", "9144030071526726XG",
                 "92340602MA2PBMEM24", "91340600MA2PBM9HXD"):
        assert org_code_valid(code[8:17]), code
        assert org_check_char(code[8:16]) == code[16]
    assert not org_code_valid("60003734X")


def test_all_usccs_valid_and_embed_the_district(world):
    usccs = world.enterprises.column("uscc").to_pylist()
    assert len(set(usccs)) == len(usccs) == world.n
    assert all(stdnum_uscc.is_valid(u) for u in usccs)
    assert all(org_code_valid(u[8:17]) for u in usccs)
    assert uscc_valid_vec(np.array(usccs, dtype=object)).all()
    assert all(world.index[u] == i for i, u in enumerate(usccs))
    assert world.enterprises.column("enterprise_id").to_pylist() == list(range(world.n))
    regions = world.enterprises.column("region_code").to_pylist()
    dist = {d.code for d in world.city.districts}
    stations = {s.code for s in world.city.stations}
    for u, r in zip(usccs, regions, strict=True):
        assert u[2:8] == r[:6] and u[2:8] in dist
        assert r in dist or r in stations
    e = world.enterprises.to_pydict()
    individual = [u.startswith("92") for u in e["uscc"]]
    assert sum(individual) > 0.1 * world.n
    for ind, form, name in zip(individual, e["business_form"], e["name"], strict=True):
        if ind:
            assert form in ("sales", "catering") and "公司" not in name


def test_proportions_are_plausible(world):
    e = world.enterprises.to_pydict()
    n = world.n
    share = {f: e["business_form"].count(f) / n for f in ("sales", "catering", "production", "canteen", "special")}
    assert 0.45 < share["sales"] < 0.55 and 0.30 < share["catering"] < 0.40
    assert 0.06 < share["production"] < 0.10 and 0.04 < share["canteen"] < 0.08 and 0.003 < share["special"] < 0.02
    assert e["status"].count("active") / n > 0.75
    for form, tier, cats in zip(e["business_form"], e["static_tier"], e["food_categories"], strict=True):
        if form in ("special",) or (form == "production" and ("乳制品" in cats or "肉制品" in cats)):
            assert tier == 4
        if form == "canteen":
            assert tier >= 3
    years = [(AS_OF - d).days / 365.25 for d in e["established_on"]]
    assert max(years) > 15 and min(years) >= 0
    counts = world.record_counts()
    per_ent = (sum(counts.values()) - n) / n
    assert 10 < per_ent < 20
    assert counts["inspections"] > counts["sampling_tests"] > counts["penalties"] > counts["credit_repairs"] > 0
    assert counts["list_entries"] > 0


def _spearman(a, b):
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b + np.random.default_rng(0).random(len(b)) * 1e-9)).astype(float)
    return np.corrcoef(ra, rb)[0, 1]


def test_latent_risk_drives_adverse_records(world):
    n = world.n
    adverse = np.zeros(n)
    for kind, col, bad in (("inspections", "result", "fail"), ("sampling_tests", "result", "fail")):
        t = world.table(kind)
        m = np.array(t.column(col).to_pylist()) == bad
        np.add.at(adverse, t.column("enterprise_id").to_numpy()[m], 1)
    np.add.at(adverse, world.penalties.column("enterprise_id").to_numpy(), 1)
    gt = world.ground_truth
    risk = gt.column("latent_risk").to_numpy()
    mean_risk = world.risk_monthly.mean(axis=1)
    assert _spearman(mean_risk, adverse) > 0.3
    assert _spearman(risk, adverse) > 0.3
    # the future label rises with latent risk (quartiles, active enterprises)
    fut = gt.column("future_adverse").to_numpy(zero_copy_only=False)
    act = gt.column("active_at_as_of").to_numpy(zero_copy_only=False)
    q = np.quantile(risk[act], [0.25, 0.5, 0.75])
    rates = [fut[act & (np.digitize(risk, q) == k)].mean() for k in range(4)]
    assert rates == sorted(rates) and rates[3] > 2 * rates[0]
    # selection bias: riskier enterprises are inspected more often
    ipy = gt.column("inspections_per_year").to_numpy()
    assert _spearman(mean_risk, ipy) > 0.2


def test_risk_drifts_over_time(world):
    r = world.risk_monthly
    assert r.shape[0] == world.n and r.shape[1] >= world.years * 12
    delta = np.abs(r[:, -1] - r[:, 0])
    assert np.median(delta) > 0.005 and (r > 0).all() and (r < 1).all()


def test_no_record_after_as_of_in_world_tables(world):
    for kind, cols in (("licences", ["issued_on"]), ("inspections", ["inspected_on"]), ("sampling_tests", ["sampled_on"]),
                       ("penalties", ["decided_on"]), ("complaints", ["received_on"]),
                       ("credit_repairs", ["applied_on", "decided_on"]), ("list_entries", ["listed_on", "removed_on"])):
        t = world.table(kind)
        for c in cols:
            vals = [v for v in t.column(c).to_pylist() if v is not None]
            assert vals and max(vals) <= AS_OF, (kind, c)
    for kind, t in world.future.items():
        col = {"inspections": "inspected_on", "sampling_tests": "sampled_on", "penalties": "decided_on"}[kind]
        vals = t.column(col).to_pylist()
        assert vals and min(vals) > AS_OF and max(vals) <= world.horizon


def test_records_are_consistent(world):
    # removal after listing, decision after application, expiry after issue
    le = world.list_entries.to_pydict()
    assert all(r is None or r >= s for s, r in zip(le["listed_on"], le["removed_on"], strict=True))
    cr = world.credit_repairs.to_pydict()
    for a, d, dec in zip(cr["applied_on"], cr["decided_on"], cr["decision"], strict=True):
        assert (d is None) == (dec == "pending")
        assert d is None or d >= a
    lic = world.licences.to_pydict()
    assert all(x > i for i, x in zip(lic["issued_on"], lic["expires_on"], strict=True))
    # penalty repairs only after one year of publication (§3.2, food)
    pen = dict(zip(world.penalties.column("decision_no").to_pylist(), world.penalties.column("decided_on").to_pylist(), strict=True))
    for tk, tn, a in zip(cr["target_kind"], cr["target_no"], cr["applied_on"], strict=True):
        if tk == "penalties":
            assert (a - pen[tn]).days >= 365
    # revoked enterprises have no record after their revocation
    e = world.enterprises.to_pydict()
    revoked = {i for i, s in enumerate(e["status"]) if s == "revoked"}
    p = world.penalties.to_pydict()
    rev_day = {}
    for i, d, rv in zip(p["enterprise_id"], p["decided_on"], p["licence_revoked"], strict=True):
        if rv:
            rev_day[i] = min(rev_day.get(i, d), d)
    assert revoked and revoked <= set(rev_day)
    ins = world.inspections.to_pydict()
    assert all(d < rev_day[i] for i, d in zip(ins["enterprise_id"], ins["inspected_on"], strict=True) if i in rev_day)


SNAPSHOT_SCHEMA = {
    "enterprises": [("enterprise_id", pa.int64()), ("uscc", pa.string()), ("business_form", pa.string()), ("scale", pa.string()),
                    ("region_code", pa.string()), ("status", pa.string()), ("static_tier", pa.int8()),
                    ("established_on", pa.date32()), ("key_supervision", pa.bool_()), ("food_categories", pa.string())],
    "licences": [("enterprise_id", pa.int64()), ("kind", pa.string()), ("issued_on", pa.date32()), ("expires_on", pa.date32()),
                 ("status", pa.string())],
    "inspections": [("enterprise_id", pa.int64()), ("inspected_on", pa.date32()), ("kind", pa.string()), ("result", pa.string()),
                    ("key_items_failed", pa.int32()), ("general_items_failed", pa.int32()), ("rectification_ordered", pa.bool_())],
    "sampling_tests": [("enterprise_id", pa.int64()), ("sampled_on", pa.date32()), ("level", pa.string()), ("result", pa.string())],
    "penalties": [("enterprise_id", pa.int64()), ("decided_on", pa.date32()), ("severity", pa.string()),
                  ("violation_type", pa.string()), ("fine", pa.float64()), ("confiscation", pa.float64()),
                  ("licence_revoked", pa.bool_()), ("repaired", pa.bool_())],
    "complaints": [("enterprise_id", pa.int64()), ("received_on", pa.date32()), ("channel", pa.string()), ("verified", pa.bool_())],
    "list_entries": [("enterprise_id", pa.int64()), ("list_kind", pa.string()), ("listed_on", pa.date32()),
                     ("removed_on", pa.date32()), ("repaired", pa.bool_())],
}
ENUM_CODES = {
    ("enterprises", "business_form"): {"production", "sales", "catering", "canteen", "special"},
    ("enterprises", "scale"): {"large", "medium", "small", "micro"},
    ("enterprises", "status"): {"active", "cancelled", "revoked", "suspended"},
    ("licences", "kind"): {"SC", "JY"}, ("licences", "status"): {"valid", "expired", "revoked", "cancelled"},
    ("inspections", "kind"): {"routine", "special", "random", "flight"}, ("inspections", "result"): {"pass", "basic", "fail"},
    ("sampling_tests", "level"): {"national", "provincial", "city", "county"}, ("sampling_tests", "result"): {"pass", "fail"},
    ("penalties", "severity"): {"minor", "general", "heavy", "serious"},
    ("complaints", "channel"): {"12315", "12345", "letter", "visit", "online"},
    ("list_entries", "list_kind"): {"abnormal", "serious"},
}


def test_snapshot_schema_and_point_in_time(world, tmp_path):
    snap = world.to_snapshot()
    assert set(snap) == set(SNAPSHOT_SCHEMA)
    for name, cols in SNAPSHOT_SCHEMA.items():
        assert snap[name].schema == pa.schema(cols), name
        assert snap[name].num_rows > 0
    for (t, c), codes in ENUM_CODES.items():
        assert set(snap[t].column(c).to_pylist()) <= codes, (t, c)
    assert set(snap["enterprises"].column("static_tier").to_pylist()) <= {1, 2, 3, 4}
    assert snap["inspections"].num_rows == world.inspections.num_rows
    assert snap["penalties"].column("repaired").to_numpy(zero_copy_only=False).any()
    assert snap["list_entries"].column("removed_on").null_count > 0
    # an earlier snapshot sees fewer records and nothing after its date
    early = date(2023, 12, 31)
    s2 = world.to_snapshot(early)
    assert s2["inspections"].num_rows < snap["inspections"].num_rows
    assert max(s2["inspections"].column("inspected_on").to_pylist()) <= early
    assert all(d is None or d <= early for d in s2["list_entries"].column("removed_on").to_pylist())
    assert max(s2["enterprises"].column("established_on").to_pylist()) <= early
    with pytest.raises(ValueError):
        world.to_snapshot(date(2026, 1, 1))
    out = world.write_snapshot(tmp_path / "snap")
    meta = json.loads((out / "snapshot.json").read_text(encoding="utf-8"))
    assert meta["as_of"] == "2025-06-30"
    for name in SNAPSHOT_SCHEMA:
        t = pq.read_table(out / f"{name}.parquet")
        assert t.schema == snap[name].schema and t.num_rows == meta["tables"][name]


def test_generation_is_deterministic():
    a = generate_world(500, years=3, seed=5, as_of=AS_OF)
    b = generate_world(500, years=3, seed=5, as_of=AS_OF)
    c = generate_world(500, years=3, seed=6, as_of=AS_OF)
    for kind in ("enterprises", "inspections", "penalties", "credit_repairs", "list_entries"):
        assert a.table(kind).equals(b.table(kind))
    assert not a.enterprises.equals(c.enterprises)
    snap_a, snap_b = a.to_snapshot(), b.to_snapshot()
    assert all(snap_a[k].equals(snap_b[k]) for k in snap_a)
