from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessForm(models.TextChoices):
    PRODUCTION = "production", _("Food production")
    SALES = "sales", _("Food sales")
    CATERING = "catering", _("Catering service")
    CANTEEN = "canteen", _("Unit canteen")
    SPECIAL = "special", _("Special food")


class Scale(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    REVOKED = "revoked", _("Revoked")
    SUSPENDED = "suspended", _("Suspended")


class StaticTier(models.IntegerChoices):
    I = 1, "Ⅰ"  # noqa: E741
    II = 2, "Ⅱ"
    III = 3, "Ⅲ"
    IV = 4, "Ⅳ"


class Grade(models.TextChoices):
    A = "A", _("A · low credit risk")
    B = "B", _("B · average credit risk")
    C = "C", _("C · higher credit risk")
    D = "D", _("D · high credit risk")


class LicenceKind(models.TextChoices):
    SC = "SC", _("Food production licence")
    JY = "JY", _("Food business licence")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    CANCELLED = "cancelled", _("Cancelled")


class LinkMethod(models.TextChoices):
    """How an imported record (or a crosswalk identifier) found its enterprise."""

    USCC = "uscc", _("by USCC")
    LICENCE = "licence", _("by licence number")
    CROSSWALK = "crosswalk", _("by the source system's identifier (crosswalk)")
    NAME = "name", _("by name and address")
    REVIEW = "review", _("confirmed in the review queue")
