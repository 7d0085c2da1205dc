"""Pages and API: harness checks (list/detail/API read in scope), the workflow over REST and the UI,
invalid transitions answered clearly, other regions 404, warning-rule editing with parameter errors."""

from alerts_testkit import HANDLER_PERMS, RULE_PERMS, SUPERVISOR_PERMS, AlertsTestCase, make_rule, penalty
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from foodrisk.alerts.models import Alert, WarningRule
from foodrisk.core.testing import APITestCases, ViewTestCases
from foodrisk.enterprises.testing import make_enterprise


class AlertMixin:
    model = Alert
    api_base = "/api/alerts/alerts/"

    def make_object(self, region):
        rule = WarningRule.objects.filter(code="harness").first() or make_rule("new_penalty", code="harness")
        ent = make_enterprise(region)
        return Alert.objects.create(rule=rule, enterprise=ent, region=region, level="red", summary="测试预警")


class AlertViewHarness(AlertMixin, ViewTestCases.List, ViewTestCases.Detail):
    pass


class AlertAPIHarness(AlertMixin, APITestCases.Read):
    pass


class AlertAPI(AlertsTestCase):
    def login(self, user):
        self.client.force_login(user)

    def post(self, alert, action, data, **kw):
        return self.client.post(f"/api/alerts/alerts/{alert.pk}/{action}/", data, content_type="application/json",
                                **kw)

    def test_workflow_over_the_api(self):
        alert = self.raise_penalty_alert()
        self.login(self.supervisor)
        r = self.client.get("/api/alerts/alerts/?queue=mine&level=orange&open=true")
        self.assertEqual([row["id"] for row in r.json()["results"]], [alert.pk])
        detail = self.client.get(f"/api/alerts/alerts/{alert.pk}/").json()
        self.assertEqual(detail["evidence"]["records"][0]["model"], "penalty")
        self.assertEqual(detail["events"][0]["action"], "raise")

        r = self.post(alert, "dispatch", {"organisation": self.org_a.pk})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["code"], "invalid_transition")
        r = self.post(alert, "review", {"decision": "dismiss"})
        self.assertEqual(r.status_code, 400)
        self.assertIn("note", r.json())
        with self.commit():
            r = self.post(alert, "review", {"decision": "confirm"})
        self.assertEqual(r.json()["status"], "confirmed")
        r = self.post(alert, "dispatch", {"organisation": self.org_b.pk})
        self.assertEqual(r.status_code, 400)
        self.assertIn("organisation", r.json())
        with self.commit():
            r = self.post(alert, "dispatch", {"organisation": self.org_a.pk, "assignee": self.handler.pk,
                                              "instructions": "核查"})
        self.assertEqual(r.json()["status"], "dispatched", r.content)

        self.login(self.handler)
        self.assertEqual(self.post(alert, "close", {"outcome": "resolved"}).status_code, 403)
        with self.commit():
            r = self.client.post(f"/api/alerts/alerts/{alert.pk}/handle/",
                                 {"feedback": "已现场检查", "files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4")]})
        self.assertEqual(r.status_code, 200, r.content)
        self.assertEqual(r.json()["status"], "in_hand")

        self.login(self.supervisor)
        with self.commit():
            r = self.post(alert, "close", {"outcome": "resolved", "note": "完成"})
        self.assertEqual(r.json()["status"], "closed")
        self.assertEqual([e["action"] for e in r.json()["events"]],
                         ["raise", "confirm", "dispatch", "handle", "close"])

    def test_other_region_is_not_found_and_cannot_act(self):
        alert = self.raise_penalty_alert()
        self.login(self.other)
        self.assertEqual(self.client.get(f"/api/alerts/alerts/{alert.pk}/").status_code, 404)
        self.assertEqual(self.post(alert, "review", {"decision": "confirm"}).status_code, 404)
        self.assertEqual(self.client.get(reverse("alerts:alert_detail", args=[alert.pk])).status_code, 404)
        r = self.client.post(reverse("alerts:alert_action", args=[alert.pk, "review"]),
                             {"review-decision": "confirm"})
        self.assertEqual(r.status_code, 404)
        alert.refresh_from_db()
        self.assertEqual(alert.status, "raised")

    def test_alerts_cannot_be_posted(self):
        self.login(self.supervisor)
        self.assertIn(self.client.post("/api/alerts/alerts/", {}, content_type="application/json").status_code,
                      (403, 405))

    def test_rules_api_validates_params(self):
        self.user = self.person("ruler", self.org_a, *RULE_PERMS)
        self.login(self.user)
        r = self.client.post("/api/alerts/rules/", {"code": "exp", "name": "到期", "kind": "licence_expiring",
                                                    "params": {"days": -1}, "level": "blue", "confirmed": True},
                             content_type="application/json")
        self.assertEqual(r.status_code, 400)
        self.assertIn("“days” must be at least 1", r.json()["params"][0])
        r = self.client.post("/api/alerts/rules/", {"code": "exp", "name": "到期", "kind": "licence_expiring",
                                                    "params": {"days": 60}, "level": "blue", "confirmed": True},
                             content_type="application/json")
        self.assertEqual(r.status_code, 201, r.content)
        self.assertIn("alerts.warningrule.create", self.audit_actions())
        r = self.client.patch(f"/api/alerts/rules/{r.json()['id']}/", {"params": {"nope": 1}},
                              content_type="application/json")
        self.assertEqual(r.status_code, 400)


