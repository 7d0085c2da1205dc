"""The dashboard's filters (the page and the API read the same form: one validation, Chinese messages)."""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region
from foodrisk.enterprises.choices import BusinessForm

from .services import add_months, current_month, month_start

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
FIRST_YEAR = 2000


class MonthField(forms.DateField):
    """A month written YYYY-MM (<input type=month>), as the first day of that month."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, e.g. 2026-03.")}

    def __init__(self, **kwargs):
        super().__init__(input_formats=self.input_formats, required=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and value.year < FIRST_YEAR:
            raise forms.ValidationError(_("Choose a month from %(year)s on.") % {"year": FIRST_YEAR}, code="range")
        return month_start(value) if value else value


@dataclass(frozen=True)
class Query:
    """What the figures are asked for: months start…end (first days), a region subtree (None: the user's whole
    scope), a business form ("" = all)."""

    start: dt.date
    end: dt.date
    region: Region | None
    business_form: str

    def months(self):
        month, out = self.start, []
        while month <= self.end:
            out.append(month)
            month = add_months(month, 1)
        return out


class DashboardFilterForm(forms.Form):
    start = MonthField(label=_("from month"))
    end = MonthField(label=_("to month"))
    region = forms.ModelChoiceField(label=_("region"), queryset=Region.objects.none(), required=False,
                                    empty_label=_("whole jurisdiction"))
    business_form = forms.ChoiceField(label=_("business form"), required=False,
                                      choices=[("", _("all business forms")), *BusinessForm.choices])

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["region"].queryset = Region.objects.in_scope(user).filter(active=True).order_by("code")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        this_month = current_month()
        end = data.get("end") or this_month
        start = data.get("start") or add_months(min(end, this_month), 1 - DEFAULT_MONTHS)
        if end > this_month:
            self.add_error("end", _("The last month lies in the future."))
        elif start > end:
            self.add_error("start", _("The first month lies after the last month."))
        elif add_months(start, MAX_MONTHS) <= end:
            self.add_error("start", _("At most %(n)s months at a time.") % {"n": MAX_MONTHS})
        data["start"], data["end"] = start, end
        return data

    def query(self):
        d = self.cleaned_data
        return Query(d["start"], d["end"], d.get("region"), d.get("business_form") or "")

    def error_list(self):
        """Every error as "label：message" (the API's 400 and the page's alert)."""
        return [f"{self.fields[name].label}：{message}" if name in self.fields else str(message)
                for name, errors in self.errors.items() for message in errors]
