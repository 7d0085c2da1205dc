"""Alert pages: work queues (mine / my organisation / all in scope), the alert page with evidence,
timeline and action forms (review, dispatch, handle, close — htmx-friendly), and warning-rule CRUD.
Every action calls the services; the queryset is always Alert.objects.restrict(user, …)."""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from foodrisk.core.forms import add_service_errors
from foodrisk.core.security import require_confirmation
from foodrisk.core.validators import is_digits
from foodrisk.core.views.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from foodrisk.core.widgets import bootstrap

from . import filtersets, forms, params, services, tables
from .models import Alert, WarningRule

QUEUES = {"mine": gettext_lazy("My alerts"), "organisation": gettext_lazy("My organisation's alerts"),
          "all": gettext_lazy("All alerts")}


def evidence_records(alert):
    """The records of the alert's evidence, each with the name of its kind (the evidence stores the model's code
    name, "inspection", which the page must not show)."""
    from django.apps import apps

    kinds = {model._meta.model_name: model._meta.verbose_name
             for app in ("records", "enterprises") for model in apps.get_app_config(app).get_models()}
    return [{**rec, "kind": kinds.get(rec.get("model"), "")} for rec in alert.evidence.get("records", [])]


class AlertListView(ObjectListView):
    model = Alert
    table_class = tables.AlertTable
    filterset_class = filtersets.AlertFilterSet
    queue = "all"

    def get_queryset(self):
        return services.queue(self.request.user, self.queue)

    # each person chooses his columns (core.views.generic.ObjectListView); until then his role's
    choosable_columns = tables.CHOOSABLE_COLUMNS

    def default_columns(self):
        return tables.default_columns(self.request.user)

    def fixed_columns(self):
        return tables.fixed_columns(self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(queue=self.queue, queues=QUEUES, verbose_name_plural=QUEUES[self.queue], can_add=False,
                   can_review=self.request.user.has_perm("alerts.review_alert"))
        return ctx


class MyAlertsView(AlertListView):
    queue = "mine"


class OrganisationAlertsView(AlertListView):
    queue = "organisation"


class BulkReviewForm(django_forms.Form):
    """The queue's bulk bar: the ticked alerts, one decision, one reason."""

    select = django_forms.TypedMultipleChoiceField(coerce=int, choices=(), error_messages={
        "required": gettext_lazy("Tick the alerts to review first.")})
    decision = django_forms.ChoiceField(choices=[("confirm", gettext_lazy("Confirm")),
                                                 ("dismiss", gettext_lazy("Dismiss"))])
    note = django_forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any whole number is a choice: which of them the user may review is the service's question
        self.fields["select"].valid_value = lambda value: is_digits(value)


class BulkReviewView(LoginRequiredMixin, View):
    """POST the ticked alerts of a queue page: each is reviewed through services.review (bulk_review); the
    refused ones are listed in the message, the page comes back as it was (its filters kept)."""

    http_method_names = ["post"]

    def post(self, request):
        if not request.user.has_perm("alerts.review_alert"):
            raise PermissionDenied
        # the page as it is now (filters applied by htmx push the URL, so the Referer has them), else as loaded
        back = request.headers.get("referer") or request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = reverse("alerts:my_alerts")
        form = BulkReviewForm(request.POST)
        if not form.is_valid():
            messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
            return redirect(back)
        d = form.cleaned_data
        try:
            done, refused = services.bulk_review(d["select"], user=request.user, confirm=d["decision"] == "confirm",
                                                 note=d["note"])
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect(back)
        if done:
            text = (ngettext("%(count)d alert confirmed.", "%(count)d alerts confirmed.", len(done))
                    if d["decision"] == "confirm" else
                    ngettext("%(count)d alert dismissed.", "%(count)d alerts dismissed.", len(done)))
            messages.success(request, text % {"count": len(done)})
        if refused:
            messages.warning(request, _("%(count)d not reviewed: %(list)s") % {
                "count": len(refused), "list": "；".join(f"{label}：{message}" for _pk, label, message in refused)})
        return redirect(back)


FORMS = {"review": forms.ReviewForm, "dispatch": forms.DispatchForm, "handle": forms.HandleForm,
         "close": forms.CloseForm}


class AlertDetailView(ObjectDetailView):
    model = Alert
    template_name = "alerts/alert_detail.html"
    bound = None  # (action, bound form) after a failed POST

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "enterprise__region", "rule", "organisation",
                                                     "assigned_organisation", "assignee")

    def make_form(self, action, data=None, files=None):
        kwargs = {"alert": self.object, "user": self.request.user} if action == "dispatch" else {}
        return bootstrap(FORMS[action](data, files, prefix=action, **kwargs))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        alert, user = self.object, self.request.user
        allowed = services.allowed_actions(alert, user)
        action_forms = {a: self.make_form(a) for a in FORMS if a in allowed}
        if self.bound:
            action_forms[self.bound[0]] = self.bound[1]
        ctx.update(
            allowed=allowed, action_forms=action_forms,
            occurrences=alert.occurrence_set.all()[:50], events=alert.events.select_related("user"),
            attachments=services.attachments(alert), edit_url="", delete_url="",
            evidence_records=evidence_records(alert),
            evidence_values=params.evidence_values(alert.rule.kind, alert.evidence.get("values")),
            evidence_grades=alert.evidence.get("grades"), evidence_reasons=alert.evidence.get("reasons", []),
        )
        return ctx

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted and self.bound:
            return [f"{self.template_name}#actions"]
        return [self.template_name]

    def post(self, request, pk, action):
        if action not in FORMS:
            raise Http404
        self.object = self.get_object()
        form = self.make_form(action, request.POST, request.FILES)
        if form.is_valid():
            try:
                self.perform(action, form.cleaned_data)
            except PermissionDenied as exc:
                messages.error(request, str(exc) or _("Not allowed."))
                return redirect(self.object)
            except ValidationError as exc:
                add_service_errors(form, exc)
        if form.errors:
            self.bound = (action, form)
            return self.render_to_response(self.get_context_data(object=self.object), status=200)
        messages.success(request, _("Done."))
        return redirect(self.object)

    def perform(self, action, d):
        user, alert = self.request.user, self.object
        if action == "review":
            return services.review(alert, user=user, confirm=d["decision"] == "confirm", note=d["note"])
        if action == "dispatch":
            return services.dispatch(alert, user=user, organisation=d["organisation"], assignee=d["assignee"],
                                     deadline=d["deadline"], instructions=d["instructions"])
        if action == "handle":
            return services.handle(alert, user=user, feedback=d["feedback"], files=d["files"])
        return services.close(alert, user=user, outcome=d["outcome"], note=d["note"])


