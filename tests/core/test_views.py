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
