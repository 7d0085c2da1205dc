"""Warning-rule writes over REST and the UI go through services.save_rule / delete_rule: params validated
and completed, every write audited, a rule with alerts refused clearly (409 / a message), never a 500."""

from unittest import mock

from alerts_testkit import RULE_PERMS, AlertsTestCase, make_rule
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation

from foodrisk.alerts import services
from foodrisk.alerts.models import WarningRule
from foodrisk.core.models import AuditEntry

API = "/api/alerts/rules/"


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


class WarningRuleAPIWrites(AlertsTestCase):
    def setUp(self):
        super().setUp()
        self.ruler = self.person("ruler", self.org_a, *RULE_PERMS)
        self.client.force_login(self.ruler)

    def post(self, data):  # rules are created enabled: confirmed, as the high-risk action it is
        return self.client.post(API, {"confirmed": True, **data}, content_type="application/json")

    def patch(self, rule, data):
        return self.client.patch(f"{API}{rule.pk}/", data, content_type="application/json")

    def test_create_with_bad_params_is_400_and_saves_nothing(self):
        cases = [
            ({"kind": "licence_expiring", "params": {"days": -1}}, "params", "“days” must be at least 1"),
            ({"kind": "licence_expiring", "params": {"dayz": 3}}, "params", "Unknown parameter(s) dayz"),
            ({"kind": "listed", "params": [1]}, "params", "JSON object"),
            ({"kind": "listed", "target": "fixed"}, "target_organisation", "Choose the fixed organisation"),
        ]
        for data, field, message in cases:
            with self.subTest(data=data):
                r = self.post({"code": "bad", "name": "坏规则", "level": "blue", **data})
                self.assertEqual(r.status_code, 400, r.content)
                self.assertIn(message, " ".join(r.json()[field]))
        self.assertFalse(WarningRule.objects.exists())
        self.assertEqual(entries("alerts.warningrule.create"), [])

    def test_switching_a_rule_on_needs_the_second_confirmation(self):
        data = {"code": "listed", "name": "列入名录", "kind": "listed", "level": "red"}
        for confirmed in ({}, {"confirmed": False}):
            r = self.client.post(API, {**data, **confirmed}, content_type="application/json")
            self.assertEqual(r.status_code, 400, r.content)
            self.assertIn('"confirmed": true', r.json()["confirmed"][0])
        self.assertFalse(WarningRule.objects.exists())
        r = self.client.post(API, {**data, "enabled": False}, content_type="application/json")  # off: no risk
        self.assertEqual(r.status_code, 201, r.content)
        rule = WarningRule.objects.get()
        self.assertEqual(self.client.patch(f"{API}{rule.pk}/", {"enabled": True},
                                           content_type="application/json").status_code, 400)
        self.assertFalse(WarningRule.objects.get().enabled)
        self.assertEqual(self.patch(rule, {"enabled": True, "confirmed": True}).status_code, 200)
        self.assertTrue(WarningRule.objects.get().enabled)
        # an enabled rule edited (not switched on) needs no confirmation; confirmed is never stored or shown
        r = self.patch(rule, {"level": "orange"})
        self.assertEqual(r.status_code, 200, r.content)
        self.assertNotIn("confirmed", r.json())

    def test_create_completes_params_and_is_audited(self):
        r = self.post({"code": "cluster", "name": "投诉聚集", "kind": "complaint_cluster", "params": {"count": 5},
                       "level": "orange"})
        self.assertEqual(r.status_code, 201, r.content)
        completed = {"count": 5, "days": 30, "verified_only": True}
        self.assertEqual(r.json()["params"], completed)
        rule = WarningRule.objects.get(code="cluster")
        self.assertEqual(rule.params, completed)
        [entry] = entries("alerts.warningrule.create")
        self.assertEqual((entry.object_id, entry.user_id), (str(rule.pk), self.ruler.pk))
        self.assertEqual(entry.after["params"], completed)

    def test_update_completes_params_and_is_audited(self):
        rule = make_rule("licence_expiring", days=30)
        r = self.patch(rule, {"params": {}})
        self.assertEqual(r.status_code, 200, r.content)
        self.assertEqual(r.json()["params"], {"days": 30})
        r = self.client.put(f"{API}{rule.pk}/", {"code": rule.code, "name": "执照将到期", "kind": "licence_expired",
                                                 "params": {}, "level": "red"}, content_type="application/json")
        self.assertEqual(r.status_code, 200, r.content)
        rule.refresh_from_db()
        self.assertEqual((rule.kind, rule.params, rule.level), ("licence_expired", {"grace_days": 0}, "red"))
        last = entries("alerts.warningrule.update")[-1]
        self.assertEqual(last.user_id, self.ruler.pk)
        self.assertEqual((last.before["kind"], last.after["kind"]), ("licence_expiring", "licence_expired"))

    def test_bad_update_is_400_and_changes_nothing(self):
        rule = make_rule("licence_expiring", days=30)
        r = self.patch(rule, {"kind": "grade_drop", "level": "red"})  # days is not a grade_drop parameter
        self.assertEqual(r.status_code, 400, r.content)
        self.assertIn("Unknown parameter(s) days", " ".join(r.json()["params"]))
        rule.refresh_from_db()
        self.assertEqual((rule.kind, rule.level, rule.params), ("licence_expiring", "orange", {"days": 30}))
        self.assertEqual(entries("alerts.warningrule.update"), [])

    def test_writes_call_the_services(self):
        with mock.patch.object(services, "save_rule", wraps=services.save_rule) as save:
            r = self.post({"code": "listed", "name": "列入名录", "kind": "listed", "level": "red"})
            self.assertEqual(r.status_code, 201, r.content)
            self.assertEqual(self.patch(WarningRule.objects.get(), {"enabled": False}).status_code, 200)
        self.assertEqual([c.kwargs["user"] for c in save.call_args_list], [self.ruler, self.ruler])
        with mock.patch.object(services, "delete_rule", wraps=services.delete_rule) as delete:
            self.assertEqual(self.client.delete(f"{API}{WarningRule.objects.get().pk}/").status_code, 204)
        delete.assert_called_once()

    def test_delete_of_a_rule_with_alerts_is_409_and_keeps_it(self):
        alert = self.raise_penalty_alert()
        r = self.client.delete(f"{API}{alert.rule_id}/")
        self.assertEqual(r.status_code, 409, r.content)
        self.assertEqual(r.json()["code"], "rule_in_use")
        self.assertIn("1 alerts still refer to it. Disable the rule instead.", r.json()["detail"])
        self.assertTrue(WarningRule.objects.filter(pk=alert.rule_id).exists())
        self.assertEqual(entries("alerts.warningrule.delete"), [])  # the refused delete left no entry

    def test_delete_of_an_unused_rule_is_audited(self):
        rule = make_rule("listed")
        r = self.client.delete(f"{API}{rule.pk}/")
        self.assertEqual(r.status_code, 204, r.content)
        self.assertFalse(WarningRule.objects.filter(pk=rule.pk).exists())
        [entry] = entries("alerts.warningrule.delete")
        self.assertEqual((entry.object_id, entry.user_id, entry.before["code"]), (str(rule.pk), self.ruler.pk,
                                                                                  "listed"))

    def test_writes_need_the_permissions(self):
        rule = make_rule("listed")
        data = {"code": "x", "name": "x", "kind": "listed", "level": "blue"}
        self.client.force_login(self.user)  # no permission at all
        self.assertEqual(self.client.get(API).status_code, 403)
        self.client.force_login(self.person("viewer", self.org_a, "alerts.view_warningrule"))
        self.assertEqual(self.client.get(API).status_code, 200)
        self.assertEqual(self.post(data).status_code, 403)
        self.assertEqual(self.patch(rule, {"level": "red"}).status_code, 403)
        self.assertEqual(self.client.delete(f"{API}{rule.pk}/").status_code, 403)
        rule.refresh_from_db()
        self.assertEqual(rule.level, "orange")
        self.assertEqual(list(WarningRule.objects.values_list("code", flat=True)), ["listed"])

    def test_rules_are_shared_but_a_fixed_target_stays_in_scope(self):
        # WarningRule.scope_field is None: rules are bureau-wide settings, visible to every rule editor
        rule = make_rule("listed")
        self.client.force_login(self.person("ruler_b", self.org_b, *RULE_PERMS))
        self.assertEqual([row["id"] for row in self.client.get(API).json()["results"]], [rule.pk])
        # …but a district editor cannot point a rule at an organisation outside their scope
        self.client.force_login(self.ruler)
        r = self.post({"code": "fixed", "name": "x", "kind": "listed", "level": "blue", "target": "fixed",
                       "target_organisation": self.org_b.pk})
        self.assertEqual(r.status_code, 400)
        self.assertIn("target_organisation", r.json())
        self.assertFalse(WarningRule.objects.filter(code="fixed").exists())


