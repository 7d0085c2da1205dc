import pytest

from foodrisk.core.models import Region
from foodrisk.core.seeds import load_regions, parse_loc_dat

SAMPLE = """33 province="浙江省"
  0000 county="浙江省"
  0100 county="杭州市"
  0101 county="[1983-]市辖区"
  0102 county="[1983-]上城区"
  0103 county="[1983-2021]下城区"
  0122 county="桐庐县"
46 province="海南省"
  9000 county="省直辖县级行政区划"
  9001 county="五指山市"
"""


def test_parse_skips_abolished_and_placeholders():
    regions = parse_loc_dat(SAMPLE)
    assert regions["330102"] == ("上城区", "county", "330100")
    assert "330103" not in regions and "330101" not in regions
    assert regions["330100"][1] == "prefecture"
    assert regions["469001"][2] == "469000"


@pytest.mark.django_db
def test_load_is_idempotent():
    added = load_regions()
    assert added > 3000
    assert load_regions() == 0
    assert Region.objects.get(code="330106").full_name == "浙江省杭州市西湖区"
