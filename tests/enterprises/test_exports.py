"""The one export path (issue 12 item 1), on the list with a sensitive column: the enterprise archive.

HTML list export (button → confirmation → file), the API (/api/core/exports/ → job → download), approval of
sensitive fields by a second person, formula neutralisation, jobs for large exports, audit entries."""

import csv
import io

import openpyxl
from django.urls import reverse

from foodrisk.core.models import AuditEntry, ExportRequest, Job, Parameter, User
from foodrisk.core.services import exports, jobs
from foodrisk.core.testing import ScopedTestCase, export_list, grant
from foodrisk.enterprises.testing import make_enterprise

LIST = "enterprises:enterprise_list"
EXPORTER = ("enterprises.view_enterprise", "core.export_data")


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


class ExportPathTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.mine = make_enterprise(self.region_a, name="上城放心面馆", legal_representative="张三丰")
        self.theirs = make_enterprise(self.region_b, name="西湖别家面馆", legal_representative="李四光")
        self.chief = grant(User.objects.create_user("chief", organisation=self.org_a), *EXPORTER,
                           "core.approve_exportrequest", "core.view_exportrequest")

    def url(self):
        return reverse(LIST)

    # --- who may export ------------------------------------------------------------------------------
    def test_allowed_in_scope_masked_and_audited(self):
        self.grant(*EXPORTER)
        response = export_list(self.client, self.url())
        self.assertEqual(response.status_code, 200)
        rows = csv_rows(response)
        flat = [v for row in rows for v in row]
        self.assertIn("上城放心面馆", flat)
        self.assertNotIn("西湖别家面馆", flat)  # other region
        self.assertIn("张**", flat)
        self.assertNotIn("张三丰", flat)
        entry = AuditEntry.objects.get(action="export")
        self.assertEqual(entry.details["source"], LIST)
        self.assertEqual(entry.details["rows"], 1)
        self.assertFalse(entry.details["include_sensitive"])
        req = ExportRequest.objects.get()
        self.assertEqual((req.status, req.requested_by, req.rows), ("approved", self.user, 1))

    def test_without_export_permission_refused(self):
        self.grant("enterprises.view_enterprise")
        self.assertEqual(self.client.get(reverse("core:export_new") + f"?source={LIST}").status_code, 403)
        self.assertEqual(export_list(self.client, self.url()).status_code, 403)
        self.assertFalse(ExportRequest.objects.exists())
        self.assertNotContains(self.client.get(self.url()), "core/exports/new")  # no export button either

    def test_export_permission_without_view_permission_refused(self):
        self.grant("core.export_data")
        response = self.client.post(reverse("core:export_new") + f"?source={LIST}&format=csv", {"confirm": "on"})
        self.assertEqual(response.status_code, 403)

    def test_filter_cannot_reach_another_region(self):
        self.grant(*EXPORTER)
        response = export_list(self.client, self.url() + f"?region={self.region_b.pk}")
        self.assertNotIn("西湖别家面馆", response.content.decode("utf-8-sig"))

    # --- filters the list refuses: refused, never the whole scope ----------------------------------------
    def test_invalid_filter_value_exports_nothing_and_says_why(self):
        self.grant(*EXPORTER)
        response = export_list(self.client, self.url() + "?current_grade=Z")
        self.assertRedirects(response, self.url() + "?current_grade=Z", fetch_redirect_response=False)
        self.assertContains(self.client.get(response["Location"]), "等级：")  # the filter's label and the error
        self.assertFalse(ExportRequest.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action="export").exists())

    def test_unknown_filter_exports_nothing(self):
        self.grant(*EXPORTER)
        response = self.client.post(reverse("core:export_new") + f"?source={LIST}&format=csv&grade=A",
                                    {"confirm": "on"}, follow=True)
        self.assertContains(response, "此列表没有筛选条件 grade")
        self.assertFalse(ExportRequest.objects.exists())

    def test_valid_filter_exports_the_filtered_set(self):
        make_enterprise(self.region_a, name="上城重点面馆", key_supervision=True)
        self.grant(*EXPORTER)
        flat = [v for row in csv_rows(export_list(self.client, self.url() + "?key_supervision=true")) for v in row]
        self.assertIn("上城重点面馆", flat)
        self.assertNotIn("上城放心面馆", flat)

    def test_unknown_list_or_format_is_not_found(self):
        self.grant(*EXPORTER)
        self.assertEqual(self.client.get(reverse("core:export_new") + "?source=core:home").status_code, 404)
        self.assertEqual(self.client.get(reverse("core:export_new") + f"?source={LIST}&format=exe").status_code,
                         404)

    def test_confirmation_is_required(self):
        self.grant(*EXPORTER)
        response = self.client.post(reverse("core:export_new") + f"?source={LIST}&format=csv", {})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "勾选确认后方可导出")
        self.assertFalse(ExportRequest.objects.exists())

    # --- sensitive fields need a second person ---------------------------------------------------------
    def test_sensitive_export_after_a_second_persons_approval(self):
        self.grant(*EXPORTER, "enterprises.unmask_enterprise")
        response = export_list(self.client, self.url(), include_sensitive="on", reason="年度报送")
        req = ExportRequest.objects.get()
        self.assertRedirects(response, req.get_absolute_url())
        self.assertEqual((req.status, req.job), ("pending", None))
        with self.assertRaises(exports.PermissionDenied):
            exports.approve_export(req, user=self.user)  # nobody approves their own request
        self.client.post(reverse("core:exportrequest_action", args=[req.pk, "approve"]))
        req.refresh_from_db()
        self.assertEqual(req.status, "pending")
        req = exports.approve_export(req, user=self.chief, note="同意")
        self.assertEqual(jobs.execute(req.job.pk), "succeeded")
        job = Job.objects.get(pk=req.job.pk)
        self.assertEqual(job.created_by, self.user)
        download = self.client.get(reverse("core:job_download", args=[job.pk]))
        self.assertEqual(download.status_code, 200)
        rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        flat = [v for row in rows for v in row]
        self.assertIn("张三丰", flat)
        self.assertNotIn("李四光", flat)  # the requester's scope still holds
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        self.assertLessEqual({"core.export.request", "core.export.approve", "export", "download"}, actions)
        # the approver sees the request, but the file goes to the requester only
        self.client.force_login(self.chief)
        self.assertEqual(self.client.get(req.get_absolute_url()).status_code, 200)
        self.assertIn(self.client.get(reverse("core:job_download", args=[job.pk])).status_code, (403, 404))

    def test_the_request_page_names_the_list_and_its_filters_in_words(self):
        self.grant(*EXPORTER, "enterprises.unmask_enterprise")
        export_list(self.client, self.url() + "?business_form=catering&current_grade=D", include_sensitive="on",
                    reason="年度报送")
        req = ExportRequest.objects.get()
        assert req.filters == {"business_form": "catering", "current_grade": "D"}
        fields = dict(self.client.get(req.get_absolute_url()).context["fields"])
        shown = " ".join(str(v) for v in fields.values())
        assert LIST not in shown and "{" not in shown, shown
        assert "主体业态：餐饮服务" in shown and "风险等级：D" in shown, shown

    def test_sensitive_request_rules(self):
        self.grant(*EXPORTER)  # may export, may not see the field in clear
        page = self.client.get(reverse("core:export_new") + f"?source={LIST}&format=csv")
        self.assertNotIn("include_sensitive", page.context["form"].fields)
        with self.assertRaises(exports.PermissionDenied):
            exports.request_export(LIST, user=self.user, include_sensitive=True, reason="x")
        self.grant("enterprises.unmask_enterprise")
        with self.assertRaises(exports.ValidationError):
            exports.request_export(LIST, user=self.user, include_sensitive=True)  # no purpose
        req = exports.request_export(LIST, user=self.user, include_sensitive=True, reason="x")
        with self.assertRaises(exports.ValidationError):
            exports.reject_export(req, user=self.chief, note="")
        exports.reject_export(req, user=self.chief, note="用途不明")
        with self.assertRaises(exports.ValidationError):
            exports.approve_export(req, user=self.chief)
        forged = ExportRequest.objects.create(source=LIST, include_sensitive=True, requested_by=self.user,
                                              status="approved")
        with self.assertRaises(exports.PermissionDenied):
            exports.produce(forged)  # approved without an approver: refused
        job = jobs.start(exports.JOB_KIND, user=self.user, params={"request": forged.pk})
        self.assertEqual(jobs.execute(job.pk), "failed")

    def test_an_approver_of_another_region_may_not_decide(self):
        self.grant(*EXPORTER, "enterprises.unmask_enterprise")
        req = exports.request_export(LIST, user=self.user, include_sensitive=True, reason="x")
        west = grant(User.objects.create_user("west", organisation=self.org_b), *EXPORTER,
                     "core.approve_exportrequest", "core.view_exportrequest")
        with self.assertRaises(exports.PermissionDenied):
            exports.approve_export(req, user=west)

    # --- formulas ---------------------------------------------------------------------------------------
    def test_formula_cells_are_neutralised(self):
        make_enterprise(self.region_a, name='=HYPERLINK("http://evil.example","点我")',
                        legal_representative="=cmd|' /C calc'!A0")
        make_enterprise(self.region_a, name="@SUM(1+1)")
        self.grant(*EXPORTER)
        flat = [v for row in csv_rows(export_list(self.client, self.url())) for v in row]
        self.assertIn('\'=HYPERLINK("http://evil.example","点我")', flat)
        self.assertIn("'@SUM(1+1)", flat)
        self.assertFalse(any(v.startswith(("=", "@")) for v in flat))
        workbook = export_list(self.client, self.url(), "xlsx")
        ws = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
        cells = [c for row in ws.iter_rows() for c in row]
        names = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
        self.assertTrue(names)
        self.assertTrue(all(c.data_type == "s" for c in names))  # a string, never a formula

    # --- large exports: a job; its page and file for whoever started it ---------------------------------
    def test_large_export_runs_as_a_job_visible_to_its_starter(self):
        Parameter.objects.update_or_create(key="export_job_threshold", defaults={
            "name": "导出转为后台任务的行数", "category": "security", "value_type": "int", "value": 0})
        self.grant(*EXPORTER)  # no core.view_job
        response = export_list(self.client, self.url(), "xlsx")
        req = ExportRequest.objects.get()
        self.assertRedirects(response, req.job.get_absolute_url(), fetch_redirect_response=False)
        jobs.execute(req.job.pk)
        page = self.client.get(req.job.get_absolute_url())
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, reverse("core:job_download", args=[req.job.pk]))
        self.assertNotContains(page, "/media/")
        download = self.client.get(reverse("core:job_download", args=[req.job.pk]))
        ws = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
        self.assertIn("上城放心面馆", [c.value for row in ws.iter_rows() for c in row])
        # someone else: no page, no file
        self.client.force_login(self.chief)
        self.assertEqual(self.client.get(req.job.get_absolute_url()).status_code, 404)
        self.assertEqual(self.client.get(reverse("core:job_download", args=[req.job.pk])).status_code, 404)


