from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic.detail import SingleObjectMixin

from foodrisk.core.services import audit, objects
from foodrisk.core.validators import as_id
from foodrisk.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ScopedMixin,
)
from foodrisk.enterprises import history

from . import filtersets, forms, services, tables
from .models import RECORD_KINDS, Attachment

URL_PREFIX = {
    "inspections": "inspections",
    "sampling_tests": "sampling-tests",
    "penalties": "penalties",
    "complaints": "complaints",
    "credit_repairs": "credit-repairs",
    "list_entries": "list-entries",
}


class RecordListView(ObjectListView):
    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "enterprise__region")


class RecordDetailView(ObjectDetailView):
    hidden_fields = ("source_row",)
    template_name = "records/record_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "enterprise__region")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        if user.has_perm("records.view_attachment"):
            from django.contrib.contenttypes.models import ContentType

            ctx["related"] = [(_("attachments"), Attachment.objects.restrict(user, "view").filter(
                content_type=ContentType.objects.get_for_model(self.model), object_id=self.object.pk))]
        if user.has_perm("enterprises.view_recordversion"):
            kind = services.KIND_OF_MODEL[self.model]
            ctx["history"] = [(v, history.display_changes(self.model, v.changes)) for v in history.versions_of(
                user, kind, getattr(self.object, self.model.natural_key_field))]
        return ctx


class RecordEditView(ObjectEditView):
    """Create or edit one record through services.save_record (audit + records_changed in its transaction)."""

    template_name = "enterprises/form.html"

    def get_initial(self):
        initial = super().get_initial()
        if "enterprise" in self.request.GET:
            initial["enterprise"] = self.request.GET["enterprise"]
        return initial

    def save(self, form):
        return services.save_record(form.instance, user=self.request.user)


class RecordDeleteView(ObjectDeleteView):
    def delete_object(self, obj):
        services.delete_record(obj, user=self.request.user)


def _views_for(kind, model):
    name = model.__name__
    attrs = {"model": model}
    return {
        "list": type(f"{name}ListView", (RecordListView,), {
            **attrs, "table_class": tables.TABLES[kind], "filterset_class": filtersets.FILTERSETS[kind]}),
        "detail": type(f"{name}DetailView", (RecordDetailView,), attrs),
        "edit": type(f"{name}EditView", (RecordEditView,), {**attrs, "form_class": forms.FORMS[kind]}),
        "delete": type(f"{name}DeleteView", (RecordDeleteView,), attrs),
    }


VIEWS = {kind: _views_for(kind, model) for kind, model in RECORD_KINDS.items()}


# --- attachments -----------------------------------------------------------------------------------
class AttachmentListView(ObjectListView):
    model = Attachment
    table_class = tables.AttachmentTable
    filterset_class = filtersets.AttachmentFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "uploaded_by")


class AttachmentDetailView(ObjectDetailView):
    model = Attachment
    template_name = "records/attachment_detail.html"


class AttachmentUploadView(ObjectEditView):
    """Upload (create only). From the profile the enterprise is fixed; otherwise it is picked."""

    model = Attachment
    form_class = forms.AttachmentForm
    template_name = "enterprises/form.html"

    def _enterprise(self):
        from foodrisk.enterprises.models import Enterprise

        pk = as_id(self.request.GET.get("enterprise"))
        if pk is None:
            return None
        return get_object_or_404(Enterprise.objects.restrict(self.request.user, "view"), pk=pk)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        if self.request.method == "GET":
            kwargs["enterprise"] = self._enterprise()
        return kwargs

    def save(self, form):
        return services.save_attachment(form.instance, user=self.request.user)

    def form_valid(self, form):
        self.object = self.save(form)
        messages.success(self.request, _("Attachment uploaded."))
        return redirect(self.object.enterprise.get_absolute_url() + "#attachments")


class AttachmentDeleteView(ObjectDeleteView):
    model = Attachment

    def form_valid(self, form):
        attachment, enterprise = self.object, self.object.enterprise
        storage, name = attachment.file.storage, attachment.file.name
        objects.delete_instance(attachment, user=self.request.user)
        transaction.on_commit(lambda: storage.delete(name) if name else None)
        messages.success(self.request, _("Deleted."))
        return redirect(enterprise.get_absolute_url() + "#attachments")


class AttachmentDownloadView(ScopedMixin, SingleObjectMixin, View):
    """Files are served through the scope check (and audited), never from a public media URL."""

    model = Attachment

    def get(self, request, *args, **kwargs):
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404(_("The file is missing from storage."))
        audit.record("download", attachment, details={"sha256": attachment.sha256})
        filename = attachment.file.name.rsplit("/", 1)[-1]
        return FileResponse(handle, as_attachment=True, filename=filename)
