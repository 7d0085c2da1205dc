from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..fields import EncryptedTextField
from ..querysets import RestrictedQuerySet, region_prefix


class Role(Group):
    """A named set of permissions (Django group) with a stable code for seeding and tests."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("built-in"), default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def get_absolute_url(self):
        return reverse("core:role_detail", args=[self.pk])


class ScopedUserManager(UserManager.from_queryset(RestrictedQuerySet)):
    pass


class User(AbstractUser):
    """A person. Data scope = the explicit scope region if set, else the organisation's jurisdiction."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    organisation = models.ForeignKey(
        "core.Organisation", verbose_name=_("organisation"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    scope_region = models.ForeignKey(
        "core.Region", verbose_name=_("data scope"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Overrides the organisation's jurisdiction, e.g. a wider scope for a leader."),
    )
    national_scope = models.BooleanField(
        _("national scope"), default=False, help_text=_("Sees every region (system operators only).")
    )
    phone = EncryptedTextField(_("mobile phone"), blank=True)

    scope_field = "organisation__region"
    objects = ScopedUserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("reset_password_user", _("Can reset other users' passwords"))]

    def __str__(self):
        return self.full_name or self.username

    def get_absolute_url(self):
        return reverse("core:user_detail", args=[self.pk])

    @property
    def scope_code(self):
        if self.scope_region_id:
            return self.scope_region_id
        if self.organisation_id:
            return self.organisation.region_id
        return None

    @property
    def scope_prefix(self):
        """'' = everywhere, None = nowhere, otherwise the region-code prefix of the user's subtree."""
        if self.national_scope or (self.is_superuser and not self.scope_code):
            return ""  # a superuser tied to an organisation keeps that organisation's scope
        code = self.scope_code
        return region_prefix(code) if code else None

    @property
    def scope_label(self):
        from .regions import Region

        if self.scope_prefix == "":
            return None
        region = Region.objects.filter(pk=self.scope_code).first() if self.scope_code else None
        return region.full_name or region.name if region else None

    def in_scope(self, region_code):
        prefix = self.scope_prefix
        return prefix == "" or (prefix is not None and bool(region_code) and region_code.startswith(prefix))
