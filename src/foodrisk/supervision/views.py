"""Pages of graded supervision. Reads go through restrict(user, action); writes through services."""

import json

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View, generic

from foodrisk.core.forms import add_service_errors
from foodrisk.core.security import require_confirmation
from foodrisk.core.services import objects
from foodrisk.core.validators import as_id
from foodrisk.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ScopedMixin,
)
from foodrisk.core.widgets import bootstrap
from foodrisk.enterprises.sensitive import SENSITIVE_PERMISSION

from . import filtersets, forms, tables
from .choices import GRADES, TaskKind, TaskStatus
from .models import (
    ChecklistTemplate,
    ConflictOfInterest,
    InspectionPlan,
    InspectorAbsence,
    PlanItem,
    RandomDraw,
    RepairCase,
    SupervisionProfile,
    Task,
)
from .services import draws, ledgers, plans, profiles, repairs
from .services import tasks as task_services


def _errors(exc):
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [f"{m}" for msgs in exc.message_dict.values() for m in msgs]
        return exc.messages
    return [str(exc) or _("You are not allowed to do this.")]


def _form_errors(form, exc):
    if isinstance(exc, PermissionDenied):
        form.add_error(None, _errors(exc))
    else:
        add_service_errors(form, exc)


class FormPage(ScopedMixin, generic.FormView):
    """A service-backed form page (create plan, run draw, …): permission checked by ScopedMixin."""

    template_name = "supervision/form.html"
    title = ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.title
        return ctx

    def form_valid(self, form):
        try:
            obj = self.perform(form)
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return redirect(obj.get_absolute_url())


# --- tasks ------------------------------------------------------------------------------------------
class TaskListView(ObjectListView):
    model = Task
    table_class = tables.TaskTable
    filterset_class = filtersets.TaskFilterSet
    template_name = "supervision/ledger_list.html"
    heading = None
    sensitive_permission = SENSITIVE_PERMISSION  # the ledger layout carries the legal representative
    ledger_rows = staticmethod(ledgers.task_rows)

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "organisation", "assignee", "second_assignee")

    def get_template_names(self):
        names = [self.template_name]
        if self.request.htmx and not self.request.htmx.boosted:
            return [f"{n}#results" for n in names]
        return names

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["heading"] = self.heading or ctx["verbose_name_plural"]
        return ctx

    def export_title(self):
        return self.heading or super().export_title()

    def export_rows(self, queryset, sensitive):
        return self.ledger_rows(queryset, sensitive)


class MyTaskListView(TaskListView):
    heading = gettext_lazy("My tasks")

    def get_queryset(self):
        user = self.request.user
        return (super().get_queryset().filter(assignee=user) | super().get_queryset().filter(second_assignee=user))


class RectificationListView(TaskListView):
    heading = gettext_lazy("Rectifications")

    def get_queryset(self):
        return super().get_queryset().filter(kind=TaskKind.RECTIFICATION)


class TaskDetailView(ObjectDetailView):
    model = Task
    template_name = "supervision/task_detail.html"

    def get_template_names(self):
        return [self.template_name]

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "organisation", "assignee", "second_assignee",
                                                     "inspection", "parent", "checklist")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        task, user = self.object, self.request.user
        may = task_services.may_handle(task, user)
        S = TaskStatus
        ctx.update(
            may_handle=may,
            can_start=may and task.status == S.ASSIGNED,
            can_result=may and task.kind == TaskKind.INSPECTION and task.status in (S.ASSIGNED, S.IN_PROGRESS),
            can_complete=may and task.kind in (TaskKind.INTERVIEW, TaskKind.REPAIR_FOLLOWUP)
            and task.status in (S.ASSIGNED, S.IN_PROGRESS),
            can_submit=may and task.kind == TaskKind.RECTIFICATION and task.status in (S.ASSIGNED, S.IN_PROGRESS),
            can_verify=user.has_perm("supervision.verify_task") and task.status == S.VERIFYING
            and task.submitted_by_id != user.pk,
            can_cancel=may and task.is_open and (user.has_perm("supervision.assign_task")
                                                 or task.created_by_id == user.pk),
            evidence=task_services.evidence_of(task),
            follow_ups=Task.objects.restrict(user, "view").filter(parent=task),
            outcome_form=bootstrap(forms.TaskOutcomeForm()),
            evidence_form=bootstrap(forms.EvidenceForm()),
            verify_form=bootstrap(forms.VerifyForm()),
            answers=self._answers(task),
        )
        return ctx

    def _answers(self, task):
        if not task.checklist_id:
            return []
        return [(item, task.answers.get(str(item.pk), "")) for item in task.checklist.items.all()]


