import datetime as dt
import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import APITestCases, ScopedTestCase, ViewTestCases
from foodrisk.enterprises.testing import make_enterprise
from foodrisk.records.models import Attachment, Complaint, Inspection, ListEntry, Penalty
from foodrisk.records.testing import make_record


class PenaltyMixin:
    model = Penalty
    api_base = "/api/records/penalties/"
    counter = 0

    def make_object(self, region):
        return make_record("penalties", make_enterprise(region))

    def _no(self, region):
        PenaltyMixin.counter += 1
        return f"杭市监罚〔2025〕{region.code}-F{self.counter:04d}号"

    def form_data(self, region):
        return {"enterprise": make_enterprise(region).pk, "decision_no": self._no(region), "decided_on": "2025-03-01",
                "violation_type": "未按规定进货查验", "severity": "general", "fine": "3000.00",
                "confiscation": "0", "publicity_until": "2026-03-01"}

    def api_data(self, region):
        return {"enterprise": make_enterprise(region).pk, "decision_no": self._no(region),
                "decided_on": "2025-03-02", "violation_type": "超范围经营", "severity": "minor", "fine": "500.00"}


class InspectionMixin:
    model = Inspection
    api_base = "/api/records/inspections/"
    counter = 0

    def make_object(self, region):
        return make_record("inspections", make_enterprise(region))

    def _no(self, region):
        InspectionMixin.counter += 1
        return f"JC-2025-{region.code}-F{self.counter:04d}"

    def form_data(self, region):
        return {"enterprise": make_enterprise(region).pk, "inspection_no": self._no(region),
                "inspected_on": "2025-04-01", "kind": "random", "result": "fail", "key_items_failed": "1",
                "general_items_failed": "2", "rectification_ordered": "on", "organisation": "上城区局"}

    def api_data(self, region):
        return {"enterprise": make_enterprise(region).pk, "inspection_no": self._no(region),
                "inspected_on": "2025-04-02", "kind": "routine", "result": "pass"}


class PenaltyViewTests(PenaltyMixin, ViewTestCases.All):
    pass


class PenaltyAPITests(PenaltyMixin, APITestCases.All):
    pass


class InspectionViewTests(InspectionMixin, ViewTestCases.All):
    pass


class InspectionAPITests(InspectionMixin, APITestCases.All):
    pass


