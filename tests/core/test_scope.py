from foodrisk.core.models import Organisation, Region, User
from foodrisk.core.querysets import region_prefix
from foodrisk.core.testing import ScopedTestCase


def test_region_prefix():
    assert region_prefix("330000") == "33"
    assert region_prefix("330100") == "3301"
    assert region_prefix("330102") == "330102"
    assert region_prefix("330102001") == "330102001"
    assert region_prefix("") == ""


class ScopeTests(ScopedTestCase):
    def test_restrict_needs_permission(self):
        self.assertEqual(Organisation.objects.restrict(self.user, "view").count(), 0)

    def test_district_user_sees_own_district_and_stations(self):
        Region.objects.create(code="330102001", name="湖滨所", level="station", parent=self.region_a)
        station_org = Organisation.objects.create(code="S1", name="湖滨所", region_id="330102001")
        self.grant("core.view_organisation")
        visible = set(Organisation.objects.restrict(self.user, "view"))
        self.assertEqual(visible, {self.org_a, station_org})

    def test_leader_with_wider_scope_sees_the_city(self):
        leader = User.objects.create_user("leader", organisation=self.org_a, scope_region=self.regions["330100"])
        from foodrisk.core.testing import grant

        leader = grant(leader, "core.view_organisation")
        ningbo = Organisation.objects.create(code="NB", name="宁波", region=self.regions["330203"])
        visible = set(Organisation.objects.restrict(leader, "view"))
        self.assertIn(self.org_b, visible)
        self.assertNotIn(ningbo, visible)

    def test_user_without_organisation_sees_nothing(self):
        from foodrisk.core.testing import grant

        lost = grant(User.objects.create_user("lost"), "core.view_organisation")
        self.assertEqual(Organisation.objects.restrict(lost, "view").count(), 0)

    def test_inactive_and_anonymous_see_nothing(self):
        from django.contrib.auth.models import AnonymousUser

        self.grant("core.view_organisation")
        self.user.is_active = False
        self.assertEqual(Organisation.objects.restrict(self.user, "view").count(), 0)
        self.assertEqual(Organisation.objects.restrict(AnonymousUser(), "view").count(), 0)

    def test_every_scoped_model_names_a_region_path(self):
        """The harness contract: each model with a manager that restricts resolves its scope lookup."""
        from django.apps import apps

        for model in apps.get_models():
            if hasattr(model.objects, "restrict") and getattr(model, "scope_field", None) not in (None, "self"):
                model.objects.in_scope(self.user).exists()  # raises FieldError on a wrong path
