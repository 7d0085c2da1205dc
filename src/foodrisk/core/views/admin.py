"""System administration pages (系统管理): regions, organisations, users, roles, dictionaries,
parameters, message templates, schedules, jobs, audit log, notifications, system announcements."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from .. import filtersets, forms, tables
from .. import jobs as jobs_registry
from ..models import (
    Announcement,
    AuditEntry,
    Delivery,
    DictionaryType,
    Job,
    MessageTemplate,
    Notification,
    Organisation,
    Parameter,
    Region,
    Role,
    Schedule,
    User,
)
from ..rows import MoreRowsMixin
from ..services import accounts, announcements, audit, notifications, objects
from .generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView


# --- regions ---------------------------------------------------------------------------------------
class RegionListView(ObjectListView):
    model = Region
    table_class = tables.RegionTable
    filterset_class = filtersets.RegionFilterSet


class RegionDetailView(ObjectDetailView):
    model = Region

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["children"] = self.object.children.order_by("code")
        ctx["edit_url"] = ctx["edit_url"] if self.object.level == "station" else ""
        ctx["delete_url"] = ctx["delete_url"] if self.object.level == "station" else ""
        return ctx


class StationEditView(ObjectEditView):
    model = Region
    form_class = forms.StationForm
    template_name = "generic/object_form.html"

    def get_queryset(self):
        return super().get_queryset().filter(level="station")


class StationDeleteView(ObjectDeleteView):
    model = Region

    def get_queryset(self):
        return super().get_queryset().filter(level="station")


# --- organisations ---------------------------------------------------------------------------------
class OrganisationListView(ObjectListView):
    model = Organisation
    table_class = tables.OrganisationTable
    filterset_class = filtersets.OrganisationFilterSet


class OrganisationDetailView(ObjectDetailView):
    model = Organisation

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["related"] = [(_("users"), self.object.users.all())]
        return ctx


class OrganisationEditView(ObjectEditView):
    model = Organisation
    form_class = forms.OrganisationForm


class OrganisationDeleteView(ObjectDeleteView):
    model = Organisation


# --- users and roles -------------------------------------------------------------------------------
class UserListView(ObjectListView):
    model = User
    table_class = tables.UserTable
    filterset_class = filtersets.UserFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("organisation", "scope_region").prefetch_related("groups")


class UserDetailView(ObjectDetailView):
    model = User
    template_name = "core/user_detail.html"

    def get_context_data(self, **kwargs):
        from ..crypto import mask

        ctx = super().get_context_data(**kwargs)
        ctx["masked_phone"] = mask(self.object.phone, 3, 4)
        return ctx


class UserEditView(ObjectEditView):
    model = User

    def get_form_class(self):
        return forms.UserEditForm if "pk" in self.kwargs else forms.UserCreateForm

    def save(self, form):
        if "pk" in self.kwargs:
            return accounts.update_user(form, by=self.request.user)
        data = dict(form.cleaned_data)
        roles, password = data.pop("roles"), data.pop("password")
        try:
            return accounts.create_user(password=password, roles=roles, by=self.request.user, **data)
        except ValidationError as exc:  # the password validators' refusal, shown on the password field
            raise ValidationError({"password": exc.messages}) from exc


class UserPasswordView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_perm("core.reset_password_user"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _user(self, pk):
        return get_object_or_404(User.objects.restrict(self.request.user, "change"), pk=pk)

    def get(self, request, pk):
        return render(request, "core/password_form.html", {"form": forms.PasswordSetForm(), "target": self._user(pk)})

    def post(self, request, pk):
        target, form = self._user(pk), forms.PasswordSetForm(request.POST)
        if form.is_valid():
            try:
                accounts.set_password(target, form.cleaned_data["password"], by=request.user)
            except ValidationError as exc:
                form.add_error("password", exc)
            else:
                messages.success(request, _("Password changed."))
                return redirect(target.get_absolute_url())
        return render(request, "core/password_form.html", {"form": form, "target": target}, status=400)


class RoleListView(ObjectListView):
    model = Role
    table_class = tables.RoleTable
    filterset_class = None
    filterset_fields = ["builtin"]


class RoleDetailView(ObjectDetailView):
    model = Role
    template_name = "core/role_detail.html"

    def get_context_data(self, **kwargs):
        from ..audit_labels import permission_label

        perms = self.object.permissions.select_related("content_type").order_by("content_type__app_label", "codename")
        return super().get_context_data(**kwargs, permissions=[permission_label(p) for p in perms])


class RoleEditView(ObjectEditView):
    model = Role
    form_class = forms.RoleForm

    def save(self, form):
        return accounts.save_role(form, by=self.request.user)


class RoleDeleteView(ObjectDeleteView):
    model = Role


# --- dictionaries, parameters, message templates, schedules -----------------------------------------
class DictionaryTypeListView(ObjectListView):
    model = DictionaryType
    table_class = tables.DictionaryTypeTable
    filterset_fields = ["builtin"]


class DictionaryTypeDetailView(ObjectDetailView):
    model = DictionaryType
    template_name = "core/dictionarytype_detail.html"


class DictionaryTypeEditView(ObjectEditView):
    """The dictionary and its items on one page, saved together with one audit entry."""

    model = DictionaryType
    form_class = forms.DictionaryTypeForm
    template_name = "core/dictionarytype_form.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["items"] = kwargs.get("items") or forms.DictionaryItemFormSet(instance=self.object)
        return ctx

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.get_form()
        items = forms.DictionaryItemFormSet(request.POST, instance=form.instance)
        if form.is_valid() and items.is_valid():
            self.object = objects.save_dictionary(form, items, user=request.user)
            messages.success(request, _("Saved."))
            return redirect(self.object.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form, items=items))


class ParameterListView(ObjectListView):
    model = Parameter
    table_class = tables.ParameterTable
    filterset_fields = ["category", "value_type"]


class ParameterDetailView(ObjectDetailView):
    model = Parameter


class ParameterEditView(MoreRowsMixin, ObjectEditView):
    model = Parameter
    form_class = forms.ParameterForm


class MessageTemplateListView(ObjectListView):
    model = MessageTemplate
    table_class = tables.MessageTemplateTable
    filterset_fields = ["enabled"]


class MessageTemplateDetailView(ObjectDetailView):
    model = MessageTemplate


class MessageTemplateEditView(ObjectEditView):
    model = MessageTemplate
    form_class = forms.MessageTemplateForm


class ScheduleListView(ObjectListView):
    model = Schedule
    table_class = tables.ScheduleTable
    filterset_fields = ["job_kind", "enabled"]


class ScheduleDetailView(ObjectDetailView):
    model = Schedule


class ScheduleEditView(MoreRowsMixin, ObjectEditView):
    model = Schedule
    form_class = forms.ScheduleForm


class ScheduleDeleteView(ObjectDeleteView):
    model = Schedule


# --- jobs ------------------------------------------------------------------------------------------
class JobListView(ObjectListView):
    model = Job
    table_class = tables.JobTable
    filterset_class = filtersets.JobFilterSet


class JobDetailView(ObjectDetailView):
    model = Job
    template_name = "core/job_detail.html"

    def has_permission(self):
        return True  # the queryset (Job.objects.restrict) shows one's own jobs, and others' with view_job

    def get_context_data(self, **kwargs):
        from ..services.exports import may_download

        ctx = super().get_context_data(**kwargs)
        ctx["may_download"] = bool(self.object.result_file) and may_download(self.object, self.request.user)
        try:  # the kind by its registered title (评分批次), not its code
            ctx["kind_title"] = jobs_registry.get(self.object.kind).title
        except KeyError:
            ctx["kind_title"] = self.object.kind
        return ctx

    def get_template_names(self):
        if self.request.htmx:
            return ["core/job_detail.html#status"]
        return [self.template_name]


# --- deliveries (e-mail / SMS notifications sent by the worker) -------------------------------------
class DeliveryListView(ObjectListView):
    model = Delivery
    table_class = tables.DeliveryTable
    filterset_fields = ["status", "channel"]


class DeliveryDetailView(ObjectDetailView):
    model = Delivery
    template_name = "core/delivery_detail.html"

    def get_template_names(self):
        return [self.template_name]


class DeliveryRetryView(LoginRequiredMixin, View):
    """Send a failed delivery again (attempts start over); audited."""

    def post(self, request, pk):
        if not request.user.has_perm("core.change_delivery"):
            raise PermissionDenied
        delivery = get_object_or_404(Delivery.objects.restrict(request.user, "change"), pk=pk)
        if notifications.retry(delivery, user=request.user):
            messages.success(request, _("The delivery is queued to be sent again."))
        else:
            messages.error(request, _("Only a failed delivery can be sent again."))
        return redirect(delivery.get_absolute_url())


# --- audit -----------------------------------------------------------------------------------------
class AuditEntryListView(ObjectListView):
    model = AuditEntry
    table_class = tables.AuditEntryTable
    filterset_class = filtersets.AuditEntryFilterSet
    template_name = "core/auditentry_list.html"


class AuditEntryDetailView(ObjectDetailView):
    model = AuditEntry
    template_name = "core/auditentry_detail.html"

    def get_context_data(self, **kwargs):
        from ..audit_labels import action_label, object_type_label

        return super().get_context_data(**kwargs, action_label=action_label(self.object.action),
                                        object_type_label=object_type_label(self.object.object_type))


class AuditVerifyView(LoginRequiredMixin, View):
    def post(self, request):
        if not request.user.has_perm("core.verify_auditentry"):
            raise PermissionDenied
        result = audit.verify()
        audit.record("core.audit.verify", details={"ok": result.ok, "checked": result.checked,
                                                   "broken_seq": result.broken_seq})
        if result.ok and result.checkpoints:
            messages.success(request, _("Audit chain intact: %(n)d entries verified against %(c)d signed "
                                        "checkpoints.") % {"n": result.checked, "c": result.checkpoints})
        elif result.ok:
            messages.success(request, _("Audit chain intact: %(n)d entries verified.") % {"n": result.checked})
        elif result.broken_seq is None:
            messages.error(request, _("Audit chain check failed: %(reason)s") % {"reason": result.reason})
        else:
            messages.error(request, _("Audit chain broken at entry #%(seq)s: %(reason)s") % {
                "seq": result.broken_seq, "reason": result.reason})
        return redirect("core:auditentry_list")


# --- notifications ---------------------------------------------------------------------------------
class NotificationListView(LoginRequiredMixin, View):
    def get(self, request):
        items = Notification.objects.filter(recipient=request.user)[:200]
        return render(request, "core/notification_list.html", {"notifications": items})

    def post(self, request):
        notifications.mark_read(request.user)
        return redirect("core:notifications")


# --- system announcements ----------------------------------------------------------------------------
class AnnouncementListView(ObjectListView):
    model = Announcement
    table_class = tables.AnnouncementTable
    filterset_fields = ["level", "audience"]

    def get_queryset(self):
        return super().get_queryset().select_related("published_by")


class AnnouncementDetailView(ObjectDetailView):
    model = Announcement
    template_name = "core/announcement_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        announcement = self.object
        ctx["related"] = [(_("organisations"), announcement.organisations.all())]
        ctx["read_count"] = announcement.reads.count()
        ctx["can_withdraw"] = (announcement.withdrawn_at is None
                               and self.request.user.has_perm("core.change_announcement"))
        return ctx


class AnnouncementPublishView(ObjectEditView):
    """Publish (add only: a published announcement is withdrawn and published anew, never edited under its
    readers' eyes)."""

    model = Announcement
    form_class = forms.AnnouncementForm

    def save(self, form):
        return announcements.publish(user=self.request.user, **form.cleaned_data)


class AnnouncementWithdrawView(LoginRequiredMixin, View):
    def post(self, request, pk):
        if not request.user.has_perm("core.change_announcement"):
            raise PermissionDenied
        announcement = get_object_or_404(Announcement.objects.restrict(request.user, "change"), pk=pk)
        try:
            announcements.withdraw(announcement, user=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("The announcement has been withdrawn."))
        return redirect(announcement.get_absolute_url())


class AnnouncementReadView(LoginRequiredMixin, View):
    """知道了: the announcement leaves the user's home page. htmx removes its line (an empty answer swapped in);
    without htmx, back to the home page."""

    def post(self, request, pk):
        announcement = get_object_or_404(announcements.visible_to(request.user), pk=pk)
        announcements.mark_read(announcement, user=request.user)
        if request.htmx:
            return HttpResponse("")
        return redirect("core:home")
