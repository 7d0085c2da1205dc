"""The mapping designer opens an existing profile and saves a new version of it (what the page does not show is
kept), and reads a sample's chosen sheet and header row — which the profile then keeps for its imports."""

import io

from django.core.files.base import ContentFile
from django.urls import reverse

from foodrisk.core.spreadsheets import xlsx_bytes
from foodrisk.core.testing import ScopedTestCase
from foodrisk.ingest import profile_format, readers
from foodrisk.ingest.models import MappingProfile
from foodrisk.ingest.services import designer

from .conftest import csv_bytes, make_uscc, run_import
from .test_profiles_api import INSPECTION_CFG, SAMPLE

DESIGNER = reverse("ingest:designer")
MAP = reverse("ingest:designer_map")


def two_sheet_workbook():
    """A workbook whose data is on its second sheet, under two title lines."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表由区系统导出"])
    ws = wb.create_sheet("检查记录")
    ws.append(["上城区市场监管局 检查记录"])
    ws.append(["导出时间 2024-03-10"])
    ws.append(["单号", "信用代码", "日期", "结论", "备注"])
    ws.append(["J-1", make_uscc(1), "05.03.2024", "好", ""])
    ws.append(["J-2", make_uscc(1), "06.03.2024", "差", ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_readers_take_a_sheet_and_a_header_row():
    data = two_sheet_workbook()
    assert readers.sheet_names(data, "x.xlsx") == ["说明", "检查记录"]
    table = readers.read_bytes(data, "x.xlsx", sheet="检查记录", header_row=3)
    assert table.headers[:2] == ["单号", "信用代码"] and len(table.rows) == 2
    assert readers.read_bytes(data, "x.xlsx", sheet=2, header_row=3).headers == table.headers
    for bad in ({"sheet": "没有"}, {"sheet": 5}):
        try:
            readers.read_bytes(data, "x.xlsx", **bad)
        except readers.UnreadableFile as exc:
            assert "没有" in str(exc) or "5" in str(exc)
            assert "检查记录" in str(exc)  # the sheets it has
        else:
            raise AssertionError(bad)
    csv_table = readers.read_bytes("标题\r\n\r\n单号,日期\r\nJ-1,2024-03-05\r\n".encode(), "x.csv", header_row=3)
    assert (csv_table.headers, csv_table.rows) == (["单号", "日期"], [["J-1", "2024-03-05"]])


def test_reading_options_are_validated():
    for read, word in (({"sheet": ""}, "工作表"), ({"header_row": 0}, "表头行"), ({"header_row": "3"}, "表头行"),
                       ({"rows": 3}, "rows")):
        try:
            profile_format.validate({**INSPECTION_CFG, "read": read})
        except profile_format.ProfileInvalid as exc:
            assert word in str(exc), (read, str(exc))
        else:
            raise AssertionError(read)
    cfg = profile_format.validate({**INSPECTION_CFG, "read": {"sheet": "检查记录", "header_row": 3}})
    assert profile_format.to_jsonable(cfg)["read"] == {"sheet": "检查记录", "header_row": 3}
    assert "read" not in profile_format.to_jsonable(INSPECTION_CFG)  # the default is not written


class DesignerEdit(ScopedTestCase):
    def setUp(self):
        super().setUp()
        from .conftest import ENT_HEADERS, ent_row

        run_import(csv_bytes(ENT_HEADERS, [ent_row(1, "上城老王面馆")]), "e.csv")
        cfg = {**INSPECTION_CFG, "columns": {**INSPECTION_CFG["columns"], "旧系统编号": ["crosswalk:old_id"]},
               "values": {"result": {"好": "pass", "差": "fail", "一般": "basic"}},
               "derive": {"inspection_no": {"hash": ["uscc", "inspected_on"], "prefix": "J"}}}
        self.profile = designer.save_profile(config=cfg, code="jianchadan", region=self.region_a)
        self.other = designer.save_profile(config=INSPECTION_CFG, code="xihu", region=self.region_b)

    def upload(self, content=SAMPLE, name="s.csv", **extra):
        return self.client.post(DESIGNER, {"kind": "inspections", "source": "区系统",
                                           "file": ContentFile(content, name=name), **extra})

    def test_without_change_permission_no_profile_can_be_chosen(self):
        self.grant("ingest.view_mappingprofile", "ingest.add_mappingprofile")
        page = self.client.get(f"{DESIGNER}?profile={self.profile.pk}")
        assert page.status_code == 200 and "jianchadan" not in page.content.decode()
        # Django 6.1's blank choice ("- Select an option -") in Chinese, on every form
        assert "- 请选择 -" in page.content.decode() and "Select an option" not in page.content.decode()
        response = self.upload(profile=self.profile.pk)
        assert response.status_code == 200 and "有效的选项" in response.content.decode()
        detail = self.client.get(self.profile.get_absolute_url())
        assert detail.status_code == 200 and 'id="profile-design"' not in detail.content.decode()

    def test_edit_saves_a_new_version_and_keeps_what_the_page_does_not_show(self):
        self.grant("ingest.view_mappingprofile", "ingest.add_mappingprofile", "ingest.change_mappingprofile")
        detail = self.client.get(self.profile.get_absolute_url()).content.decode()
        assert 'id="profile-design"' in detail and f"?profile={self.profile.pk}" in detail
        # another district's profile is not offered
        assert self.upload(profile=self.other.pk).status_code == 200
        assert self.client.session.get("ingest_designer_sample") is None
        response = self.upload(profile=self.profile.pk)
        assert response.status_code == 302, response.content.decode()[:3000]
        page = self.client.get(MAP).content.decode()
        assert 'id="designer-editing"' in page and "jianchadan" in page and "readonly" in page
        # the page shows the profile's choices: 结论 → 检查结果, 好 → pass
        assert 'value="result" selected' in page
        form = {"_action": "save", "name": "检查单（第二版）", "t0": "inspection_no", "t1": "uscc", "t2": "inspected_on",
                "d2": "%d.%m.%Y", "t3": "result", "t4": "", "vk3_0": "好", "vv3_0": "pass", "vk3_1": "差",
                "vv3_1": "", "vk3_2": "中", "vv3_2": "basic", "c_kind": "special", "h": ["uscc", "inspected_on"],
                "hp": "J"}
        saved = self.client.post(MAP, form)
        assert saved.status_code == 302, saved.content.decode()[:3000]
        profile = MappingProfile.objects.get(pk=self.profile.pk)
        assert profile.version == 2 and profile.name == "检查单（第二版）" and profile.code == "jianchadan"
        cfg = profile.config
        assert cfg["columns"]["旧系统编号"] == ["crosswalk:old_id"]  # a column the sample lacks: kept
        # 差 unmapped now, 中 added, 一般 (not in the sample) kept
        assert cfg["values"]["result"] == {"好": "pass", "中": "basic", "一般": "basic"}
        assert cfg["constants"] == {"kind": "special"}
        assert cfg["derive"] == {"inspection_no": {"hash": ["uscc", "inspected_on"], "prefix": "J"}}
        assert [v.version for v in profile.versions.all()] == [2, 1]
        assert "ingest.mappingprofile.update" in self.audit_actions()

    def test_a_workbook_sheet_and_header_row_are_chosen_and_kept_for_imports(self):
        self.grant("ingest.view_mappingprofile", "ingest.add_mappingprofile", "ingest.change_mappingprofile",
                   "ingest.add_batch", "ingest.view_batch")
        data = two_sheet_workbook()
        # a sheet the workbook lacks: a Chinese message on the form
        refused = self.upload(data, "x.xlsx", sheet="没有")
        assert refused.status_code == 200 and "工作簿中没有工作表" in refused.content.decode()
        assert self.upload(data, "x.xlsx", sheet="检查记录").status_code == 302
        page = self.client.get(MAP).content.decode()
        assert 'id="designer-reread"' in page and "检查记录" in page
        assert 'tr data-column="单号"' in page  # the header row under the two title lines was found
        # read again from another header row, then back
        self.client.post(MAP, {"_action": "reread", "sheet": "检查记录", "header_row": "4"})
        assert 'tr data-column="J-1"' in self.client.get(MAP).content.decode()
        self.client.post(MAP, {"_action": "reread", "sheet": "检查记录", "header_row": "3"})
        form = {"_action": "save", "code": "xlsx-jc", "name": "工作簿检查单", "t0": "inspection_no", "t1": "uscc",
                "t2": "inspected_on", "d2": "%d.%m.%Y", "t3": "result", "vk3_0": "好", "vv3_0": "pass",
                "vk3_1": "差", "vv3_1": "fail", "c_kind": "routine"}
        saved = self.client.post(MAP, form)
        assert saved.status_code == 302, saved.content.decode()[:3000]
        profile = MappingProfile.objects.get(code="xlsx-jc")
        assert profile.config["read"] == {"sheet": "检查记录", "header_row": 3}
        batch = run_import(data, "x.xlsx", kind="inspections", profile="xlsx-jc")
        assert (batch.status, batch.rows_read, batch.accepted_new) == ("succeeded", 2, 2), batch.report
        # the API's suggestion says how it read the sample
        body = self.client.post("/api/ingest/profiles/suggest/", {"file": ContentFile(data, name="x.xlsx"),
                                                                   "kind": "inspections", "sheet": "检查记录"}).json()
        assert body["detected"]["header_row"] == 3 and body["config"]["read"] == {"sheet": "检查记录",
                                                                                  "header_row": 3}


def test_xlsx_helper_still_reads_first_sheet():
    data = xlsx_bytes([["a", "b"], [1, 2]])
    assert readers.read_bytes(data, "x.xlsx").headers == ["a", "b"]


class RegionValueMap(ScopedTestCase):
    """A region column of names or another system's codes: the designer lists each value with the division it
    names within the user's jurisdiction, a person fills in the rest, and imports then use the map."""

    def test_region_names_are_suggested_and_unknown_ones_mapped_by_hand(self):
        from .conftest import ENT_HEADERS, ent_row

        self.grant("ingest.view_mappingprofile", "ingest.add_mappingprofile", "ingest.add_batch",
                   "ingest.view_batch")
        rows = [ent_row(1, "上城老王面馆", region="上城区"), ent_row(2, "城东小吃店", region="城东片区"),
                ent_row(3, "西湖阿明小吃店", region="西湖区")]
        sample = csv_bytes(ENT_HEADERS, rows)
        upload = self.client.post(DESIGNER, {"kind": "enterprises", "source": "区系统",
                                             "file": ContentFile(sample, name="e.csv")})
        assert upload.status_code == 302, upload.content.decode()[:2000]
        page = self.client.get(MAP).content.decode()
        region_col = ENT_HEADERS.index("行政区划代码")
        # 上城区 is suggested (in the user's district); 城东片区 is no division's name; 西湖区 lies outside his scope
        assert f'name="vv{region_col}_0" value="330102" list="region-codes"' in page
        assert f'name="vv{region_col}_1" value="" list="region-codes"' in page
        assert f'name="vv{region_col}_2" value="" list="region-codes"' in page
        assert '<datalist id="region-codes"><option value="330102">' in page and 'value="330106"' not in page

        sample_rows = designer.design_rows("enterprises", readers.read_bytes(sample, "e.csv"), designer.suggested_config(
            "enterprises", readers.read_bytes(sample, "e.csv")), scope="330102")
        form = {"_action": "save", "code": "qu-qiye", "name": "区系统企业"}
        form.update({f"t{r['i']}": r["first"] for r in sample_rows})
        form.update({f"vk{region_col}_0": "上城区", f"vv{region_col}_0": "330102", f"vk{region_col}_1": "城东片区",
                     f"vv{region_col}_1": "999999", f"vk{region_col}_2": "西湖区", f"vv{region_col}_2": ""})
        # a code that names no division: refused on saving, in Chinese, nothing saved
        refused = self.client.post(MAP, form)
        assert refused.status_code == 200 and "999999" in refused.content.decode()
        assert "不存在" in refused.content.decode() and not MappingProfile.objects.filter(code="qu-qiye").exists()
        form[f"vv{region_col}_1"] = "330102"
        saved = self.client.post(MAP, form)
        assert saved.status_code == 302, saved.content.decode()[:3000]
        profile = MappingProfile.objects.get(code="qu-qiye")
        assert profile.config["values"]["region_code"] == {"上城区": "330102", "城东片区": "330102"}
        batch = run_import(sample, "e.csv", kind="enterprises", profile="qu-qiye", user=self.user)
        # 西湖区 stays unmapped and outside the uploader's district: that row alone is quarantined
        assert (batch.accepted_new, batch.quarantined) == (2, 1), batch.report
        assert batch.report["reasons"] == {"region_invalid:region_code": 1}
