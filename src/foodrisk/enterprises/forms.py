import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as uscc_check
from stdnum.exceptions import ValidationError as StdnumError

from .models import Enterprise, Licence
from .sensitive import SENSITIVE_FIELDS, can_see_sensitive, masked
from .widgets import EnterprisePicker

LICENCE_RE = re.compile(r"^(SC|JY)\d{14}$")


def date_input():
    """<input type=date> only accepts ISO dates, whatever the display locale."""
    return forms.DateInput(format="%Y-%m-%d")


def split_list(value):
    """`a；b;c` (or one per line) → ["a", "b", "c"]."""
    return [part.strip() for part in re.split(r"[;；\n]", value or "") if part.strip()]


class ListField(forms.CharField):
    """A JSON list edited as text separated by the full-width semicolon."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate several values with ；"))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "；".join(str(v) for v in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return split_list(super().to_python(value))


def clean_uscc(value):
    value = (value or "").strip().upper()
    try:
        return uscc_check.validate(value)
    except StdnumError:
        raise forms.ValidationError(_("Not a valid unified social credit code (18 characters, GB 32100 check)."),
                                    code="uscc_invalid")


def not_in_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("The date cannot be in the future."), code="date_future")
    return value


class EnterpriseForm(forms.ModelForm):
    former_names = ListField(label=_("former names"))
    food_categories = ListField(label=_("food categories"))

    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "former_names", "legal_representative", "address", "region", "business_form",
                  "food_categories", "scale", "established_on", "status", "static_tier", "key_supervision"]
        widgets = {"legal_representative": forms.TextInput, "established_on": date_input()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not can_see_sensitive(user):
            # Without the permission the clear value is never sent to the browser; the stored value is kept.
            del self.fields["legal_representative"]
        elif self.instance.pk:
            # Editing never shows it in clear either (revealing is a deliberate, audited act): the masked value
            # is shown, and left as it is the stored one is kept; a new name replaces it.
            self.initial["legal_representative"] = masked(self.instance)

    def clean_legal_representative(self):
        value = (self.cleaned_data.get("legal_representative") or "").strip()
        if self.instance.pk and value and value == masked(self.instance):
            return self.instance.legal_representative
        return value

    def clean_uscc(self):
        return clean_uscc(self.cleaned_data.get("uscc"))

    def clean_established_on(self):
        return not_in_future(self.cleaned_data.get("established_on"))


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("field"), choices=list(SENSITIVE_FIELDS.items()), widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason for viewing"), max_length=500,
                             error_messages={"required": _("State why you need to see this field in clear.")})


class LicenceForm(forms.ModelForm):
    class Meta:
        model = Licence
        fields = ["enterprise", "licence_no", "kind", "category", "issued_on", "expires_on", "status"]
        widgets = {"enterprise": EnterprisePicker, "issued_on": date_input(), "expires_on": date_input()}

    def clean_licence_no(self):
        value = (self.cleaned_data.get("licence_no") or "").strip().upper()
        if not LICENCE_RE.match(value):
            raise forms.ValidationError(_("A licence number is SC or JY followed by 14 digits."), code="licence_format")
        return value

    def clean_issued_on(self):
        return not_in_future(self.cleaned_data.get("issued_on"))

    def clean(self):
        data = super().clean()
        issued, expires = data.get("issued_on"), data.get("expires_on")
        if issued and expires and expires < issued:
            self.add_error("expires_on", forms.ValidationError(_("The expiry date cannot be before the issue date."),
                                                               code="date_order"))
        number, kind = data.get("licence_no"), data.get("kind")
        if number and kind and not number.startswith(kind):
            self.add_error("kind", _("The kind does not match the licence number's prefix."))
        return data
