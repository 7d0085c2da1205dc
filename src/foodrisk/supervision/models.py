"""Graded supervision (分级监管): measures by grade, plans, 双随机 draws, tasks, rectification, credit
repair workflow and ledgers."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.models import UnicodeJSONEncoder

from .choices import (
    OPEN_TASK_STATUSES,
    RepairStatus,
    TaskKind,
    TaskSource,
    TaskStatus,
)

USER = settings.AUTH_USER_MODEL


class SupervisionProfile(models.Model):
    """The policy: per-grade frequencies, 双随机 ratios, suggested measures, legal floor, key-supervision rules.

    min_per_year / max_per_year: {"A": 1, "B": 1, …} (decimals allowed; 0.5 = once every two years).
    sampling_ratios: {"A": 0.05, …} share of each grade drawn in one 双随机 draw.
    measures: {"A": ["routine_check"], …} codes of choices.Measure.
    key_rules: [{"business_forms": ["special"], "grades": []}, …] — an enterprise matches a rule when its
    business form is listed (empty = any) and its grade is listed (empty = any).
    Key-supervision enterprises are planned at max_per_year of their grade (the upper end of the range).
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    min_per_year = models.JSONField(_("minimum inspections per year"), default=dict)
    max_per_year = models.JSONField(_("inspections per year for key supervision"), default=dict, blank=True)
    sampling_ratios = models.JSONField(_("random-draw sampling ratios"), default=dict)
    measures = models.JSONField(_("suggested measures"), default=dict, blank=True)
    floor_months = models.PositiveSmallIntegerField(_("legal floor: months between full inspections"), default=24)
    key_rules = models.JSONField(_("key-supervision rules"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    full_inspection_kinds = models.JSONField(_("inspection kinds that count as full inspections"),
                                             default=list, blank=True)
    active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_field = None
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-active", "code"]
        verbose_name = _("supervision profile")
        verbose_name_plural = _("supervision profiles")
        permissions = [("edit_measures", _("Can edit and activate supervision measures (profiles)"))]
        constraints = [models.UniqueConstraint(fields=["active"], condition=Q(active=True),
                                               name="supervision_one_active_profile")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("supervision:supervisionprofile_detail", args=[self.pk])

    def frequency(self, grade, key=False):
        table = self.max_per_year if key and self.max_per_year else self.min_per_year
        value = table.get(grade, self.min_per_year.get(grade))
        return Decimal(str(value)) if value is not None else Decimal("1")

    def ratio(self, grade):
        return float(self.sampling_ratios.get(grade, 0) or 0)

    def is_key(self, enterprise, grade=None):
        grade = grade if grade is not None else enterprise.current_grade
        if enterprise.key_supervision:
            return True
        for rule in self.key_rules or []:
            forms, grades = rule.get("business_forms") or [], rule.get("grades") or []
            if (not forms or enterprise.business_form in forms) and (not grades or grade in grades):
                return True
        return False


class ChecklistTemplate(models.Model):
    """An inspection checklist (检查要点表) with key (重点) and general (一般) items (SAMR Order 49 Art. 13)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    business_forms = models.JSONField(_("business forms"), default=list, blank=True,
                                      help_text=_("Empty = every business form."))
    source = models.CharField(_("source"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    scope_field = None
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("supervision:checklisttemplate_detail", args=[self.pk])


class ChecklistItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    number = models.CharField(_("number"), max_length=10)
    text = models.CharField(_("item"), max_length=300)
    key = models.BooleanField(_("key item"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    scope_field = None
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["template", "order", "number"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self):
        return f"{self.number}{'*' if self.key else ''} {self.text}"


class ConflictOfInterest(models.Model):
    """An inspector who must not inspect an enterprise (relative, former employer, …)."""

    inspector = models.ForeignKey(USER, verbose_name=_("inspector"), on_delete=models.CASCADE,
                                  related_name="conflicts_of_interest")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="conflicts_of_interest")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    declared_on = models.DateField(_("declared"), default=timezone.localdate)
    active = models.BooleanField(_("active"), default=True)

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_on", "-pk"]
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [models.UniqueConstraint(fields=["inspector", "enterprise"], name="supervision_coi_unique")]

    def __str__(self):
        return f"{self.inspector} ↔ {self.enterprise}"

    def get_absolute_url(self):
        return reverse("supervision:conflictofinterest_detail", args=[self.pk])


class InspectorAbsence(models.Model):
    """An inspector away (leave, training, secondment): not eligible for a 双随机 draw whose period overlaps."""

    user = models.ForeignKey(USER, verbose_name=_("inspector"), on_delete=models.CASCADE, related_name="absences")
    start = models.DateField(_("absent from"))
    end = models.DateField(_("absent until"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    scope_field = "user__organisation__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-pk"]
        verbose_name = _("inspector absence")
        verbose_name_plural = _("inspector absences")
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")),
                                              name="supervision_absence_end_after_start")]

    def __str__(self):
        return f"{self.user} {self.start}–{self.end}"

    def get_absolute_url(self):
        return reverse("supervision:inspectorabsence_detail", args=[self.pk])


class InspectionPlan(models.Model):
    """How many inspections each enterprise of an organisation's jurisdiction needs in a period."""

    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey("core.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="inspection_plans")
    profile = models.ForeignKey(SupervisionProfile, verbose_name=_("supervision profile"), on_delete=models.PROTECT,
                                related_name="plans")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    inspectors = models.PositiveIntegerField(_("inspectors"), default=0)
    per_inspector = models.DecimalField(_("inspections per inspector per year"), max_digits=8, decimal_places=2,
                                        default=0)
    capacity = models.PositiveIntegerField(_("capacity (inspections)"), default=0)
    enterprise_count = models.PositiveIntegerField(_("enterprises"), default=0)
    required_total = models.PositiveIntegerField(_("inspections required"), default=0)
    planned_total = models.PositiveIntegerField(_("inspections planned"), default=0)
    uncovered_total = models.PositiveIntegerField(_("inspections not covered"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "organisation__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("supervision:inspectionplan_detail", args=[self.pk])


class PlanItem(models.Model):
    plan = models.ForeignKey(InspectionPlan, on_delete=models.CASCADE, related_name="items")
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="+")
    rank = models.PositiveIntegerField(_("risk rank"))
    grade = models.CharField(_("grade"), max_length=1, blank=True)
    key_supervision = models.BooleanField(_("key supervision"), default=False)
    frequency = models.DecimalField(_("inspections per year"), max_digits=5, decimal_places=2)
    last_full_inspection = models.DateField(_("last full inspection"), null=True, blank=True)
    floor_due = models.BooleanField(_("due under the two-year floor"), default=False)
    done = models.PositiveSmallIntegerField(_("already inspected in period"), default=0)
    required = models.PositiveSmallIntegerField(_("required"), default=0)
    planned = models.PositiveSmallIntegerField(_("planned"), default=0)
    uncovered = models.PositiveSmallIntegerField(_("not covered"), default=0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True, encoder=UnicodeJSONEncoder)

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "rank"]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")

    def __str__(self):
        return f"{self.enterprise} × {self.planned}/{self.required}"


class RandomDraw(models.Model):
    """A 双随机 draw: enterprises per grade at the profile's ratio, two inspectors each. Reproducible:
    `seed` and `inputs` (population, inspectors, exclusions) are enough to recompute it exactly."""

    organisation = models.ForeignKey("core.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="random_draws")
    profile = models.ForeignKey(SupervisionProfile, verbose_name=_("supervision profile"), on_delete=models.PROTECT,
                                related_name="draws")
    name = models.CharField(_("name"), max_length=200, blank=True)
    seed = models.BigIntegerField(_("seed"))
    ratios = models.JSONField(_("sampling ratios"), default=dict)
    inspectors_per_enterprise = models.PositiveSmallIntegerField(_("inspectors per enterprise"), default=2)
    inputs = models.JSONField(_("inputs"), default=dict, help_text=_("Population, inspectors and exclusions used."))
    population_counts = models.JSONField(_("population by grade"), default=dict)
    selected_counts = models.JSONField(_("selected by grade"), default=dict)
    unassigned = models.PositiveIntegerField(_("enterprises without two eligible inspectors"), default=0)
    due_on = models.DateField(_("due"), null=True, blank=True)
    plan = models.ForeignKey(InspectionPlan, verbose_name=_("inspection plan"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="draws")
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    borrowed = models.BooleanField(_("inspectors borrowed from the parent organisation"), default=False)
    tasks_created = models.BooleanField(_("tasks created"), default=False)
    created_by = models.ForeignKey(USER, verbose_name=_("drawn by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("drawn"), auto_now_add=True)

    scope_field = "organisation__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("random draw")
        verbose_name_plural = _("random draws")

    def __str__(self):
        return self.name or f"#{self.pk}"

    def get_absolute_url(self):
        return reverse("supervision:randomdraw_detail", args=[self.pk])


class DrawItem(models.Model):
    draw = models.ForeignKey(RandomDraw, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(_("position"))
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="+")
    grade = models.CharField(_("grade"), max_length=1, blank=True)
    inspector_1 = models.ForeignKey(USER, verbose_name=_("inspector 1"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    inspector_2 = models.ForeignKey(USER, verbose_name=_("inspector 2"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True)

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["draw", "position"]
        verbose_name = _("drawn enterprise")
        verbose_name_plural = _("drawn enterprises")

    def __str__(self):
        return f"{self.enterprise} ({self.inspector_1}, {self.inspector_2})"


class TaskQuerySet(RestrictedQuerySet):
    def in_scope(self, user):
        """The enterprise's region in the user's scope, or a task given to the user personally."""
        prefix = user.scope_prefix
        if prefix == "":
            return self
        mine = Q(assignee=user) | Q(second_assignee=user)
        if prefix is None:
            return self.filter(mine)
        return self.filter(Q(enterprise__region__code__startswith=prefix) | mine)

    def open(self):
        return self.filter(status__in=list(OPEN_TASK_STATUSES))

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())


class Task(models.Model):
    """A supervision task: an inspection, an interview (约谈), a rectification order or a repair follow-up."""

    kind = models.CharField(_("kind"), max_length=16, choices=TaskKind.choices, db_index=True)
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="supervision_tasks")
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    organisation = models.ForeignKey("core.Organisation", verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="supervision_tasks")
    assignee = models.ForeignKey(USER, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="supervision_tasks")
    second_assignee = models.ForeignKey(USER, verbose_name=_("second inspector"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(_("due"), db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.ASSIGNED,
                              db_index=True)
    overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    source = models.CharField(_("source"), max_length=12, choices=TaskSource.choices, default=TaskSource.MANUAL)
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True,
                                  help_text=_("e.g. the alert number a task was created from"))
    parent = models.ForeignKey("self", verbose_name=_("originating task"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="follow_ups")
    draw_item = models.ForeignKey(DrawItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    # result (inspection)
    checklist = models.ForeignKey(ChecklistTemplate, verbose_name=_("checklist"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(_("checklist answers"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    findings = models.TextField(_("findings"), blank=True)
    inspection = models.ForeignKey("records.Inspection", verbose_name=_("inspection record"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # rectification
    submitted_by = models.ForeignKey(USER, verbose_name=_("evidence submitted by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(_("evidence submitted"), null=True, blank=True)
    verified_by = models.ForeignKey(USER, verbose_name=_("verified by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    scope_field = "enterprise__region"
    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "-pk"]
        verbose_name = _("supervision task")
        verbose_name_plural = _("supervision tasks")
        permissions = [
            ("inspect_task", _("Can be drawn as an inspector")),
            ("assign_task", _("Can assign and cancel tasks of others")),
            ("verify_task", _("Can verify rectifications")),
        ]
        constraints = [  # a warning followed up twice at once (two clicks, a retried reaction) makes one task
            models.UniqueConstraint(fields=["source_ref", "kind"], name="supervision_one_open_task_per_alert",
                                    condition=Q(source=TaskSource.ALERT, status__in=list(OPEN_TASK_STATUSES))),
        ]
        indexes = [models.Index(fields=["status", "due_on"]), models.Index(fields=["organisation", "status"])]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} · {self.enterprise}"

    def get_absolute_url(self):
        return reverse("supervision:task_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in OPEN_TASK_STATUSES

    @property
    def is_overdue(self):
        return self.is_open and self.due_on < timezone.localdate()


class TaskChange(models.Model):
    """One row per change of a task (created, or a transition), written in the change's transaction. Its
    number only grows, so the share catalogue's `measures` dataset follows it as the `since` cursor of an
    incremental pull (a task has no change time of its own, and two changes in one second must not tie)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(_("action"), max_length=12)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("task change")
        verbose_name_plural = _("task changes")

    def __str__(self):
        return f"#{self.task_id} {self.action}"


class RepairCase(models.Model):
    """The credit-repair workflow: application → review against the rules → decision by a second person.
    The application itself is kept in the archive as records.CreditRepair (timeline)."""

    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="repair_cases")
    penalty = models.ForeignKey("records.Penalty", verbose_name=_("administrative penalty"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    list_entry = models.ForeignKey("records.ListEntry", verbose_name=_("list entry"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey("records.CreditRepair", verbose_name=_("archive record"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    commitment = models.TextField(_("credit commitment"))
    applied_on = models.DateField(_("applied"), default=timezone.localdate)
    status = models.CharField(_("status"), max_length=10, choices=RepairStatus.choices, default=RepairStatus.APPLIED,
                              db_index=True)
    checks = models.JSONField(_("rule checks"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    recorded_by = models.ForeignKey(USER, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    reviewed_by = models.ForeignKey(USER, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    decided_by = models.ForeignKey(USER, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("decision reason"), blank=True)

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("credit repair case")
        verbose_name_plural = _("credit repair cases")
        permissions = [("decide_repaircase", _("Can approve or reject credit repairs"))]
        constraints = [  # one open application per penalty or list entry
            models.UniqueConstraint(fields=["penalty"], name="supervision_one_open_repair_per_penalty",
                                    condition=Q(penalty__isnull=False,
                                                status__in=[RepairStatus.APPLIED, RepairStatus.REVIEWED])),
            models.UniqueConstraint(fields=["list_entry"], name="supervision_one_open_repair_per_list_entry",
                                    condition=Q(list_entry__isnull=False,
                                                status__in=[RepairStatus.APPLIED, RepairStatus.REVIEWED])),
        ]

    def __str__(self):
        return f"#{self.pk} {self.enterprise} · {self.target_label}"

    def get_absolute_url(self):
        return reverse("supervision:repaircase_detail", args=[self.pk])

    @property
    def target(self):
        return self.penalty or self.list_entry

    @property
    def target_label(self):
        if self.penalty_id:
            return self.penalty.decision_no
        if self.list_entry_id:
            return str(self.list_entry)
        return ""

    @property
    def checks_passed(self):
        return bool(self.checks) and all(c.get("passed") for c in self.checks)
