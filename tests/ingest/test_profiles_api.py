"""Mapping profiles: validated when saved (never at import), versioned, exportable, region-scoped, over REST."""

import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from foodrisk.core.testing import ScopedTestCase
from foodrisk.enterprises.models import Enterprise
from foodrisk.ingest import profile_format
from foodrisk.ingest.models import MappingProfile, MappingProfileVersion
from foodrisk.ingest.services import designer, profiles

from .conftest import ENT_HEADERS, csv_bytes, ent_row

INSPECTION_CFG = {"format": 2, "kind": "inspections",
                  "columns": {"单号": ["inspection_no"], "信用代码": ["uscc"], "日期": ["inspected_on"],
                              "结论": ["result"], "备注": []},
                  "constants": {"kind": "routine"}, "values": {"result": {"好": "pass", "差": "fail"}},
                  "dates": {"日期": "%d.%m.%Y"}, "derive": {}}
SAMPLE = csv_bytes(["单号", "信用代码", "日期", "结论", "备注"],
                   [["J-1", "", "05.03.2024", "好", ""], ["J-2", "", "31.02.2024", "差", ""], ["J-3", "", "06.03.2024", "中", ""]])


def errors_of(config, **kw):
    with pytest.raises(profile_format.ProfileInvalid) as info:
        profile_format.validate(config, **kw)
    return " ".join(info.value.errors)


def test_any_valid_strptime_pattern_is_accepted_and_a_bad_one_refused_in_chinese():
    assert profile_format.validate({**INSPECTION_CFG, "date_formats": ["%Y-%m-%d", "iso"]})
    text = errors_of({**INSPECTION_CFG, "date_formats": ["yyyy-mm-dd"]})
    assert "日期格式“yyyy-mm-dd”无效" in text
    assert "日期格式“%Y-%m”无效" in errors_of({**INSPECTION_CFG, "dates": {"日期": "%Y-%m"}})
    assert "%Q" in errors_of({**INSPECTION_CFG, "dates": {"日期": "%Y-%m-%d%Q"}})


def test_unknown_fields_codes_and_missing_required_are_refused():
    assert "字段“fine”不属于监督检查" in errors_of({**INSPECTION_CFG, "columns": {**INSPECTION_CFG["columns"], "x": ["fine"]}})
    assert "含无效代码：good" in errors_of({**INSPECTION_CFG, "values": {"result": {"好": "good"}}})
    assert "检查类型" in errors_of({**INSPECTION_CFG, "constants": {}})  # the required kind is no longer filled
    assert "不是有效代码" in errors_of({**INSPECTION_CFG, "constants": {"kind": "weekly"}})
    no_link = {**INSPECTION_CFG, "columns": {k: v for k, v in INSPECTION_CFG["columns"].items() if k != "信用代码"}}
    assert "找到所属企业" in errors_of(no_link)
    assert "来源系统标识的名称" in errors_of({**INSPECTION_CFG, "columns": {**INSPECTION_CFG["columns"],
                                                                        "旧号": ["crosswalk:Bad Name"]}})


def test_format_1_profiles_still_load():
    v1 = {"kind": "penalties", "headers": {"文号": "decision_no", "代码": "uscc", "日期": "decided_on",
                                          "类型": "violation_type", "情节": "severity", "序号": ""},
          "values": {"severity": {"重": "serious"}}, "date_formats": ["iso", "compact"], "derive": {}}
    cfg = profile_format.validate(v1)
    assert cfg["columns"]["文号"] == ["decision_no"] and cfg["columns"]["序号"] == []
    compiled = profile_format.Compiled(v1, "penalties")
    assert [f for _i, f, _d in compiled.columns(["序号", "文号", "日期"])] == ["decision_no", "decided_on"]
    assert compiled.values["severity"]["重"] == "serious"


def test_derived_key_is_stable_and_documented():
    key = profile_format.derived_key({"enterprise_name": "杭州 老王面馆有限责任公司", "inspected_on": None}, ["enterprise_name",
                                                                                           "inspected_on"], "D-")
    assert key == profile_format.derived_key({"enterprise_name": "杭州老王面馆有限公司"}, ["enterprise_name", "inspected_on"],
                                       "D-")
    assert key.startswith("D-") and len(key) == 22
    assert profile_format.derived_key({}, ["enterprise_name"]) is None


