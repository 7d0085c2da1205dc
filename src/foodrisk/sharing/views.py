import json

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View, generic

from foodrisk.core.forms import add_service_errors
from foodrisk.core.views.generic import ObjectDetailView, ObjectListView, restrict_choices
from foodrisk.core.widgets import bootstrap

from . import services, signing, webhooks
from .catalogue import DATASETS, SENSITIVITY_LABELS
from .errors import CODES
from .forms import ClientSystemForm, DecisionForm, SubscriptionForm
from .models import ClientSystem, Delivery, DeliveryStatus, SharingCall, Subscription
from .tables import ClientSystemTable, DeliveryTable, SharingCallTable


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
        ctx["subscriptions"] = client.subscriptions.all() if user.has_perm("sharing.view_subscription") else None
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


# ------------------------------------------------------------------------------------------------- push
def _secret_page(request, subscription, secret, rotated=False):
    """Rendered, not redirected: the secret must not wait in a session for the next page."""
    return render(request, "sharing/subscription_secret.html", {"object": subscription, "secret": secret,
                                                                 "rotated": rotated})


class SubscriptionFormView(LoginRequiredMixin, View):
    """A new subscription of a client (client pk in the URL; its secret shown once) or a change (pk)."""

    template_name = "sharing/subscription_form.html"

    def _objects(self, client_pk=None, pk=None):
        clients = ClientSystem.objects.restrict(self.request.user, "change")
        if pk is not None:
            sub = get_object_or_404(Subscription.objects.restrict(self.request.user, "view")
                                    .filter(client__in=clients), pk=pk)
            return sub.client, sub
        return get_object_or_404(clients, pk=client_pk), None

    def _form(self, sub, data=None):
        initial = {"url": sub.url, "event_types": sub.event_types, "description": sub.description} if sub else None
        return bootstrap(SubscriptionForm(data, initial=initial))

    def get(self, request, client_pk=None, pk=None):
        client, sub = self._objects(client_pk, pk)
        if not request.user.has_perm("sharing.change_clientsystem"):
            raise PermissionDenied
        return render(request, self.template_name, {"form": self._form(sub), "client": client, "object": sub})

    def post(self, request, client_pk=None, pk=None):
        client, sub = self._objects(client_pk, pk)
        form = self._form(sub, request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                if sub is not None:
                    sub = services.change_subscription(sub, user=request.user, url=d["url"],
                                                       event_types=d["event_types"], description=d["description"])
                    messages.success(request, _("Saved."))
                    return redirect(sub)
                sub, secret = services.create_subscription(client, user=request.user, url=d["url"],
                                                           event_types=d["event_types"],
                                                           description=d["description"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _secret_page(request, sub, secret)
        return render(request, self.template_name, {"form": form, "client": client, "object": sub})


class SubscriptionDetailView(ObjectDetailView):
    model = Subscription
    template_name = "sharing/subscription_detail.html"
    hidden_fields = ("secret", "previous_secret", "event_types")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["fields"].insert(2, (_("event types"), self.object.display_event_types()))
        ctx["can_manage"] = user.has_perm("sharing.change_clientsystem") and ClientSystem.objects.restrict(
            user, "change").filter(pk=self.object.client_id).exists()
        ctx["deliveries"] = self.object.deliveries.select_related("enterprise")[:20] \
            if user.has_perm("sharing.view_delivery") else None
        return ctx


class SubscriptionActionView(LoginRequiredMixin, View):
    """Switch a subscription off or on, or issue it a new secret (shown once)."""

    def post(self, request, pk, action):
        sub = get_object_or_404(Subscription.objects.restrict(request.user, "view"), pk=pk)
        try:
            if action == "rotate":
                sub, secret = services.rotate_subscription_secret(sub, user=request.user)
                return _secret_page(request, sub, secret, rotated=True)
            if action not in ("disable", "enable"):
                raise PermissionDenied
            services.change_subscription(sub, user=request.user, active=action == "enable")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("Done."))
        return redirect(sub)


class DeliveryListView(ObjectListView):
    model = Delivery
    table_class = DeliveryTable
    filterset_fields = ["status", "event_type", "subscription__client"]

    def get_queryset(self):
        return super().get_queryset().select_related("subscription__client", "enterprise")


class DeliveryDetailView(ObjectDetailView):
    model = Delivery
    template_name = "sharing/delivery_detail.html"
    hidden_fields = ("payload", "event_id")

    def get_queryset(self):
        return super().get_queryset().select_related("subscription__client", "enterprise")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["attempts"] = self.object.attempt_rows.all()
        ctx["payload"] = json.dumps(self.object.payload, ensure_ascii=False, indent=2)
        ctx["can_redeliver"] = self.request.user.has_perm("sharing.redeliver_delivery") and (
            self.object.status != DeliveryStatus.DELIVERING or webhooks.lease_expired(self.object))
        return ctx


class DeliveryRedeliverView(LoginRequiredMixin, View):
    def post(self, request, pk):
        delivery = get_object_or_404(Delivery.objects.restrict(request.user, "view"), pk=pk)
        try:
            services.redeliver(delivery, user=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("Queued for sending again; the worker sends it shortly."))
        return redirect(delivery)
