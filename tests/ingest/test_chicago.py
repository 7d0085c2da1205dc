"""Chicago's real files (a cut: tests/ingest/fixtures/chicago, see its README), unedited, through profiles made
with the designer's service: the licences file creates the enterprises and ties each licence number to its
enterprise in the crosswalk; inspections link by that licence number, or by name + address, or wait for review."""

import csv
import io
from pathlib import Path

import pytest
from django.db.models import Count

from foodrisk.core.models import Region
from foodrisk.core.testing import ScopedTestCase
from foodrisk.enterprises.models import CrosswalkEntry, Enterprise
from foodrisk.ingest import mapping
from foodrisk.ingest.services import designer, profiles
from foodrisk.records.models import Inspection

from .conftest import assert_counts, run_import

FIXTURES = Path(__file__).parent / "fixtures" / "chicago"


# LICENSE_DESCRIPTION → 主体业态, as chosen in the designer's value map; licences of other trades (home repair,
# hazardous materials…) stay unmapped: their rows are quarantined (enum_invalid) rather than guessed
BUSINESS_FORMS = {
    "Retail Food Establishment": "catering", "Tavern": "catering", "Wrigley Field": "catering",
    "Mobile Food License": "catering", "Mobile Food Dispenser": "catering", "Special Event Food": "catering",
    "Retail Food - Seasonal Lakefront Food Establishment": "catering", "Navy Pier Vendor (Food)": "catering",
    "Retail Food Est.-Supplemental License for Dog-Friendly Areas": "catering",
    "Consumption on Premises - Incidental Activity": "catering",
    "Day Care Center 2 - 6 Years": "canteen", "Day Care Center Under 2 and 2 - 6 Years": "canteen",
    "Day Care Center Under 2 Years": "canteen", "Long-Term Care Facility": "canteen", "Hospital": "canteen",
    "Children's Services Facility License": "canteen", "Assisted Living/Shared Housing Establishment": "canteen",
    "Limited Business License": "sales", "Package Goods": "sales", "Wholesale Food Establishment": "sales",
    "Tobacco": "sales", "Manufacturing Establishments": "production", "Food - Shared Kitchen": "production",
    "Food - Shared Kitchen - Supplemental": "production", "Shared Kitchen User": "production",
}


def beijing_regions():
    for code, name, level, parent in (("110000", "北京市", "province", None), ("110100", "市辖区", "prefecture", "110000"),
                                      ("110105", "朝阳区", "county", "110100")):
        Region.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent_id": parent,
                                                          "full_name": name})


def chicago_regions():
    """Chicago's ZIP areas as supervision stations under 110105 (the region of the file's synthesized USCCs), as
    the built-in licence profile creates them when it is first used."""
    beijing_regions()
    profiles.ensure_profile_regions("chicago_licenses")


def chicago_profiles(user=None):
    """The two profiles as a person makes them in the designer: start from its suggestions, then correct."""
    content = (FIXTURES / "business_licenses.csv").read_bytes()
    table, _detected = designer.read_sample(content, "business_licenses.csv")
    cfg = designer.suggested_config("enterprises", table)
    cfg["columns"]["LICENSE_NUMBER"] = ["crosswalk:chicago_license"]
    cfg["columns"]["LICENSE_DESCRIPTION"] = ["business_form"]
    cfg["values"]["business_form"] = BUSINESS_FORMS
    cfg["values"]["status"].update({"REV": "revoked", "REA": "revoked"})
    cfg["derive"]["region_code"] = {"from_uscc": "uscc"}  # when the ZIP code is blank
    # the ZIP code is the region: each Chicago ZIP area is a station; a ZIP outside the city is the county
    cfg["columns"]["ZIP_CODE"] = ["region_code"]
    cfg["columns"]["BUSINESS_ACTIVITY"] = ["food_categories"]  # "A | B": a list cell split on the bar
    cfg["values"]["region_code"] = {**{r.code[6:]: r.code for r in Region.objects.filter(
        code__startswith="110105", level="station")}, "*": "110105"}
    licences = designer.save_profile(config=cfg, user=user, code="chicago-licenses", name="芝加哥营业执照")

    content = (FIXTURES / "food_inspections.csv").read_bytes()
    table, _detected = designer.read_sample(content, "food_inspections.csv")
    cfg = designer.suggested_config("inspections", table)
    cfg["columns"]["License"] = ["crosswalk:chicago_license"]
    inspections = designer.save_profile(config=cfg, user=user, code="chicago-inspections", name="芝加哥食品检查")
    return licences, inspections