class ProfileAPI(ScopedTestCase):
    base = "/api/ingest/profiles/"

    def create(self, code="jianchadan", config=INSPECTION_CFG):
        return self.client.post(self.base, {"code": code, "name": "检查单", "config": config},
                                content_type="application/json")

    def test_without_permission_everything_is_refused(self):
        assert self.client.get(self.base).status_code == 403
        assert self.create().status_code == 403
        assert self.client.post(self.base + "validate/", {"config": INSPECTION_CFG},
                                content_type="application/json").status_code == 403
        assert self.client.get(reverse("ingest:designer")).status_code == 403

    def test_create_validate_version_export_import(self):
        self.grant("ingest.view_mappingprofile", "ingest.add_mappingprofile", "ingest.change_mappingprofile")
        bad = self.client.post(self.base + "validate/", {"config": {**INSPECTION_CFG, "dates": {"日期": "dd.mm.yyyy"}}},
                               content_type="application/json").json()
        assert bad["valid"] is False and "日期格式“dd.mm.yyyy”无效" in bad["errors"][0]
        refused = self.create(config={**INSPECTION_CFG, "date_formats": ["%Y-%q"]})
        assert refused.status_code == 400 and "无效" in json.dumps(refused.json(), ensure_ascii=False)
        response = self.create()
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["version"], body["region"], body["kind"]) == (1, "330102", "inspections")  # the user's district
        changed = {**INSPECTION_CFG, "constants": {"kind": "special"}}
        response = self.client.patch(f"{self.base}{body['id']}/", {"config": changed}, content_type="application/json")
        assert response.status_code == 200 and response.json()["version"] == 2
        versions = self.client.get(f"{self.base}{body['id']}/versions/").json()
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[1]["config"]["constants"] == {"kind": "routine"}
        exported = self.client.get(f"{self.base}{body['id']}/export/")
        assert exported["Content-Disposition"].endswith('.json"')
        imported = self.client.post(self.base + "import/", {"file": ContentFile(exported.content, name="p.json"),
                                                            "code": "copy"})
        assert imported.status_code == 201 and imported.json()["config"]["constants"] == {"kind": "special"}
        junk = self.client.post(self.base + "import/", {"file": ContentFile(b"{]", name="p.json")})
        assert junk.status_code == 400 and "JSON" in junk.json()["config"][0]
        actions = self.audit_actions()
        assert actions.count("ingest.mappingprofile.create") == 2 and "ingest.mappingprofile.update" in actions

    def test_dry_run_writes_nothing_and_reports_each_row(self):
        self.grant("ingest.view_mappingprofile", "ingest.add_mappingprofile")
        ent = csv_bytes(ENT_HEADERS, [ent_row(1, "上城老王面馆")])
        from .conftest import make_uscc, run_import
        run_import(ent, "e.csv")
        sample = csv_bytes(["单号", "信用代码", "日期", "结论", "备注"],
                           [["J-1", make_uscc(1), "05.03.2024", "好", ""], ["J-2", make_uscc(1), "31.02.2024", "差", ""],
                            ["J-3", make_uscc(1), "06.03.2024", "中", ""], ["J-4", make_uscc(9), "06.03.2024", "好", ""]])
        response = self.client.post(self.base + "dry-run/", {"file": ContentFile(sample, name="s.csv"),
                                                             "config": json.dumps(INSPECTION_CFG)})
        assert response.status_code == 200, response.content
        rows = {r["row"]: r for r in response.json()["rows"]}
        assert (rows[1]["status"], rows[1]["link"]) == ("new", "uscc")
        assert rows[2]["reasons"] == ["date_invalid:inspected_on"]
        assert rows[3]["reasons"] == ["enum_invalid:result"]
        assert rows[4]["reasons"] == ["entity_unknown:uscc"]
        from foodrisk.records.models import Inspection
        assert not Inspection.objects.exists()
        assert Enterprise.objects.count() == 1

    def test_district_users_see_their_own_and_national_profiles_not_other_districts(self):
        self.grant("ingest.view_mappingprofile", "ingest.change_mappingprofile", "ingest.add_batch",
                   "ingest.view_batch")
        profiles.ensure_builtin_profiles()
        theirs = designer.save_profile(config=INSPECTION_CFG, code="xihu", region=self.region_b)
        mine = designer.save_profile(config=INSPECTION_CFG, code="shangcheng", region=self.region_a)
        codes = {p["code"] for p in self.client.get(self.base + "?page_size=100").json()["results"]}
        assert "shangcheng" in codes and "xihu" not in codes and "template_inspections" in codes
        assert self.client.get(f"{self.base}{theirs.pk}/").status_code == 404
        national = MappingProfile.objects.get(code="template_inspections")
        assert self.client.patch(f"{self.base}{national.pk}/", {"name": "x"},
                                 content_type="application/json").status_code == 404
        assert self.client.patch(f"{self.base}{mine.pk}/", {"name": "上城检查单"},
                                 content_type="application/json").status_code == 200
        response = self.client.post("/api/ingest/batches/", {"file": ContentFile(SAMPLE, name="s.csv"), "source": "x",
                                                             "profile": "xihu"})
        assert response.status_code == 400 and "管辖范围" in response.json()["profile"][0]
        assert MappingProfileVersion.objects.filter(profile=mine).count() == 2
