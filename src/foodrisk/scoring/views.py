"""Scoring pages: grade overview, runs, scores, the per-enterprise "why this grade" page, grade
changes, and manual adjustments (propose / approve / reject / withdraw)."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import generic

from foodrisk.core.security import require_confirmation
from foodrisk.core.validators import as_id
from foodrisk.core.views.generic import ObjectDetailView, ObjectListView, ScopedMixin
from foodrisk.core.widgets import bootstrap
from foodrisk.enterprises.models import Enterprise
from foodrisk.indicators.labels import RULE_TYPES, category_label, source_label

from . import filtersets, forms, services, tables
from .choices import GRADES, AdjustmentStatus
from .models import GradeAdjustment, GradeChange, ModelVersion, Score, ScoringRun

GRADE_COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}


def distribution_chart(dist, title=""):
    """An ECharts option (rendered by static/foodrisk/app.js from data-echarts; no inline script)."""
    return json.dumps({
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": list(GRADES)},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "data": [{"value": dist.get(g, 0), "itemStyle": {"color": GRADE_COLOURS[g]}}
                                            for g in GRADES], "label": {"show": True, "position": "top"}}],
    }, ensure_ascii=False)



# the steps of a run (ScoringRun.timing, seconds unless a count)
TIMING_LABELS = {
    "snapshot_s": _lazy("reading the snapshot"), "engine_s": _lazy("indicators and model"),
    "read_state_s": _lazy("reading the published grades"), "prepare_s": _lazy("preparing the results"),
    "explain_s": _lazy("explanations"), "explained": _lazy("enterprises explained"),
    "write_scores_s": _lazy("writing the scores"), "update_enterprises_s": _lazy("updating the enterprises"),
    "enterprises_updated": _lazy("enterprises updated"), "commit_s": _lazy("committing"),
    "publish_s": _lazy("publishing in all"), "total_s": _lazy("total"),
    "spark_export_s": _lazy("exporting the snapshot for the cluster"),
}

def shown_value(indicator, value):
    """An indicator's value as a supervisor reads it: an enumeration code by its label (sales → 食品销售),
    yes/no in words; numbers as they are."""
    from foodrisk.engine.schema import LABELS

    if isinstance(value, bool):
        return _("yes") if value else _("no")
    labels = LABELS.get(indicator.get("field") or "") if indicator.get("aggregation") == "value" else None
    if labels and value is not None:
        return labels.get(str(value), value)
    return value

class DashboardView(ScopedMixin, generic.TemplateView):
    """Grade distribution of the enterprises in the user's scope, latest runs, pending reviews."""

    model = Score
    template_name = "scoring/dashboard.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ents = Enterprise.objects.restrict(user, "view")
        dist = dict(ents.exclude(current_grade="").values_list("current_grade").annotate(n=Count("id")))
        ungraded = ents.filter(current_grade="").count()
        total = sum(dist.values())
        ctx.update(
            dist=[(g, dist.get(g, 0), round(100 * dist.get(g, 0) / total, 1) if total else 0) for g in GRADES],
            total=total, ungraded=ungraded, chart=distribution_chart(dist),
            runs=ScoringRun.objects.exclude(kind="preview").order_by("-started_at")[:5]
            if user.has_perm("scoring.view_scoringrun") else [],
            pending=GradeAdjustment.objects.restrict(user, "view").filter(status=AdjustmentStatus.PENDING)[:10]
            if user.has_perm("scoring.view_gradeadjustment") else [],
            changes=GradeChange.objects.restrict(user, "view").select_related("enterprise")[:10],
            can_run=user.has_perm("scoring.add_scoringrun"), run_form=bootstrap(forms.RunForm()),
        )
        return ctx


class ScoringRunListView(ObjectListView):
    model = ScoringRun
    table_class = tables.ScoringRunTable
    filterset_class = filtersets.ScoringRunFilterSet
    template_name = "scoring/scoringrun_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_run"] = self.request.user.has_perm("scoring.add_scoringrun")
        ctx["run_form"] = bootstrap(forms.RunForm())
        return ctx

    def get_table_kwargs(self):
        # a run's counts cover every region: a user with a narrower scope sees them on the run page, in scope
        if self.request.user.scope_prefix != "":
            return {"exclude": services.RUN_FIGURES}
        return {}


