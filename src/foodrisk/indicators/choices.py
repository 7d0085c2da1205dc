from django.db import models
from django.utils.translation import gettext_lazy as _


class SetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


# statuses of a spec that passed two-person approval (a rollback may reuse it without re-approval)
APPROVED_STATUSES = (SetStatus.APPROVED, SetStatus.ACTIVE, SetStatus.RETIRED)