class TaskCreateView(FormPage):
    model = Task
    action = "add"
    form_class = forms.TaskForm
    title = _("New supervision task")

    def get_initial(self):
        initial = super().get_initial()
        if pk := as_id(self.request.GET.get("enterprise")):
            initial["enterprise"] = pk
        if self.request.GET.get("kind") in TaskKind.values:
            initial["kind"] = self.request.GET["kind"]
        return initial

    def perform(self, form):
        d = form.cleaned_data
        return task_services.create_task(d["enterprise"], d["kind"], user=self.request.user,
                                         organisation=d["organisation"], assignee=d["assignee"],
                                         second_assignee=d["second_assignee"], due_on=d["due_on"],
                                         title=d["title"], instructions=d["instructions"])


class TaskObjectMixin(ScopedMixin):
    model = Task
    action = "change"

    def task(self):
        # 404 outside the user's scope; handling rights are checked by the services
        return get_object_or_404(Task.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])


class TaskActionView(TaskObjectMixin, View):
    """POST start / cancel / complete / submit (evidence) / verify."""

    def post(self, request, pk, op):
        task = self.task()
        user = request.user
        try:
            if op == "start":
                task_services.start(task, user=user)
            elif op == "cancel":
                task_services.cancel(task, user=user, reason=request.POST.get("reason", ""))
            elif op == "complete":
                task_services.complete(task, user=user, outcome=request.POST.get("outcome", ""))
            elif op == "submit":
                form = forms.EvidenceForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise ValidationError(form.errors.as_text())
                task_services.submit_rectification(task, user=user, note=form.cleaned_data["note"],
                                                   files=form.cleaned_data["files"])
            elif op == "verify":
                task_services.verify_rectification(task, user=user, accepted=request.POST.get("accepted") == "on",
                                                   note=request.POST.get("note", ""))
            else:
                raise Http404
            messages.success(request, _("Saved."))
        except (ValidationError, PermissionDenied) as exc:
            for msg in _errors(exc):
                messages.error(request, msg)
        return redirect(task.get_absolute_url())


