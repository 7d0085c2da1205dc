"""Warnings a person can work (issue 13 pilot): one notification per person for an event that raises many
alerts (a digest), the individual one for a single alert; bulk confirm / dismiss with one reason, each alert
through the review service (refusals reported, audited per alert), on the page and over the API; a compact
queue (columns per role, one line per warning, no inline styles)."""

import datetime as dt

from alerts_testkit import SUPERVISOR_PERMS, AlertsTestCase, ago, make_rule
from django.urls import reverse
from django.utils import translation

from foodrisk.alerts import services
from foodrisk.alerts.models import Alert
from foodrisk.core.models import AuditEntry, Notification
from foodrisk.enterprises.testing import make_enterprise

API = "/api/alerts/alerts/bulk-review/"


def notes(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


class Digests(AlertsTestCase):
    def grade_changes(self, ents, new):
        return [{"enterprise_id": e.pk, "old_grade": "B", "new_grade": new, "score": 70.0} for e in ents]

    def test_a_scoring_run_raising_many_alerts_notifies_each_reviewer_once(self):
        make_rule("grade_drop", code="into-d", level="red", to_grades=["D"])
        make_rule("grade_drop", code="into-c", level="orange", to_grades=["C"])
        reviewer = self.person("reviewer2", self.org_a, *SUPERVISOR_PERMS)
        d_ents = [make_enterprise(self.region_a) for _ in range(3)]
        c_ents = [make_enterprise(self.region_a) for _ in range(9)]
        with self.commit():
            raised = services.evaluate_grade_changes(self.grade_changes(d_ents, "D") + self.grade_changes(c_ents, "C"))
        self.assertEqual(len(raised), 12)
        for person in (self.supervisor, reviewer):
            [digest] = notes(person)
            self.assertIn("12", digest.title)
            self.assertIn("新增 12 条预警（红色 3、橙色 9）", digest.body.replace("Red", "红色").replace("Orange", "橙色"))
            self.assertEqual(digest.link, reverse("alerts:my_alerts") + "?status=raised")
            self.assertEqual(digest.level, "danger")  # the most severe of them
        self.assertEqual(notes(self.other), [])  # district B reviews nothing of district A

    def test_a_single_record_change_keeps_its_individual_notification(self):
        alert = self.raise_penalty_alert()
        [note] = notes(self.supervisor)
        self.assertIn(self.ent.name, note.title)
        self.assertEqual(note.link, alert.get_absolute_url())

    def test_a_one_alert_batch_is_individual_too(self):
        make_rule("grade_drop", code="into-d", level="red", to_grades=["D"])
        with self.commit():
            services.evaluate_grade_changes(self.grade_changes([self.ent], "D"))
        [note] = notes(self.supervisor)
        self.assertIn(self.ent.name, note.title)

    def test_a_scan_escalating_many_overdue_alerts_tells_the_parent_once(self):
        rule = make_rule("new_penalty")
        for _ in range(4):
            Alert.objects.create(rule=rule, enterprise=make_enterprise(self.region_a), region=self.region_a,
                                 level="orange", summary="逾期", organisation=self.org_a, deadline=ago(2))
        with self.commit():
            result = services.scan()
        self.assertEqual(result["escalated"], 4)
        [digest] = notes(self.leader)  # the city bureau, parent of district A
        self.assertIn("4", digest.title)
        self.assertEqual(digest.link, reverse("alerts:alert_list") + "?open=true&overdue=true")


class BulkReview(AlertsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.rule = make_rule("new_penalty")
        cls.dispatcher = cls.person("dispatcher", cls.org_a, *SUPERVISOR_PERMS)

    def alert(self, region=None, status="raised"):
        region = region or self.region_a
        org = self.org_a if region == self.region_a else self.org_b
        return Alert.objects.create(rule=self.rule, enterprise=make_enterprise(region), region=region, level="red",
                                    summary="批量", organisation=org, status=status,
                                    deadline=dt.date.today() + dt.timedelta(days=5))

    def test_confirms_what_can_be_reviewed_and_reports_the_rest(self):
        a1, a2 = self.alert(), self.alert()
        confirmed = self.alert(status="confirmed")
        elsewhere = self.alert(self.region_b)
        with self.commit():
            done, refused = services.bulk_review([a1.pk, a2.pk, confirmed.pk, elsewhere.pk], user=self.supervisor,
                                                 confirm=True, note="核实属实")
        self.assertEqual({a.pk for a in done}, {a1.pk, a2.pk})
        self.assertEqual(set(Alert.objects.filter(pk__in=[a1.pk, a2.pk]).values_list("status", flat=True)),
                         {"confirmed"})
        reasons = {pk: message for pk, _label, message in refused}
        self.assertEqual(set(reasons), {confirmed.pk, elsewhere.pk})
        self.assertIn("Cannot review", reasons[confirmed.pk])
        self.assertIn("outside your jurisdiction", reasons[elsewhere.pk])
        self.assertEqual(Alert.objects.get(pk=elsewhere.pk).status, "raised")
        audited = AuditEntry.objects.filter(action="alerts.alert.confirm")
        self.assertEqual(sorted(int(e.object_id) for e in audited), sorted([a1.pk, a2.pk]))
        self.assertTrue(all(e.user_id == self.supervisor.pk for e in audited))
        [digest] = notes(self.dispatcher)  # the one who dispatches hears once about the batch
        self.assertIn("2", digest.title)

    def test_dismissal_needs_one_reason_and_applies_it_to_each(self):
        a1, a2 = self.alert(), self.alert()
        with self.assertRaises(services.ValidationError):
            services.bulk_review([a1.pk, a2.pk], user=self.supervisor, confirm=False, note=" ")
        done, refused = services.bulk_review([a1.pk, a2.pk], user=self.supervisor, confirm=False, note="重复预警")
        self.assertEqual((len(done), refused), (2, []))
        self.assertEqual(set(Alert.objects.filter(pk__in=[a1.pk, a2.pk]).values_list("review_note", flat=True)),
                         {"重复预警"})
        self.assertEqual(AuditEntry.objects.filter(action="alerts.alert.dismiss").count(), 2)

    def test_refusals_are_reported_in_chinese(self):
        confirmed, elsewhere = self.alert(status="confirmed"), self.alert(self.region_b)
        with translation.override("zh-hans"):
            _done, refused = services.bulk_review([confirmed.pk, elsewhere.pk], user=self.supervisor, confirm=True)
        reasons = {pk: message for pk, _label, message in refused}
        self.assertEqual(reasons[elsewhere.pk], "不存在或不在您的管辖范围内。")
        self.assertIn("已确认", reasons[confirmed.pk])  # the state it is in, in Chinese

    def test_without_the_permission_nothing_is_reviewed(self):
        a1 = self.alert()
        done, refused = services.bulk_review([a1.pk], user=self.handler, confirm=True)
        self.assertEqual(done, [])
        self.assertIn("alerts.review_alert", refused[0][2])
        self.assertEqual(Alert.objects.get(pk=a1.pk).status, "raised")

    def test_the_page_reviews_the_ticked_alerts(self):
        a1, a2, elsewhere = self.alert(), self.alert(), self.alert(self.region_b)
        self.client.force_login(self.supervisor)
        back = reverse("alerts:my_alerts") + "?level=red"
        r = self.client.post(reverse("alerts:bulk_review"), {"select": [a1.pk, a2.pk, elsewhere.pk],
                                                             "decision": "dismiss", "note": "误报", "next": back},
                             follow=True)
        self.assertEqual(r.redirect_chain[0][0], back)
        self.assertEqual(set(Alert.objects.filter(pk__in=[a1.pk, a2.pk]).values_list("status", flat=True)),
                         {"dismissed"})
        text = " ".join(str(m) for m in r.context["messages"])
        self.assertIn("2 alerts dismissed", text)
        self.assertIn(f"#{elsewhere.pk}", text)
        r = self.client.post(reverse("alerts:bulk_review"), {"select": [elsewhere.pk], "decision": "dismiss",
                                                             "note": ""}, follow=True)
        self.assertIn("reason", " ".join(str(m) for m in r.context["messages"]))

        self.client.force_login(self.handler)
        self.assertEqual(self.client.post(reverse("alerts:bulk_review"), {"select": [a1.pk],
                                                                          "decision": "confirm"}).status_code, 403)

    def test_the_api(self):
        a1, confirmed, elsewhere = self.alert(), self.alert(status="confirmed"), self.alert(self.region_b)
        self.client.force_login(self.supervisor)
        r = self.client.post(API, {"ids": [a1.pk, confirmed.pk, elsewhere.pk], "decision": "confirm"},
                             content_type="application/json")
        self.assertEqual(r.status_code, 200, r.content)
        self.assertEqual(r.json()["done"], [a1.pk])
        refused = {row["id"]: row for row in r.json()["refused"]}
        self.assertEqual(set(refused), {confirmed.pk, elsewhere.pk})
        self.assertEqual(refused[elsewhere.pk]["alert"], f"#{elsewhere.pk}")  # nothing of another region named
        r = self.client.post(API, {"ids": [confirmed.pk], "decision": "dismiss"}, content_type="application/json")
        self.assertEqual(r.status_code, 400)
        self.assertIn("note", r.json())
        self.assertEqual(self.client.post(API, {"ids": [], "decision": "confirm"},
                                          content_type="application/json").status_code, 400)

        self.client.force_login(self.other)  # district B: may review, but not district A's alerts
        r = self.client.post(API, {"ids": [a1.pk], "decision": "dismiss", "note": "x"},
                             content_type="application/json")
        self.assertEqual((r.status_code, r.json()["done"]), (200, []))

        self.client.force_login(self.handler)  # no permission to review at all
        r = self.client.post(API, {"ids": [elsewhere.pk], "decision": "confirm"}, content_type="application/json")
        self.assertEqual(r.status_code, 403)
        self.assertEqual(Alert.objects.get(pk=elsewhere.pk).status, "raised")

    def test_the_schema_is_valid(self):
        from drf_spectacular.generators import SchemaGenerator
        from drf_spectacular.validation import validate_schema

        schema = SchemaGenerator().get_schema(request=None, public=True)
        validate_schema(schema)
        operation = schema["paths"]["/api/alerts/alerts/bulk-review/"]["post"]
        self.assertIn("requestBody", operation)


class CompactQueue(AlertsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        rule = make_rule("new_penalty")
        cls.alert = Alert.objects.create(rule=rule, enterprise=cls.ent, region=cls.region_a, level="red",
                                         summary="很长的预警摘要" * 20, organisation=cls.org_a, deadline=ago(1))

    def columns(self, user, url="alerts:alert_list", **headers):
        self.client.force_login(user)
        r = self.client.get(reverse(url), **headers)
        self.assertEqual(r.status_code, 200)
        self.assertNotIn("style=", r.content.decode())
        self.assertNotIn("hx-on", r.content.decode())
        return [c.name for c in r.context["table"].columns], r.content.decode()

    def test_an_inspector_sees_what_to_act_on(self):
        names, html = self.columns(self.supervisor)
        self.assertEqual(names, ["select", "level", "enterprise", "rule", "status", "deadline", "raised_at"])
        self.assertIn('class="app-truncate"', html)
        self.assertNotRegex(html, r"<a [^>]*>\s*<a ")  # the cut name sits inside the column's one link
        self.assertIn('form="alert-bulk"', html)
        self.assertIn('id="alert-bulk"', html)

    def test_a_leader_also_sees_region_and_organisation_without_checkboxes(self):
        names, html = self.columns(self.leader)
        self.assertEqual(names, ["level", "enterprise", "rule", "status", "deadline", "raised_at", "region",
                                 "organisation"])
        self.assertNotIn('id="alert-bulk"', html)

    def test_the_filtered_results_and_the_alert_page_have_no_inline_style(self):
        self.columns(self.supervisor, "alerts:my_alerts", HTTP_HX_REQUEST="true")
        self.client.force_login(self.supervisor)
        for r in (self.client.get(self.alert.get_absolute_url()),
                  self.client.post(reverse("alerts:alert_action", args=[self.alert.pk, "review"]),
                                   {"review-decision": "dismiss", "review-note": ""}, HTTP_HX_REQUEST="true")):
            self.assertEqual(r.status_code, 200)
            html = r.content.decode()
            self.assertNotIn("style=", html)
            self.assertNotIn("hx-on", html)
        # htmx settles ids by copying their attributes with setAttribute: "style" would break the CSP
        html = self.client.get(self.alert.get_absolute_url()).content.decode()
        self.assertIn('"attributesToSettle": ["class", "width", "height"]', html)

    def test_exports_keep_every_column(self):
        from foodrisk.alerts.tables import AlertTable

        table = AlertTable(Alert.objects.all())
        exported = [c.name for c in table.columns.iterall() if not c.column.exclude_from_export]
        self.assertIn("summary", exported)
        self.assertNotIn("select", exported)


class Superseded(AlertsTestCase):
    """A run's grade-drop warnings are evaluated by a reaction that may run after a later run (past months scored
    one after another, as the demo's history does) changed the grade again: only the grades that still stand warn."""

    def test_a_grade_changed_again_by_a_later_run_raises_nothing(self):
        from django.utils import timezone

        from foodrisk.alerts import handlers
        from foodrisk.scoring.models import GradeChange, ScoringRun

        make_rule("grade_drop", code="into-d", level="red", to_grades=["D"])
        back, stays = make_enterprise(self.region_a), make_enterprise(self.region_a)
        march, june = (ScoringRun.objects.create(kind="full", as_of=ago(days), status="succeeded",
                                                 published_at=timezone.now()) for days in (90, 1))
        for ent in (back, stays):
            GradeChange.objects.create(enterprise=ent, run=march, old_grade="B", new_grade="D", at=timezone.now())
        GradeChange.objects.create(enterprise=back, run=june, old_grade="D", new_grade="B", at=timezone.now())
        with self.commit():
            handlers.on_grade_changed(run_id=march.pk)  # the March reaction runs after June was published
            handlers.on_grade_changed(run_id=june.pk)
        self.assertEqual(list(Alert.objects.values_list("enterprise_id", flat=True)), [stays.pk])
