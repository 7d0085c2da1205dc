"""Model governance pages: the list of model versions (train / promote / roll back / retire) and the
model card of one version (data window, features, metrics, rates by grade, calibration, drift)."""

import contextlib
import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic

from foodrisk.core.validators import is_digits
from foodrisk.core.views.generic import ObjectDetailView, ObjectListView, ScopedMixin
from foodrisk.core.widgets import bootstrap

from . import filtersets, model_services, services, tables
from .choices import ModelStatus, TrainingTarget
from .models import ModelVersion

# above this many enterprises an impact preview runs in the worker, below it right away
PREVIEW_INLINE_LIMIT = 5000
MOVERS_SHOWN = 100

METRIC_ROWS = [("rules", gettext_lazy("Rules only")), ("model", gettext_lazy("Model")),
               ("combined", gettext_lazy("Combined (rules + model)")),
               ("challenger_woe_logistic", gettext_lazy("Challenger (WoE logistic)"))]
CHECK_LABELS = {
    "combined_auc_beats_rules": gettext_lazy("Combined AUC beats rules alone"),
    "combined_grades_monotone": gettext_lazy("Event rates rise A < B < C < D"),
    "combined_d_over_a_ge_4": gettext_lazy("D / A event-rate ratio ≥ 4"),
    "top10_vs_random_ge_2_5": gettext_lazy("Top decile finds ≥ 2.5× a random decile"),
    "score_psi_stable": gettext_lazy("Score stable on the hold-out (PSI < 0.1)"),
}


# The shortest history the page may ask for: the training's validation folds with their defaults (a 12-month
# label, 3 folds 3 months apart, 6 months of history before the first training date) fail in the engine on
# less (on the demo city: 16–22 months fail, "not enough history for rolling-origin validation").
MIN_TRAIN_MONTHS = 24


class TrainForm(forms.Form):
    months = forms.IntegerField(label=gettext_lazy("Monthly snapshots"), min_value=MIN_TRAIN_MONTHS, max_value=120,
                                initial=24, widget=forms.NumberInput(attrs={
                                    "title": gettext_lazy("Monthly snapshots"), "class": "app-narrow"}))
    as_of = forms.DateField(label=gettext_lazy("Labels complete up to"), required=False, widget=forms.DateInput,
                            help_text=gettext_lazy("Empty = today."))
    target = forms.ChoiceField(label=gettext_lazy("Training target"), choices=TrainingTarget.choices,
                               initial=TrainingTarget.ENTERPRISE, required=False,  # absent: the enterprise label
                               widget=forms.Select(attrs={"title": gettext_lazy("Training target"), "class": "w-auto"}))


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Review note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


def calibration_chart(curve):
    pts = [[round(c["mean_predicted"], 4), round(c["observed"], 4)] for c in curve]
    top = max([1e-6] + [max(c["mean_predicted"], c["ci_high"] or 0) for c in curve])
    top = round(min(1.0, top * 1.1), 3)
    return json.dumps({
        "tooltip": {"trigger": "item"},
        "legend": {"data": [_("observed"), _("perfect calibration")]},
        "xAxis": {"type": "value", "name": _("mean predicted"), "min": 0, "max": top},
        "yAxis": {"type": "value", "name": _("observed rate"), "min": 0, "max": top},
        "series": [
            {"name": _("observed"), "type": "line", "data": pts, "symbolSize": 8},
            {"name": _("perfect calibration"), "type": "line", "data": [[0, 0], [top, top]],
             "lineStyle": {"type": "dashed"}, "symbol": "none"},
        ],
    }, ensure_ascii=False)


def grade_rate_chart(rate_by_grade):
    series = []
    for key, name in (("rules", _("Rules only")), ("combined", _("Combined (rules + model)"))):
        rows = (rate_by_grade.get(key) or {}).get("by_grade", [])
        series.append({"name": name, "type": "bar",
                       "data": [round(100 * r["rate"], 2) if r["rate"] is not None else None for r in rows]})
    grades = [r["grade"] for r in (rate_by_grade.get("combined") or {}).get("by_grade", [])]
    return json.dumps({
        "tooltip": {"trigger": "axis"}, "legend": {"data": [s["name"] for s in series]},
        "xAxis": {"type": "category", "data": grades}, "yAxis": {"type": "value", "name": "%"},
        "series": series,
    }, ensure_ascii=False)


