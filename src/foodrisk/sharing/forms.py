from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region

from .catalogue import DATASETS, SENSITIVE
from .models import ClientSystem, EventType

# grouped per dataset (the form shows each dataset's fields under its name); values are "dataset.field"
FIELD_CHOICES = [(d.label, [(f"{d.code}.{f.name}", f.label) for f in d.fields]) for d in DATASETS.values()]
SENSITIVE_CHOICES = [(d.label, [(f"{d.code}.{f.name}", f.label) for f in d.fields if f.sensitivity == SENSITIVE])
                     for d in DATASETS.values() if any(f.sensitivity == SENSITIVE for f in d.fields)]


class ClientSystemForm(forms.ModelForm):
    """Who the client is, what it receives (fields of the catalogue, minimum necessary) and how it may call."""

    fields_granted = forms.MultipleChoiceField(label=_("granted fields"), choices=FIELD_CHOICES,
                                               widget=forms.CheckboxSelectMultiple)
    unmasked_fields = forms.MultipleChoiceField(label=_("sensitive fields sent unmasked"), required=False,
                                                choices=SENSITIVE_CHOICES, widget=forms.CheckboxSelectMultiple)
    ip_lines = forms.CharField(label=_("allowed IP addresses / networks"), required=False,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("One address or network (CIDR) per line; empty = any address."))
    region = forms.ModelChoiceField(label=_("region scope"), queryset=Region.objects.filter(level__in=["province", "prefecture", "county"], active=True),
                                    required=False, help_text=_("Empty = nationwide."))

    class Meta:
        model = ClientSystem
        fields = ["name", "organisation", "contact", "algorithm", "region", "rate_per_minute", "valid_from",
                  "valid_until", "note"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"}),
                   "valid_until": forms.DateInput(attrs={"type": "date"}),
                   "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        client = self.instance
        if client.pk:
            self.initial["fields_granted"] = [f"{c}.{f}" for c, fs in client.grants.items() for f in fs]
            self.initial["unmasked_fields"] = list(client.unmasked)
            self.initial["ip_lines"] = "\n".join(client.ip_allow)
            for name in ("name", "organisation", "contact", "algorithm"):
                self.fields[name].disabled = True  # who the client is does not change; register a new one

    def service_kwargs(self):
        d = self.cleaned_data
        grants = {}
        for entry in d["fields_granted"]:
            code, _dot, name = entry.partition(".")
            grants.setdefault(code, []).append(name)
        return {"grants": grants, "unmasked": d.get("unmasked_fields") or [], "region": d.get("region"),
                "rate_per_minute": d["rate_per_minute"],
                "ip_allow": [line.strip() for line in d.get("ip_lines", "").splitlines() if line.strip()],
                "valid_from": d.get("valid_from"), "valid_until": d.get("valid_until"), "note": d.get("note", "")}


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SubscriptionForm(forms.Form):
    """Where a client receives pushes and which events."""

    url = forms.URLField(label=_("endpoint URL"), max_length=500, assume_scheme="https",
                         help_text=_("An https address of the client system that answers 2xx to a push."))
    event_types = forms.MultipleChoiceField(label=_("event types"), choices=EventType.choices,
                                            widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(label=_("description"), max_length=200, required=False)

