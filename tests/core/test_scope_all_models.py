"""Every model that people read through `restrict` is checked here, so a new model cannot slip in
without a conscious scope decision: a region path that filters by the user's subtree, or an explicit
place on the list of reference/policy data that is the same for every region."""

from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from foodrisk.core.models import User
from foodrisk.core.testing import ScopedTestCase, grant

# Same for every region by design: reference data, policy, system operation.
NOT_REGION_DATA = {
    "core.role", "core.dictionarytype", "core.dictionaryitem", "core.parameter", "core.messagetemplate",
    "core.schedule", "indicators.indicatorset", "scoring.scoringrun", "scoring.modelversion",
    "scoring.driftreport", "alerts.warningrule", "ingest.source", "ingest.mappingprofile",
    "supervision.supervisionprofile", "supervision.checklisttemplate", "supervision.checklistitem",
}


# Scoped by their own in_scope (a region code column rather than a foreign key).
SCOPED_BY_CODE = {"core.auditentry"}


def restricted_models():
    for model in apps.get_models():
        if model.__module__.startswith("foodrisk.") and hasattr(model.objects, "restrict"):
            yield model


class EveryModelTests(ScopedTestCase):
    def test_scope_is_declared_for_every_restricted_model(self):
        undeclared = []
        for model in restricted_models():
            label = model._meta.label_lower
            if label in SCOPED_BY_CODE:
                continue
            if getattr(model, "scope_field", None) is None and label not in NOT_REGION_DATA:
                undeclared.append(label)
        self.assertEqual(undeclared, [], "region-scope these models or list them as NOT_REGION_DATA")

    def test_without_permission_nothing_is_visible(self):
        for model in restricted_models():
            qs = model.objects.restrict(self.user, "view")
            self.assertFalse(qs.exists(), model._meta.label)
            self.assertFalse(model.objects.restrict(AnonymousUser(), "view").exists(), model._meta.label)

    def test_scoped_models_filter_by_the_users_subtree(self):
        for model in restricted_models():
            if getattr(model, "scope_field", None) is None and model._meta.label_lower not in SCOPED_BY_CODE:
                continue
            opts = model._meta
            user = grant(User.objects.get(pk=self.user.pk), f"{opts.app_label}.view_{opts.model_name}")
            sql, params = model.objects.restrict(user, "view").query.sql_with_params()
            self.assertTrue(any(str(p).startswith("330102") for p in params),
                            f"{opts.label}: the query does not filter by the user's region prefix: {sql}")
