from django.db import models
from django.utils.translation import gettext_lazy as _

GRADES = ("A", "B", "C", "D")
RISK_ORDER = {"D": 0, "C": 1, "B": 2, "A": 3, "": 4}


class Measure(models.TextChoices):
    """Suggested supervision actions per grade (a profile lists them per grade)."""

    ROUTINE_CHECK = "routine_check", _("Routine random check")  # 常规抽查
    KEY_INSPECTION = "key_inspection", _("Key inspection")  # 重点检查
    INTERVIEW = "interview", _("Interview and reminder")  # 约谈提醒
    RECTIFICATION = "rectification", _("Rectification order")  # 责令整改
    REPAIR_FOLLOWUP = "repair_followup", _("Credit repair follow-up")  # 信用修复跟踪


class TaskKind(models.TextChoices):
    INSPECTION = "inspection", _("Inspection")
    INTERVIEW = "interview", _("Interview")
    RECTIFICATION = "rectification", _("Rectification order")
    REPAIR_FOLLOWUP = "repair_followup", _("Credit repair follow-up")


class TaskStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    VERIFYING = "verifying", _("Awaiting verification")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK_STATUSES = (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.VERIFYING)


class TaskSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    PLAN = "plan", _("Inspection plan")
    DRAW = "draw", _("Random draw")
    INSPECTION = "inspection", _("Inspection result")
    ALERT = "alert", _("Risk alert")
    REPAIR = "repair", _("Credit repair")


class ItemAnswer(models.TextChoices):
    PASS = "pass", _("Compliant")
    FAIL = "fail", _("Non-compliant")
    NA = "na", _("Not applicable")


class RepairStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REVIEWED = "reviewed", _("Reviewed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
