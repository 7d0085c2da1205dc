from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.enterprises.choices import Grade
from foodrisk.enterprises.models import Enterprise


class AdjustmentForm(forms.Form):
    # an id box, not a <select> of every enterprise (tens of thousands); the profile page pre-fills it
    enterprise = forms.ModelChoiceField(label=_("Enterprise (id)"), queryset=Enterprise.objects.all(),
                                        widget=forms.NumberInput)
    proposed_grade = forms.ChoiceField(label=_("Proposed grade"), choices=Grade.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=forms.DateInput,
                                  help_text=_("Empty = until withdrawn."))
    evidence = forms.FileField(label=_("Evidence"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = Enterprise.objects.in_scope(user) if user else Enterprise.objects.none()
        self.fields["valid_until"].initial = timezone.localdate() + timedelta(days=365)


class RunForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("full", _("Full")), ("incremental", _("Incremental"))])
    as_of = forms.DateField(label=_("As of"), required=False, widget=forms.DateInput,
                            help_text=_("Empty = today."))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