class RecordValidationTests(PenaltyMixin, ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a)
        self.grant("records.add_penalty", "records.view_penalty", "records.add_listentry", "records.view_listentry",
                   "records.add_inspection", "records.view_inspection")

    def test_future_date_is_rejected_with_a_clear_error_and_nothing_saved(self):
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        data = self.form_data(self.region_a)
        data.update(enterprise=self.enterprise.pk, decided_on=tomorrow.isoformat(), publicity_until="")
        response = self.client.post(reverse("records:penalty_add"), data)
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertEqual(list(errors), ["decided_on"])
        self.assertIn(timezone.localdate().isoformat(), errors["decided_on"][0])
        self.assertContains(response, errors["decided_on"][0])
        self.assertFalse(Penalty.objects.exists())
        self.assertFalse(any(a.startswith("records.") for a in self.audit_actions()))

    def test_negative_amount_is_rejected(self):
        data = self.form_data(self.region_a)
        data.update(enterprise=self.enterprise.pk, fine="-1")
        response = self.client.post(reverse("records:penalty_add"), data)
        self.assertIn("fine", response.context["form"].errors)
        self.assertFalse(Penalty.objects.exists())

    def test_removal_before_listing_is_rejected(self):
        response = self.client.post(reverse("records:listentry_add"), {
            "enterprise": self.enterprise.pk, "list_kind": "abnormal", "listed_on": "2025-05-01",
            "removed_on": "2025-04-01"})
        self.assertIn("removed_on", response.context["form"].errors)
        self.assertFalse(ListEntry.objects.exists())

    def test_list_entry_key_is_derived(self):
        response = self.client.post(reverse("records:listentry_add"), {
            "enterprise": self.enterprise.pk, "list_kind": "abnormal", "listed_on": "2025-05-01",
            "removed_on": "2025-06-01", "reason": "通过登记的住所无法联系"})
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        entry = ListEntry.objects.get()
        self.assertEqual(entry.entry_key, f"{self.enterprise.uscc}:abnormal:2025-05-01")
        again = self.client.post(reverse("records:listentry_add"), {
            "enterprise": self.enterprise.pk, "list_kind": "abnormal", "listed_on": "2025-05-01"})
        self.assertEqual(again.status_code, 200)
        self.assertEqual(ListEntry.objects.count(), 1)

    def test_api_rejects_future_date(self):
        data = self.api_data(self.region_a)
        data.update(enterprise=self.enterprise.pk, decided_on=(timezone.localdate() + dt.timedelta(days=3)).isoformat())
        response = self.client.post("/api/records/penalties/", data, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("decided_on", response.json())
        self.assertFalse(Penalty.objects.exists())

    def test_record_list_filters(self):
        old = make_record("inspections", self.enterprise, inspected_on=dt.date(2024, 1, 5), result="fail")
        new = make_record("inspections", self.enterprise, inspected_on=dt.date(2025, 6, 5), result="pass")
        other = make_record("inspections", make_enterprise(self.region_a), inspected_on=dt.date(2025, 6, 6))
        url = reverse("records:inspection_list")

        def pks(**params):
            return {row.record.pk for row in self.client.get(url, params).context["table"].rows}

        self.assertEqual(pks(since="2025-01-01"), {new.pk, other.pk})
        self.assertEqual(pks(until="2024-12-31"), {old.pk})
        self.assertEqual(pks(result="fail"), {old.pk})
        self.assertEqual(pks(enterprise=self.enterprise.uscc), {old.pk, new.pk})
        self.assertEqual(pks(enterprise=str(self.enterprise.pk)), {old.pk, new.pk})


def test_save_record_queues_records_changed_in_its_transaction(db, django_capture_on_commit_callbacks):
    from foodrisk.core import outbox
    from foodrisk.core.testing import capture_events, make_regions
    from foodrisk.records import services

    enterprise = make_enterprise(make_regions()["330102"])
    with capture_events("records_changed") as received, django_capture_on_commit_callbacks(execute=False):
        record = services.save_record(Complaint(enterprise=enterprise, complaint_no="TS-1", channel="12315",
                                                received_on=dt.date(2025, 2, 1), verified=True))
        # the reactions are task rows written with the record (outbox), not callbacks that a crash would lose
        queued = {row.args_kwargs["args"][0] for row in outbox.pending("records_changed")}
    assert received == [("records_changed", {"kind": "complaints", "enterprise_ids": [enterprise.pk]})]
    assert queued == {"foodrisk.scoring.handlers.on_records_changed", "foodrisk.alerts.handlers.on_records_changed",
                      "foodrisk.analytics.handlers.on_records_changed"}
    enterprise.refresh_from_db()
    assert enterprise.data_changed_at is not None
    assert AuditEntry.objects.filter(action="records.complaint.create", object_id=str(record.pk)).exists()


def test_api_create_and_delete_go_through_the_service(db, client, django_capture_on_commit_callbacks):
    from foodrisk.core.models import Organisation, User
    from foodrisk.core.testing import capture_events, grant, make_regions

    regions = make_regions()
    user = User.objects.create_user("api", organisation=Organisation.objects.create(
        code="O", name="局", region=regions["330102"]))
    user = grant(user, "records.add_penalty", "records.view_penalty", "records.delete_penalty")
    client.force_login(user)
    enterprise = make_enterprise(regions["330102"])
    with capture_events("records_changed") as events:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/records/penalties/", {
                "enterprise": enterprise.pk, "decision_no": "罚-1", "decided_on": "2025-01-02",
                "violation_type": "x", "severity": "minor"}, content_type="application/json")
        assert response.status_code == 201, response.content
        assert response.json()["enterprise_uscc"] == enterprise.uscc
        with django_capture_on_commit_callbacks(execute=True):
            assert client.delete(f"/api/records/penalties/{response.json()['id']}/").status_code == 204
    assert [payload["kind"] for _event, payload in events] == ["penalties", "penalties"]
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    assert "records.penalty.create" in actions and "records.penalty.delete" in actions


class AttachmentTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a)
        self.penalty = make_record("penalties", self.enterprise)
        self.grant("records.add_attachment", "records.view_attachment", "records.view_penalty",
                   "enterprises.view_enterprise")

    def upload(self, content=b"%PDF-1.4 rectification report", **extra):
        data = {"enterprise": self.enterprise.pk, "file": SimpleUploadedFile("整改报告.pdf", content),
                "kind": "evidence", "description": "整改报告", "record": f"penalties:{self.penalty.pk}"}
        data.update(extra)
        return self.client.post(reverse("records:attachment_add"), data)

    def test_upload_stores_sha256_and_links_the_record(self):
        content = b"%PDF-1.4 rectification report"
        response = self.upload(content)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], self.enterprise.get_absolute_url() + "#attachments")
        attachment = Attachment.objects.get()
        self.assertEqual(attachment.sha256, hashlib.sha256(content).hexdigest())
        self.assertEqual(attachment.record, self.penalty)
        self.assertEqual(attachment.uploaded_by, self.user)
        self.assertIn("records.attachment.create", self.audit_actions())

    def test_download_in_scope_is_served_and_audited(self):
        self.upload(b"hello evidence")
        attachment = Attachment.objects.get()
        response = self.client.get(reverse("records:attachment_download", args=[attachment.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), b"hello evidence")
        self.assertIn("attachment;", response["Content-Disposition"])
        self.assertIn("download", self.audit_actions())

    def test_download_of_another_regions_attachment_is_not_found(self):
        theirs = make_enterprise(self.region_b)
        attachment = Attachment.objects.create(enterprise=theirs, file=SimpleUploadedFile("x.txt", b"secret"),
                                               sha256=hashlib.sha256(b"secret").hexdigest())
        response = self.client.get(reverse("records:attachment_download", args=[attachment.pk]))
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("download", self.audit_actions())

    def test_upload_for_another_regions_enterprise_is_refused(self):
        theirs = make_enterprise(self.region_b)
        response = self.upload(enterprise=theirs.pk, record="")
        self.assertEqual(response.status_code, 200)
        self.assertIn("enterprise", response.context["form"].errors)
        self.assertFalse(Attachment.objects.exists())

    def test_record_of_another_enterprise_is_refused(self):
        other = make_record("penalties", make_enterprise(self.region_a))
        response = self.upload(record=f"penalties:{other.pk}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("record", response.context["form"].errors)
        self.assertFalse(Attachment.objects.exists())

    def test_profile_lists_attachments_with_upload_form(self):
        self.upload()
        response = self.client.get(self.enterprise.get_absolute_url())
        self.assertContains(response, reverse("records:attachment_download", args=[Attachment.objects.get().pk]))
        self.assertContains(response, 'action="/records/attachments/add/"')


class PageSmokeTests(ScopedTestCase):
    """Every list, detail, add and edit page of every kind renders for a user with the permissions."""

    def test_all_pages_render(self):
        from foodrisk.records.models import RECORD_KINDS

        perms = ["enterprises.view_enterprise", "records.view_attachment", "records.add_attachment"]
        for model in RECORD_KINDS.values():
            perms += [f"records.{a}_{model._meta.model_name}" for a in ("view", "add", "change", "delete")]
        self.grant(*perms)
        enterprise = make_enterprise(self.region_a)
        for kind, model in RECORD_KINDS.items():
            record = make_record(kind, enterprise)
            name = model._meta.model_name
            export = self.client.get(reverse(f"records:{name}_list") + "?_export=xlsx")
            self.assertEqual(export.status_code, 302)  # to the export's confirmation (core:export_new)
            for url in (reverse(f"records:{name}_list"),
                        record.get_absolute_url(), reverse(f"records:{name}_add") + f"?enterprise={enterprise.pk}",
                        reverse(f"records:{name}_edit", args=[record.pk]),
                        reverse(f"records:{name}_delete", args=[record.pk])):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200, url)
            edit = self.client.get(reverse(f"records:{name}_edit", args=[record.pk]))
            self.assertContains(edit, "data-picker")  # enterprise picked by autocomplete, not a giant select
            self.assertContains(edit, enterprise.uscc)
        for url in (reverse("records:attachment_list"), reverse("records:attachment_add"),
                    reverse("records:attachment_add") + f"?enterprise={enterprise.pk}", enterprise.get_absolute_url()):
            self.assertEqual(self.client.get(url).status_code, 200, url)
        htmx = self.client.get(reverse("records:penalty_list"), headers={"HX-Request": "true"})
        self.assertNotContains(htmx, "<html")


def test_save_record_reads_the_before_state_under_lock_and_reports_a_duplicate_key(db):
    """As the enterprise saves: the update's before-state is the stored row, read in the write's transaction
    (locked where the database can), and a duplicate key that gets past full_clean is a ValidationError."""
    from unittest import mock

    import pytest
    from django.core.exceptions import ValidationError
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodrisk.core.testing import make_regions
    from foodrisk.records import services

    enterprise = make_enterprise(make_regions()["330102"])
    record = make_record("inspections", enterprise, organisation="上城所")
    Inspection.objects.filter(pk=record.pk).update(organisation="他人改的")  # after this copy was read
    record.result = "fail"
    with CaptureQueriesContext(connection) as queries:
        services.save_record(record)
    sqls = [q["sql"] for q in queries.captured_queries]
    begin = next(i for i, sql in enumerate(sqls) if sql.startswith("SAVEPOINT"))
    read = next(i for i, sql in enumerate(sqls) if sql.startswith("SELECT") and "records_inspection" in sql)
    assert read > begin, sqls
    assert "FOR UPDATE" in sqls[read] or not connection.features.has_select_for_update
    before = AuditEntry.objects.get(action="records.inspection.update").before
    assert before["organisation"] == "他人改的"

    other = make_record("inspections", enterprise)
    other.inspection_no = record.inspection_no
    with mock.patch.object(Inspection, "full_clean"), pytest.raises(ValidationError) as caught:
        services.save_record(other)
    assert "inspection_no" in caught.value.message_dict
