import pytest

from foodrisk.core import divisions
from foodrisk.core.models import Region
from foodrisk.core.seeds import load_regions, region_rows
from foodrisk.synth.regions import build_city, load_divisions

# Lines cut from python-stdnum 2.2 ``stdnum/cn/loc.dat`` (LGPL-2.1-or-later; data from the Chinese Wikipedia
# lists of administrative division codes, CC BY-SA), in the file's own layout.
SAMPLE = """# comment lines are skipped
21 province="辽宁省"
  0000 county="辽宁省"
  0200 county="[-1980]旅大市,[1981-]大连市"
  0201 county="[-1985]市辖区,[1986-]市辖区"
  0202 county="中山区"
  0204 county="沙河口区"
  0213 county="[-2015]金州区"
  0214 county="[1987-2015]普兰店市,[2016-]普兰店区"
33 province="浙江省"
  0000 county="浙江省"
  0100 county="杭州市"
  0101 county="[1983-]市辖区"
  0102 county="[1983-]上城区"
  0103 county="[1983-2021]下城区"
  0122 county="桐庐县"
  0206 county="[1985-1986]滨海区,[1987-]北仑区"
42 province="湖北省"
  1000 county="[1994-1995]荆沙市,[1996-]荆州市"
  2800 county="[1983-1993]鄂西土家族苗族自治州,[1993-]恩施土家族苗族自治州"
46 province="海南省"
  1000 county="[1986-1988]海口市"
  9000 county="省直辖县级行政区划"
  9001 county="五指山市"
"""


def test_a_multi_period_line_is_current_when_its_last_period_is_open():
    table = divisions.parse(SAMPLE)
    dalian = table["210200"]
    assert dalian.current and dalian.name == "大连市" and dalian.level == "prefecture"
    assert dalian.history == (divisions.Period("旅大市", None, 1980), divisions.Period("大连市", 1981, None))
    assert table["421000"].current and table["421000"].name == "荆州市"
    assert table["422800"].name == "恩施土家族苗族自治州"
    assert table["210214"].name == "普兰店区" and table["210214"].current
    # closed last period: abolished, whatever came before
    assert not table["330103"].current and not table["210213"].current and not table["461000"].current
    assert table["461000"].name == "海口市"  # the last known name of an abolished code
    assert table["210000"].level == "province" and table["210000"].name == "辽宁省"
    assert table["330206"].province == "浙江省"


def test_rows_keep_every_current_division_under_its_parent_and_drop_placeholders():
    rows = {code: (name, level, parent, full) for code, name, level, parent, full in region_rows(divisions.parse(SAMPLE))}
    assert rows["210200"] == ("大连市", "prefecture", "210000", "辽宁省大连市")
    assert rows["210202"] == ("中山区", "county", "210200", "辽宁省大连市中山区")
    assert rows["421000"][2] == "420000" and rows["422800"][1] == "prefecture"
    assert rows["469001"][2] == "469000"  # county-level city directly under the province (90xx)
    assert "210201" not in rows and "330101" not in rows  # 市辖区 placeholders, whatever their history
    assert "330103" not in rows and "461000" not in rows and "210213" not in rows  # abolished
    codes = [code for code, *_ in region_rows(divisions.parse(SAMPLE))]
    assert codes.index("210000") < codes.index("210200") < codes.index("210202")  # parents first


def test_the_installed_table_has_every_current_prefecture():
    rows = {code: (name, level, parent) for code, name, level, parent, _ in region_rows()}
    for code, name in [("210200", "大连市"), ("320800", "淮安市"), ("420600", "襄阳市"), ("421000", "荆州市"),
                       ("211400", "葫芦岛市"), ("530800", "普洱市")]:
        assert rows[code] == (name, "prefecture", f"{code[:2]}0000"), code
    assert rows["320812"][2] == "320800"  # 清江浦区 under 淮安市
    table = divisions.load()
    current = {code for code, d in table.items() if d.current and d.name not in divisions.PLACEHOLDER_NAMES}
    assert current == set(rows)


def test_synth_reads_the_same_table():
    assert load_divisions() is divisions.load()
    city = build_city("210200")  # 大连市 begins with a closed period; the city must still be buildable
    assert city.name == "大连市" and "210202" in {d.code for d in city.districts}


@pytest.mark.django_db
def test_load_is_idempotent_and_repairs_a_database_seeded_without_the_prefecture():
    added = load_regions()
    assert added == len(region_rows()) and added > 3200
    assert load_regions() == 0
    assert Region.objects.get(code="330106").full_name == "浙江省杭州市西湖区"
    assert Region.objects.get(code="210200").full_name == "辽宁省大连市"
    # a database seeded by the old loader: 大连市 missing, its districts hung off 辽宁省
    Region.objects.filter(parent_id="210200").update(parent_id="210000", full_name="")
    Region.objects.filter(code="210200").delete()
    assert load_regions() == 1
    zhongshan = Region.objects.get(code="210202")
    assert zhongshan.parent_id == "210200" and zhongshan.full_name == "辽宁省大连市中山区"
