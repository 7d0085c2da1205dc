"""Browser test: a data admin makes the Chicago inspections profile in the mapping designer (upload a sample,
choose targets and value maps, dry-run), saves it and imports Chicago's unedited file with it."""

import re
from pathlib import Path

import pytest
from test_core_ui import login

from foodrisk.core.models import Organisation, Region, Role
from foodrisk.core.seeds import seed_all
from foodrisk.core.services import accounts
from foodrisk.core.testing import PASSWORD
from foodrisk.ingest.models import Batch, MappingProfile
from ingest.conftest import run_import  # tests/ingest is the package "ingest" under pytest
from ingest.test_chicago import FIXTURES, chicago_profiles, chicago_regions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# data on the page (the sample's own headers and values, file names) is not UI text; acronyms are allowed
ALLOWED = {"CSV", "UTF", "GBK", "JSON", "XLSX", "foodrisk", "USCC", "API", "English"}  # the language switch


@pytest.fixture
def data_admin():
    chicago_regions()
    seed_all()
    org = Organisation.objects.create(code="CY", name="朝阳区市场监督管理局", region=Region.objects.get(code="110105"))
    return accounts.create_user(username="data", password=PASSWORD, full_name="数据管理员", organisation=org,
                                roles=[Role.objects.get(code="data_admin")])


def english_words(page):
    """English words in the page's visible UI text (the sample's data cells excluded)."""
    text = page.evaluate("""() => {
        const clone = document.body.cloneNode(true);
        clone.querySelectorAll('.app-data, option[data-code], #id_profile option, script, style')
             .forEach(e => e.remove());  // profile names and codes in a choice are data too
        return clone.innerText; }""")
    return sorted({w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED})


def test_designer_makes_the_chicago_profile_dry_runs_and_imports(page, live_server, data_admin, shot):
    # the enterprises and the licence-number crosswalk come first (the licences file, its own profile)
    licences, _inspections = chicago_profiles()
    MappingProfile.objects.filter(code="chicago-inspections").delete()
    run_import((FIXTURES / "business_licenses.csv").read_bytes(), "business_licenses.csv", source="芝加哥",
               profile=licences.code, kind="enterprises")

    login(page, live_server, "data")
    page.goto(f"{live_server.url}/ingest/designer/")
    assert english_words(page) == []
    page.select_option("#id_kind", "inspections")
    page.fill("#id_source", "芝加哥")
    page.set_input_files("#id_file", str(FIXTURES / "food_inspections.csv"))
    page.click("#designer-upload")
    page.wait_for_selector("#designer-columns")
    shot(page, "designer-suggestions")
    assert english_words(page) == [], english_words(page)
    # suggestions: Results → 检查结果 with its value map; Pass w/ Conditions → 基本符合
    row = page.locator("tr[data-column='Results']")
    assert row.locator("select[name^='t']").input_value() == "result"
    conditions = page.locator("select[aria-label='Pass w/ Conditions']")
    assert conditions.input_value() == "basic"
    # the licence number is Chicago's own: send it to the crosswalk
    page.locator("tr[data-column='License'] select[name^='t']").select_option("crosswalk")
    page.wait_for_selector("tr[data-column='License'] input[name^='s']")
    page.fill("tr[data-column='License'] input[name^='s']", "chicago_license")
    page.click("#designer-dry-run")
    page.wait_for_selector("#dryrun-rows")
    shot(page, "designer-dry-run")
    summary = page.inner_text("#dryrun-summary")
    assert "来源系统标识" in summary and "名称和地址" in summary, summary
    assert english_words(page) == [], english_words(page)
    page.fill("#code", "chicago-inspections")
    page.fill("#name", "芝加哥食品检查")
    page.click("#designer-save")
    page.wait_for_url(re.compile(r".*/ingest/profiles/\d+/$"))
    shot(page, "designer-saved")
    profile = MappingProfile.objects.get(code="chicago-inspections")
    assert profile.config["columns"]["License"] == ["crosswalk:chicago_license"]
    assert profile.region_id == "110105"

    page.goto(f"{live_server.url}/ingest/upload/")
    page.fill("#id_new_source", "芝加哥")
    page.select_option("#id_kind", "inspections")
    page.select_option("#id_profile", str(profile.pk))
    page.set_input_files("#id_file", str(FIXTURES / "food_inspections.csv"))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ingest/batches/\d+/$"))
    shot(page, "designer-batch")
    batch = Batch.objects.get(profile=profile)
    assert (batch.rows_read, batch.accepted_new, batch.quarantined, batch.in_review) == (451, 426, 23, 2)
    assert batch.report["links"] == {"crosswalk": 398, "name": 28, "queued": 2}
    assert "来源系统标识" in page.content()
    assert Path(shot(page, "designer-batch-report")).exists()


def test_designer_opens_a_profile_and_saves_a_new_version(page, live_server, data_admin, shot):
    """From a profile's page: edit in the designer, the sample read with the profile's choices, saved as version 2."""
    _licences, inspections = chicago_profiles()
    MappingProfile.objects.filter(pk=inspections.pk).update(region_id="110105")  # the district's own profile
    login(page, live_server, "data")
    page.goto(f"{live_server.url}{inspections.get_absolute_url()}")
    page.click("#profile-design")
    page.wait_for_selector("#id_profile")
    assert page.locator("#id_profile").input_value() == str(inspections.pk)
    assert english_words(page) == [], english_words(page)
    page.fill("#id_source", "芝加哥")
    page.set_input_files("#id_file", str(FIXTURES / "food_inspections.csv"))
    page.click("#designer-upload")
    page.wait_for_selector("#designer-editing")
    assert page.locator("#code").input_value() == "chicago-inspections"
    assert page.locator("tr[data-column='License'] input[name^='s']").input_value() == "chicago_license"
    assert english_words(page) == [], english_words(page)
    shot(page, "designer-edit")
    page.fill("#name", "芝加哥食品检查（第二版）")
    page.click("#designer-save")
    page.wait_for_url(re.compile(r".*/ingest/profiles/\d+/$"))
    profile = MappingProfile.objects.get(pk=inspections.pk)
    assert (profile.version, profile.name) == (2, "芝加哥食品检查（第二版）")
    assert profile.config["columns"]["License"] == ["crosswalk:chicago_license"]
    assert profile.config["values"] == inspections.config["values"]
