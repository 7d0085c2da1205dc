"""One place where permission and region scope meet: `Model.objects.restrict(user, action)`."""

from django.db import models


def region_prefix(code):
    """The prefix every descendant code starts with: 330000 → 33, 330100 → 3301, 330102 → 330102.

    Stations (sub-county supervision units) carry 9+ digit codes that start with their county's code.
    """
    if not code:
        return ""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def organisation_covers(organisation, region_code):
    """An organisation's jurisdiction contains the region (a county bureau covers its stations' enterprises)."""
    return bool(region_code) and region_code.startswith(region_prefix(organisation.region_id))


class RestrictedQuerySet(models.QuerySet):
    """Querysets of region-scoped models.

    A model names the path to its Region foreign key in `scope_field` ("region",
    "enterprise__region", …); `None` means the model is not region-scoped.
    """

    def restrict(self, user, action="view"):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        opts = self.model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            return self.none()
        return self.in_scope(user)

    def in_scope(self, user):
        prefix = user.scope_prefix
        if prefix == "":
            return self
        if prefix is None:
            return self.none()
        scope_field = getattr(self.model, "scope_field", None)
        if scope_field is None:
            return self
        lookup = "code__startswith" if scope_field == "self" else f"{scope_field}__code__startswith"
        return self.filter(**{lookup: prefix})


class OwnedRestrictedQuerySet(RestrictedQuerySet):
    """Rows that carry their owner (`owner_field`): the owner views their own rows without the model's view
    permission (a job one started, an export one requested); with it, the region scope applies as usual."""

    owner_field = "created_by"

    def restrict(self, user, action="view"):
        opts = self.model._meta
        if action == "view" and user is not None and user.is_authenticated and user.is_active \
                and not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            return self.filter(**{self.owner_field: user})
        return super().restrict(user, action)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass
