"""Precomputed figures of the statistics pages (统计分析)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.choices import BusinessForm, Grade


class GradeSnapshot(models.Model):
    """How many enterprises of one region (the enterprise's own region code) and business form held one grade
    in one month: the month's last state (the current month: now). Written by services.refresh_month when a
    grade is published (scoring's grade_changed event) and by services.backfill from the grade history; a
    page reads these few rows, never the enterprises or their records."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    region = models.ForeignKey("core.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    business_form = models.CharField(_("business form"), max_length=12, choices=BusinessForm.choices)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    count = models.PositiveIntegerField(_("enterprises"))
    computed_at = models.DateTimeField(_("computed"))

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["month", "region_id", "business_form", "grade"]
        verbose_name = _("grade snapshot")
        verbose_name_plural = _("grade snapshots")
        permissions = [("view_dashboard", _("Can view the statistics dashboards"))]
        constraints = [models.UniqueConstraint(fields=["month", "region", "business_form", "grade"],
                                               name="analytics_gradesnapshot_unique")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.region_id} {self.business_form} {self.grade}: {self.count}"


from .report_models import Report, ReportPeriod, ReportStatus  # noqa: E402,F401  (the reports' own module)