class StartRunView(ScopedMixin, generic.FormView):
    model = ScoringRun
    action = "add"
    form_class = forms.RunForm
    http_method_names = ["post"]

    def form_valid(self, form):
        job = services.start_run_job(form.cleaned_data["kind"], user=self.request.user,
                                     as_of=form.cleaned_data["as_of"])
        messages.success(self.request, _("Scoring run queued as job #%(j)s.") % {"j": job.pk})
        return redirect(job)

    def form_invalid(self, form):
        messages.error(self.request, form.errors.as_text())
        return redirect("scoring:scoringrun_list")


class ScoringRunDetailView(ObjectDetailView):
    model = ScoringRun
    template_name = "scoring/scoringrun_detail.html"
    hidden_fields = ("summary", "timing", "grade_distribution", "error")

    def get_object(self, queryset=None):
        return services.run_in_scope(super().get_object(queryset), self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        run = self.object
        ctx["chart"] = distribution_chart(run.grade_distribution or {})
        ctx["timing"] = [(TIMING_LABELS.get(k, k), v) for k, v in (run.timing or {}).items() if not isinstance(v, dict)]
        ctx["rows"] = {source_label(k): v for k, v in (run.timing or {}).get("snapshot_rows", {}).items()}
        ctx["scores_url"] = f"{self._url('scoring:score_list')}?run={run.pk}"
        ctx["edit_url"] = ctx["delete_url"] = ""
        return ctx

    @staticmethod
    def _url(name):
        from django.urls import reverse

        return reverse(name)


class ScoreListView(ObjectListView):
    model = Score
    table_class = tables.ScoreTable
    filterset_class = filtersets.ScoreFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "enterprise__region", "run")


class EnterpriseWhyView(ScopedMixin, generic.DetailView):
    """Why this grade: indicator values and points, subtotals, rule hits, reasons, set version, timeline."""

    model = Score
    template_name = "scoring/enterprise_why.html"
    context_object_name = "enterprise"

    def get_object(self, queryset=None):
        # the page is gated by view_score: the enterprise is its subject, within the user's region
        return get_object_or_404(Enterprise.objects.in_scope(self.request.user), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ent, user = self.object, self.request.user
        scores = Score.objects.restrict(user, "view").filter(enterprise=ent).select_related("indicator_set", "run")
        run_id = self.request.GET.get("run")
        score = (scores.filter(run_id=as_id(run_id)).first() if as_id(run_id) else None) or \
            scores.order_by("-run_id").first()
        ctx["score"] = score
        if score:
            spec = score.indicator_set.spec
            names = {i["code"]: i for i in spec.get("indicators", [])}
            cats = spec.get("categories", {})
            rows = []
            for code, (value, points) in sorted(score.indicator_details().items(), key=lambda kv: -(kv[1][1] or 0)):
                ind = names.get(code, {})
                rows.append({"code": code, "name": ind.get("name", code),
                             "category": category_label(ind.get("category", ""), cats),
                             "value": shown_value(ind, value), "points": points, "weight": ind.get("weight")})
            ctx["indicator_rows"] = rows
            ctx["subtotals"] = [(cats.get(k, {}).get("name", k), v, cats.get(k, {}).get("cap"))
                                for k, v in score.subtotals.items()]
            rules = {r["code"]: r for r in spec.get("rules", [])}
            ctx["rule_hits"] = [(c, rules.get(c, {}).get("name", c),
                                 RULE_TYPES.get(rules.get(c, {}).get("type", ""), rules.get(c, {}).get("type", "")))
                                for c in score.rule_hits]
            if score.model_version:
                mv = (ModelVersion.objects.restrict(user, "view").filter(version=score.model_version)
                      .only("pk").first())
                ctx["model_version_url"] = mv.get_absolute_url() if mv else ""
        history = list(scores.order_by("as_of", "run_id").values_list("as_of", "grade", "total_score", "run_id"))
        order = {g: i + 1 for i, g in enumerate(GRADES)}
        ctx["timeline_chart"] = json.dumps({
            "tooltip": {"trigger": "axis"},
            "legend": {"data": [_("grade"), _("score")]},
            "xAxis": {"type": "category", "data": [f"{a.isoformat()} #{r}" for a, _g, _s, r in history]},
            "yAxis": [{"type": "value", "min": 0, "max": 5, "interval": 1, "name": _("grade"),
                       "axisLabel": {"formatter": "{value}"}},
                      {"type": "value", "name": _("score"), "min": 0}],
            "series": [{"name": _("grade"), "type": "line", "step": "end", "data": [order[g] for _a, g, _s, _r in history]},
                       {"name": _("score"), "type": "line", "yAxisIndex": 1,
                        "data": [round(s, 1) for _a, _g, s, _r in history]}],
        }, ensure_ascii=False)
        ctx["grade_legend"] = list(order.items())
        ctx["changes"] = GradeChange.objects.restrict(user, "view").filter(enterprise=ent)[:50]
        ctx["adjustments"] = GradeAdjustment.objects.restrict(user, "view").filter(enterprise=ent)[:20]
        ctx["can_propose"] = user.has_perm("scoring.add_gradeadjustment")
        return ctx


class GradeChangeListView(ObjectListView):
    model = GradeChange
    table_class = tables.GradeChangeTable
    filterset_class = filtersets.GradeChangeFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "run", "adjustment")


