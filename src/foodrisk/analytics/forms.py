"""The dashboard's filters (the page and the API read the same form: one validation, Chinese messages)."""

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region
from foodrisk.enterprises.choices import BusinessForm, Grade

from .services import add_months, current_month, month_start

DEFAULT_MONTHS = 12
MAX_MONTHS = 60
FIRST_YEAR = 2000


def _today():
    return timezone.localdate()


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
    grade: str = ""
    food_category: str = ""  # "" = all; else the enterprises listing this category
    first_day: dt.date | None = None  # the two days a migration or a rise is measured between (default: the
    second_day: dt.date | None = None  # day before the period and its last day, today at the latest)

    @property
    def last_day(self):
        """The period's last day: the end month's last day, today at the latest."""
        return min(add_months(self.end, 1) - dt.timedelta(days=1), _today())

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
    grade = forms.ChoiceField(label=_("grade"), required=False, choices=[("", _("all grades")), *Grade.choices])
    food_category = forms.CharField(label=_("food category"), required=False, max_length=64,
                                    widget=forms.TextInput(attrs={"placeholder": _("all food categories")}))
    first_date = forms.DateField(label=_("first date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Grades and scores are compared from this day (default: the day "
                                             "before the period)."))
    second_date = forms.DateField(label=_("second date"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text=_("…to this day (default: the period's last day, today at the latest)."))

    # the fields each page shows (the migration and the rise compare two dates; the others a period)
    PERIOD_FIELDS = ("start", "end", "region", "business_form", "food_category", "grade")
    DAY_FIELDS = ("first_date", "second_date")

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
        if self.errors:
            return data
        today = _today()
        first = data.get("first_date") or start - dt.timedelta(days=1)
        second = data.get("second_date") or min(add_months(end, 1) - dt.timedelta(days=1), today)
        if first.year < FIRST_YEAR:
            self.add_error("first_date", _("Choose a month from %(year)s on.") % {"year": FIRST_YEAR})
        elif second > today:
            self.add_error("second_date", _("The second date lies in the future."))
        elif first >= second:
            self.add_error("first_date", _("The first date must lie before the second date."))
        data["first_date"], data["second_date"] = first, second
        return data

    def query(self):
        d = self.cleaned_data
        return Query(d["start"], d["end"], d.get("region"), d.get("business_form") or "", d.get("grade") or "",
                     (d.get("food_category") or "").strip(), d["first_date"], d["second_date"])

    def error_list(self):
        """Every error as "label：message" (the API's 400 and the page's alert)."""
        return [f"{self.fields[name].label}：{message}" if name in self.fields else str(message)
                for name, errors in self.errors.items() for message in errors]
