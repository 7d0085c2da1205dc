from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleKind(models.TextChoices):
    GRADE_DROP = "grade_drop", _("Grade dropped")
    INDICATOR_JUMP = "indicator_jump", _("Key indicator jumped")
    COMPLAINT_CLUSTER = "complaint_cluster", _("Complaint cluster")
    NEW_PENALTY = "new_penalty", _("New administrative penalty")
    FAILED_INSPECTION = "failed_inspection", _("Failed inspection")
    FAILED_SAMPLING = "failed_sampling", _("Failed sampling test")
    LICENCE_EXPIRING = "licence_expiring", _("Licence expiring")
    LICENCE_EXPIRED = "licence_expired", _("Licence expired")
    REPAIR_REJECTED = "repair_rejected", _("Credit repair rejected")
    REPAIR_LAPSED = "repair_lapsed", _("Credit repair lapsed")
    LISTED = "listed", _("Put on the abnormal / serious list")


class AlertLevel(models.TextChoices):
    """Four warning colours; red is the most severe."""

    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    YELLOW = "yellow", _("Yellow")
    BLUE = "blue", _("Blue")


LEVEL_ORDER = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}


class TargetRule(models.TextChoices):
    LOCAL = "local", _("Most specific organisation whose jurisdiction contains the enterprise")
    COUNTY = "county", _("County-level organisation whose jurisdiction contains the enterprise")
    FIXED = "fixed", _("A fixed organisation")


class AlertStatus(models.TextChoices):
    RAISED = "raised", _("Raised, awaiting review")
    CONFIRMED = "confirmed", _("Confirmed, awaiting dispatch")
    DISMISSED = "dismissed", _("Dismissed")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_HAND = "in_hand", _("In hand")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (AlertStatus.RAISED, AlertStatus.CONFIRMED, AlertStatus.DISPATCHED, AlertStatus.IN_HAND)
FINAL_STATUSES = (AlertStatus.DISMISSED, AlertStatus.CLOSED)


class EventAction(models.TextChoices):
    RAISE = "raise", _("Raised")
    REPEAT = "repeat", _("Occurred again")
    CONFIRM = "confirm", _("Confirmed")
    DISMISS = "dismiss", _("Dismissed")
    DISPATCH = "dispatch", _("Dispatched")
    HANDLE = "handle", _("Feedback")
    CLOSE = "close", _("Closed")
    ESCALATE = "escalate", _("Escalated (overdue)")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Risk resolved")
    RECTIFIED = "rectified", _("Rectification completed")
    PENALISED = "penalised", _("Case filed / penalised")
    TRANSFERRED = "transferred", _("Transferred to another authority")
    NO_ISSUE = "no_issue", _("No issue found on site")
    OTHER = "other", _("Other")
