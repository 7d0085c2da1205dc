"""Precomputed figures of the statistics pages (统计分析)."""

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.choices import BusinessForm, Grade


class GradeSnapshot(models.Model):
    """How many enterprises of one region (the enterprise's own region code), business form and food category
    held one grade in one month: the month's last state (the current month: now). food_category "" counts every
    enterprise once; a row with a category counts the enterprises listing it (an enterprise of two categories is
    in both), so a category filter reads its own rows and the totals stay exact. score_sum / scored: the sum and
    number of the published scores behind the count (the rankings' mean score). Aggregated from EnterpriseMonth
    by services (refresh_month when a grade is published, backfill from the grade history); a page reads these
    few rows, never the enterprises or their records."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    region = models.ForeignKey("core.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    business_form = models.CharField(_("business form"), max_length=12, choices=BusinessForm.choices)
    food_category = models.CharField(_("food category"), max_length=64, blank=True, default="")
    key_supervision = models.BooleanField(_("key supervision"), default=False)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    count = models.PositiveIntegerField(_("enterprises"))
    score_sum = models.FloatField(_("sum of scores"), default=0)
    scored = models.PositiveIntegerField(_("scored enterprises"), default=0)
    computed_at = models.DateTimeField(_("computed"))

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["month", "region_id", "business_form", "grade"]
        verbose_name = _("grade snapshot")
        verbose_name_plural = _("grade snapshots")
        permissions = [("view_dashboard", _("Can view the statistics dashboards"))]
        constraints = [models.UniqueConstraint(fields=["month", "region", "business_form", "food_category",
                                                       "key_supervision", "grade"],
                                               name="analytics_gradesnapshot_unique")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.region_id} {self.business_form} {self.food_category} {self.grade}: {self.count}"


class SnapshotMonth(models.Model):
    """A month whose per-enterprise rows (EnterpriseMonth) are complete: the figures comparing two days read
    them only for months listed here (else they compute from the grade history, as before any backfill)."""

    month = models.DateField(_("month"), primary_key=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("snapshot month")
        verbose_name_plural = _("snapshot months")

    def __str__(self):
        return f"{self.month:%Y-%m}"


class EnterpriseMonth(models.Model):
    """The published grade and score one enterprise held at the end of one month (the current month: now),
    with the region and business form it is counted under: the migration matrix is a join of two months and
    the largest rise a difference of two months, instead of a point-in-time lookup in the grade history per
    enterprise. Only graded enterprises have rows. Written by services with GradeSnapshot."""

    month = models.DateField(_("month"))
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="+", db_constraint=False)  # bulk-written; a deleted one is skipped
    region = models.ForeignKey("core.Region", verbose_name=_("region"), on_delete=models.DO_NOTHING,
                               related_name="+", db_constraint=False)
    business_form = models.CharField(_("business form"), max_length=12, choices=BusinessForm.choices)
    key_supervision = models.BooleanField(_("key supervision"), default=False)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    score = models.FloatField(_("risk score"), null=True, blank=True)
    # the same enterprise's row twelve months earlier (none: not graded then), copied in when the month is
    # written: the default comparison (the day before a twelve-month period against its end) reads one month's
    # rows instead of joining two
    year_before_grade = models.CharField(_("grade a year before"), max_length=1, blank=True, default="")
    year_before_score = models.FloatField(_("risk score a year before"), null=True, blank=True)

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("enterprise month")
        verbose_name_plural = _("enterprise months")
        constraints = [models.UniqueConstraint(fields=["month", "enterprise"], name="analytics_enterprisemonth_unique")]
        indexes = [models.Index(fields=["month", "region", "business_form"], name="analytics_em_month_region"),
                   # the highest scores of a month read from the index's head (the TOP-N list), not sorted
                   models.Index(fields=["month", "-score", "enterprise"], name="analytics_em_month_score"),
                   # the largest rise over a year read from the index's head
                   models.Index(F("month"), (F("score") - F("year_before_score")).desc(), F("enterprise"),
                                name="analytics_em_month_rise")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.enterprise_id}: {self.grade}"


class InspectionMonth(models.Model):
    """The inspection records of one enterprise dated in one month under one grade — the grade in force on the
    inspection's day (services.grade_in_force; "" not graded yet), so a month in which the grade changed has a row
    per grade: how many, how many found non-compliant, and the previous month the enterprise was inspected under
    the same grade — so the enterprises inspected under a grade in a period are the rows whose previous month lies
    before it, a sum instead of a distinct count. Carries the enterprise's region, business form and key
    supervision now (the archive keeps no history of them) so the supervision page reads one table. Written by
    services: in full by backfill (and the first refresh), then per enterprise on records_changed and when a run
    published after the day it scores moves inspections to another grade (inspections_regraded)."""

    month = models.DateField(_("month"))
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="+", db_constraint=False)
    region = models.ForeignKey("core.Region", verbose_name=_("region"), on_delete=models.DO_NOTHING,
                               related_name="+", db_constraint=False)
    business_form = models.CharField(_("business form"), max_length=12, choices=BusinessForm.choices)
    key_supervision = models.BooleanField(_("key supervision"), default=False)
    grade = models.CharField(_("grade when inspected"), max_length=1, blank=True)
    inspections = models.PositiveIntegerField(_("inspections"))
    failed = models.PositiveIntegerField(_("non-compliant"))
    previous_month = models.DateField(_("previous month inspected"), null=True, blank=True)

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspections of a month")
        verbose_name_plural = _("inspections of a month")
        constraints = [models.UniqueConstraint(fields=["enterprise", "month", "grade"],
                                               name="analytics_inspectionmonth_unique")]
        indexes = [models.Index(fields=["month", "grade"], name="analytics_im_month_grade")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.enterprise_id} {self.grade}: {self.inspections}"


class Precomputed(models.Model):
    """A precomputed table that has been built in full and is kept current by events since (name: e.g.
    "inspection_months"); the pages read such a table only once it is listed here."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("precomputed table")
        verbose_name_plural = _("precomputed tables")

    def __str__(self):
        return self.name


class EnterpriseCategory(models.Model):
    """One food category of one enterprise (Enterprise.food_categories, a list, as rows): the category filter of
    the precomputed figures is an indexed join here. Rewritten with the current month's snapshot."""

    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="+", db_constraint=False)
    category = models.CharField(_("food category"), max_length=64)

    class Meta:
        verbose_name = _("enterprise food category")
        verbose_name_plural = _("enterprise food categories")
        constraints = [models.UniqueConstraint(fields=["category", "enterprise"], name="analytics_enterprisecat_unique")]

    def __str__(self):
        return f"{self.enterprise_id}: {self.category}"


from .report_models import Report, ReportPeriod, ReportStatus  # noqa: E402,F401  (the reports' own module)
