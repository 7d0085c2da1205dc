from django.db import models
from django.utils.translation import gettext_lazy as _


class InspectionKind(models.TextChoices):
    ROUTINE = "routine", _("Routine inspection")
    SPECIAL = "special", _("Special inspection")
    RANDOM = "random", _("Random inspection (双随机)")
    FLIGHT = "flight", _("Flight inspection")


class InspectionResult(models.TextChoices):
    PASS = "pass", _("Compliant")
    BASIC = "basic", _("Basically compliant")
    FAIL = "fail", _("Non-compliant")


class SamplingLevel(models.TextChoices):
    NATIONAL = "national", _("National sampling")
    PROVINCIAL = "provincial", _("Provincial sampling")
    CITY = "city", _("City sampling")
    COUNTY = "county", _("County sampling")


class SamplingResult(models.TextChoices):
    PASS = "pass", _("Qualified")
    FAIL = "fail", _("Unqualified")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    GENERAL = "general", _("General")
    HEAVY = "heavy", _("Heavy")
    SERIOUS = "serious", _("Serious")


class ComplaintChannel(models.TextChoices):
    C12315 = "12315", "12315"
    C12345 = "12345", "12345"
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")
    ONLINE = "online", _("Online")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    HANDLING = "handling", _("Handling")
    CLOSED = "closed", _("Closed")


class RepairDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RepairTarget(models.TextChoices):
    PENALTIES = "penalties", _("Administrative penalty")
    LIST_ENTRIES = "list_entries", _("List entry")


class ListKind(models.TextChoices):
    ABNORMAL = "abnormal", _("Abnormal-operation list")
    SERIOUS = "serious", _("Serious illegal and dishonest list")


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    EVIDENCE = "evidence", _("Rectification evidence")
    PROOF = "proof", _("Proof document")
    OTHER = "other", _("Other")
