"""Deletes (and the single writes) of licences and enterprises through the UI and the API go through
enterprises.services: one audit entry with the state before, the data change stamped, `records_changed` queued in
the transaction; an enterprise with archive data is not deleted."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import ScopedTestCase, capture_events
from foodrisk.enterprises import services
from foodrisk.enterprises.models import DataChange, Enterprise, Licence, RecordVersion
from foodrisk.enterprises.testing import make_enterprise, make_licence
from foodrisk.records.testing import make_record

LICENCES_API = "/api/enterprises/licences/"
ENTERPRISES_API = "/api/enterprises/enterprises/"
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


class EventsMixin:
    def setUp(self):
        super().setUp()
        self._captured = self.enterContext(capture_events("records_changed"))

    @property
    def events(self):
        return [(payload["kind"], set(payload["enterprise_ids"])) for _event, payload in self._captured]

    def committed(self):
        """Run the block's on-commit callbacks (the test's transaction never commits)."""
        return self.captureOnCommitCallbacks(execute=True)


class LicenceDeleteTests(EventsMixin, ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a)
        self.licence = make_licence(self.enterprise, licence_no="JY13301020077777")
        DataChange.objects.create(enterprise=self.enterprise, changed_at=LONG_AGO)

    def assert_deleted(self):
        self.assertFalse(Licence.objects.filter(pk=self.licence.pk).exists())
        entry = AuditEntry.objects.get(action="enterprises.licence.delete")
        self.assertEqual((entry.object_id, entry.user_id), (str(self.licence.pk), self.user.pk))
        self.assertEqual(entry.before["licence_no"], "JY13301020077777")
        self.assertEqual(entry.before["enterprise_id"], self.enterprise.pk)
        self.assertEqual(entry.region_code, self.region_a.code)
        self.assertGreater(DataChange.objects.get(enterprise=self.enterprise).changed_at,
                           timezone.now() - dt.timedelta(minutes=1))
        self.assertEqual(self.events, [("licences", {self.enterprise.pk})])

    def assert_untouched(self):
        self.assertTrue(Licence.objects.filter(pk=self.licence.pk).exists())
        self.assertFalse(AuditEntry.objects.filter(action="enterprises.licence.delete").exists())
        self.assertEqual(DataChange.objects.get(enterprise=self.enterprise).changed_at, LONG_AGO)
        self.assertEqual(self.events, [])

    def test_ui_delete(self):
        self.grant("enterprises.delete_licence", "enterprises.view_licence")
        with self.committed():
            response = self.client.post(reverse("enterprises:licence_delete", args=[self.licence.pk]))
        self.assertRedirects(response, reverse("enterprises:licence_list"), fetch_redirect_response=False)
        self.assert_deleted()

    def test_api_delete(self):
        self.grant("enterprises.delete_licence", "enterprises.view_licence")
        with self.committed():
            response = self.client.delete(f"{LICENCES_API}{self.licence.pk}/")
        self.assertEqual(response.status_code, 204, response.content)
        self.assert_deleted()

    def test_without_delete_permission_is_refused(self):
        self.grant("enterprises.view_licence", "enterprises.change_licence")
        with self.committed():
            self.assertEqual(self.client.post(reverse("enterprises:licence_delete", args=[self.licence.pk]))
                             .status_code, 403)
            self.assertEqual(self.client.delete(f"{LICENCES_API}{self.licence.pk}/").status_code, 403)
        self.assert_untouched()

    def test_other_region_is_not_found(self):
        self.enterprise = make_enterprise(self.region_b)
        self.licence = make_licence(self.enterprise)
        DataChange.objects.create(enterprise=self.enterprise, changed_at=LONG_AGO)
        self.grant("enterprises.delete_licence", "enterprises.view_licence")
        with self.committed():
            self.assertEqual(self.client.post(reverse("enterprises:licence_delete", args=[self.licence.pk]))
                             .status_code, 404)
            self.assertEqual(self.client.delete(f"{LICENCES_API}{self.licence.pk}/").status_code, 404)
        self.assert_untouched()
        self.assertIn("access.out_of_scope", self.audit_actions())


class EnterpriseDeleteTests(EventsMixin, ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a, name="误录食品店")

    def test_ui_delete_of_an_enterprise_without_archive_data(self):
        # Its own bookkeeping (data change stamp, field history) goes with it.
        self.enterprise.name = "误录食品店（更正）"
        services.save_enterprise(self.enterprise)
        self.assertTrue(RecordVersion.objects.filter(enterprise=self.enterprise).exists())
        self._captured.clear()  # the edit's own event
        self.grant("enterprises.delete_enterprise", "enterprises.view_enterprise")
        with self.committed():
            response = self.client.post(reverse("enterprises:enterprise_delete", args=[self.enterprise.pk]))
        self.assertRedirects(response, reverse("enterprises:enterprise_list"), fetch_redirect_response=False)
        self.assertFalse(Enterprise.objects.filter(pk=self.enterprise.pk).exists())
        self.assertFalse(DataChange.objects.filter(enterprise_id=self.enterprise.pk).exists())
        entry = AuditEntry.objects.get(action="enterprises.enterprise.delete")
        self.assertEqual((entry.object_id, entry.user_id), (str(self.enterprise.pk), self.user.pk))
        self.assertEqual((entry.before["uscc"], entry.before["name"]), (self.enterprise.uscc, "误录食品店（更正）"))
        self.assertEqual(entry.before["legal_representative"], "***")  # never in clear in the log
        self.assertEqual(self.events, [])  # nothing derived from it to recompute

    def test_api_delete_of_an_enterprise_without_archive_data(self):
        self.grant("enterprises.delete_enterprise", "enterprises.view_enterprise")
        response = self.client.delete(f"{ENTERPRISES_API}{self.enterprise.pk}/")
        self.assertEqual(response.status_code, 204, response.content)
        self.assertFalse(Enterprise.objects.filter(pk=self.enterprise.pk).exists())
        self.assertIn("enterprises.enterprise.delete", self.audit_actions())

    def test_ui_delete_with_a_licence_is_refused_with_a_message(self):
        licence = make_licence(self.enterprise)
        self.grant("enterprises.delete_enterprise", "enterprises.view_enterprise")
        response = self.client.post(reverse("enterprises:enterprise_delete", args=[self.enterprise.pk]),
                                    follow=True)
        self.assertEqual(response.redirect_chain, [(self.enterprise.get_absolute_url(), 302)])
        self.assertContains(response, "该企业仍有许可证，不能删除")
        self.assertTrue(Licence.objects.filter(pk=licence.pk).exists())
        self.assertTrue(Enterprise.objects.filter(pk=self.enterprise.pk).exists())
        self.assertNotIn("enterprises.enterprise.delete", self.audit_actions())

    def test_api_delete_with_records_is_a_conflict(self):
        make_record("penalties", self.enterprise)
        make_record("inspections", self.enterprise)
        self.grant("enterprises.delete_enterprise", "enterprises.view_enterprise")
        response = self.client.delete(f"{ENTERPRISES_API}{self.enterprise.pk}/")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["detail"], "该企业仍有监督检查、行政处罚，不能删除。企业已关停的，其档案应予保留，"
                                                    "请改为修改企业状态（如已注销、已吊销）。")
        self.assertEqual(self.enterprise.inspections.count(), 1)
        self.assertTrue(Enterprise.objects.filter(pk=self.enterprise.pk).exists())

    def test_an_import_row_waiting_for_review_keeps_it(self):
        from foodrisk.ingest.models import Batch, MatchCandidate, Source

        batch = Batch.objects.create(source=Source.objects.create(name="测试来源"), kind="penalties")
        MatchCandidate.objects.create(batch=batch, row_no=1, raw_data={"企业名称": "误录食品"}, name="误录食品",
                                      enterprise=self.enterprise, score=0.8)
        self.assertEqual([str(kind) for kind in services.archive_data_kinds(self.enterprise)], ["匹配候选"])
        with self.assertRaises(services.EnterpriseInUse):
            services.delete_enterprise(self.enterprise)
        self.assertTrue(MatchCandidate.objects.filter(enterprise=self.enterprise).exists())

    def test_without_delete_permission_is_refused(self):
        self.grant("enterprises.view_enterprise", "enterprises.change_enterprise")
        self.assertEqual(self.client.post(reverse("enterprises:enterprise_delete", args=[self.enterprise.pk]))
                         .status_code, 403)
        self.assertEqual(self.client.delete(f"{ENTERPRISES_API}{self.enterprise.pk}/").status_code, 403)
        self.assertTrue(Enterprise.objects.filter(pk=self.enterprise.pk).exists())

    def test_other_region_is_not_found(self):
        theirs = make_enterprise(self.region_b)
        self.grant("enterprises.delete_enterprise", "enterprises.view_enterprise")
        self.assertEqual(self.client.post(reverse("enterprises:enterprise_delete", args=[theirs.pk])).status_code,
                         404)
        self.assertEqual(self.client.delete(f"{ENTERPRISES_API}{theirs.pk}/").status_code, 404)
        self.assertTrue(Enterprise.objects.filter(pk=theirs.pk).exists())
        self.assertNotIn("enterprises.enterprise.delete", self.audit_actions())


class SingleWriteEventTests(EventsMixin, ScopedTestCase):
    """Creates and updates through the UI and the API stamp the data change and send their event."""

    def setUp(self):
        super().setUp()
        self.enterprise = make_enterprise(self.region_a)

    def licence_data(self, **kw):
        return {"enterprise": self.enterprise.pk, "licence_no": "JY13301020088888", "kind": "JY",
                "issued_on": "2024-05-01", "expires_on": "2029-04-30", "status": "valid", **kw}

    def test_licence_ui_create_and_api_update(self):
        self.grant("enterprises.add_licence", "enterprises.change_licence", "enterprises.view_licence",
                   "enterprises.view_enterprise")
        with self.committed():
            self.assertEqual(self.client.post(reverse("enterprises:licence_add"), self.licence_data()).status_code,
                             302)
        licence = Licence.objects.get(licence_no="JY13301020088888")
        self.assertTrue(DataChange.objects.filter(enterprise=self.enterprise).exists())
        with self.committed():
            response = self.client.patch(f"{LICENCES_API}{licence.pk}/", {"status": "revoked"},
                                         content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.events, [("licences", {self.enterprise.pk})] * 2)
        self.assertEqual(AuditEntry.objects.filter(action="enterprises.licence.update").get().before["status"],
                         "valid")

    def test_enterprise_api_update(self):
        self.grant("enterprises.change_enterprise", "enterprises.view_enterprise")
        with self.committed():
            response = self.client.patch(f"{ENTERPRISES_API}{self.enterprise.pk}/", {"address": "新地址 2 号"},
                                         content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(DataChange.objects.filter(enterprise=self.enterprise).exists())
        self.assertEqual(self.events, [("enterprises", {self.enterprise.pk})])