class WarningRulePageDelete(AlertsTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.person("ruler", self.org_a, *RULE_PERMS))

    def test_rule_with_alerts_is_kept_with_a_message(self):
        alert = self.raise_penalty_alert()
        r = self.client.post(reverse("alerts:warningrule_delete", args=[alert.rule_id]), follow=True)
        self.assertRedirects(r, alert.rule.get_absolute_url())
        self.assertContains(r, "Disable the rule instead.")
        self.assertTrue(WarningRule.objects.filter(pk=alert.rule_id).exists())
        self.assertEqual(entries("alerts.warningrule.delete"), [])

    def test_unused_rule_is_deleted_and_audited(self):
        rule = make_rule("listed")
        r = self.client.post(reverse("alerts:warningrule_delete", args=[rule.pk]))
        self.assertRedirects(r, reverse("alerts:warningrule_list"))
        self.assertFalse(WarningRule.objects.filter(pk=rule.pk).exists())
        self.assertEqual(len(entries("alerts.warningrule.delete")), 1)

    def test_the_refusal_is_translated(self):
        alert = self.raise_penalty_alert()
        with translation.override("zh-hans"), self.assertRaises(services.RuleInUse) as ctx:
            services.delete_rule(alert.rule)
        self.assertIn("不能删除。请改为停用该规则。", ctx.exception.messages[0])

    def test_an_alert_raised_after_the_count_still_stops_the_delete(self):
        alert = self.raise_penalty_alert()
        with mock.patch.object(QuerySet, "count", return_value=0), self.assertRaises(services.RuleInUse):
            services.delete_rule(alert.rule)  # the count missed it: PROTECT refuses, nothing recorded
        self.assertTrue(WarningRule.objects.filter(pk=alert.rule_id).exists())
        self.assertEqual(entries("alerts.warningrule.delete"), [])
