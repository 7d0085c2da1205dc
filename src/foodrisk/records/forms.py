import re

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from foodrisk.core.validators import as_id
from foodrisk.enterprises.forms import date_input
from foodrisk.enterprises.widgets import EnterprisePicker

from . import validation
from .models import (
    RECORD_KINDS,
    Attachment,
    Complaint,
    CreditRepair,
    Inspection,
    ListEntry,
    Penalty,
    SamplingTest,
)


def parse_failed_items(value):
    """One per line (or separated by ；): `项目║结果║标准值` → [{"item", "result", "standard"}]."""
    out = []
    for part in re.split(r"[;；\n]", value or ""):
        if not part.strip():
            continue
        bits = [b.strip() for b in re.split(r"[║|]", part)]
        bits += [""] * (3 - len(bits))
        out.append({"item": bits[0], "result": bits[1], "standard": bits[2]})
    return out


class FailedItemsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("One per line: item║result║standard"))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join("║".join(str(row.get(k, "")) for k in ("item", "result", "standard")) for row in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return parse_failed_items(super().to_python(value))


DATE_WIDGETS = {name: date_input() for name in (
    "inspected_on", "sampled_on", "decided_on", "publicity_until", "received_on", "applied_on", "listed_on",
    "removed_on")}


class RecordForm(forms.ModelForm):
    """Shared rules: validation.problems (no future dates, order of dates, amounts ≥ 0)."""

    def clean(self):
        data = super().clean()
        for field, message in validation.problems(self._meta.model, data).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, forms.ValidationError(message, code="invalid"))
        return data


def _meta(model_, fields_):
    return type("Meta", (), {"model": model_, "fields": ["enterprise", *fields_],
                              "widgets": {"enterprise": EnterprisePicker, **DATE_WIDGETS},
                              "field_classes": {}})


class InspectionForm(RecordForm):
    Meta = _meta(Inspection, ["inspection_no", "inspected_on", "kind", "organisation", "inspector", "result",
                              "key_items_failed", "general_items_failed", "rectification_ordered", "findings"])


class SamplingTestForm(RecordForm):
    failed_items = FailedItemsField(label=_("failed items"))
    Meta = _meta(SamplingTest, ["report_no", "sampled_on", "level", "product", "category", "result", "failed_items",
                                "announcement_no", "producer_name", "producer_address"])

    def clean(self):
        data = super().clean()
        if data.get("result") == "fail" and not data.get("failed_items"):
            self.add_error("failed_items", _("An unqualified result names at least one failed item."))
        return data


class PenaltyForm(RecordForm):
    Meta = _meta(Penalty, ["decision_no", "decided_on", "violation_type", "severity", "fine", "confiscation",
                           "licence_revoked", "publicity_until"])


class ComplaintForm(RecordForm):
    Meta = _meta(Complaint, ["complaint_no", "received_on", "channel", "category", "verified", "status",
                             "duplicate_of"])


class CreditRepairForm(RecordForm):
    Meta = _meta(CreditRepair, ["repair_no", "target_kind", "target_no", "applied_on", "decided_on", "decision",
                                "commitment", "reason"])

    def clean(self):
        data = super().clean()
        if data.get("decision") in ("approved", "rejected") and not data.get("decided_on"):
            self.add_error("decided_on", _("A decided application needs its decision date."))
        return data


class ListEntryForm(RecordForm):
    Meta = _meta(ListEntry, ["list_kind", "listed_on", "removed_on", "reason"])

    def clean(self):
        data = super().clean()
        enterprise, kind, listed = data.get("enterprise"), data.get("list_kind"), data.get("listed_on")
        if enterprise and kind and listed:
            key = ListEntry.make_key(enterprise.uscc, kind, listed)
            if ListEntry.objects.exclude(pk=self.instance.pk).filter(entry_key=key).exists():
                raise forms.ValidationError(_("This enterprise is already on that list from that date."))
            self.instance.entry_key = key
        return data


FORMS = {
    "inspections": InspectionForm,
    "sampling_tests": SamplingTestForm,
    "penalties": PenaltyForm,
    "complaints": ComplaintForm,
    "credit_repairs": CreditRepairForm,
    "list_entries": ListEntryForm,
}


def record_choices(enterprise, user):
    """("kind:pk", label) of the enterprise's records the user may see, newest first per kind."""
    choices = [("", "—")]
    for kind, model in RECORD_KINDS.items():
        if not user.has_perm(f"records.view_{model._meta.model_name}"):
            continue
        rows = model.objects.restrict(user, "view").filter(enterprise=enterprise)[:50]
        choices += [(f"{kind}:{r.pk}", f"{model._meta.verbose_name}：{r}（{r.event_date}）") for r in rows]
    return choices


class AttachmentForm(forms.ModelForm):
    record = forms.ChoiceField(label=_("related record"), required=False, choices=[("", "—")])

    class Meta:
        model = Attachment
        fields = ["enterprise", "file", "kind", "description"]
        widgets = {"enterprise": EnterprisePicker}

    def __init__(self, *args, user=None, enterprise=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if enterprise is not None:
            self.fields["enterprise"].initial = enterprise.pk
            self.fields["enterprise"].widget = forms.HiddenInput()
        ent = enterprise or self._posted_enterprise()
        if ent is not None and user is not None:
            self.fields["record"].choices = record_choices(ent, user)
        self.order_fields(["enterprise", "file", "kind", "description", "record"])

    def _posted_enterprise(self):
        from foodrisk.enterprises.models import Enterprise

        pk = self.data.get(self.add_prefix("enterprise")) if self.is_bound else None
        if not pk or self.user is None:
            return None
        try:
            return Enterprise.objects.restrict(self.user, "view").filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            return None

    def clean(self):
        data = super().clean()
        ref, enterprise = data.get("record"), data.get("enterprise")
        self.instance.content_type, self.instance.object_id = None, None
        if ref and enterprise:
            kind, _sep, pk = ref.partition(":")
            model = RECORD_KINDS.get(kind)
            target = None
            if model is not None and as_id(pk):
                target = model.objects.restrict(self.user, "view").filter(pk=as_id(pk), enterprise=enterprise).first()
            if target is None:
                self.add_error("record", _("Choose a record of this enterprise."))
            else:
                self.instance.content_type = ContentType.objects.get_for_model(model)
                self.instance.object_id = target.pk
        return data
