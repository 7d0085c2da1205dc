from django.db import models
from django.utils.translation import gettext_lazy as _


class RunKind(models.TextChoices):
    FULL = "full", _("Full")
    INCREMENTAL = "incremental", _("Incremental")
    EVENT = "event", _("Event-triggered")
    PREVIEW = "preview", _("Impact preview")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


GRADES = ("A", "B", "C", "D")


class TrainingTarget(models.TextChoices):
    """What a candidate model learns to predict (engine.model.TRAINING_TARGETS holds each one's label)."""

    ENTERPRISE = "enterprise", _("Enterprise: any adverse outcome within 12 months")
    INSPECTION = "inspection", _("Each inspection: key items failed, visits within 2 months")


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    CHAMPION = "champion", _("Champion")
    RETIRED = "retired", _("Retired")


class DriftStatus(models.TextChoices):
    STABLE = "stable", _("Stable")
    WATCH = "watch", _("Watch")
    ACT = "act", _("Act / re-fit")
