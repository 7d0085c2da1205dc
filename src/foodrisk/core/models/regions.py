from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..querysets import RestrictedManager, region_prefix


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")
    STATION = "station", _("Supervision station")


class Region(models.Model):
    """A GB/T 2260 division, or a sub-county supervision station (9+ digit code under its county)."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    scope_field = "self"
    objects = RestrictedManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return f"{self.name}（{self.code}）"

    def get_absolute_url(self):
        return reverse("core:region_detail", args=[self.pk])

    @property
    def prefix(self):
        return region_prefix(self.code)

    def contains(self, code):
        return bool(code) and code.startswith(self.prefix)


class OrganisationKind(models.TextChoices):
    BUREAU = "bureau", _("Market regulation bureau")
    BRANCH = "branch", _("Branch bureau")
    STATION = "station", _("Supervision station")
    OTHER = "other", _("Other")


class Organisation(models.Model):
    """A body users belong to; its jurisdiction is the subtree of its region."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=OrganisationKind.choices, default="bureau")
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    region = models.ForeignKey(Region, verbose_name=_("jurisdiction"), on_delete=models.PROTECT)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    scope_field = "region"
    objects = RestrictedManager()

    class Meta:
        ordering = ["region_id", "code"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:organisation_detail", args=[self.pk])
