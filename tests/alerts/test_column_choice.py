"""Each person chooses the columns of his warning queue (a menu of checkboxes on the page): kept for him
(another person keeps his role's columns), for every queue of the table, back to his role's with "default";
an unknown column or none at all is refused; no audit entry (a preference, not a key operation); without the
permission to view warnings the page and the choice are refused; exports keep every column."""

from alerts_testkit import AlertsTestCase, ago, make_rule
from django.conf import settings
from django.urls import reverse

from foodrisk.alerts.models import Alert
from foodrisk.core.models import AuditEntry, ColumnChoice, User
from foodrisk.core.testing import PASSWORD, english_words, grant

ROLE_COLUMNS = ["select", "level", "enterprise", "rule", "status", "deadline", "raised_at"]


class ColumnChoiceTests(AlertsTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        rule = make_rule("new_penalty")
        Alert.objects.create(rule=rule, enterprise=cls.ent, region=cls.region_a, level="red", summary="摘要",
                             organisation=cls.org_a, deadline=ago(1))
        cls.colleague = cls.person("colleague", cls.org_a, *[
            f"{p.content_type.app_label}.{p.codename}" for p in cls.supervisor.user_permissions.all()])

    def columns(self, user, url="alerts:alert_list"):
        self.client.force_login(user)
        r = self.client.get(reverse(url))
        self.assertEqual(r.status_code, 200)
        return [c.name for c in r.context["table"].columns]

    def choose(self, user, *columns, url="alerts:alert_list", **extra):
        self.client.force_login(user)
        return self.client.post(reverse(url) + "?status=raised", {"columns": list(columns), **extra})

    def test_the_page_offers_every_column_with_the_roles_ticked(self):
        self.client.force_login(self.supervisor)
        html = self.client.get(reverse("alerts:alert_list")).content.decode()
        self.assertIn('data-bs-auto-close="outside"', html)
        for name in ("level", "summary", "assignee", "region"):
            self.assertIn(f'name="columns" value="{name}"', html)
        self.assertRegex(html, r'value="level" id="column-level" checked')
        self.assertNotRegex(html, r'value="summary" id="column-summary" checked')

    def test_a_choice_is_kept_for_the_person_only(self):
        r = self.choose(self.supervisor, "enterprise", "summary", "level", "assignee")
        self.assertRedirects(r, reverse("alerts:alert_list") + "?status=raised", fetch_redirect_response=False)
        # the table's order, the checkboxes of a reviewer kept
        self.assertEqual(self.columns(self.supervisor), ["select", "level", "enterprise", "summary", "assignee"])
        self.assertEqual(self.columns(self.supervisor, "alerts:my_alerts"),
                         ["select", "level", "enterprise", "summary", "assignee"])  # every queue of the table
        self.assertEqual(self.columns(self.colleague), ROLE_COLUMNS)  # another person: his role's
        self.assertEqual(ColumnChoice.objects.get(user=self.supervisor).columns,
                         ["level", "enterprise", "summary", "assignee"])
        self.assertFalse(AuditEntry.objects.filter(action__icontains="column").exists())
        self.choose(self.supervisor, "level", "rule")  # a second choice replaces the first
        self.assertEqual(ColumnChoice.objects.filter(user=self.supervisor).count(), 1)
        self.assertEqual(self.columns(self.supervisor), ["select", "level", "rule"])

    def test_default_forgets_the_choice(self):
        self.choose(self.supervisor, "level")
        self.choose(self.supervisor, reset="1")
        self.assertEqual(self.columns(self.supervisor), ROLE_COLUMNS)
        self.assertFalse(ColumnChoice.objects.exists())

    def test_an_unknown_column_or_none_is_refused_in_chinese(self):
        self.choose(self.supervisor, "level")
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        for columns, message in ((["level", "password"], "此列表没有以下列：password"), (["select"], "此列表没有以下列"),
                                 ([], "请至少选择一列")):
            r = self.client.post(reverse("alerts:alert_list"), {"columns": columns}, follow=True)
            self.assertEqual(r.status_code, 200)
            self.assertIn(message, " ".join(str(m) for m in r.context["messages"]), columns)
            self.assertEqual(ColumnChoice.objects.get(user=self.supervisor).columns, ["level"])

    def test_a_column_no_longer_offered_is_dropped(self):
        ColumnChoice.objects.create(user=self.supervisor, table="alerts.alert.AlertTable", columns=["gone", "rule"])
        self.assertEqual(self.columns(self.supervisor), ["select", "rule"])
        ColumnChoice.objects.filter(user=self.supervisor).update(columns=["gone"])
        self.assertEqual(self.columns(self.supervisor), ROLE_COLUMNS)

    def test_without_the_permission_nothing_is_shown_or_kept(self):
        nobody = User.objects.create_user("nobody_columns", password=PASSWORD, organisation=self.org_a)
        self.client.force_login(nobody)
        self.assertEqual(self.client.get(reverse("alerts:alert_list")).status_code, 403)
        self.assertEqual(self.client.post(reverse("alerts:alert_list"), {"columns": ["level"]}).status_code, 403)
        self.assertFalse(ColumnChoice.objects.exists())

    def test_lists_without_a_menu_refuse_a_post(self):
        self.client.force_login(grant(self.supervisor, "alerts.view_warningrule"))
        self.assertEqual(self.client.post(reverse("alerts:warningrule_list"), {"columns": ["code"]}).status_code,
                         405)

    def test_the_menu_is_in_chinese(self):
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        self.client.force_login(self.supervisor)
        html = self.client.get(reverse("alerts:alert_list")).content.decode()
        menu = html[html.index("app-column-menu"):]
        menu = menu[:menu.index("</form>")]
        self.assertIn("显示列", html)
        self.assertIn("恢复默认列", menu)
        self.assertEqual(english_words(menu), set())
