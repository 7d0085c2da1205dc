"""RecordVersion: written by the batch upserts and the single-record saves, shown on the record page and the
profile timeline, region-scoped."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from foodrisk.core.testing import ScopedTestCase
from foodrisk.enterprises import services as ent_services
from foodrisk.enterprises.models import RecordVersion
from foodrisk.enterprises.testing import make_enterprise, make_licence
from foodrisk.records import services
from foodrisk.records.models import Inspection, Penalty
from foodrisk.records.testing import make_record


def _rows(records, **changes):
    fields = ["inspection_no", "enterprise_id", "inspected_on", "kind", "organisation", "inspector", "result",
              "key_items_failed", "general_items_failed", "rectification_ordered", "findings"]
    return [{**{f: getattr(r, f) for f in fields}, **changes} for r in records]


class HistoryTests(ScopedTestCase):
    def test_batch_upsert_writes_versions_only_for_changed_rows(self):
        e = make_enterprise(self.region_a)
        a, b = make_record("inspections", e, organisation="上城所"), make_record("inspections", e, organisation="上城所")
        rows = _rows([a, b])
        self.assertEqual(services.upsert_records("inspections", rows, source="sys", batch_id=7), 2)
        self.assertFalse(RecordVersion.objects.exists())  # same values: no version (lineage is not compared)
        rows[1]["organisation"] = "钱塘所"
        rows[1]["inspected_on"] = "2025-12-01"  # a string for a date field: compared as a date
        rows[0]["inspected_on"] = a.inspected_on.isoformat()  # equal after parsing: no change
        rows[1]["source_row"] = 12
        services.upsert_records("inspections", rows, source="sys", batch_id=8)
        v = RecordVersion.objects.get()
        self.assertEqual((v.kind, v.natural_key, v.enterprise_id, v.source, v.source_batch, v.source_row),
                         ("inspections", b.inspection_no, e.pk, "sys", 8, 12))
        self.assertEqual(v.changes, {"inspected_on": {"before": b.inspected_on.isoformat(), "after": "2025-12-01"},
                                     "organisation": {"before": "上城所", "after": "钱塘所"}})
        b.refresh_from_db()
        self.assertEqual(b.organisation, "钱塘所")
        services.upsert_records("inspections", rows, source="sys", batch_id=9)
        self.assertEqual(RecordVersion.objects.count(), 1)

    def test_decimal_places_do_not_count_as_a_change(self):
        e = make_enterprise(self.region_a)
        p = make_record("penalties", e, fine=Decimal("3000.00"))
        fields = ["decision_no", "enterprise_id", "decided_on", "violation_type", "severity", "fine"]
        row = {f: getattr(p, f) for f in fields}
        services.upsert_records("penalties", [{**row, "fine": Decimal("3000")}])
        self.assertFalse(RecordVersion.objects.exists())
        services.upsert_records("penalties", [{**row, "fine": Decimal("3500.5")}])
        self.assertEqual(RecordVersion.objects.get().changes, {"fine": {"before": "3000.00", "after": "3500.50"}})

    def test_single_record_edit_writes_one_version(self):
        self.grant("records.change_penalty")
        e = make_enterprise(self.region_a)
        p = services.save_record(Penalty(enterprise=e, decision_no="杭市监罚〔2025〕1号", decided_on=dt.date(2025, 3, 1),
                                         violation_type="超范围经营", severity="minor", fine=Decimal("500")))
        self.assertFalse(RecordVersion.objects.exists())  # a create is no change
        p = Penalty.objects.get(pk=p.pk)
        p.fine = Decimal("800")
        services.save_record(p, user=self.user)
        v = RecordVersion.objects.get()
        self.assertEqual((v.kind, v.natural_key, v.changed_by, v.source_batch), ("penalties", p.decision_no,
                                                                                self.user, None))
        self.assertEqual(v.changes, {"fine": {"before": "500.00", "after": "800.00"}})
        self.assertEqual((v.source, v.source_row), ("", None))
        services.save_record(Penalty.objects.get(pk=p.pk), user=self.user)  # saved without changes
        self.assertEqual(RecordVersion.objects.count(), 1)

    def test_save_enterprise_and_licence_write_versions(self):
        e = make_enterprise(self.region_a, name="杭州甲餐饮有限公司")
        e = type(e).objects.get(pk=e.pk)
        e.name = "杭州乙餐饮有限公司"
        e.legal_representative = "李四"
        ent_services.save_enterprise(e, user=self.user)
        v = RecordVersion.objects.get(kind="enterprises")
        self.assertEqual(v.changes, {"name": {"before": "杭州甲餐饮有限公司", "after": "杭州乙餐饮有限公司"},
                                     "former_names": {"before": [], "after": ["杭州甲餐饮有限公司"]},
                                     "legal_representative": {"before": "***", "after": "***"}})
        ent_services.save_enterprise(type(e).objects.get(pk=e.pk))
        self.assertEqual(RecordVersion.objects.filter(kind="enterprises").count(), 1)
        lic = make_licence(e)
        lic.expires_on = dt.date(2030, 1, 1)
        ent_services.save_licence(lic)
        self.assertEqual(RecordVersion.objects.get(kind="licences").changes,
                         {"expires_on": {"before": "2029-01-01", "after": "2030-01-01"}})

    def _changed(self, region, organisation="钱塘所"):
        r = make_record("inspections", make_enterprise(region), organisation="上城所")
        services.upsert_records("inspections", _rows([r], organisation=organisation))
        return r

    def test_scope_and_permission(self):
        mine, theirs = self._changed(self.region_a), self._changed(self.region_b)
        self.assertEqual(RecordVersion.objects.count(), 2)
        self.assertFalse(RecordVersion.objects.restrict(self.user, "view").exists())  # no permission
        self.grant("enterprises.view_recordversion")
        visible = list(RecordVersion.objects.restrict(self.user, "view").values_list("natural_key", flat=True))
        self.assertEqual(visible, [mine.inspection_no])
        self.assertNotIn(theirs.inspection_no, visible)
        codenames = set(Permission.objects.filter(content_type__model="recordversion").values_list("codename",
                                                                                                  flat=True))
        self.assertEqual(codenames, {"view_recordversion"})  # append-only

    def test_detail_page_and_timeline_show_the_history(self):
        r = self._changed(self.region_a)
        self.grant("records.view_inspection", "enterprises.view_enterprise")
        url = reverse("records:inspection_detail", args=[r.pk])
        page = self.client.get(url).content.decode()
        self.assertNotIn('id="history"', page)  # without the history permission
        self.grant("enterprises.view_recordversion")
        page = self.client.get(url).content.decode()
        self.assertIn('id="history"', page)
        self.assertIn("变更历史", page)
        self.assertIn("上城所", page)
        self.assertIn("钱塘所", page)
        self.assertIn("检查机构", page)  # the field's label
        with translation.override("en"):
            self.assertEqual(translation.gettext("Change history"), "Change history")
        profile = self.client.get(r.enterprise.get_absolute_url()).content.decode()
        self.assertIn(f'{url}#history', profile)
        self.assertIn("历史版本 1 个", profile)

    def test_history_of_another_region_is_not_shown(self):
        r = self._changed(self.region_b)
        self.grant("records.view_inspection", "enterprises.view_recordversion")
        self.assertEqual(self.client.get(reverse("records:inspection_detail", args=[r.pk])).status_code, 404)
        from foodrisk.enterprises import history

        self.assertEqual(list(history.versions_of(self.user, "inspections", r.inspection_no)), [])

    def test_timeline_counts_versions_per_record(self):
        from django.test import RequestFactory

        from foodrisk.records import timeline

        e = make_enterprise(self.region_a)
        a, b = make_record("inspections", e), make_record("inspections", e)
        for org in ("甲", "乙"):
            services.upsert_records("inspections", _rows([a], organisation=org))
        self.grant("records.view_inspection", "enterprises.view_recordversion")
        request = RequestFactory().get("/")
        request.user = self.user
        entries = {en.url: en.versions for en in timeline.timeline_section(e, request)["entries"]}
        self.assertEqual(entries, {a.get_absolute_url(): 2, b.get_absolute_url(): 0})
        self.assertEqual(Inspection.objects.count(), 2)
