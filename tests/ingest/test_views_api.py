import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse

from foodrisk.core.testing import APITestCases, ScopedTestCase, ViewTestCases, export_list
from foodrisk.ingest.models import Batch, MatchCandidate, QuarantinedRow, Source

from .conftest import ENT_HEADERS, csv_bytes, ent_row

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": ["default", "scoring", "ingest"]}}


def make_batch(region, name=None):
    source, _ = Source.objects.get_or_create(name="测试来源")
    batch = Batch(source=source, kind="inspections", region=region, file_name=name or f"file-{region.code}.csv",
                  status="succeeded", rows_read=1, quarantined=1)
    batch.file.save("x.csv", ContentFile(b"a,b\n"), save=False)
    batch.save()
    return batch


class _ExportByFileName:
    def test_export_stays_in_scope_and_is_audited(self):
        mine, theirs = self.make_object(self.region_a), self.make_object(self.region_b)
        self.grant(self.perm("view"), "core.export_data")
        response = export_list(self.client, self.url("list"))
        assert response.status_code == 200
        body = response.content.decode("utf-8-sig")
        assert str(self.marker(mine)) in body and str(self.marker(theirs)) not in body
        assert "export" in self.audit_actions()


class BatchViews(_ExportByFileName, ViewTestCases.List, ViewTestCases.Detail):
    model = Batch

    def make_object(self, region):
        return make_batch(region)

    def marker(self, obj):
        return obj.file_name


class QuarantinedRowViews(ViewTestCases.List, ViewTestCases.Detail):
    model = QuarantinedRow

    def make_object(self, region):
        batch = make_batch(region)
        return QuarantinedRow.objects.create(batch=batch, row_no=7, raw_data={"检查编号": f"JC-{region.code}"},
                                             reasons=[f"date_invalid:inspected_on-{region.code}"],
                                             reason_codes="date_invalid:inspected_on")

    def test_export_stays_in_scope_and_is_audited(self):
        mine, theirs = self.make_object(self.region_a), self.make_object(self.region_b)
        self.grant(self.perm("view"), "core.export_data")
        response = export_list(self.client, self.url("list"))
        body = response.content.decode("utf-8-sig")
        assert mine.reason_labels[0] in body and theirs.reason_labels[0] not in body

    def test_xlsx_download_has_reasons_and_stays_in_scope(self):
        import io

        import openpyxl

        mine, _theirs = self.make_object(self.region_a), self.make_object(self.region_b)
        self.grant(self.perm("view"), "core.export_data")
        response = export_list(self.client, self.url("list"), "xlsx")
        ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
        values = [[c.value for c in row] for row in ws.iter_rows()]
        assert values[0][:2] == ["隔离编号", "问题原因"]
        assert [v[0] for v in values[1:]] == [mine.pk]


class QuarantinedRowAPI(APITestCases.Read):
    model = QuarantinedRow
    api_base = "/api/ingest/quarantine/"

    def make_object(self, region):
        return QuarantinedRowViews.make_object(self, region)


