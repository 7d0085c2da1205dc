"""Entity resolution for large batches: splink (linkage.link) behind Resolver.prepare()."""

from foodrisk.ingest import resolution
from foodrisk.ingest.linkage import link, name_core, places
from foodrisk.ingest.normalisers import address_key, name_key
from foodrisk.ingest.resolution import Resolver

ENTERPRISES = [
    (1, "杭州美湖超市有限公司", ["杭州瑞湖超市有限公司"], "浙江省杭州市余杭区江溪街道迎宾路4号"),
    (2, "福达（杭州）茶业有限公司", [], "浙江省杭州市余杭区东塘街道湖墅南路22号29幢"),
    (3, "杭州光通酒店管理有限公司萧山分店", [], "浙江省杭州市萧山区江江镇凤起路294号128室"),
    (4, "杭州ABC食品科技有限公司", [], "浙江省杭州市临安区南塘镇莫干山路228号"),
    (5, "杭州顺兴食品贸易有限公司", [], "浙江省杭州市西湖区溪桥街道建国路569号"),
    (6, "杭州顺星食品贸易有限公司", [], "浙江省杭州市西湖区溪桥街道建国路596号"),
    (7, "杭州华悦餐饮管理有限责任公司", [], "浙江省杭州市桐庐县塘城街道学院路245号"),
    (8, "杭州德新饮食服务有限公司", [], "浙江省杭州市萧山区新桥镇丰潭路555号"),
]
# fillers so that u is not all about eight records
ENTERPRISES += [(100 + i, f"杭州{a}{b}食品有限公司", [], f"浙江省杭州市上城区{a}{b}路{i}号")
                for i, (a, b) in enumerate((a, b) for a in "金银铜铁锡木水火土石" for b in "春夏秋冬东南西北")]

PAIRS = [
    # variants that do not normalise to the same key (so they need the fuzzy path)
    ("杭州美湖超市", "浙江省杭州市余杭区江溪街道迎宾路4号", 1),  # company form dropped
    ("杭州瑞湖超市有限责任公司", "浙江省杭州市余杭区江溪街道迎宾路4号", 1),  # former name, suffix variant
    ("福达(杭州)茶叶有限公司", "浙江省杭州市余杭区东塘街道湖墅南路22号29幢", 2),  # bracket + a typo
    ("杭州光通酒店管理有限公司萧山分店 ", "浙江省杭州市萧山区江江镇凤起路294号128室", 3),
    ("杭州ＡＢＣ食品科技公司", "浙江省杭州市临安区南塘镇莫干山路228号", 4),  # full width, 有限 dropped
    ("杭州华悦餐饮管理有限公", "浙江省杭州市桐庐县塘城街道学院路245号", 7),  # truncated
]
AMBIGUOUS = ("杭州顺新食品贸易有限公司", "浙江省杭州市西湖区溪桥街道建国路")  # between 5 and 6
UNKNOWN = ("北京完全不同科技发展有限公司", "北京市朝阳区建国门外大街1号")


def _all_pairs():
    return [(n, a) for n, a, _ in PAIRS] + [AMBIGUOUS, UNKNOWN]


def test_name_core_strips_places_brackets_and_company_form():
    pl = places(address_key(e[3]) for e in ENTERPRISES)
    assert name_core(name_key("杭州美湖超市有限公司"), pl) == "美湖超市"
    assert name_core(name_key("福达（杭州）茶业有限公司"), pl) == "福达茶业"
    assert name_core(name_key("杭州光通酒店管理有限公司萧山分店"), pl) == "光通酒店管理"
    assert name_core(name_key("杭州市萧山区廖记超市"), pl) == "廖记超市"


def test_splink_links_name_variants_reviews_ambiguous_and_leaves_unknown():
    res = Resolver(ENTERPRISES, 0.92, 0.75, large_batch=3)
    assert res.prepare(_all_pairs()) == "splink"
    for name, address, pk in PAIRS:
        m = res.match(name, address)
        assert (m.enterprise_id, m.decision) == (pk, "link"), (name, m)
        assert m.name_variant
        assert 0.92 <= m.score <= 1.0
    amb = res.match(*AMBIGUOUS)
    assert amb.decision == "review" and amb.enterprise_id in (5, 6), amb
    assert res.match(*UNKNOWN).decision == "none"
    # exact unique normalised names still link through the exact path (never sent to splink)
    exact = res.match("杭州德新饮食服务有限责任公司", "")
    assert (exact.enterprise_id, exact.decision) == (8, "link")


def test_splink_is_deterministic():
    pairs = _all_pairs()
    ents = ENTERPRISES
    first = link(pairs, ents)
    assert first and first == link(list(reversed(pairs)), list(reversed(ents)))
    a = Resolver(ents, large_batch=1)
    b = Resolver(ents, large_batch=1)
    a.prepare(pairs)
    b.prepare(pairs)
    assert [a.match(*p) for p in pairs] == [b.match(*p) for p in pairs]


def test_small_batches_keep_rapidfuzz(monkeypatch):
    monkeypatch.setattr(resolution, "LARGE_BATCH", 100)
    res = Resolver(ENTERPRISES)
    assert res.large_batch == 100
    assert res.prepare(_all_pairs()) == "rapidfuzz"
    assert res._cache == {}  # nothing precomputed: match() searches with rapidfuzz as before
    m = res.match("杭州ＡＢＣ食品科技公司", "浙江省杭州市临安区南塘镇莫干山路228号")
    assert m.enterprise_id == 4 and m.decision in ("link", "review")
    assert res.match(*UNKNOWN).decision == "none"


def test_exact_names_do_not_count_towards_the_threshold():
    res = Resolver(ENTERPRISES, large_batch=2)
    pairs = [(e[1], e[3]) for e in ENTERPRISES] + [(PAIRS[0][0], PAIRS[0][1])]
    assert res.prepare(pairs) == "rapidfuzz"  # only one pair needs a fuzzy match
