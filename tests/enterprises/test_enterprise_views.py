import csv
import io

from django.urls import reverse
from django.utils import translation

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import APITestCases, ScopedTestCase, ViewTestCases, export_list
from foodrisk.enterprises.models import Enterprise
from foodrisk.enterprises.testing import make_enterprise, make_licence, make_uscc
from foodrisk.records.models import RECORD_KINDS
from foodrisk.records.testing import make_record

RECORD_VIEW_PERMS = [f"records.view_{m._meta.model_name}" for m in RECORD_KINDS.values()]


class EnterpriseMixin:
    model = Enterprise
    api_base = "/api/enterprises/enterprises/"

    def make_object(self, region):
        return make_enterprise(region)

    def form_data(self, region):
        return {"uscc": make_uscc(region.code), "name": "杭州新开面馆", "former_names": "老面馆；旧面馆",
                "legal_representative": "李四", "region": region.pk, "business_form": "catering",
                "food_categories": "热食类", "scale": "small", "status": "active", "static_tier": "2"}

    def api_data(self, region):
        return {"uscc": make_uscc(region.code), "name": "接口新建食品店", "region": region.pk,
                "business_form": "sales", "former_names": ["旧名店"]}


class EnterpriseViewTests(EnterpriseMixin, ViewTestCases.All):
    pass


class EnterpriseAPITests(EnterpriseMixin, APITestCases.All):
    pass


