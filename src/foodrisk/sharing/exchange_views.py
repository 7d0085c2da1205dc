"""Pages of batch exchange, call statistics and alarms (数据共享 › 批量交换 / 调用统计 / 异常告警)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from foodrisk.core.forms import add_service_errors
from foodrisk.core.views.generic import ObjectDetailView, ObjectListView, restrict_choices
from foodrisk.core.widgets import bootstrap

from . import alarms, callstats, exchange
from .exchange_forms import CallStatsForm, ExportRequestForm, InboundForm
from .models import ClientSystem, ExchangeExport, InboundProfile, SharingAlarm
from .tables import ExchangeExportTable, SharingAlarmTable

STATS_DAYS = 7  # the page opens on the last week


class ExchangeExportListView(ObjectListView):
    model = ExchangeExport
    table_class = ExchangeExportTable
    filterset_fields = ["client", "status", "format"]

    def get_queryset(self):
        return super().get_queryset().select_related("client")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_request"] = self.request.user.has_perm(exchange.PERMISSION)
        return ctx


class ExchangeExportDetailView(ObjectDetailView):
    model = ExchangeExport
    template_name = "sharing/exchangeexport_detail.html"
    hidden_fields = ("files", "manifest", "folder")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["manifest_fields"] = self.object.manifest.get("fields", [])
        return ctx


class ExchangeExportRequestView(LoginRequiredMixin, View):
    template_name = "sharing/exchangeexport_form.html"

    def _form(self, data=None, initial=None):
        return bootstrap(restrict_choices(ExportRequestForm(data, initial=initial), self.request.user))

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm(exchange.PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": self._form(initial={"client": request.GET.get("client")})})

    def post(self, request):
        form = self._form(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                export = exchange.request_export(user=request.user, client=d["client"], dataset=d["dataset"],
                                                 fmt=d["format"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The export is queued; its files appear here when the job is done."))
                return redirect(export)
        return render(request, self.template_name, {"form": form})


class ExchangeExportDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk, name):
        export = get_object_or_404(ExchangeExport.objects.restrict(request.user, "view"), pk=pk)
        return exchange.file_response(export, request.user, name)


class InboundView(LoginRequiredMixin, View):
    """The record kinds a client may push and the mapping profile of each."""

    template_name = "sharing/inbound_form.html"

    def _client(self, pk):
        return get_object_or_404(ClientSystem.objects.restrict(self.request.user, "change"), pk=pk)

    def _render(self, client, form):
        restrict_choices(form, self.request.user)
        grants = InboundProfile.objects.filter(client=client).select_related("profile")
        return render(self.request, self.template_name, {"object": client, "form": bootstrap(form),
                                                         "grants": grants})

    def get(self, request, pk):
        return self._render(self._client(pk), InboundForm())

    def post(self, request, pk):
        client = self._client(pk)
        form = InboundForm(request.POST)
        if form.is_valid():
            try:
                exchange.set_inbound(client, user=request.user, kind=form.cleaned_data["kind"],
                                     profile=form.cleaned_data["profile"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("sharing:inbound", pk=client.pk)
        return self._render(client, form)


def stats_from_request(request):
    """(form, rows, totals) of the call statistics for the person, filtered by the query string."""
    today = timezone.localdate()
    data = request.GET.copy() if request.GET else None
    if data is not None and "date_from" not in data:
        data["date_from"] = (today - dt.timedelta(days=STATS_DAYS - 1)).isoformat()
    form = CallStatsForm(data, initial={"date_from": today - dt.timedelta(days=STATS_DAYS - 1), "group": ["client"]})
    restrict_choices(form, request.user)
    if data is None:
        filters, group = {"date_from": today - dt.timedelta(days=STATS_DAYS - 1)}, ("client",)
    elif form.is_valid():
        d = form.cleaned_data
        filters = {k: d.get(k) for k in ("client", "date_from", "date_to", "code")}
        group = tuple(d.get("group") or ("client",))
    else:
        return form, [], None
    rows = callstats.statistics(callstats.calls(request.user, **filters), group)
    return form, rows, callstats.totals(rows)


class CallStatsView(LoginRequiredMixin, View):
    def get(self, request):
        if not request.user.has_perm("sharing.view_sharingcall"):
            raise PermissionDenied
        form, rows, total = stats_from_request(request)
        group = [d for d in callstats.DIMENSIONS if d in (form.data.getlist("group") if form.data else ["client"])]
        return render(request, "sharing/call_stats.html", {"form": bootstrap(form), "rows": rows, "total": total,
                                                           "group": group or ["client"]})


class SharingAlarmListView(ObjectListView):
    model = SharingAlarm
    table_class = SharingAlarmTable
    filterset_fields = ["kind", "client"]

    def get_queryset(self):
        return super().get_queryset().select_related("client", "acknowledged_by")


class SharingAlarmAcknowledgeView(LoginRequiredMixin, View):
    def post(self, request, pk):
        alarm = get_object_or_404(SharingAlarm.objects.restrict(request.user, "view"), pk=pk)
        try:
            alarms.acknowledge(alarm, user=request.user)
        except PermissionDenied:
            messages.error(request, _("You may not do this."))
        else:
            messages.success(request, _("Done."))
        return redirect("sharing:sharingalarm_list")
