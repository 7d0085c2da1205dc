from django.db import models
from django.utils.translation import gettext_lazy as _

from foodrisk.enterprises.choices import LinkMethod


class Kind(models.TextChoices):
    ENTERPRISES = "enterprises", _("Enterprises")
    LICENCES = "licences", _("Licences")
    INSPECTIONS = "inspections", _("Inspections")
    SAMPLING_TESTS = "sampling_tests", _("Sampling tests")
    PENALTIES = "penalties", _("Administrative penalties")
    COMPLAINTS = "complaints", _("Complaints")
    CREDIT_REPAIRS = "credit_repairs", _("Credit repairs")
    LIST_ENTRIES = "list_entries", _("List entries")


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class QuarantineStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FIXED = "fixed", _("Fixed")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    DISCARDED = "discarded", _("Discarded")


class CandidateStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")


# how a record found its enterprise; in a batch's report "queued" counts the rows waiting in the review queue
# (a row confirmed there later is written with "review")
LINK_LABELS = {**dict(LinkMethod.choices), "queued": _("waiting in the review queue")}
