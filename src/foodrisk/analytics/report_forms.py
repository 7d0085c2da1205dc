"""The form a person asks for a statistical report with (the page and the API read it)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region
from foodrisk.enterprises.choices import BusinessForm

from .forms import MonthField
from .report_models import ReportPeriod


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("report kind"), choices=ReportPeriod.choices)
    month = MonthField(label=_("a month of the period"),
                       help_text=_("Empty: the last complete period."))
    region = forms.ModelChoiceField(label=_("region"), queryset=Region.objects.none(), required=False,
                                    empty_label=_("whole jurisdiction"))
    business_form = forms.ChoiceField(label=_("business form"), required=False,
                                      choices=[("", _("all business forms")), *BusinessForm.choices])
    topic = forms.CharField(label=_("topic (topic report)"), max_length=100, required=False)

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["region"].queryset = Region.objects.in_scope(user).filter(active=True).order_by("code")
