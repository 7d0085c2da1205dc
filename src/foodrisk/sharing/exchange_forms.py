from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.ingest.choices import Kind
from foodrisk.ingest.models import MappingProfile

from .callstats import DIMENSIONS
from .catalogue import dataset_choices
from .models import ClientStatus, ClientSystem, ExportFormat, SharingCall

DIMENSION_LABELS = {"client": _("client system"), "endpoint": _("endpoint"), "day": _("day")}


class ExportRequestForm(forms.Form):
    client = forms.ModelChoiceField(label=_("client system"), queryset=ClientSystem.objects.filter(
        status=ClientStatus.ACTIVE))
    dataset = forms.ChoiceField(label=_("dataset"), choices=dataset_choices)
    format = forms.ChoiceField(label=_("file format"), choices=ExportFormat.choices)


class InboundForm(forms.Form):
    kind = forms.ChoiceField(label=_("record kind"), choices=Kind.choices)
    profile = forms.ModelChoiceField(label=_("mapping profile"), queryset=MappingProfile.objects.all(),
                                     required=False, help_text=_("Empty: the client may no longer push this kind."))


class CallStatsForm(forms.Form):
    """The filters of the call statistics page (and of its API)."""

    group = forms.MultipleChoiceField(label=_("group by"), required=False, initial=["client"],
                                      choices=[(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
                                      widget=forms.CheckboxSelectMultiple)
    client = forms.ModelChoiceField(label=_("client system"), queryset=ClientSystem.objects.all(), required=False)
    date_from = forms.DateField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    code = forms.ChoiceField(label=_("result code"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = SharingCall.objects.order_by("code").values_list("code", flat=True).distinct()
        self.fields["code"].choices = [("", "---------"), *((c, c) for c in codes)]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise forms.ValidationError(_("The end lies before the start."))
        return data