class EnterpriseFormTests(ScopedTestCase):
    def test_create_sets_initials_and_lists(self):
        self.grant("enterprises.add_enterprise", "enterprises.view_enterprise", "core.view_region")
        data = EnterpriseMixin.form_data(self, self.region_a)
        response = self.client.post(reverse("enterprises:enterprise_add"), data)
        self.assertEqual(response.status_code, 302)
        e = Enterprise.objects.get(uscc=data["uscc"])
        self.assertEqual(e.name_initials, "hzxkmg")
        self.assertEqual(e.former_names, ["老面馆", "旧面馆"])
        self.assertEqual(e.legal_representative, "李四")
        self.assertEqual(response["Location"], e.get_absolute_url())

    def test_invalid_uscc_is_rejected(self):
        self.grant("enterprises.add_enterprise", "enterprises.view_enterprise", "core.view_region")
        data = EnterpriseMixin.form_data(self, self.region_a)
        data["uscc"] = data["uscc"][:-1] + ("0" if data["uscc"][-1] != "0" else "1")
        response = self.client.post(reverse("enterprises:enterprise_add"), data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("uscc", response.context["form"].errors)
        self.assertFalse(Enterprise.objects.exists())

    def test_rename_keeps_former_name(self):
        e = make_enterprise(self.region_a, name="旧名称食品店")
        self.grant("enterprises.change_enterprise", "enterprises.view_enterprise", "core.view_region")
        data = EnterpriseMixin.form_data(self, self.region_a)
        data.update(uscc=e.uscc, name="新名称食品店", former_names="")
        self.assertEqual(self.client.post(reverse("enterprises:enterprise_edit", args=[e.pk]), data).status_code, 302)
        e.refresh_from_db()
        self.assertEqual(e.name, "新名称食品店")
        self.assertIn("旧名称食品店", e.former_names)

    def test_edit_without_sensitive_permission_keeps_and_hides_legal_representative(self):
        e = make_enterprise(self.region_a, legal_representative="王五六")
        self.grant("enterprises.change_enterprise", "enterprises.view_enterprise", "core.view_region")
        page = self.client.get(reverse("enterprises:enterprise_edit", args=[e.pk]))
        self.assertNotContains(page, "王五六")
        data = EnterpriseMixin.form_data(self, self.region_a)
        data.update(uscc=e.uscc, legal_representative="王**")
        self.assertEqual(self.client.post(reverse("enterprises:enterprise_edit", args=[e.pk]), data).status_code, 302)
        e.refresh_from_db()
        self.assertEqual(e.legal_representative, "王五六")


class ProfileTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a, name="上城老王面馆", former_names=["老王小吃"],
                                          risk_labels=["冷链"])
        self.grant("enterprises.view_enterprise", "enterprises.view_licence", *RECORD_VIEW_PERMS)

    def test_profile_is_audited_and_merges_every_record_kind(self):
        import datetime as dt

        records = {}
        for i, kind in enumerate(RECORD_KINDS):
            field = RECORD_KINDS[kind].date_field
            records[kind] = make_record(kind, self.enterprise, **{field: dt.date(2025, 1, 1 + i)})
        licence = make_licence(self.enterprise)
        response = self.client.get(self.enterprise.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        entry = AuditEntry.objects.filter(action="view").get()
        self.assertEqual((entry.object_type, entry.object_id), ("enterprises.enterprise", str(self.enterprise.pk)))
        self.assertEqual(entry.region_code, self.region_a.code)
        body = response.content.decode()
        self.assertContains(response, licence.licence_no)
        self.assertContains(response, "老王小吃")
        self.assertContains(response, "冷链")
        timeline = next(s for s in response.context["profile_sections"] if s["template"].endswith("timeline.html"))
        self.assertEqual({e.kind for e in timeline["entries"]}, set(RECORD_KINDS))
        dates = [e.date for e in timeline["entries"]]
        self.assertEqual(dates, sorted(dates, reverse=True))
        for kind, record in records.items():
            self.assertIn(record.get_absolute_url(), body, kind)
        # newest (list entry, 2025-01-06) above oldest (inspection, 2025-01-01)
        self.assertLess(body.index(records["list_entries"].get_absolute_url()),
                        body.index(records["inspections"].get_absolute_url()))

    def test_each_view_is_a_new_audit_entry(self):
        self.client.get(self.enterprise.get_absolute_url())
        self.client.get(self.enterprise.get_absolute_url())
        self.assertEqual(AuditEntry.objects.filter(action="view", object_id=str(self.enterprise.pk)).count(), 2)

    def test_timeline_is_limited_with_show_all(self):
        for _ in range(25):
            make_record("complaints", self.enterprise)
        response = self.client.get(self.enterprise.get_absolute_url())
        timeline = response.context["profile_sections"][0]
        self.assertEqual((timeline["shown"], timeline["total"]), (20, 25))
        self.assertContains(response, "?timeline=all")
        response = self.client.get(self.enterprise.get_absolute_url() + "?timeline=all")
        self.assertEqual(len(response.context["profile_sections"][0]["entries"]), 25)

    def test_timeline_leaves_out_kinds_without_permission(self):
        self.user.user_permissions.filter(codename="view_penalty").delete()
        self.client.force_login(self.user)
        penalty = make_record("penalties", self.enterprise)
        inspection = make_record("inspections", self.enterprise)
        response = self.client.get(self.enterprise.get_absolute_url())
        self.assertNotContains(response, penalty.get_absolute_url())
        self.assertContains(response, inspection.get_absolute_url())

    def test_not_graded_without_scores(self):
        response = self.client.get(self.enterprise.get_absolute_url())
        with translation.override("zh-hans"):
            self.assertContains(response, translation.gettext("Not yet graded"))
        self.assertEqual(response.context["scores"], [])

    def test_grade_badge(self):
        Enterprise.objects.filter(pk=self.enterprise.pk).update(current_grade="C", current_score=71.5)
        response = self.client.get(self.enterprise.get_absolute_url())
        self.assertContains(response, '<span class="grade grade-C"')

    def test_other_region_profile_is_not_found_and_not_audited_as_view(self):
        theirs = make_enterprise(self.region_b)
        self.assertEqual(self.client.get(theirs.get_absolute_url()).status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action="view").exists())


class MaskingTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a, legal_representative="张三丰")

    def test_page_api_and_export_mask_without_permission(self):
        self.grant("enterprises.view_enterprise", "core.export_data")
        page = self.client.get(self.enterprise.get_absolute_url())
        self.assertContains(page, "张**")
        self.assertNotContains(page, "张三丰")
        api = self.client.get(f"/api/enterprises/enterprises/{self.enterprise.pk}/").json()
        self.assertEqual(api["legal_representative"], "张**")
        listing = self.client.get("/api/enterprises/enterprises/").json()["results"]
        self.assertEqual(listing[0]["legal_representative"], "张**")
        export = export_list(self.client, reverse("enterprises:enterprise_list")).content.decode("utf-8-sig")
        self.assertIn("张**", export)
        self.assertNotIn("张三丰", export)
        self.assertNotContains(self.client.get(reverse("enterprises:enterprise_list")), "张三丰")

    def test_the_permission_alone_does_not_unmask(self):
        self.grant("enterprises.view_enterprise", "enterprises.unmask_enterprise", "core.export_data",
                   "enterprises.change_enterprise")
        page = self.client.get(self.enterprise.get_absolute_url())
        self.assertNotContains(page, "张三丰")
        self.assertContains(page, reverse("enterprises:enterprise_reveal", args=[self.enterprise.pk]))
        self.assertNotContains(self.client.get(reverse("enterprises:enterprise_list")), "张三丰")
        self.assertNotContains(self.client.get(reverse("enterprises:enterprise_edit", args=[self.enterprise.pk])),
                               "张三丰")
        api = self.client.get(f"/api/enterprises/enterprises/{self.enterprise.pk}/").json()
        self.assertEqual(api["legal_representative"], "张**")
        # an export stays masked without a second person's approval, even for who may reveal the field
        rows = list(csv.reader(io.StringIO(
            export_list(self.client, reverse("enterprises:enterprise_list")).content.decode("utf-8-sig"))))
        self.assertIn("张**", rows[1])
        self.assertNotIn("张三丰", rows[1])

    def test_reveal_needs_a_reason_and_is_audited(self):
        self.grant("enterprises.view_enterprise", "enterprises.unmask_enterprise")
        url = reverse("enterprises:enterprise_reveal", args=[self.enterprise.pk])
        refused = self.client.post(url, {"field": "legal_representative", "reason": "  "})
        self.assertNotContains(refused, "张三丰")
        self.assertContains(refused, "请说明查看明文的理由")
        self.assertFalse(AuditEntry.objects.filter(action="enterprises.enterprise.reveal").exists())
        shown = self.client.post(url, {"field": "legal_representative", "reason": "核实投诉人反映情况"},
                                 headers={"HX-Request": "true"})
        self.assertContains(shown, "张三丰")
        self.assertNotContains(shown, "<html")  # the cell only, swapped in by htmx
        entry = AuditEntry.objects.get(action="enterprises.enterprise.reveal")
        self.assertEqual(entry.details, {"field": "legal_representative", "reason": "核实投诉人反映情况"})
        self.assertEqual(entry.object_id, str(self.enterprise.pk))
        # revealing one field leaves every other page masked
        self.assertNotContains(self.client.get(self.enterprise.get_absolute_url()), "张三丰")
        self.assertNotContains(self.client.get(reverse("enterprises:enterprise_list")), "张三丰")

    def test_reveal_without_permission_or_out_of_scope_is_refused(self):
        self.grant("enterprises.view_enterprise")
        url = reverse("enterprises:enterprise_reveal", args=[self.enterprise.pk])
        self.assertEqual(self.client.post(url, {"field": "legal_representative", "reason": "x"}).status_code, 403)
        self.grant("enterprises.unmask_enterprise")
        other = make_enterprise(self.region_b, legal_representative="李四光")
        response = self.client.post(reverse("enterprises:enterprise_reveal", args=[other.pk]),
                                    {"field": "legal_representative", "reason": "x"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action="enterprises.enterprise.reveal").exists())

    def test_reveal_over_the_api(self):
        self.grant("enterprises.view_enterprise", "enterprises.unmask_enterprise")
        url = f"/api/enterprises/enterprises/{self.enterprise.pk}/reveal/"
        self.assertEqual(self.client.post(url, {"field": "legal_representative"},
                                          content_type="application/json").status_code, 400)
        response = self.client.post(url, {"field": "legal_representative", "reason": "核实"},
                                    content_type="application/json")
        self.assertEqual(response.json(), {"field": "legal_representative", "value": "张三丰"})
        self.assertTrue(AuditEntry.objects.filter(action="enterprises.enterprise.reveal").exists())

    def test_edit_form_keeps_the_stored_value_when_the_masked_one_comes_back(self):
        self.grant("enterprises.view_enterprise", "enterprises.unmask_enterprise", "enterprises.change_enterprise")
        url = reverse("enterprises:enterprise_edit", args=[self.enterprise.pk])
        form = self.client.get(url).context["form"]
        data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
        data.update(former_names="", food_categories="", address="新地址 2 号", region=self.region_a.pk,
                    established_on="")
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 302, getattr(response, "context", {}) and response.context["form"].errors)
        self.enterprise.refresh_from_db()
        self.assertEqual((self.enterprise.address, self.enterprise.legal_representative), ("新地址 2 号", "张三丰"))

    def test_api_update_with_the_masked_value_keeps_the_stored_one(self):
        self.grant("enterprises.view_enterprise", "enterprises.change_enterprise")
        data = self.client.get(f"/api/enterprises/enterprises/{self.enterprise.pk}/").json()
        data["address"] = "新地址 1 号"
        response = self.client.put(f"/api/enterprises/enterprises/{self.enterprise.pk}/", data,
                                   content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.enterprise.refresh_from_db()
        self.assertEqual((self.enterprise.address, self.enterprise.legal_representative), ("新地址 1 号", "张三丰"))

    def test_stored_encrypted(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT legal_representative FROM enterprises_enterprise WHERE id = %s",
                           [self.enterprise.pk])
            raw = cursor.fetchone()[0]
        self.assertNotIn("张三丰", raw)


class SearchTests(ScopedTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.target = make_enterprise(cls.region_a, name="杭州老王面馆", former_names=["上城区小王面店"])
        cls.licence = make_licence(cls.target, licence_no="JY13301020012345")
        cls.other = make_enterprise(cls.region_a, name="西子糕点店")
        cls.far = make_enterprise(cls.region_b, name="杭州老王面馆西湖店")

    def setUp(self):
        super().setUp()
        self.grant("enterprises.view_enterprise")

    def found(self, q):
        response = self.client.get(reverse("enterprises:enterprise_list"), {"q": q})
        self.assertEqual(response.status_code, 200)
        return {row.record.pk for row in response.context["table"].rows}

    def api_found(self, q):
        response = self.client.get("/api/enterprises/enterprises/", {"q": q})
        self.assertEqual(response.status_code, 200)
        return {row["id"] for row in response.json()["results"]}

    def test_search_by_former_name(self):
        self.assertEqual(self.found("小王面店"), {self.target.pk})
        self.assertEqual(self.api_found("小王面店"), {self.target.pk})

    def test_search_by_pinyin_initials(self):
        self.assertEqual(self.found("hzlwmg"), {self.target.pk})
        self.assertEqual(self.found("HZLW"), {self.target.pk})
        self.assertEqual(self.api_found("xzgdd"), {self.other.pk})

    def test_search_by_licence_number(self):
        self.assertEqual(self.found("JY13301020012345"), {self.target.pk})
        self.assertEqual(self.api_found("jy1330102001"), {self.target.pk})

    def test_search_by_uscc(self):
        self.assertEqual(self.found(self.target.uscc), {self.target.pk})
        self.assertEqual(self.api_found(self.target.uscc.lower()), {self.target.pk})

    def test_search_stays_in_scope(self):
        self.assertNotIn(self.far.pk, self.found("老王面馆"))
        self.assertNotIn(self.far.pk, self.api_found(self.far.uscc))

    def test_filters(self):
        Enterprise.objects.filter(pk=self.other.pk).update(current_grade="D", key_supervision=True, static_tier=4)
        response = self.client.get(reverse("enterprises:enterprise_list"),
                                   {"current_grade": "D", "key_supervision": "true", "static_tier": "4"})
        self.assertEqual({row.record.pk for row in response.context["table"].rows}, {self.other.pk})

    def test_region_filter_takes_the_subtree(self):
        self.user.national_scope = True
        self.user.save()
        city = self.client.get(reverse("enterprises:enterprise_list"), {"region": "330100"})
        self.assertEqual({r.record.pk for r in city.context["table"].rows},
                         {self.target.pk, self.other.pk, self.far.pk})
        district = self.client.get(reverse("enterprises:enterprise_list"), {"region": "330106"})
        self.assertEqual({r.record.pk for r in district.context["table"].rows}, {self.far.pk})


class AutocompleteTests(ScopedTestCase):
    url = "/enterprises/autocomplete/"

    def test_requires_permission(self):
        self.assertEqual(self.client.get(self.url, {"q": "面馆"}).status_code, 403)

    def test_json_in_scope(self):
        mine = make_enterprise(self.region_a, name="清波门面馆")
        theirs = make_enterprise(self.region_b, name="灵隐面馆")
        self.grant("enterprises.view_enterprise")
        results = self.client.get(self.url, {"q": "面馆"}).json()["results"]
        self.assertEqual([r["id"] for r in results], [mine.pk])
        self.assertEqual(results[0]["uscc"], mine.uscc)
        self.assertEqual(self.client.get(self.url, {"q": theirs.uscc}).json()["results"], [])
        self.assertEqual(self.client.get(self.url, {"q": "lymg"}).json()["results"], [])
        self.assertEqual(self.client.get(self.url, {"q": "qbmmg"}).json()["results"][0]["id"], mine.pk)

    def test_htmx_gets_clickable_options(self):
        mine = make_enterprise(self.region_a, name="清波门面馆")
        make_enterprise(self.region_b, name="灵隐面馆")
        self.grant("enterprises.view_enterprise")
        response = self.client.get(self.url, {"q": "面馆"}, headers={"HX-Request": "true"})
        self.assertContains(response, f'data-id="{mine.pk}"')
        self.assertContains(response, "js-picker-option", count=1)
        self.assertNotContains(response, "灵隐面馆")


class LicenceTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a)
        self.grant("enterprises.add_licence", "enterprises.view_licence", "enterprises.view_enterprise")

    def data(self, **kw):
        data = {"enterprise": self.enterprise.pk, "licence_no": "JY13301020099999", "kind": "JY",
                "issued_on": "2024-05-01", "expires_on": "2029-04-30", "status": "valid"}
        data.update(kw)
        return data

    def test_create_is_audited(self):
        response = self.client.post(reverse("enterprises:licence_add"), self.data())
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        self.assertTrue(self.enterprise.licences.filter(licence_no="JY13301020099999").exists())
        self.assertIn("enterprises.licence.create", self.audit_actions())

    def test_expiry_before_issue_is_rejected(self):
        response = self.client.post(reverse("enterprises:licence_add"), self.data(expires_on="2023-01-01"))
        self.assertEqual(response.status_code, 200)
        self.assertIn("expires_on", response.context["form"].errors)
        self.assertFalse(self.enterprise.licences.exists())

    def test_bad_number_is_rejected(self):
        response = self.client.post(reverse("enterprises:licence_add"), self.data(licence_no="JY123"))
        self.assertIn("licence_no", response.context["form"].errors)

    def test_pages_render_in_scope(self):
        mine, theirs = make_licence(self.enterprise), make_licence(make_enterprise(self.region_b))
        self.grant("enterprises.change_licence")
        listing = self.client.get(reverse("enterprises:licence_list"))
        self.assertEqual({r.record.pk for r in listing.context["table"].rows}, {mine.pk})
        self.assertEqual(self.client.get(mine.get_absolute_url()).status_code, 200)
        self.assertEqual(self.client.get(theirs.get_absolute_url()).status_code, 404)
        edit = self.client.get(reverse("enterprises:licence_edit", args=[mine.pk]))
        self.assertContains(edit, "data-picker")
        self.assertContains(edit, 'type="date" name="issued_on" value="2024-01-01"')  # ISO, whatever the locale
        api = self.client.get("/api/enterprises/licences/").json()["results"]
        self.assertEqual([row["id"] for row in api], [mine.pk])

    def test_other_region_enterprise_cannot_be_chosen(self):
        theirs = make_enterprise(self.region_b)
        response = self.client.post(reverse("enterprises:licence_add"), self.data(enterprise=theirs.pk))
        self.assertIn("enterprise", response.context["form"].errors)
        self.assertFalse(theirs.licences.exists())


class MenuTests(ScopedTestCase):
    def test_archive_menu_follows_permissions(self):
        from foodrisk.core.navigation import menu_for

        self.assertNotIn("archive", [s["key"] for s in menu_for(self.user)])
        self.grant("enterprises.view_enterprise")
        archive = next(s for s in menu_for(self.user) if s["key"] == "archive")
        self.assertEqual([i["url_name"] for i in archive["items"]], ["enterprises:enterprise_list"])
