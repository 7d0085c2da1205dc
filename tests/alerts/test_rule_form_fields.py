"""The warning-rule form shows each kind's parameters as ordinary fields (alerts.params schema): posting
them saves what the JSON saved, bad values are Chinese errors next to the field, the JSON stays for experts."""

import re

from alerts_testkit import RULE_PERMS, AlertsTestCase, make_rule
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from foodrisk.alerts.models import WarningRule
from foodrisk.alerts.params import summary

BASE = {"code": "cluster", "name": "投诉聚集", "kind": "complaint_cluster", "level": "orange", "target": "local",
        "deadline_days": "7", "enabled": "on", "confirmed": "on", "params_kind": "complaint_cluster"}


def visible_text(html):
    """The form's words a user reads: no tags, no attribute values, no contents of the advanced JSON box."""
    start = html.rindex("<form", 0, html.index("app-form"))
    form = html[start:html.index("</form>", start)]
    form = re.sub(r"<textarea[^>]*name=\"params\"[^>]*>.*?</textarea>", "", form, flags=re.S)
    return re.sub(r"<[^>]+>", " ", form)


class RuleFormFields(AlertsTestCase):
    def setUp(self):
        super().setUp()
        self.enterContext(translation.override("zh-hans"))
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        self.client.force_login(self.person("ruler", self.org_a, *RULE_PERMS))

    def post(self, data, rule=None):
        url = reverse("alerts:warningrule_edit", args=[rule.pk]) if rule else reverse("alerts:warningrule_add")
        return self.client.post(url, data)

    def test_fields_save_what_the_json_saved(self):
        r = self.post({**BASE, "param_count": "4", "param_days": "10"})  # verified_only unticked
        self.assertEqual(r.status_code, 302, r.context and r.context["form"].errors)
        from_fields = WarningRule.objects.get(code="cluster").params
        as_json = {k: v for k, v in BASE.items() if k != "params_kind"}  # a post without the fields: JSON only
        r = self.post({**as_json, "code": "cluster-json", "params": '{"count": 4, "days": 10, "verified_only": false}'})
        self.assertEqual(r.status_code, 302, r.context and r.context["form"].errors)
        self.assertEqual(from_fields, WarningRule.objects.get(code="cluster-json").params)
        self.assertEqual(from_fields, {"count": 4, "days": 10, "verified_only": False})

    def test_choice_and_choices_fields(self):
        data = {**BASE, "kind": "new_penalty", "params_kind": "new_penalty", "param_severities": ["heavy", "serious"],
                "param_min_fine": "5000", "param_lookback_days": "30"}
        self.assertEqual(self.post(data).status_code, 302)
        rule = WarningRule.objects.get(code="cluster")
        self.assertEqual(rule.params, {"severities": ["heavy", "serious"], "min_fine": 5000, "lookback_days": 30})
        self.assertEqual(summary(rule.kind, rule.params), "情节轻重：较重、严重；最低罚款（元）：5000；回溯天数：30")
        data = {**data, "kind": "indicator_jump", "params_kind": "indicator_jump", "param_record_kind": "penalties",
                "param_period_days": "60", "param_factor": "2.5", "param_min_count": "2"}
        self.assertEqual(self.post(data, rule).status_code, 302)
        rule.refresh_from_db()
        self.assertEqual(rule.params, {"record_kind": "penalties", "period_days": 60, "factor": 2.5, "min_count": 2})

    def test_bad_values_are_chinese_field_errors_and_nothing_is_saved(self):
        rule = make_rule("complaint_cluster", code="cluster", count=3, days=30, verified_only=True)
        r = self.post({**BASE, "param_count": "1", "param_days": "三十", "param_verified_only": "on"}, rule)
        self.assertEqual(r.status_code, 200)
        errors = r.context["form"].errors
        self.assertIn("大于或等于2", str(errors["param_count"]))
        self.assertIn("整数", str(errors["param_days"]))
        self.assertNotIn("params", errors)
        rule.refresh_from_db()
        self.assertEqual(rule.params, {"count": 3, "days": 30, "verified_only": True})
        r = self.post({**BASE, "kind": "listed", "params_kind": "listed", "param_lists": ["grey"],
                       "param_lookback_days": "30"}, rule)
        self.assertIn("grey", str(r.context["form"].errors["param_lists"]))  # "选择一个有效的选项。grey 不在…"

    def test_edited_json_wins_and_is_validated(self):
        rule = make_rule("complaint_cluster", code="cluster")
        data = {**BASE, "param_count": "3", "param_days": "30", "param_verified_only": "on"}
        r = self.post({**data, "params": '{"count": 9, "days": 5}'}, rule)
        self.assertEqual(r.status_code, 302)
        rule.refresh_from_db()
        self.assertEqual(rule.params, {"count": 9, "days": 5, "verified_only": True})
        r = self.post({**data, "params": '{"count": 1}'}, rule)
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.context["form"].errors["params"])

    def test_the_form_shows_fields_not_json_and_no_english(self):
        rule = make_rule("grade_drop", code="drop", to_grades=["C", "D"])
        page = self.client.get(reverse("alerts:warningrule_edit", args=[rule.pk])).content.decode()
        self.assertEqual(page.count("<textarea"), 2)  # the description and the advanced JSON
        self.assertIn('<details class="mb-3">', page)  # …collapsed
        self.assertIn('type="number" name="param_min_steps" value="1"', page)
        self.assertIn('min="1"', page)
        self.assertRegex(page, r'type="checkbox" name="param_to_grades" value="C"[^>]*checked')
        self.assertIn("新等级", page)
        self.assertIn("C · 信用风险较高", page)
        words = set(re.findall(r"[A-Za-z]{3,}", visible_text(page))) - {"JSON"}
        self.assertFalse(words, visible_text(page))

    def test_picking_another_kind_renders_its_fields(self):
        rule = make_rule("grade_drop", code="drop")
        url = reverse("alerts:warningrule_edit", args=[rule.pk])
        part = self.client.get(url, {"kind": "failed_inspection"}, headers={"HX-Request": "true"}).content.decode()
        self.assertTrue(part.lstrip().startswith('<fieldset id="rule-params"'))
        self.assertIn('name="param_min_key_items_failed"', part)
        self.assertIn("不符合", part)
        self.assertNotIn("param_min_steps", part)
        self.assertIn(f'hx-get="{url}"', self.client.get(url).content.decode())
        # without htmx: the save shows the new kind's fields with their defaults and saves nothing yet
        r = self.post({**BASE, "code": "drop", "kind": "licence_expiring", "params_kind": "grade_drop",
                       "param_min_steps": "1"}, rule)
        self.assertEqual(r.status_code, 200)
        self.assertIn('name="param_days" value="30"', r.content.decode())
        self.assertTrue(r.context["form"].non_field_errors())
        rule.refresh_from_db()
        self.assertEqual(rule.kind, "grade_drop")

    def test_summary_reads_as_chinese(self):
        self.assertEqual(summary("complaint_cluster", {"days": 30}), "投诉件数：3；天数：30；仅已核实：是")
        self.assertEqual(summary("grade_drop", {}), "最少下降等级数：1；新等级：不限；首次评级也预警：否")

    def test_the_rule_page_shows_the_parameters_as_text(self):
        rule = make_rule("complaint_cluster", code="cluster", days=10)
        page = self.client.get(rule.get_absolute_url()).content.decode()
        self.assertIn("投诉件数：3；天数：10；仅已核实：是", page)
        self.assertNotIn("verified_only", page)
