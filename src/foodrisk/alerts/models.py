"""Warning rules (data, edited by an indicator admin) and alerts with their workflow (风险预警)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.models import UnicodeJSONEncoder

from .choices import OPEN_STATUSES, AlertLevel, AlertStatus, EventAction, Outcome, RuleKind, TargetRule
from .params import validate_params


class WarningRule(models.Model):
    """When to raise an alert, how severe, for whom, and how long handling may take."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=RuleKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True, encoder=UnicodeJSONEncoder,
                              help_text=_("A JSON object; the allowed keys depend on the kind."))
    level = models.CharField(_("level"), max_length=8, choices=AlertLevel.choices, default=AlertLevel.YELLOW)
    target = models.CharField(_("responsible organisation"), max_length=8, choices=TargetRule.choices,
                              default=TargetRule.LOCAL)
    target_organisation = models.ForeignKey("core.Organisation", verbose_name=_("fixed organisation"), null=True,
                                            blank=True, on_delete=models.PROTECT, related_name="+")
    deadline_days = models.PositiveSmallIntegerField(_("deadline (days)"), default=15)
    enabled = models.BooleanField(_("enabled"), default=True)
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("built-in"), default=False)

    scope_field = None
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("alerts:warningrule_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        self.params = validate_params(self.kind, self.params)
        if self.target == TargetRule.FIXED and not self.target_organisation_id:
            raise ValidationError({"target_organisation": _("Choose the fixed organisation.")})
        if self.target != TargetRule.FIXED and self.target_organisation_id:
            self.target_organisation = None


class AlertQuerySet(RestrictedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today=None):
        return self.open().filter(deadline__lt=today or timezone.localdate())

    def late(self, today=None):
        """Handled past the deadline: closed or dismissed after the deadline day, or still open after it (the
        overdue rate of the statistics; the `overdue` flag is cleared on closing, this is not)."""
        today = today or timezone.localdate()
        return self.filter(
            Q(deadline__isnull=False)
            & (Q(status__in=list(OPEN_STATUSES), deadline__lt=today)
               | Q(status=AlertStatus.CLOSED, closed_at__date__gt=models.F("deadline"))
               | Q(status=AlertStatus.DISMISSED, reviewed_at__date__gt=models.F("deadline"))))

    def responsible(self, organisation):
        """The alerts an organisation answers for: dispatched to it, or not dispatched and raised for it."""
        return self.filter(Q(assigned_organisation=organisation)
                           | Q(assigned_organisation__isnull=True, organisation=organisation))


class Alert(models.Model):
    """One warning about one enterprise from one rule. At most one open alert per (enterprise, rule):
    repeats become occurrences of it."""

    rule = models.ForeignKey(WarningRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="alerts")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="alerts")
    region = models.ForeignKey("core.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("The enterprise's region when raised."))
    level = models.CharField(_("level"), max_length=8, choices=AlertLevel.choices)
    status = models.CharField(_("status"), max_length=12, choices=AlertStatus.choices, default=AlertStatus.RAISED,
                              db_index=True)
    summary = models.CharField(_("summary"), max_length=300)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True, encoder=UnicodeJSONEncoder,
                                help_text=_("What triggered the latest occurrence: records, grades, values."))
    grade_at_raise = models.CharField(_("grade when raised"), max_length=1, blank=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    raised_at = models.DateTimeField(_("raised"), default=timezone.now, db_index=True)
    last_occurred_at = models.DateTimeField(_("last occurred"), default=timezone.now)
    deadline = models.DateField(_("deadline"), null=True, blank=True, db_index=True)
    organisation = models.ForeignKey("core.Organisation", verbose_name=_("responsible organisation"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="alerts")
    # review
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.TextField(_("review note / dismissal reason"), blank=True)
    # dispatch
    assigned_organisation = models.ForeignKey("core.Organisation", verbose_name=_("dispatched to organisation"),
                                              null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dispatched to person"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="assigned_alerts")
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dispatched by"), null=True,
                                      blank=True, on_delete=models.SET_NULL, related_name="+")
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    # handling
    feedback = models.TextField(_("feedback"), blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(_("feedback given"), null=True, blank=True)
    # closing
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # 督办
    overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)

    scope_field = "enterprise__region"
    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        permissions = [
            ("review_alert", _("Can review alerts (confirm or dismiss)")),
            ("dispatch_alert", _("Can dispatch alerts")),
            ("handle_alert", _("Can handle dispatched alerts (feedback)")),
            ("close_alert", _("Can close alerts")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "rule"], condition=Q(status__in=list(OPEN_STATUSES)),
                                    name="alerts_one_open_alert_per_rule"),
        ]
        indexes = [models.Index(fields=["status", "deadline"]), models.Index(fields=["organisation", "status"])]

    def __str__(self):
        return f"#{self.pk} {self.enterprise} · {self.rule}"

    def get_absolute_url(self):
        return reverse("alerts:alert_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self):
        return self.is_open and self.deadline is not None and self.deadline < timezone.localdate()

    @property
    def responsible_organisation(self):
        """Who answers for it now: the organisation dispatched to, else the assignee's, else the rule's target."""
        if self.assigned_organisation_id:
            return self.assigned_organisation
        if self.assignee_id and self.assignee.organisation_id:
            return self.assignee.organisation
        return self.organisation


class AlertOccurrence(models.Model):
    """One triggering of the rule for the enterprise; the fingerprint names the evidence (a record, a
    grade change, a licence expiry) so the same evidence never counts twice."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="occurrence_set")
    fingerprint = models.CharField(_("fingerprint"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300)
    evidence = models.JSONField(_("evidence"), default=dict, encoder=UnicodeJSONEncoder)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("alert occurrence")
        verbose_name_plural = _("alert occurrences")
        indexes = [models.Index(fields=["fingerprint"])]

    def __str__(self):
        return self.summary


class AlertEvent(models.Model):
    """The timeline of an alert: every transition and escalation, who, when, with what note."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=12, choices=EventAction.choices)
    from_status = models.CharField(_("from"), max_length=12, choices=AlertStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=AlertStatus.choices, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"