class GradeAdjustmentListView(ObjectListView):
    model = GradeAdjustment
    table_class = tables.GradeAdjustmentTable
    filterset_class = filtersets.GradeAdjustmentFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "proposed_by", "decided_by")


class GradeAdjustmentDetailView(ObjectDetailView):
    model = GradeAdjustment
    template_name = "scoring/gradeadjustment_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        adj, user = self.object, self.request.user
        approver = user.has_perm("scoring.approve_gradeadjustment")
        ctx["can_decide"] = adj.status == AdjustmentStatus.PENDING and approver and adj.proposed_by_id != user.pk
        ctx["can_withdraw"] = adj.status in (AdjustmentStatus.PENDING, AdjustmentStatus.APPROVED) and (
            approver or adj.proposed_by_id == user.pk)
        ctx["note_form"] = bootstrap(forms.NoteForm())
        ctx["computed_grade"] = services.computed_grade(adj.enterprise_id)
        ctx["edit_url"] = ctx["delete_url"] = ""
        return ctx


class GradeAdjustmentCreateView(ScopedMixin, generic.FormView):
    model = GradeAdjustment
    action = "add"
    form_class = forms.AdjustmentForm
    template_name = "generic/object_form.html"

    def get_form_kwargs(self):
        kw = super().get_form_kwargs()
        kw["user"] = self.request.user
        return kw

    def get_initial(self):
        initial = super().get_initial()
        if pk := as_id(self.request.GET.get("enterprise")):
            initial["enterprise"] = pk
        return initial

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def form_valid(self, form):
        d = form.cleaned_data
        try:
            adj = services.propose_adjustment(d["enterprise"], d["proposed_grade"], d["reason"],
                                              user=self.request.user, valid_until=d["valid_until"],
                                              evidence=d.get("evidence"))
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Adjustment proposed; a second person must approve it."))
        return redirect(adj)


class GradeAdjustmentActionView(ScopedMixin, generic.View):
    """POST approve / reject / withdraw through the services (two-person rule enforced there)."""

    model = GradeAdjustment
    http_method_names = ["post"]
    ACTIONS = {"approve": services.approve_adjustment, "reject": services.reject_adjustment,
               "withdraw": services.withdraw_adjustment}

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise PermissionDenied
        adj = get_object_or_404(GradeAdjustment.objects.restrict(request.user, "view"), pk=pk)
        try:
            if action == "approve":  # publishes a grade by hand: a second, explicit confirmation
                require_confirmation(request)
            self.ACTIONS[action](adj, user=request.user, note=request.POST.get("note", ""))
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("Not allowed."))
            return redirect(adj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(adj)
        messages.success(request, _("Done."))
        return redirect(adj)