@pytest.fixture
def chicago(db):
    chicago_regions()
    return chicago_profiles()


def test_chicago_files_import_unedited_through_designer_profiles(chicago):
    licences, inspections = chicago
    # what the designer made is what ships as the built-in profiles (the validity benchmark uses those)
    assert licences.config == mapping.BUILTIN_PROFILES["chicago_licenses"]
    assert inspections.config == mapping.BUILTIN_PROFILES["chicago_inspections"]

    ent = run_import((FIXTURES / "business_licenses.csv").read_bytes(), "business_licenses.csv", source="芝加哥",
                     profile=licences.code, kind="enterprises")
    assert_counts(ent)
    assert (ent.rows_read, ent.accepted_new, ent.quarantined) == (201, 200, 1)
    assert ent.report["reasons"] == {"enum_invalid:business_form": 1}  # a licence of another trade
    # the region is the ZIP area (a station under the county of the USCC)
    assert Enterprise.objects.filter(region__parent_id="110105", region__level="station").count() == 200
    assert Enterprise.objects.get(uscc="91110105217003106X").region_id == "11010560606"  # COSI, 60606
    assert CrosswalkEntry.objects.filter(scheme="chicago_license").count() == 200
    cosi = CrosswalkEntry.objects.get(scheme="chicago_license", local_id="2").enterprise
    assert cosi.name == "COSI"

    ins = run_import((FIXTURES / "food_inspections.csv").read_bytes(), "food_inspections.csv", source="芝加哥",
                     profile=inspections.code, kind="inspections")
    assert_counts(ins)
    assert (ins.rows_read, ins.accepted_new, ins.quarantined, ins.in_review) == (451, 426, 23, 2)
    assert ins.report["links"] == {"crosswalk": 398, "name": 28, "queued": 2}
    assert ins.report["reasons"] == {"entity_unresolved:enterprise_name": 23 + 2}
    target = Inspection.objects.select_related("enterprise").get(inspection_no="507219")
    assert (target.result, target.kind, target.general_items_failed, str(target.inspected_on)) == (
        "fail", "routine", 2, "2011-10-20")
    assert target.enterprise.crosswalk.get().local_id == "1679459"
    assert Inspection.objects.filter(result="basic").count() <= 57  # Pass w/ Conditions → 基本符合
    # the licence numbers of the rows linked by name are now in the crosswalk: the next delivery links them by id
    again = run_import((FIXTURES / "food_inspections.csv").read_bytes(), "food_inspections-again.csv", source="芝加哥",
                       profile=inspections.code, kind="inspections")
    assert (again.unchanged, again.accepted_new) == (426, 0)
    assert again.report["links"] == {"crosswalk": 426, "queued": 2}


def test_the_inspection_file_tells_each_premises_type_and_risk_class(chicago, monkeypatch):
    """The inspection file imported a second time with the built-in premises profile: the enterprise its licence
    number names (crosswalk → USCC) takes the facility type (主体业态) and Chicago's risk class (静态风险等级) of
    its latest inspection; what the file does not carry (established, status, food categories, licences' name
    history) stays as the licence file delivered it; a licence number no enterprise holds is quarantined."""
    from foodrisk.ingest.services import batches

    licences, _inspections = chicago
    run_import((FIXTURES / "business_licenses.csv").read_bytes(), "business_licenses.csv", source="芝加哥",
               profile=licences.code, kind="enterprises")
    school = Enterprise.objects.get(crosswalk__scheme="chicago_license", crosswalk__local_id="23441")
    before = {f: getattr(school, f) for f in ("established_on", "status", "food_categories", "uscc")}
    assert school.static_tier is None
    categories = dict(Enterprise.objects.values_list("id", "food_categories"))
    assert sum(1 for c in categories.values() if c) > 100
    assert all("|" not in c for e in Enterprise.objects.all() for c in e.food_categories)
    monkeypatch.setattr(batches, "CHUNK", 50)  # the same premises in several chunks of one batch
    batch = run_import((FIXTURES / "food_inspections.csv").read_bytes(), "food_inspections-premises.csv",
                       source="芝加哥", profile="chicago_inspection_premises", kind="enterprises")
    assert_counts(batch)
    assert batch.accepted_new == 0 and batch.accepted_updated > 100 and batch.merged_duplicates > 100
    held = set(CrosswalkEntry.objects.values_list("local_id", flat=True))
    rows = list(csv.DictReader(io.StringIO((FIXTURES / "food_inspections.csv").read_text(encoding="utf-8"))))
    # a licence number no enterprise holds (no licence row, or one of another trade) finds no USCC
    assert batch.report["reasons"]["required_missing:uscc"] == sum(r["License"] not in held for r in rows) > 0
    school.refresh_from_db()
    assert (school.business_form, school.static_tier) == ("canteen", 3)  # School, Risk 1 (High)
    grocer = Enterprise.objects.get(crosswalk__scheme="chicago_license", crosswalk__local_id="32284")
    assert (grocer.business_form, grocer.static_tier) == ("sales", 1)  # Grocery Store, Risk 3 (Low)
    assert {f: getattr(school, f) for f in before} == before
    assert dict(Enterprise.objects.values_list("id", "food_categories")) == categories
    tiers = dict(Enterprise.objects.values_list("static_tier").annotate(n=Count("id")).values_list("static_tier", "n"))
    assert set(tiers) <= {1, 2, 3, None} and sum(n for t, n in tiers.items() if t) > 100