def drift_chart(reports):
    reports = list(reversed(reports))
    return json.dumps({
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [r.as_of.isoformat() for r in reports]},
        "yAxis": {"type": "value", "name": "PSI", "min": 0},
        "series": [{"name": _("score PSI"), "type": "line", "data": [round(r.score_psi, 4) for r in reports],
                    "markLine": {"symbol": "none", "data": [{"yAxis": 0.1}, {"yAxis": 0.25}]}}],
    }, ensure_ascii=False)


class ModelVersionListView(ObjectListView):
    model = ModelVersion
    table_class = tables.ModelVersionTable
    filterset_class = filtersets.ModelVersionFilterSet
    template_name = "scoring/modelversion_list.html"

    def get_queryset(self):
        return (super().get_queryset().defer("artifact")
                .select_related("indicator_set", "trained_by", "promoted_by", "reviewed_by"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["can_train"] = user.has_perm(model_services.TRAIN_PERM)
        ctx["can_promote"] = user.has_perm(model_services.PROMOTE_PERM)
        ctx["train_form"] = bootstrap(TrainForm())
        ctx["champion"] = model_services.champion(artifact=False)
        ctx["rollback_to"] = model_services.previous_champion()
        return ctx


def candidate_label(key):
    """'h6_lgbm_shallow' → '标签期6个月 · 梯度提升树（浅）' (the card speaks Chinese)."""
    horizon, _sep, name = key.partition("_")
    if name.startswith("logistic_C"):
        model = _("Logistic regression (C=%(c)s)") % {"c": name.removeprefix("logistic_C")}
    else:
        model = {"lgbm_shallow": _("Gradient-boosted trees (shallow)"),
                 "lgbm_deeper": _("Gradient-boosted trees (deeper)")}.get(name, _("Gradient-boosted trees"))
    return _("%(h)s-month label · %(m)s") % {"h": horizon.removeprefix("h"), "m": model}


def model_kind(artifact):
    """What the model is, in Chinese (the engine's card names it in English): its kind and its calibration."""
    if artifact.winner == "logistic":
        kind = _("L2 logistic regression (chosen over LightGBM on the validation folds)")
    else:
        kind = _("LightGBM binary classifier (gradient-boosted trees)")
    method = (artifact.calibrator or {}).get("method")
    calibration = {"platt": _("Platt scaling"), "isotonic": _("isotonic regression")}.get(method)
    return _("%(kind)s, calibrated by %(method)s") % {"kind": kind, "method": calibration} if calibration else kind


def training_rows(rows):
    """The rows of each part of the data: {'train': 3730, …} → [('训练', 3730), …]."""
    names = {"train": _("Training"), "calibration": _("Calibration"), "holdout": _("Hold-out")}
    return [(names.get(part, part), n) for part, n in (rows or {}).items()]


def validation_context(validation):
    """Fold-by-fold AUC of every candidate (the winner first), whom the model targets, blend choices."""
    if not validation:
        return {}
    folds = validation.get("folds") or []
    chosen = (validation.get("chosen") or {}).get("candidate")
    means = validation.get("mean_auc") or {}
    rows = [{"label": candidate_label(k), "chosen": k == chosen, "mean": means[k],
             "folds": [f["auc"].get(k) for f in folds]}
            for k in sorted(means, key=lambda k: (k != chosen, -means[k]))]
    dims = (("business_form", _("Business form")), ("scale", _("Scale")), ("region", _("Region")))
    segments = [(label, (validation.get("segments") or {}).get(key) or []) for key, label in dims]
    return {"validation": validation, "validation_folds": folds, "validation_rows": rows,
            "validation_segments": segments, "grade_folds": validation.get("grades_by_fold") or []}


class ModelVersionDetailView(ObjectDetailView):
    """The model card."""

    model = ModelVersion
    template_name = "scoring/modelversion_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        mv, user = self.object, self.request.user
        card = mv.metrics or {}
        metrics = card.get("metrics") or {}
        ctx["metric_rows"] = [(label, metrics[key]) for key, label in METRIC_ROWS if key in metrics]
        ctx["checks"] = [(CHECK_LABELS.get(k, k), v) for k, v in (card.get("checks") or {}).items()]
        rbg = card.get("rate_by_grade") or {}
        ctx["grade_rows"] = [(label, (rbg.get(key) or {})) for key, label in
                             (("rules", _("Rules only")), ("combined", _("Combined (rules + model)")))]
        ctx["grade_chart"] = grade_rate_chart(rbg)
        ctx["calibration"] = card.get("calibration_curve") or []
        ctx["calibration_chart"] = calibration_chart(ctx["calibration"])
        stab = card.get("stability") or {}
        feats = card.get("features") or []
        artifact = None
        with contextlib.suppress(Exception):  # a damaged artifact still shows its card
            artifact = model_services.load_artifact(mv)
        medians = artifact.feature_medians if artifact else {}
        ctx["model_kind"] = model_kind(artifact) if artifact else "—"
        ctx["trees"] = artifact is not None and artifact.winner != "logistic"  # a regression has no trees
        ctx["features"] = [{**f, "median": medians.get(f["name"]),
                            "psi": (stab.get("features") or {}).get(f["name"], {}).get("psi")} for f in feats]
        ctx["card"] = card
        ctx["top10"] = card.get("top10_vs_random") or {}
        ctx["holdout"] = card.get("holdout") or {}
        ctx["training_rows"] = training_rows((card.get("training_metrics") or {}).get("rows"))
        ctx.update(validation_context(card.get("validation")))
        reports = list(mv.drift_reports.order_by("-as_of", "-pk")[:24])
        ctx["drift_reports"] = reports
        ctx["latest_drift"] = reports[0] if reports else None
        ctx["drift_features"] = sorted(((v.get("label", n), v.get("psi")) for n, v in
                                        ((reports[0].report.get("features") or {}).items() if reports else [])),
                                       key=lambda kv: -(kv[1] or 0))[:15]
        ctx["drift_chart"] = drift_chart(reports) if reports else ""
        promoter = user.has_perm(model_services.PROMOTE_PERM)
        not_trainer = mv.trained_by_id != user.pk
        ctx["can_review"] = promoter and not_trainer and mv.status == ModelStatus.CANDIDATE
        ctx["can_promote"] = ctx["can_review"]
        ctx["can_retire"] = promoter and mv.status != ModelStatus.RETIRED
        ctx["is_trainer"] = not not_trainer
        ctx["rollback_to"] = model_services.previous_champion() if mv.status == ModelStatus.CHAMPION else None
        ctx["can_rollback"] = promoter and ctx["rollback_to"] is not None
        ctx["can_drift"] = promoter and mv.status == ModelStatus.CHAMPION
        ctx["note_form"] = bootstrap(NoteForm())
        ctx["edit_url"] = ctx["delete_url"] = ""
        return ctx


def _run(request, func, *args, **kwargs):
    try:
        result = func(*args, **kwargs)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("Not allowed."))
        return None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    messages.success(request, _("Done."))
    return result


class ModelVersionActionView(ScopedMixin, generic.View):
    """POST review / promote / retire of one version (the services check the two-person rule)."""

    model = ModelVersion
    action = "promote"
    http_method_names = ["post"]

    def post(self, request, pk, action):
        mv = get_object_or_404(ModelVersion.objects.restrict(request.user, "view"), pk=pk)
        note = request.POST.get("note", "")
        funcs = {"review": model_services.review, "retire": model_services.retire}  # promote: ModelChangeView
        if action not in funcs:
            raise PermissionDenied
        _run(request, funcs[action], mv, user=request.user, note=note)
        return redirect(mv)


class ModelDriftView(ScopedMixin, generic.View):
    """POST: queue a drift check of the champion now."""

    model = ModelVersion
    action = "promote"
    http_method_names = ["post"]

    def post(self, request):
        from foodrisk.core.services import jobs

        job = jobs.start("scoring.drift", user=request.user)
        messages.success(request, _("Drift check queued as job #%(j)s.") % {"j": job.pk})
        return redirect(job)


class ModelTrainView(ScopedMixin, generic.FormView):
    model = ModelVersion
    action = "add"
    form_class = TrainForm
    http_method_names = ["post"]

    def form_valid(self, form):
        job = model_services.start_train_job(user=self.request.user, months=form.cleaned_data["months"],
                                             as_of=form.cleaned_data["as_of"],
                                             target=form.cleaned_data["target"] or TrainingTarget.ENTERPRISE)
        messages.success(self.request, _("Training queued as job #%(j)s.") % {"j": job.pk})
        return redirect(job)

    def form_invalid(self, form):
        messages.error(self.request, form.errors.as_text())
        return redirect("scoring:modelversion_list")


def impact_context(summary, user, *, movers_shown=MOVERS_SHOWN):
    """A preview's figures as ``user`` may see them (services.impact_in_scope): the migration matrix rows,
    the grades, the movers with names (enterprises in the user's scope only) and the sample."""
    from foodrisk.enterprises.models import Enterprise

    if not summary:
        return {}
    summary = services.impact_in_scope(summary, user)
    grades = summary["grades"]
    rows = []
    for old in ["", *grades]:
        cells = summary["matrix"].get(old, {})
        rows.append({"old": old or "—", "cells": [(g, cells.get(g, 0), g == old) for g in grades],
                     "total": sum(cells.values())})
    movers = (summary.get("movers") or [])[:movers_shown]
    names = dict(Enterprise.objects.in_scope(user).filter(pk__in=[m[0] for m in movers]).values_list("id", "name"))
    return {"impact": summary, "matrix_rows": rows, "grades": grades,
            "movers": [{"enterprise_id": m[0], "name": names.get(m[0], m[0]), "region": m[1], "old": m[2],
                        "new": m[3], "score": m[4]} for m in movers if m[0] in names],
            "movers_total": len(summary.get("movers") or [])}


CHANGE_TITLES = {"promote": gettext_lazy("Promote to champion"), "rollback": gettext_lazy("Roll back"),
                 "retire": gettext_lazy("Retire the champion (rule-only scoring)")}


class ModelChangeView(ScopedMixin, generic.TemplateView):
    """GET /scoring/models/change/<pk|none>/: the impact preview of making that version the champion ("none":
    retiring the champion) — migration matrix and the enterprises that move, in the viewer's region — and the
    confirmation that publishes the change on that preview. POST do=preview runs the preview; do=publish
    promotes / rolls back / retires through the services (second person, fresh preview, confirmation)."""

    model = ModelVersion
    action = "promote"
    template_name = "scoring/model_change.html"

    def target(self):
        key = self.kwargs["target"]
        if key == "none":
            return None
        if not is_digits(key):
            raise PermissionDenied
        return get_object_or_404(ModelVersion.objects.restrict(self.request.user, "view").defer("artifact"),
                                 pk=int(key))

    def get_context_data(self, **kwargs):
        from foodrisk.core.models import Job

        ctx = super().get_context_data(**kwargs)
        target, user = self.target(), self.request.user
        kind = model_services.change_of(target)
        run = model_services.latest_preview(target)
        job = (Job.objects.filter(kind="scoring.model_preview", params__target=target.pk if target else None)
               .order_by("-created_at").first())
        ctx.update(target=target, change=kind, change_title=CHANGE_TITLES.get(kind, ""),
                   champion=model_services.champion(artifact=False), run=run,
                   problem=model_services.preview_problem(run, target) if kind else "",
                   job=job if job and not job.finished else None, note_form=bootstrap(NoteForm()),
                   is_trainer=target is not None and target.trained_by_id == user.pk,
                   key=self.kwargs["target"])
        if run is not None:
            ctx.update(impact_context(run.summary, user))
        return ctx

    def post(self, request, target):
        from foodrisk.enterprises.models import Enterprise

        mv = self.target()
        back = redirect("scoring:modelversion_change", target=self.kwargs["target"])
        if request.POST.get("do") == "preview":
            job = model_services.start_preview_job(
                mv, user=request.user, run_now=Enterprise.objects.count() <= PREVIEW_INLINE_LIMIT)
            messages.info(request, _("Impact preview started (job #%(j)s).") % {"j": job.pk})
            return back
        result = _run(request, model_services.publish_change, mv, user=request.user,
                      note=request.POST.get("note", ""), preview=request.POST.get("preview"),
                      confirmed=request.POST.get("confirmed") in ("1", "on"))
        if result is None:
            return back
        return redirect(result if mv is None or result.pk != mv.pk else mv)
