"""Who holds a permission (notification recipients, the dispatch form's people) is one query that answers
what User.has_perm answers: roles, direct permissions, superusers; never inactive users."""

import pytest
from alerts_testkit import AlertsTestCase
from django.contrib.auth.models import Permission

from foodrisk.alerts import services
from foodrisk.alerts.forms import DispatchForm
from foodrisk.alerts.models import Alert
from foodrisk.core.models import Role, User
from foodrisk.core.services import accounts

PERMS = ("alerts.handle_alert", "alerts.review_alert", "alerts.dispatch_alert")


def by_has_perm(perm, users):
    """The reference answer: has_perm on fresh instances (no permission cache)."""
    return [u for u in users if User.objects.get(pk=u.pk).has_perm(perm)]


class PermissionHolders(AlertsTestCase):
    @pytest.fixture(autouse=True)
    def _pytest_fixtures(self, django_assert_max_num_queries):
        self.max_queries = django_assert_max_num_queries

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.role = Role.objects.create(name="预警处置", code="alert-handler")
        cls.role.permissions.add(Permission.objects.get(codename="handle_alert"))
        cls.role_holder = cls.person("role_holder", cls.org_a)
        cls.role_holder.groups.add(cls.role)
        cls.direct = cls.person("direct", cls.org_a, "alerts.review_alert")
        cls.admin = cls.person("admin", cls.org_a, is_superuser=True)
        cls.inactive = cls.person("inactive", cls.org_a, "alerts.handle_alert", is_active=False)
        cls.inactive_admin = cls.person("inactive_admin", cls.org_a, is_superuser=True, is_active=False)
        cls.inactive_role = cls.person("inactive_role", cls.org_a, is_active=False)
        cls.inactive_role.groups.add(cls.role)
        cls.other_admin = cls.person("other_admin", cls.org_b, is_superuser=True)
        # in the city bureau (covers district A) but scoped to district B: not a dispatch choice there
        cls.city_handler = cls.person("city_handler", cls.city, "alerts.handle_alert")
        cls.city_b = cls.person("city_b", cls.city, "alerts.handle_alert", scope_region=cls.region_b)

    def add_role_holders(self, n):
        for i in range(n):
            self.person(f"extra{i}", self.org_a).groups.add(self.role)

    def test_recipients_equal_has_perm(self):
        org_users = list(User.objects.filter(organisation=self.org_a, is_active=True).order_by("pk"))
        for perm in PERMS:
            with self.subTest(perm=perm):
                expected = by_has_perm(perm, org_users)
                self.assertIn(self.admin, expected)
                self.assertEqual(services._users_with(self.org_a, perm), expected)
                self.assertEqual(services._users_with(self.org_a, perm, exclude=self.admin),
                                 [u for u in expected if u != self.admin])
        everyone = list(User.objects.order_by("pk"))
        for perm in PERMS:
            with self.subTest(perm=perm, scope="all"):
                self.assertEqual(list(accounts.users_with_perm(perm).order_by("pk")), by_has_perm(perm, everyone))
        self.assertEqual(services._users_with(None, "alerts.handle_alert"), [])

    def test_recipients_take_one_query_whatever_the_number_of_users(self):
        for extra in (0, 25):
            self.add_role_holders(extra)
            with self.max_queries(1):
                found = services._users_with(self.org_a, "alerts.handle_alert", exclude=self.handler)
            self.assertEqual(len(found), 2 + extra)  # role holder, superuser, extras (handler excluded)

    def dispatch_choices(self, alert):
        form = DispatchForm(alert=alert, user=self.supervisor)
        return list(form.fields["assignee"].queryset.order_by("pk"))

    def test_dispatch_choices_equal_has_perm_in_scope(self):
        alert = self.raise_penalty_alert()
        covering = [self.org_a.pk, self.city.pk]  # organisations whose jurisdiction holds district A
        candidates = User.objects.filter(is_active=True, organisation_id__in=covering).order_by("pk")
        expected = [u for u in by_has_perm("alerts.handle_alert", candidates) if u.in_scope(alert.region_id)]
        self.assertEqual(self.dispatch_choices(alert), expected)
        self.assertEqual(set(expected), {self.handler, self.role_holder, self.admin, self.city_handler})

    def test_dispatch_form_queries_do_not_grow_with_users(self):
        alert = Alert.objects.select_related("enterprise").get(pk=self.raise_penalty_alert().pk)
        for extra in (0, 25):
            self.add_role_holders(extra)
            with self.max_queries(3):  # organisations, permission holders, the choices themselves
                choices = self.dispatch_choices(alert)
            self.assertEqual(len(choices), 4 + extra)