class AlertPages(AlertsTestCase):
    def test_queue_pages_and_filters(self):
        alert = self.raise_penalty_alert()
        self.client.force_login(self.supervisor)
        for name in ("alerts:my_alerts", "alerts:org_alerts", "alerts:alert_list"):
            r = self.client.get(reverse(name))
            self.assertEqual(r.status_code, 200)
            self.assertEqual([row.record.pk for row in r.context["table"].rows], [alert.pk], name)
        r = self.client.get(reverse("alerts:alert_list") + "?level=blue")
        self.assertEqual(len(r.context["table"].rows), 0)
        r = self.client.get(reverse("alerts:alert_list") + f"?rule={alert.rule_id}&status=raised&overdue=false")
        self.assertEqual(len(r.context["table"].rows), 1)
        r = self.client.get(reverse("alerts:alert_list") + "?region=330106")
        self.assertEqual(len(r.context["table"].rows), 0)

    def test_detail_and_actions_through_the_ui(self):
        alert = self.raise_penalty_alert()
        self.client.force_login(self.supervisor)
        page = self.client.get(alert.get_absolute_url())
        self.assertContains(page, "上城区放心餐饮店")
        record = alert.evidence["records"][0]  # shown with its kind's name, not the model's code name "penalty"
        self.assertContains(page, f"(administrative penalty #{record['id']})")
        self.assertIn("review", page.context["action_forms"])
        self.assertNotIn("dispatch", page.context["action_forms"])
        url = lambda action: reverse("alerts:alert_action", args=[alert.pk, action])  # noqa: E731
        r = self.client.post(url("review"), {"review-decision": "dismiss", "review-note": ""})
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["action_forms"]["review"].errors)
        r = self.client.post(url("review"), {"review-decision": "dismiss", "review-note": ""}, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "<html")  # the actions partial only
        r = self.client.post(url("dispatch"), {"dispatch-organisation": self.org_a.pk})
        self.assertEqual(r.status_code, 200)  # not yet confirmed: the error is shown
        self.assertIn("Confirmed, awaiting dispatch", str(r.context["action_forms"]["dispatch"].errors))
        self.assertRedirects(self.client.post(url("review"), {"review-decision": "confirm"}), alert.get_absolute_url())
        r = self.client.post(url("dispatch"), {"dispatch-organisation": self.org_b.pk})
        self.assertTrue(r.context["action_forms"]["dispatch"].errors)  # not a choice for this enterprise
        self.assertRedirects(self.client.post(url("dispatch"), {"dispatch-assignee": self.handler.pk}),
                             alert.get_absolute_url())
        self.client.force_login(self.handler)
        r = self.client.post(url("handle"), {"handle-feedback": "已处理",
                                             "handle-files": [SimpleUploadedFile("x.txt", b"x")]})
        self.assertRedirects(r, alert.get_absolute_url())
        self.client.force_login(self.supervisor)
        self.assertRedirects(self.client.post(url("close"), {"close-outcome": "resolved"}), alert.get_absolute_url())
        alert.refresh_from_db()
        self.assertEqual(alert.status, "closed")
        page = self.client.get(alert.get_absolute_url())
        self.assertEqual(page.context["action_forms"], {})
        self.assertContains(page, "x.txt")

    def test_menu_section(self):
        self.client.force_login(self.handler)
        menu = self.client.get(reverse("alerts:my_alerts")).context["nav_menu"]
        section = next(s for s in menu if s["key"] == "alerts")
        self.assertEqual([i["url_name"] for i in section["items"]],
                         ["alerts:my_alerts", "alerts:org_alerts", "alerts:alert_list"])