class ExportAPITests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        make_enterprise(self.region_a, name="上城放心面馆", legal_representative="张三丰")
        make_enterprise(self.region_b, name="西湖别家面馆", legal_representative="李四光")
        self.chief = grant(User.objects.create_user("chief", organisation=self.org_a), *EXPORTER,
                           "core.approve_exportrequest", "core.view_exportrequest")

    def post(self, **data):
        return self.client.post("/api/core/exports/", {"source": LIST, "format": "csv", "confirmed": True, **data},
                                content_type="application/json")

    def test_an_export_needs_the_second_confirmation(self):
        self.grant(*EXPORTER)
        for confirmed in (False, "no", None):
            response = self.post(confirmed=confirmed)
            self.assertEqual(response.status_code, 400)
            self.assertIn("高风险操作", response.json()["confirmed"][0])
        response = self.client.post("/api/core/exports/", {"source": LIST, "format": "csv"},
                                    content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn('"confirmed": true', response.json()["confirmed"][0])
        self.assertFalse(ExportRequest.objects.exists())

    def download(self, job_id):
        response = self.client.get(f"/api/core/jobs/{job_id}/download/")
        self.assertEqual(response.status_code, 200)
        return [v for row in csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
                for v in row]

    def test_denied_without_export_permission(self):
        self.grant("enterprises.view_enterprise")
        self.assertEqual(self.post().status_code, 403)
        self.assertFalse(ExportRequest.objects.exists())

    def test_plain_export_masked_in_scope_through_a_job(self):
        self.grant(*EXPORTER)
        response = self.post()
        self.assertEqual(response.status_code, 201, response.content)
        job_id = response.json()["job"]
        self.assertEqual(jobs.execute(job_id), "succeeded")
        flat = self.download(job_id)
        self.assertIn("上城放心面馆", flat)
        self.assertNotIn("西湖别家面馆", flat)
        self.assertIn("张**", flat)
        self.assertNotIn("张三丰", flat)
        self.assertTrue(AuditEntry.objects.filter(action="export").exists())

    def test_sensitive_needs_another_approver(self):
        self.grant(*EXPORTER, "enterprises.unmask_enterprise", "core.approve_exportrequest")
        self.assertEqual(self.post(include_sensitive=True).status_code, 400)  # no purpose
        response = self.post(include_sensitive=True, reason="报送")
        self.assertEqual(response.status_code, 201)
        pk = response.json()["id"]
        self.assertIsNone(response.json()["job"])
        self.assertEqual(self.client.post(f"/api/core/exports/{pk}/approve/").status_code, 403)  # own request
        self.client.force_login(self.chief)
        self.assertEqual(self.client.post(f"/api/core/exports/{pk}/approve/").status_code, 200)
        self.client.force_login(self.user)
        job_id = ExportRequest.objects.get(pk=pk).job_id
        jobs.execute(job_id)
        flat = self.download(job_id)
        self.assertIn("张三丰", flat)
        self.assertNotIn("李四光", flat)

    def test_filters_the_list_refuses_are_a_clear_400(self):
        self.grant(*EXPORTER)
        for filters, text in (({"current_grade": "Z"}, "等级："), ({"region": "x"}, "区划"),
                              ({"grade": "A"}, "此列表没有筛选条件 grade")):
            response = self.post(filters=filters)
            self.assertEqual(response.status_code, 400, filters)
            self.assertIn(text, " ".join(response.json()["filters"]))
        self.assertFalse(ExportRequest.objects.exists())
        response = self.post(filters={"q": "放心"})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(ExportRequest.objects.get().rows, 1)

    def test_unknown_source_is_a_clear_400(self):
        self.grant(*EXPORTER)
        response = self.post(source="nothing:here")
        self.assertEqual(response.status_code, 400)
        self.assertIn("source", response.json())


class ExportOrderTests(ScopedTestCase):
    def test_the_pages_sort_orders_the_file(self):
        make_enterprise(self.region_a, name="甲面馆")
        make_enterprise(self.region_a, name="乙面馆")
        self.grant(*EXPORTER)
        names = lambda sort: [r[1] for r in csv_rows(export_list(self.client, reverse(LIST) + f"?sort={sort}"))[1:]]  # noqa: E731
        self.assertEqual(names("name"), sorted(names("name")))
        self.assertEqual(names("-name"), list(reversed(names("name"))))