class IngestPages(ScopedTestCase):
    def test_upload_needs_permission_then_imports_and_reports(self):
        url = reverse("ingest:upload")
        self.assertEqual(self.client.get(url).status_code, 403)
        self.grant("ingest.add_batch", "ingest.view_batch")
        self.assertEqual(self.client.get(url).status_code, 200)
        data = csv_bytes(ENT_HEADERS, [ent_row(1, "上城老王面馆"), ent_row(2, "西湖老李面馆", region="330106")])
        with override_settings(TASKS=IMMEDIATE), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(url, {"new_source": "登记系统", "kind": "auto",
                                              "file": ContentFile(data, name="enterprises.csv")})
        self.assertEqual(response.status_code, 302)
        batch = Batch.objects.get()
        self.assertEqual((batch.status, batch.region_id, batch.accepted_new, batch.quarantined),
                         ("succeeded", "330102", 1, 1))
        page = self.client.get(batch.get_absolute_url())
        self.assertContains(page, "行政区划代码：行政区划无效或不在本辖区")  # the reason in words, not its code
        self.assertNotContains(page, ">region_invalid")
        self.assertContains(page, "data-echarts")
        self.assertEqual(self.client.get(reverse("ingest:quality")).status_code, 200)

    def test_templates_download(self):
        self.grant("ingest.view_batch")
        self.assertContains(self.client.get(reverse("ingest:templates")), "统一社会信用代码")
        response = self.client.get(reverse("ingest:template_download", args=["penalties"]))
        import io

        import openpyxl

        ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
        self.assertEqual(ws.cell(1, 1).value, "处罚决定书文号")

    def test_quarantine_resubmit_and_discard_pages(self):
        self.grant("ingest.view_quarantinedrow", "ingest.change_quarantinedrow")
        data = csv_bytes(ENT_HEADERS, [ent_row(1, "上城老王面馆")[:5] + ["330167"] + ent_row(1, "x")[6:]])
        from foodrisk.ingest.services import batches

        batch = batches.create_batch(user=self.user, source="s", content=data, file_name="e.csv")
        batches.run_batch(batch)
        row = QuarantinedRow.objects.get()
        page = self.client.get(row.get_absolute_url())
        self.assertContains(page, "行政区划代码：行政区划无效或不在本辖区")
        form = page.context["correction_form"]
        self.assertNotContains(page, "张三")  # the legal representative: masked on the page and in the form
        self.assertContains(page, "张*")
        post = {f"c{i}": (form.fields[f"c{i}"].initial if h != "行政区划代码" else "330102")
                for i, h in enumerate(form.headers)}
        self.client.post(reverse("ingest:quarantine_resubmit", args=[row.pk]), post)
        row.refresh_from_db()
        self.assertEqual(row.status, "fixed")
        batch.refresh_from_db()
        self.assertEqual((batch.accepted_new, batch.quarantined), (1, 0))
        from foodrisk.enterprises.models import Enterprise

        self.assertEqual(Enterprise.objects.get().legal_representative, "张三")  # the masked cell kept its value

    def test_other_region_quarantine_is_not_found(self):
        self.grant("ingest.view_quarantinedrow", "ingest.change_quarantinedrow")
        row = QuarantinedRowViews.make_object(self, self.region_b)
        self.assertEqual(self.client.get(row.get_absolute_url()).status_code, 404)
        response = self.client.post(reverse("ingest:quarantine_discard", args=[row.pk]), {"reason": "x"})
        self.assertEqual(response.status_code, 404)

    def test_review_queue_confirm(self):
        from foodrisk.ingest.services import batches

        self.grant("ingest.view_matchcandidate", "ingest.change_matchcandidate")
        batches.run_batch(batches.create_batch(source="s", content=csv_bytes(
            ENT_HEADERS, [ent_row(1, "杭州鑫民餐饮服务有限公司", address="浙江省杭州市上城区江南大道715号")]), file_name="e.csv"))
        ann = csv_bytes(["被抽样单位名称", "被抽样单位地址", "食品名称", "生产日期/批号", "任务来源", "公告号"],
                        [["杭州鑫民餐饮服务公司", "浙江省杭州市上城区江南大道", "米饭", "2025-01-02", "国抽", "2025年第1号"]])
        batch = batches.create_batch(user=self.user, source="公告", content=ann, file_name="a.csv")
        batches.run_batch(batch)
        candidate = MatchCandidate.objects.get()
        self.assertEqual(self.client.get(candidate.get_absolute_url()).status_code, 200)
        self.client.post(reverse("ingest:matchcandidate_confirm", args=[candidate.pk]))
        candidate.refresh_from_db()
        self.assertEqual(candidate.status, "confirmed")
        self.assertIn("ingest.matchcandidate.confirm", self.audit_actions())

    def test_menu_section(self):
        self.grant("ingest.view_batch", "ingest.add_batch")
        from foodrisk.core.navigation import menu_for

        keys = [s["key"] for s in menu_for(self.user)]
        self.assertIn("ingest", keys)


class IngestAPI(ScopedTestCase):
    def test_post_batch_is_accepted_and_scoped(self):
        data = csv_bytes(ENT_HEADERS, [ent_row(1, "上城老王面馆")])
        response = self.client.post("/api/ingest/batches/", {"file": ContentFile(data, name="e.csv"), "source": "api"})
        self.assertEqual(response.status_code, 403)
        self.grant("ingest.add_batch", "ingest.view_batch")
        with override_settings(TASKS=IMMEDIATE), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post("/api/ingest/batches/", {"file": ContentFile(data, name="e.csv"),
                                                                 "source": "api"})
        self.assertEqual(response.status_code, 202, response.content)
        body = response.json()
        self.assertTrue(body["job"])
        detail = self.client.get(f"/api/ingest/batches/{body['id']}/").json()
        self.assertEqual((detail["status"], detail["accepted_new"], detail["counts_add_up"]), ("succeeded", 1, True))
        other = make_batch(self.region_b)
        self.assertEqual(self.client.get(f"/api/ingest/batches/{other.pk}/").status_code, 404)


@pytest.mark.django_db
def test_api_batch_list_requires_login(client):
    assert client.get("/api/ingest/batches/").status_code in (401, 403)