class TaskResultView(TaskObjectMixin, generic.FormView):
    """The inspector's tablet form: checklist toggles, findings, photos."""

    template_name = "supervision/task_result.html"
    form_class = forms.InspectionResultForm

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.task()
        if not task_services.may_handle(self.object, request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["template"] = task_services.checklist_for(self.object)
        return kwargs

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["task"] = self.object
        ctx["checklist"] = task_services.checklist_for(self.object)
        return ctx

    def form_valid(self, form):
        d = form.cleaned_data
        try:
            task, inspection, follow_up = task_services.record_result(
                self.object, user=self.request.user, answers=form.answers(), findings=d["findings"],
                inspected_on=d["inspected_on"], photos=d["photos"], order_rectification=d["order_rectification"],
                rectification_days=d.get("rectification_days"))
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Result saved as inspection %(no)s.") % {"no": inspection.inspection_no})
        if follow_up is not None:
            messages.info(self.request, _("Rectification order created, due %(date)s.") % {"date": follow_up.due_on})
        return redirect(task.get_absolute_url())


# --- plans ------------------------------------------------------------------------------------------
class PlanListView(ObjectListView):
    model = InspectionPlan
    table_class = tables.InspectionPlanTable
    filterset_class = filtersets.InspectionPlanFilterSet


class PlanCreateView(FormPage):
    model = InspectionPlan
    action = "add"
    form_class = forms.PlanForm
    title = _("New inspection plan")

    def perform(self, form):
        d = form.cleaned_data
        return plans.create_plan(d["organisation"], d["period_start"], d["period_end"], user=self.request.user,
                                 profile=d["profile"], per_inspector=d["per_inspector"],
                                 inspectors=d["inspectors"], name=d["name"])


class PlanItemListView(ObjectListView):
    """A plan's items (?plan=<pk>): the plan page exports them through the one export path."""

    model = PlanItem
    table_class = tables.PlanItemTable
    filterset_class = filtersets.PlanItemFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise").order_by("plan_id", "rank")


class PlanDetailView(ObjectDetailView):
    model = InspectionPlan
    template_name = "supervision/plan_detail.html"

    def get_template_names(self):
        return [self.template_name]


    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        plan = self.object
        items = plan.items.select_related("enterprise")
        if self.request.GET.get("uncovered"):
            items = items.filter(uncovered__gt=0)
        table = tables.PlanItemTable(items)
        table.paginate(page=self.request.GET.get("page", 1), per_page=50)
        by_grade = plan.summary.get("by_grade", {})
        grades = [g for g in (*GRADES, "-") if g in by_grade]
        chart = {
            "tooltip": {"trigger": "axis"}, "legend": {},
            "xAxis": {"type": "category", "data": grades}, "yAxis": {"type": "value"},
            "series": [
                {"name": _("planned"), "type": "bar", "stack": "n", "data": [by_grade[g]["planned"] for g in grades]},
                {"name": _("not covered"), "type": "bar", "stack": "n",
                 "data": [by_grade[g]["uncovered"] for g in grades]},
            ],
        }
        ctx.update(table=table, chart=json.dumps(chart, ensure_ascii=False), by_grade=by_grade)
        return ctx


# --- draws ------------------------------------------------------------------------------------------
class DrawListView(ObjectListView):
    model = RandomDraw
    table_class = tables.RandomDrawTable
    filterset_class = filtersets.RandomDrawFilterSet


class DrawCreateView(FormPage):
    model = RandomDraw
    action = "add"
    form_class = forms.DrawForm
    title = _("New random draw (双随机)")

    def get_initial(self):
        initial = super().get_initial()
        plan = InspectionPlan.objects.restrict(self.request.user, "view").filter(
            pk=self.request.GET.get("plan") or None).first()
        if plan is not None:  # "draw for this plan" from the plan page
            initial.update(plan=plan.pk, organisation=plan.organisation_id)
        return initial

    def perform(self, form):
        d = form.cleaned_data
        return draws.run_draw(d["organisation"], user=self.request.user, seed=d["seed"], profile=d["profile"],
                              name=d["name"], create_tasks=d["create_tasks"], plan=d["plan"],
                              period_start=d["period_start"], period_end=d["period_end"], borrow=d["borrow"])


class DrawDetailView(ObjectDetailView):
    model = RandomDraw
    template_name = "supervision/draw_detail.html"

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        draw = self.object
        ctx["items"] = draw.items.select_related("enterprise", "inspector_1", "inspector_2").prefetch_related("tasks")
        ctx["reproducible"] = draws.verify(draw)
        ctx["unplaced"] = list(draws.unplaced(draw))
        ctx["can_create_tasks"] = (not draw.tasks_created and self.request.user.has_perm("supervision.add_task"))
        return ctx


class DrawTasksView(ScopedMixin, View):
    model = RandomDraw
    action = "view"

    def post(self, request, pk):
        draw = get_object_or_404(RandomDraw.objects.restrict(request.user, "view"), pk=pk)
        if not request.user.has_perm("supervision.add_task"):
            raise PermissionDenied
        try:
            created = draws.create_tasks_for(draw, user=request.user)
            messages.success(request, _("%(n)d tasks created.") % {"n": len(created)})
        except (ValidationError, PermissionDenied) as exc:
            for msg in _errors(exc):
                messages.error(request, msg)
        return redirect(draw.get_absolute_url())


# --- credit repair ----------------------------------------------------------------------------------
class RepairListView(TaskListView):
    model = RepairCase
    table_class = tables.RepairCaseTable
    filterset_class = filtersets.RepairCaseFilterSet
    ledger_rows = staticmethod(ledgers.repair_rows)

    def get_queryset(self):
        return RepairCase.objects.restrict(self.request.user, "view").select_related(
            "enterprise", "penalty", "list_entry", "recorded_by", "reviewed_by", "decided_by")


class RepairApplyView(FormPage):
    model = RepairCase
    action = "add"
    form_class = forms.RepairApplyForm
    title = _("Credit repair application")

    def get_initial(self):
        initial = super().get_initial()
        if pk := as_id(self.request.GET.get("enterprise")):
            initial["enterprise"] = pk
        return initial

    def perform(self, form):
        d = form.cleaned_data
        return repairs.apply(d["enterprise"], user=self.request.user, commitment=d["commitment"],
                             penalty=d["penalty"], list_entry=d["list_entry"], evidence=d["evidence"])


class RepairDetailView(ObjectDetailView):
    model = RepairCase
    template_name = "supervision/repair_detail.html"

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        case, user = self.object, self.request.user
        open_ = case.status in ("applied", "reviewed")
        ctx.update(
            can_review=open_ and user.has_perm("supervision.change_repaircase"),
            can_decide=open_ and user.has_perm("supervision.decide_repaircase") and case.recorded_by_id != user.pk,
            decision_form=bootstrap(forms.DecisionForm()),
            preview=repairs.evaluate(case) if open_ and not case.checks else None,
        )
        return ctx


class RepairActionView(ScopedMixin, View):
    model = RepairCase
    action = "view"

    def post(self, request, pk, op):
        case = get_object_or_404(RepairCase.objects.restrict(request.user, "view"), pk=pk)
        try:
            if op == "review":
                repairs.review(case, user=request.user)
            elif op == "decide":
                form = forms.DecisionForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(form.errors.as_text())
                repairs.decide(case, user=request.user, approve=form.cleaned_data["approve"],
                               reason=form.cleaned_data["reason"])
            else:
                raise Http404
            messages.success(request, _("Saved."))
        except (ValidationError, PermissionDenied) as exc:
            for msg in _errors(exc):
                messages.error(request, msg)
        return redirect(case.get_absolute_url())


# --- conflicts of interest (plain audited CRUD) -----------------------------------------------------
class ConflictListView(ObjectListView):
    model = ConflictOfInterest
    table_class = tables.ConflictTable
    filterset_class = filtersets.ConflictFilterSet


class ConflictDetailView(ObjectDetailView):
    model = ConflictOfInterest


class ConflictEditView(ObjectEditView):
    model = ConflictOfInterest
    form_class = forms.ConflictForm
    template_name = "enterprises/form.html"

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["enterprise"].queryset = form.fields["enterprise"].queryset.model.objects.in_scope(
            self.request.user)
        return form

    def save(self, form):
        return objects.save_form(form, user=self.request.user)


class ConflictDeleteView(ObjectDeleteView):
    model = ConflictOfInterest


# --- inspector absences (plain audited CRUD; a draw skips the absent) ----------------------------------
class AbsenceListView(ObjectListView):
    model = InspectorAbsence
    table_class = tables.AbsenceTable
    filterset_class = filtersets.AbsenceFilterSet


class AbsenceDetailView(ObjectDetailView):
    model = InspectorAbsence


class AbsenceEditView(ObjectEditView):
    model = InspectorAbsence
    form_class = forms.AbsenceForm
    template_name = "enterprises/form.html"

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # only the people a draw could pick (restrict_choices has already narrowed them to the scope)
        form.fields["user"].queryset = form.fields["user"].queryset.filter(
            pk__in=plans.inspectors_pool_ids()).filter(is_active=True)
        return form


class AbsenceDeleteView(ObjectDeleteView):
    model = InspectorAbsence


# --- policy (read; activation audited) --------------------------------------------------------------
class ProfileListView(ObjectListView):
    model = SupervisionProfile
    filterset_class = filtersets.ProfileFilterSet
    fields = ("code", "name", "active", "floor_months", "updated_at")

    def get_table_class(self):
        import django_tables2 as t

        return type("ProfileTable", (t.Table,), {
            "code": t.Column(linkify=True),
            "Meta": type("Meta", (), {"model": SupervisionProfile, "fields": self.fields, "attrs": tables.ATTRS})})


class ProfileDetailView(ObjectDetailView):
    model = SupervisionProfile
    template_name = "supervision/profile_detail.html"

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        from foodrisk.enterprises.choices import BusinessForm

        from .choices import Measure

        ctx = super().get_context_data(**kwargs)
        p, labels = self.object, dict(Measure.choices)
        ctx["grades"] = [{"grade": g, "min": p.min_per_year.get(g), "max": p.max_per_year.get(g),
                          "ratio": p.ratio(g) * 100, "measures": [labels.get(c, c) for c in p.measures.get(g, [])]}
                         for g in GRADES]
        forms_ = dict(BusinessForm.choices)
        ctx["key_rules"] = [{"label": r.get("label", ""), "forms": "、".join(str(forms_.get(f, f)) for f in
                                                                           r.get("business_forms") or []),
                             "grades": "、".join(r.get("grades") or [])} for r in p.key_rules or []]
        user = self.request.user
        ctx["can_activate"] = not p.active and (user.has_perm("supervision.change_supervisionprofile")
                                                or user.has_perm("supervision.edit_measures"))
        return ctx


class ProfileActivateView(ScopedMixin, View):
    model = SupervisionProfile
    action = "view"

    def post(self, request, pk):
        if not (request.user.has_perm("supervision.change_supervisionprofile")
                or request.user.has_perm("supervision.edit_measures")):
            raise PermissionDenied
        profile = get_object_or_404(SupervisionProfile, pk=pk)
        try:
            require_confirmation(request)  # a high-risk action: every enterprise's measures change
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(profile.get_absolute_url())
        profiles.activate(profile, user=request.user)
        messages.success(request, _("Profile activated."))
        return redirect(profile.get_absolute_url())


class ChecklistListView(ProfileListView):
    model = ChecklistTemplate
    filterset_class = filtersets.ChecklistFilterSet
    fields = ("code", "name", "active")

    def get_table_class(self):
        import django_tables2 as t

        return type("ChecklistTable", (t.Table,), {
            "code": t.Column(linkify=True),
            "Meta": type("Meta", (), {"model": ChecklistTemplate, "fields": self.fields, "attrs": tables.ATTRS})})


class ChecklistDetailView(ObjectDetailView):
    model = ChecklistTemplate
    template_name = "supervision/checklist_detail.html"

    def get_template_names(self):
        return [self.template_name]


class HomeRedirect(LoginRequiredMixin, View):
    def get(self, request):
        return redirect(reverse("supervision:my_tasks"))


# --- link to alerts (optional: only when the alerts app is installed) -------------------------------
class AlertTaskView(ScopedMixin, View):
    """POST: a supervision task from a dispatched alert (kind from the form, default inspection)."""

    model = Task
    action = "add"

    def post(self, request, alert_pk):
        from django.apps import apps

        if not apps.is_installed("foodrisk.alerts"):
            raise Http404
        from foodrisk.alerts.models import Alert

        alert = get_object_or_404(Alert.objects.restrict(request.user, "view").select_related("enterprise"),
                                  pk=alert_pk)
        kind = request.POST.get("kind") if request.POST.get("kind") in TaskKind.values else TaskKind.INSPECTION
        if alert.status not in ("dispatched", "in_hand"):
            messages.error(request, _("Only a dispatched alert can become a supervision task."))
            return redirect(alert.get_absolute_url())
        try:
            task = task_services.create_task_from_alert(alert, user=request.user, kind=kind)
        except (ValidationError, PermissionDenied) as exc:
            for msg in _errors(exc):
                messages.error(request, msg)
            return redirect(alert.get_absolute_url())
        messages.success(request, _("Task created from the alert."))
        return redirect(task.get_absolute_url())
