from foodrisk.core.models import Organisation
from foodrisk.core.testing import APITestCases, ViewTestCases


class OrganisationMixin:
    model = Organisation
    api_base = "/api/core/organisations/"
    counter = 0

    def make_object(self, region):
        OrganisationMixin.counter += 1
        return Organisation.objects.create(code=f"X{self.counter}", name=f"测试机构{self.counter}号",
                                           region=region)

    def form_data(self, region):
        OrganisationMixin.counter += 1
        return {"code": f"F{self.counter}", "name": "新建市场监管所", "kind": "station", "region": region.pk,
                "active": "on"}

    def api_data(self, region):
        OrganisationMixin.counter += 1
        return {"code": f"P{self.counter}", "name": "接口新建机构", "kind": "station", "region": region.pk}


class OrganisationViewTests(OrganisationMixin, ViewTestCases.All):
    pass


class OrganisationAPITests(OrganisationMixin, APITestCases.All):
    pass

    def test_api_delete_of_a_referenced_object_is_a_conflict(self):
        """A PROTECTed reference (here a user of the organisation) refuses the delete: 409 with the reason,
        the object kept and no delete audited, as the UI's delete page does (not a 500)."""
        from django.utils.translation import gettext

        from foodrisk.core.models import User

        mine = self.make_object(self.region_a)
        User.objects.create_user("member", password="x-Long-Password-1", organisation=mine)
        self.grant(self.perm("view"), self.perm("delete"))
        response = self.client.delete(f"{self.api_base}{mine.pk}/")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["detail"],
                         gettext("This object is still referenced by other records and cannot be deleted."))
        self.assertTrue(Organisation.objects.filter(pk=mine.pk).exists())
        self.assertNotIn("core.organisation.delete", self.audit_actions())