def test_the_enterprise_profile_shows_its_identifiers_in_other_systems(chicago, admin_client):
    licences, _inspections = chicago
    run_import((FIXTURES / "business_licenses.csv").read_bytes(), "business_licenses.csv", source="芝加哥",
               profile=licences.code, kind="enterprises")
    cosi = CrosswalkEntry.objects.get(scheme="chicago_license", local_id="2").enterprise
    page = admin_client.get(cosi.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="crosswalk"' in body and "chicago_license" in body and "按统一社会信用代码" in body


def test_the_builtin_licence_profile_brings_the_zip_areas_it_maps(db):
    """Importing with the built-in profile creates Chicago's ZIP areas (audited) under the county; a ZIP outside
    the city and a blank one fall back to the county; an installation without that county gets none."""
    from foodrisk.core.models import AuditEntry

    lines = (FIXTURES / "business_licenses.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.split(",") for line in lines[1:4]]
    assert all(len(r) == len(lines[0].split(",")) for r in rows)  # no quoted commas in these three
    zip_of_third = rows[2][7]
    rows[0][7], rows[1][7] = "94005", ""  # a ZIP outside the city, a blank one
    content = "\n".join([lines[0], *(",".join(r) for r in rows)]).encode()
    batch = run_import(content, "licences.csv", source="芝加哥", profile="chicago_licenses", kind="enterprises")
    assert not Region.objects.filter(level="station").exists()  # no 110105 here: nothing created
    assert (batch.rows_read, batch.quarantined) == (3, 3), batch.report

    beijing_regions()
    batch = run_import(content, "licences-2.csv", source="芝加哥", profile="chicago_licenses", kind="enterprises")
    assert Region.objects.filter(parent_id="110105", level="station").count() == len(mapping.BUILTIN_REGIONS[
        "chicago_licenses"]) == 59
    assert AuditEntry.objects.filter(action="core.region.create").count() == 59
    assert_counts(batch)
    assert batch.accepted_new == 3, batch.report
    regions = dict(Enterprise.objects.values_list("uscc", "region_id"))
    assert [regions[r[0]] for r in rows] == ["110105", "110105", "110105" + zip_of_third]


def test_a_region_value_map_must_name_existing_regions(db):
    beijing_regions()
    cfg = dict(mapping.BUILTIN_PROFILES["chicago_licenses"])
    with pytest.raises(designer.profile_format.ProfileInvalid) as exc:
        designer.save_profile(config=cfg, code="chicago-copy")
    assert "11010560601" in str(exc.value) and "不存在" in str(exc.value)


class BuiltinProfilesOverTheAPI(ScopedTestCase):
    def test_a_fresh_installation_imports_with_a_builtin_profile_code(self):
        """No one has listed the profiles yet: the built-in code is still accepted (it was refused as unknown)."""
        from django.core.files.base import ContentFile
        from django.test import override_settings

        from foodrisk.ingest.models import MappingProfile

        self.grant("ingest.add_batch", "ingest.view_batch", "ingest.view_mappingprofile")
        assert not MappingProfile.objects.exists()
        immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                 "QUEUES": ["default", "scoring", "ingest"]}}
        with override_settings(TASKS=immediate), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post("/api/ingest/batches/", {
                "file": ContentFile((FIXTURES / "food_inspections.csv").read_bytes(), name="food_inspections.csv"),
                "source": "芝加哥", "kind": "inspections", "profile": "chicago_inspections"})
        assert response.status_code == 202, response.content.decode()
        assert MappingProfile.objects.filter(code="chicago_inspections", builtin=True).exists()
        codes = {p["code"] for p in self.client.get("/api/ingest/profiles/?page_size=100").json()["results"]}
        assert {"chicago_inspections", "chicago_licenses"} <= codes