class WarningRulePages(AlertsTestCase):
    def test_rule_crud_with_clear_parameter_errors(self):
        user = self.person("ruler", self.org_a, *RULE_PERMS)
        self.client.force_login(user)
        data = {"code": "sampling", "name": "抽检不合格", "kind": "failed_sampling", "params": '{"lookback": 5}',
                "level": "red", "target": "local", "deadline_days": "7", "enabled": "on"}
        r = self.client.post(reverse("alerts:warningrule_add"), data)
        self.assertEqual(r.status_code, 200)
        self.assertIn("Unknown parameter(s) lookback", str(r.context["form"].errors["params"]))
        data["params"] = ""
        r = self.client.post(reverse("alerts:warningrule_add"), data)  # created enabled: needs the confirmation
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].non_field_errors())
        self.assertFalse(WarningRule.objects.filter(code="sampling").exists())
        data["confirmed"] = "on"
        r = self.client.post(reverse("alerts:warningrule_add"), data)
        self.assertEqual(r.status_code, 302, r.context and r.context["form"].errors)
        del data["confirmed"]  # an edit that keeps the rule enabled needs none
        rule = WarningRule.objects.get(code="sampling")
        self.assertEqual(rule.params, {"lookback_days": 30})
        self.assertEqual(self.client.get(reverse("alerts:warningrule_list")).status_code, 200)
        self.assertEqual(self.client.get(rule.get_absolute_url()).status_code, 200)
        data["params"] = '{"lookback_days": 10}'
        self.assertEqual(self.client.post(reverse("alerts:warningrule_edit", args=[rule.pk]), data).status_code, 302)
        rule.refresh_from_db()
        self.assertEqual(rule.params, {"lookback_days": 10})
        WarningRule.objects.filter(pk=rule.pk).update(enabled=False)
        self.assertEqual(self.client.post(reverse("alerts:warningrule_edit", args=[rule.pk]), data).status_code, 200)
        rule.refresh_from_db()
        self.assertFalse(rule.enabled)  # switching it back on without the confirmation: refused
        self.assertEqual(self.client.post(reverse("alerts:warningrule_edit", args=[rule.pk]),
                                          {**data, "confirmed": "on"}).status_code, 302)
        self.assertEqual({"alerts.warningrule.create", "alerts.warningrule.update"} & set(self.audit_actions()),
                         {"alerts.warningrule.create", "alerts.warningrule.update"})

    def test_rules_need_permission(self):
        self.client.force_login(self.person("noone", self.org_a, *SUPERVISOR_PERMS, *HANDLER_PERMS))
        self.assertEqual(self.client.get(reverse("alerts:warningrule_list")).status_code, 403)

    def test_rule_in_use_cannot_be_deleted(self):
        with self.commit():
            make_rule("new_penalty")
            penalty(self.ent)
        user = self.person("ruler", self.org_a, *RULE_PERMS)
        self.client.force_login(user)
        rule = WarningRule.objects.get()
        self.client.post(reverse("alerts:warningrule_delete", args=[rule.pk]))
        self.assertTrue(WarningRule.objects.filter(pk=rule.pk).exists())


class AlertPagesInChinese(AlertsTestCase):
    def test_menu_and_messages_are_translated(self):
        alert = self.raise_penalty_alert()
        self.client.cookies.pop("django_language", None)
        self.client.force_login(self.supervisor)
        page = self.client.get(alert.get_absolute_url())
        self.assertContains(page, "风险预警")
        self.assertContains(page, "待复核")
        from django.utils import translation

        from foodrisk.alerts.params import validate_params

        with translation.override("zh-hans"), self.assertRaisesMessage(Exception, "“days”不能小于 1"):
            validate_params("licence_expiring", {"days": 0})
