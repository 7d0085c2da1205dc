from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.views import View

from foodrisk.core.views.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from . import filtersets, forms, profile, services, tables
from .filtersets import search_enterprises
from .models import Enterprise, Licence
from .sensitive import SENSITIVE_PERMISSION, can_see_sensitive, masked


# --- enterprises -----------------------------------------------------------------------------------
class EnterpriseListView(ObjectListView):
    model = Enterprise
    filterset_class = filtersets.EnterpriseFilterSet
    table_class = tables.EnterpriseTable  # masked for everyone: revealing is a deliberate act on the profile
    sensitive_permission = SENSITIVE_PERMISSION

    def get_queryset(self):
        return super().get_queryset().select_related("region")


class EnterpriseDetailView(ObjectDetailView):
    """The one-enterprise-one-file profile; every view is audited."""

    model = Enterprise
    audit_view = True
    template_name = "enterprises/enterprise_detail.html"
    hidden_fields = ("legal_representative",)  # never in the context in clear; see legal_representative below

    def get_queryset(self):
        return super().get_queryset().select_related("region")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        enterprise, user = self.object, self.request.user
        ctx["legal_representative"] = masked(enterprise)
        ctx["can_reveal"] = can_see_sensitive(user)
        ctx["reveal_form"] = forms.RevealForm(initial={"field": "legal_representative"})
        ctx["licences"] = (Licence.objects.restrict(user, "view").filter(enterprise=enterprise)
                           if user.has_perm("enterprises.view_licence") else None)
        ctx["can_add_licence"] = user.has_perm("enterprises.add_licence")
        scores = getattr(enterprise, "scores", None)  # the scoring app's Score, when installed
        ctx["scores"] = (list(scores.model.objects.restrict(user, "view").filter(enterprise=enterprise)[:20])
                         if scores is not None else [])
        ctx["profile_sections"] = profile.sections(enterprise, self.request)
        return ctx


class EnterpriseRevealView(ObjectDetailView):
    """POST field + reason: the field in clear for this person, once, recorded with the reason (htmx swaps the
    answer into the profile's cell; without htmx it is a small page)."""

    model = Enterprise
    template_name = "enterprises/enterprise_reveal.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        from django.core.exceptions import ValidationError

        self.object = enterprise = self.get_object()
        form = forms.RevealForm(request.POST)
        value = None
        if form.is_valid():
            try:
                value = services.reveal_sensitive(enterprise, form.cleaned_data["field"], user=request.user,
                                                  reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error(None, exc)
            except PermissionDenied:
                raise
        names = [f"{self.template_name}#cell"] if request.htmx else [self.template_name]
        return render(request, names, {"object": enterprise, "form": form, "value": value,
                                       "masked_value": masked(enterprise, form.cleaned_data.get("field")
                                                              or "legal_representative")})


class EnterpriseEditView(ObjectEditView):
    model = Enterprise
    form_class = forms.EnterpriseForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def save(self, form):
        return services.save_enterprise(form.instance, user=self.request.user)


class EnterpriseDeleteView(ObjectDeleteView):
    model = Enterprise
    refused = (services.EnterpriseInUse,)

    def delete_object(self, obj):
        services.delete_enterprise(obj, user=self.request.user)

    def refusal_message(self, exc):
        return str(exc)


class EnterpriseAutocompleteView(LoginRequiredMixin, View):
    """Pick an enterprise: JSON (`?q=…`) or, for htmx, a list of options to click. Scoped like every read."""

    limit = 20

    def get(self, request):
        if not request.user.has_perm("enterprises.view_enterprise"):
            raise PermissionDenied
        query = (request.GET.get("q") or request.GET.get("term") or "").strip()
        qs = Enterprise.objects.restrict(request.user, "view").select_related("region")
        rows = list(search_enterprises(qs, query)[: self.limit]) if query else []
        if request.htmx:
            return render(request, "enterprises/autocomplete.html",
                          {"rows": rows, "query": query, "target": request.GET.get("target", "")})
        return JsonResponse({"results": [
            {"id": e.pk, "uscc": e.uscc, "name": e.name, "region": e.region.full_name or e.region.name,
             "text": f"{e.name}（{e.uscc}）"} for e in rows]})


# --- licences --------------------------------------------------------------------------------------
class LicenceListView(ObjectListView):
    model = Licence
    table_class = tables.LicenceTable
    filterset_class = filtersets.LicenceFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise")


class LicenceDetailView(ObjectDetailView):
    model = Licence
    hidden_fields = ("source_row",)


class LicenceEditView(ObjectEditView):
    model = Licence
    form_class = forms.LicenceForm
    template_name = "enterprises/form.html"

    def get_initial(self):
        initial = super().get_initial()
        if "enterprise" in self.request.GET:
            initial["enterprise"] = self.request.GET["enterprise"]
        return initial

    def save(self, form):
        return services.save_licence(form.instance, user=self.request.user)


class LicenceDeleteView(ObjectDeleteView):
    model = Licence

    def delete_object(self, obj):
        services.delete_licence(obj, user=self.request.user)