class WarningRuleListView(ObjectListView):
    model = WarningRule
    table_class = tables.WarningRuleTable
    filterset_class = filtersets.WarningRuleFilterSet


class WarningRuleDetailView(ObjectDetailView):
    model = WarningRule

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        alerts = Alert.objects.restrict(self.request.user, "view").filter(rule=self.object).open()
        ctx["related"] = [(_("open alerts"), alerts[:20])]
        return ctx


class WarningRuleEditView(ObjectEditView):
    model = WarningRule
    form_class = forms.WarningRuleForm
    template_name = "alerts/warningrule_form.html"

    def get_initial(self):
        # ?kind=: the kind just picked; htmx asks for that kind's parameter fields
        kind = self.request.GET.get("kind")
        return {**super().get_initial(), **({"kind": kind} if kind else {})}

    def get_template_names(self):
        if self.request.htmx and self.request.method == "GET":
            return [f"{self.template_name}#params"]
        return [self.template_name]

    def save(self, form):
        if form.enables():
            require_confirmation(self.request)  # raises ValidationError → shown on the form
        return services.save_rule(form.instance, user=self.request.user)


class WarningRuleDeleteView(ObjectDeleteView):
    model = WarningRule
    refused = (services.RuleInUse,)

    def delete_object(self, obj):
        services.delete_rule(obj, user=self.request.user)

    def refusal_message(self, exc):
        return exc.messages[0]
