from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View, generic

from foodrisk.core.forms import add_service_errors
from foodrisk.core.views.generic import ObjectDetailView, ObjectListView, restrict_choices
from foodrisk.core.widgets import bootstrap

from . import services, signing
from .catalogue import DATASETS, SENSITIVITY_LABELS
from .errors import CODES
from .forms import ClientSystemForm, DecisionForm
from .models import ClientSystem, SharingCall
from .tables import ClientSystemTable, SharingCallTable


class ClientSystemListView(ObjectListView):
    model = ClientSystem
    table_class = ClientSystemTable
    filterset_fields = ["status"]


class ClientSystemDetailView(ObjectDetailView):
    model = ClientSystem
    template_name = "sharing/clientsystem_detail.html"
    hidden_fields = ("secret", "previous_secret")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        client, user = self.object, self.request.user
        ctx["actions"] = [name for name in ("approve", "reject", "suspend", "reactivate")
                          if services.CLIENTS.may(client, name, user)]
        ctx["can_change"] = user.has_perm("sharing.change_clientsystem")
        ctx["calls"] = client.calls.all()[:20] if user.has_perm("sharing.view_sharingcall") else None
        ctx["decision_form"] = DecisionForm()
        return ctx


class ClientSystemFormView(LoginRequiredMixin, View):
    """Register a client (its secret shown once on the answer) or change its grant (pk in the URL)."""

    template_name = "sharing/clientsystem_form.html"

    def _client(self, pk):
        if pk is None:
            if not self.request.user.has_perm("sharing.add_clientsystem"):
                raise PermissionDenied
            return ClientSystem()
        return get_object_or_404(ClientSystem.objects.restrict(self.request.user, "change"), pk=pk)

    def _form(self, client, data=None):
        return bootstrap(restrict_choices(ClientSystemForm(data, instance=client), self.request.user))

    def get(self, request, pk=None):
        client = self._client(pk)
        return render(request, self.template_name, {"form": self._form(client), "object": client})

    def post(self, request, pk=None):
        client = self._client(pk)
        form = self._form(client, request.POST)
        if form.is_valid():
            try:
                if client.pk:
                    client = services.change(client, user=request.user, **form.service_kwargs())
                    messages.success(request, _("Saved.") if client.status != "pending" else
                                     _("Saved. The wider grant waits for a second person's approval."))
                    return redirect(client)
                d = form.cleaned_data
                kwargs = form.service_kwargs()
                kwargs.pop("valid_from"), kwargs.pop("valid_until")
                client, secret = services.register(
                    user=request.user, name=d["name"], organisation=d["organisation"], contact=d.get("contact", ""),
                    algorithm=d["algorithm"], valid_from=d.get("valid_from"), valid_until=d.get("valid_until"),
                    **kwargs)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:  # rendered, not redirected: the secret must not wait in a session for the next page
                return render(request, "sharing/clientsystem_secret.html", {"object": client, "secret": secret})
        return render(request, self.template_name, {"form": form, "object": client})


class ClientSystemActionView(LoginRequiredMixin, View):
    ACTIONS = {"approve": services.approve, "reject": services.reject, "suspend": services.suspend,
               "reactivate": services.reactivate}

    def post(self, request, pk, action):
        if action not in self.ACTIONS:
            raise PermissionDenied
        client = get_object_or_404(ClientSystem.objects.restrict(request.user, "view"), pk=pk)
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        kwargs = {} if action == "reactivate" else {"note": note}
        try:
            self.ACTIONS[action](client, user=request.user, **kwargs)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "；".join(exc.messages) if isinstance(exc, ValidationError) else
                           (str(exc) or _("You may not do this.")))
        else:
            messages.success(request, _("Done."))
        return redirect(client)


class ClientSystemRotateView(LoginRequiredMixin, View):
    def post(self, request, pk):
        client = get_object_or_404(ClientSystem.objects.restrict(request.user, "change"), pk=pk)
        client, secret = services.rotate_secret(client, user=request.user)
        return render(request, "sharing/clientsystem_secret.html", {"object": client, "secret": secret,
                                                                     "rotated": True})


class CatalogueView(LoginRequiredMixin, generic.TemplateView):
    """The share catalogue with its field dictionary, the result codes and how to sign a request."""

    template_name = "sharing/catalogue.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm("sharing.view_clientsystem"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["datasets"] = [(d, [(f, SENSITIVITY_LABELS[f.sensitivity]) for f in d.fields]) for d in DATASETS.values()]
        ctx["codes"] = [(code, status, message) for code, (status, message) in CODES.items()]
        ctx["headers"] = (signing.KEY_HEADER, signing.TIMESTAMP_HEADER, signing.NONCE_HEADER,
                          signing.SIGNATURE_HEADER)
        return ctx


class SharingCallListView(ObjectListView):
    model = SharingCall
    table_class = SharingCallTable
    filterset_fields = ["client", "code", "status"]

    def get_queryset(self):
        return super().get_queryset().select_related("client")
