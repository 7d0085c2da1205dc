"""Indicator library pages: set list, create from a policy profile, set page with its indicators, rules
and lifecycle actions, per-indicator / per-rule / settings editors, raw JSON editor, impact preview."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic

from foodrisk.core.forms import add_service_errors
from foodrisk.core.models import Job
from foodrisk.core.rows import MoreRowsMixin
from foodrisk.core.security import require_confirmation
from foodrisk.core.services import jobs
from foodrisk.core.views.generic import ObjectDetailView, ObjectListView, ScopedMixin
from foodrisk.core.widgets import bootstrap
from foodrisk.enterprises.models import Enterprise

from . import forms, services
from .filtersets import IndicatorSetFilterSet
from .models import IndicatorSet
from .services import SpecValidationError
from .tables import IndicatorSetTable

# above this many enterprises an impact preview runs in the worker, below it right away
PREVIEW_INLINE_LIMIT = 5000


class IndicatorSetListView(ObjectListView):
    model = IndicatorSet
    table_class = IndicatorSetTable
    filterset_class = IndicatorSetFilterSet


class IndicatorSetCreateView(ScopedMixin, generic.FormView):
    model = IndicatorSet
    action = "add"
    form_class = forms.ProfileForm
    template_name = "indicators/indicatorset_create.html"

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def form_valid(self, form):
        d = form.cleaned_data
        obj = services.create_from_profile(d["profile"], user=self.request.user, code=d["code"] or None,
                                           name=d["name"] or None, scope_region=d["scope_region"],
                                           note=d["change_note"])
        messages.success(self.request, _("Draft created."))
        return redirect(obj)


def latest_preview(obj):
    return Job.objects.filter(kind="indicators.preview", params__indicator_set=obj.pk).order_by("-created_at").first()


class IndicatorSetDetailView(ObjectDetailView):
    model = IndicatorSet
    template_name = "indicators/indicatorset_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj, user = self.object, self.request.user
        ctx.update(
            spec=obj.spec,
            spec_json=json.dumps(obj.spec, ensure_ascii=False, indent=1),
            versions=IndicatorSet.objects.filter(code=obj.code).order_by("-version"),
            can_edit=obj.is_editable and user.has_perm("indicators.change_indicatorset"),
            can_approve=user.has_perm("indicators.approve_indicatorset") and user.pk not in {
                obj.created_by_id, obj.submitted_by_id},
            can_activate=user.has_perm("indicators.activate_indicatorset"),
            can_preview=user.has_perm("indicators.preview_indicatorset"),
            can_copy=user.has_perm("indicators.add_indicatorset"),
            preview_job=latest_preview(obj),
            edit_url="", delete_url="",
        )
        return ctx


class _DraftEditMixin(ScopedMixin):
    """Editors of a draft. Every save goes through one service call (validation, drafts only, audit);
    what the service refuses is shown on the form and nothing is saved."""

    model = IndicatorSet
    action = "change"

    @cached_property
    def set(self):
        # looked up after ScopedMixin.dispatch checked the permission: no permission is a 403, not a 404
        return get_object_or_404(IndicatorSet.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["set"] = self.set
        return ctx

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def save(self, form, write, where="indicator set"):
        """Run `write()` (one service call); its refusals become form errors. `where`: the engine's name of
        what the form edits, so its issues go next to the form's fields."""
        try:
            write()
        except SpecValidationError as exc:
            self.show_issues(form, exc.issues, where)
            return self.form_invalid(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return redirect(self.set)

    def show_issues(self, form, issues, where):
        forms.apply_issues(form, issues, where)


class _SpecPartEditView(_DraftEditMixin, generic.FormView):
    """Add or edit one entry of a draft spec's list (its indicators or its policy rules), by code."""

    template_name = "indicators/part_form.html"
    part = ""  # "indicators" or "rules"
    noun = ""  # the engine's name in its issues: "indicator 'code'"
    title = ""
    defaults = {}
    # name of the service function (replace_indicator or replace_rule), looked up at call time so that a
    # patched service (tests) is the one called
    service = ""

    def current(self):
        code = self.kwargs.get("code")
        return next((item for item in self.set.spec.get(self.part, []) if item.get("code") == code), None)

    def get(self, request, *args, **kwargs):
        if self.kwargs.get("code") is not None and self.current() is None:
            raise Http404(f"no {self.noun} {self.kwargs['code']}")
        return super().get(request, *args, **kwargs)

    def initial_from(self, item):
        return item

    def get_initial(self):
        item = self.current()
        return self.initial_from(item) if item else dict(self.defaults)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = str(self.title) + f" {self.kwargs.get('code') or _('(new)')}"
        return ctx

    def form_valid(self, form):
        new = form.to_spec()
        code = self.kwargs.get("code")  # None = add
        replace = getattr(services, self.service)
        return self.save(form, lambda: replace(self.set, code, new, user=self.request.user),
                         where=f"{self.noun} '{new['code']}'")


class IndicatorEditView(MoreRowsMixin, _SpecPartEditView):
    form_class = forms.IndicatorForm
    part, noun, title = "indicators", "indicator", gettext_lazy("Indicator")
    defaults = {"weight": 1.0, "enabled": True, "trend_mode": "diff"}
    service = "replace_indicator"


class RuleEditView(MoreRowsMixin, _SpecPartEditView):
    form_class = forms.RuleForm
    part, noun, title = "rules", "rule", gettext_lazy("Policy rule")
    defaults = {"enabled": True, "match": "all", "steps": 1, "factor": 1.0}
    service = "replace_rule"

    def initial_from(self, item):
        return forms.RuleForm.initial_from(item)

    def get_form_kwargs(self):
        spec = self.set.spec
        return {**super().get_form_kwargs(), "indicators": spec.get("indicators") or [],
                "categories": spec.get("categories") if isinstance(spec.get("categories"), dict) else {}}


class SettingsEditView(MoreRowsMixin, _DraftEditMixin, generic.FormView):
    form_class = forms.SettingsForm
    template_name = "indicators/part_form.html"

    def grades(self):
        return self.set.spec.get("grades") or ["A", "B", "C", "D"]

    def get_form_kwargs(self):
        kw = super().get_form_kwargs()
        kw["grades"] = self.grades()
        return kw

    def get_initial(self):
        return forms.SettingsForm.initial_from(self.set)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Cut-offs, blend weights and settings")
        return ctx

    def form_valid(self, form):
        d = form.cleaned_data
        # applied to the locked row's spec, not self.set's: an indicator saved meanwhile is kept
        return self.save(form, lambda: services.change_spec(
            self.set, form.apply_to, user=self.request.user, name=d["name"], note=d["change_note"],
            scope_region=d["scope_region"]))

    def show_issues(self, form, issues, where):
        targets = {"cutoffs": f"cutoff_{self.grades()[0]}", "blend": "blend_rule"}
        for w, fld, msg in issues:
            target = targets.get(fld, fld)
            if w == where and target in form.fields:
                form.add_error(target, msg)
            else:
                form.add_error(None, f"{w}: {fld + ': ' if fld else ''}{msg}")


class RawSpecView(_DraftEditMixin, generic.FormView):
    form_class = forms.RawSpecForm
    template_name = "indicators/part_form.html"

    def get_initial(self):
        return {"spec": self.set.spec, "change_note": self.set.change_note}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Raw JSON editor (experts)")
        return ctx

    def form_valid(self, form):
        return self.save(form, lambda: services.update_spec(self.set, form.cleaned_data["spec"],
                                                            user=self.request.user,
                                                            note=form.cleaned_data["change_note"]))

    def show_issues(self, form, issues, where):
        for w, fld, msg in issues:
            form.add_error("spec", f"{w}: {fld + ': ' if fld else ''}{msg}")


ACTIONS = {
    # action: (permission, service call)
    "submit": "indicators.change_indicatorset",
    "approve": "indicators.approve_indicatorset",
    "reject": "indicators.approve_indicatorset",
    "activate": "indicators.activate_indicatorset",
    "rollback": "indicators.activate_indicatorset",
    "copy": "indicators.add_indicatorset",
    "delete": "indicators.delete_indicatorset",
    "preview": "indicators.preview_indicatorset",
    "remove_indicator": "indicators.change_indicatorset",
    "remove_rule": "indicators.change_indicatorset",
}


# Activating a set (or rolling back to one) regrades everyone: a second, explicit confirmation.
HIGH_RISK = {"activate", "rollback"}


class LifecycleActionView(ScopedMixin, generic.View):
    """POST /indicators/sets/<pk>/<action>/ — every button on the set page."""

    model = IndicatorSet
    http_method_names = ["post"]

    def permission_name(self):
        return ACTIONS.get(self.kwargs["action"], "indicators.change_indicatorset")

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise PermissionDenied
        obj = get_object_or_404(IndicatorSet.objects.restrict(request.user, "view"), pk=pk)
        user, note = request.user, request.POST.get("note", "")
        try:
            if action in HIGH_RISK:
                require_confirmation(request)
            result = self.perform(obj, action, user, note)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return redirect(obj)
        return result or redirect(obj)

    def perform(self, obj, action, user, note):
        request = self.request
        if action == "submit":
            services.submit(obj, user=user, note=note)
            messages.success(request, _("Submitted for approval."))
        elif action == "approve":
            services.approve(obj, user=user, note=note)
            messages.success(request, _("Approved."))
        elif action == "reject":
            services.reject(obj, user=user, note=note)
            messages.success(request, _("Sent back to draft."))
        elif action == "activate":  # confirmed: require_confirmation passed (HIGH_RISK)
            services.activate(obj, user=user, note=note, confirmed=True)
            messages.success(request, _("Activated; a full scoring run has been queued."))
        elif action == "rollback":
            new = services.rollback(obj, user=user, note=note, confirmed=True)
            messages.success(request, _("Rolled back: version %(v)s is active.") % {"v": new.version})
            return redirect(new)
        elif action == "copy":
            new = services.copy_version(obj, user=user, note=note)
            messages.success(request, _("New draft version %(v)s created.") % {"v": new.version})
            return redirect(new)
        elif action == "delete":
            services.delete_draft(obj, user=user)
            messages.success(request, _("Deleted."))
            return redirect("indicators:indicatorset_list")
        elif action == "preview":
            population = Enterprise.objects.count()
            job = jobs.start("indicators.preview", user=user, params={"indicator_set": obj.pk},
                             run_now=population <= PREVIEW_INLINE_LIMIT)
            messages.info(request, _("Impact preview started (job #%(j)s).") % {"j": job.pk})
            return redirect(reverse("indicators:indicatorset_preview", args=[obj.pk]))
        elif action == "remove_indicator":
            services.remove_indicator(obj, request.POST.get("code", ""), user=user)
            messages.success(request, _("Saved."))
        elif action == "remove_rule":
            services.remove_rule(obj, request.POST.get("code", ""), user=user)
            messages.success(request, _("Saved."))
        return None


class PreviewView(ObjectDetailView):
    """The latest impact preview of a set: migration matrix, movers, sample with reasons."""

    model = IndicatorSet
    template_name = "indicators/indicatorset_preview.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        job = latest_preview(self.object)
        ctx["job"] = job
        result = job.result if job and job.status == "succeeded" else None
        ctx["result"] = result
        if result:
            from foodrisk.scoring.model_views import impact_context

            ctx.update(impact_context(result, self.request.user))  # the viewer's region only
        ctx["edit_url"] = ctx["delete_url"] = ""
        return ctx
