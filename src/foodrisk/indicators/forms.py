"""Forms of the indicator library: edit indicators, rules and settings without writing JSON.

Every form builds a piece of the spec, the service validates the whole spec with the engine, and
the engine's SpecError issues are shown next to the field they name (`apply_issues`)."""

import json
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region
from foodrisk.engine import list_profiles
from foodrisk.engine.profiles import profile_dict
from foodrisk.engine.schema import BUSINESS_FORMS, SCHEMAS
from foodrisk.engine.spec import AGGREGATIONS, RULE_TYPES

from .models import IndicatorSet


class JSONTextField(forms.CharField):
    """A textarea holding JSON (filters, bands, conditions)."""

    def __init__(self, *args, empty=None, **kwargs):
        self.empty = [] if empty is None else empty
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, dict)):
            return json.dumps(value, ensure_ascii=False, indent=1)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value or not value.strip():
            return self.empty
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(e)s") % {"e": exc})


def _field_of(issue_field):
    return re.split(r"[\[.]", issue_field or "", maxsplit=1)[0]


def apply_issues(form, issues, where):
    """Put each engine issue next to its field (or on top of the form if it belongs elsewhere)."""
    for w, fld, msg in issues:
        name = _field_of(fld)
        text = f"{fld}: {msg}" if fld and fld != name else msg
        if w == where and name in form.fields:
            form.add_error(name, text)
        else:
            form.add_error(None, f"{w}: {fld + ': ' if fld else ''}{msg}")


class ProfileForm(forms.Form):
    profile = forms.ChoiceField(label=_("Policy profile"), choices=[])
    code = forms.SlugField(label=_("Code"), required=False, max_length=63,
                           help_text=_("Lower-case letters, digits and _; empty = the profile's code."))
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    scope_region = forms.ModelChoiceField(label=_("Applies to region"), queryset=Region.objects.all(),
                                          required=False, help_text=_("Empty = all regions."))
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = [(p, profile_dict(p).get("name") or p) for p in list_profiles()]
        self.fields["scope_region"].queryset = Region.objects.exclude(level="station").order_by("code")

    def clean_code(self):
        code = self.cleaned_data["code"]
        if code and not re.match(r"^[a-z][a-z0-9_]{0,62}$", code):
            raise forms.ValidationError(_("Lower-case letters, digits and _ (starting with a letter)."))
        return code


class IndicatorForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=63)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, help_text=_("e.g. dynamic.inspection"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label=_("Source table"), choices=[(t, t) for t in SCHEMAS])
    field = forms.CharField(label=_("Field"), required=False, max_length=64,
                            help_text=_("Column for sum/max/min/value; empty for count/exists/rate/trend."))
    filter = JSONTextField(label=_("Filter"), help_text=_('[{"field": "result", "op": "=", "value": "fail"}]'))
    window_months = forms.IntegerField(label=_("Window (months)"), required=False, min_value=1,
                                       help_text=_("Empty = all time."))
    aggregation = forms.ChoiceField(label=_("Aggregation"), choices=[(a, a) for a in AGGREGATIONS])
    bands = JSONTextField(label=_("Bands"), help_text=_('[{"min": 1, "max": 2, "points": 8}, '
                                                        '{"equals": true, "points": 5}]'))
    weight = forms.FloatField(label=_("Weight"), initial=1.0)
    applies_to = forms.MultipleChoiceField(label=_("Applies to"), required=False,
                                           choices=[(b, b) for b in BUSINESS_FORMS],
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text=_("Empty = every business form."))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    explanation = forms.CharField(label=_("Explanation"), required=False, max_length=300,
                                  help_text=_("Placeholders: {value} {label} {points} {name} {code} {weight}"))
    denominator_filter = JSONTextField(label=_("Denominator filter (rate)"))
    trend_mode = forms.ChoiceField(label=_("Trend mode"), choices=[("diff", "diff"), ("ratio", "ratio")],
                                   initial="diff")

    def to_spec(self):
        d = dict(self.cleaned_data)
        d["field"] = d["field"] or None
        return d


class RuleForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=63)
    name = forms.CharField(label=_("Name"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=[(t, t) for t in RULE_TYPES])
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    when = JSONTextField(label=_("Conditions"), help_text=_('[{"indicator": "x_serious_listed", "op": "=", '
                                                             '"value": true}]'))
    match = forms.ChoiceField(label=_("Match"), choices=[("all", _("all conditions")), ("any", _("any condition"))])
    grade = forms.ChoiceField(label=_("Grade (veto)"), required=False,
                              choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")])
    steps = forms.IntegerField(label=_("Steps (raise / lower)"), required=False, min_value=1, initial=1)
    max_age_months = forms.IntegerField(label=_("Maximum age in months (new enterprise)"), required=False)
    categories = forms.CharField(label=_("Categories (new enterprise)"), required=False,
                                 help_text=_("Comma-separated, e.g. static"))
    factor = forms.FloatField(label=_("Factor (new enterprise)"), required=False, initial=1.0)
    explanation = forms.CharField(label=_("Explanation"), required=False, max_length=300)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    @classmethod
    def initial_from(cls, rule):
        data = dict(rule)
        data["categories"] = ", ".join(rule.get("categories") or [])
        return data

    def to_spec(self):
        d = dict(self.cleaned_data)
        rule = {k: d[k] for k in ("code", "name", "type", "description", "explanation", "enabled")}
        if d["type"] == "new_enterprise":
            rule.update(max_age_months=d["max_age_months"], factor=d["factor"] if d["factor"] is not None else 1.0,
                        categories=[c.strip() for c in (d["categories"] or "").split(",") if c.strip()])
            if d["when"]:
                rule["when"] = d["when"]  # not used by this type: let the engine say so rather than drop it
        else:
            rule.update(when=d["when"], match=d["match"])
            if d["type"] == "veto":
                rule["grade"] = d["grade"] or None
            else:
                rule["steps"] = d["steps"] or 1
        return rule


class SettingsForm(forms.Form):
    """Name, scope, cut-offs, blend weights and the other set-level values."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    scope_region = forms.ModelChoiceField(label=_("Applies to region"), queryset=Region.objects.all(),
                                          required=False)
    score_cap = forms.FloatField(label=_("Score cap"))
    scale = forms.FloatField(label=_("Scale factor"), help_text=_("Multiplier on the sum of subtotals."))
    blend_rule = forms.FloatField(label=_("Blend weight: rules"), min_value=0)
    blend_model = forms.FloatField(label=_("Blend weight: model"), min_value=0)
    exclude_repaired = forms.BooleanField(label=_("Repaired records stop counting"), required=False)
    top_reasons = forms.IntegerField(label=_("Reasons shown per enterprise"), min_value=0, max_value=20)
    categories = JSONTextField(label=_("Categories"), empty={},
                               help_text=_('{"static": {"name": "静态风险因素", "cap": 40}}'))
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, grades=("A", "B", "C", "D"), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope_region"].queryset = Region.objects.exclude(level="station").order_by("code")
        self.grades = list(grades)
        for g in self.grades[:-1]:
            self.fields[f"cutoff_{g}"] = forms.FloatField(
                label=_("Cut-off: highest score of grade %(g)s") % {"g": g})

    @classmethod
    def initial_from(cls, obj):
        spec = obj.spec
        initial = {k: spec.get(k) for k in ("name", "description", "score_cap", "scale", "exclude_repaired",
                                            "top_reasons", "categories")}
        initial.update(blend_rule=spec.get("blend", {}).get("rule", 1.0),
                       blend_model=spec.get("blend", {}).get("model", 0.0), scope_region=obj.scope_region,
                       change_note=obj.change_note)
        for g, v in (spec.get("cutoffs") or {}).items():
            initial[f"cutoff_{g}"] = v
        return initial

    def apply_to(self, spec):
        d = self.cleaned_data
        spec = dict(spec)
        for k in ("name", "description", "score_cap", "scale", "exclude_repaired", "top_reasons", "categories"):
            spec[k] = d[k]
        spec["blend"] = {"rule": d["blend_rule"], "model": d["blend_model"]}
        spec["cutoffs"] = {g: d[f"cutoff_{g}"] for g in self.grades[:-1]}
        return spec


class RawSpecForm(forms.Form):
    spec = JSONTextField(label=_("Specification (JSON)"), required=True, empty={},
                         widget=forms.Textarea(attrs={"rows": 30, "class": "font-monospace small"}))
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


__all__ = ["IndicatorForm", "IndicatorSet", "NoteForm", "ProfileForm", "RawSpecForm", "RuleForm", "SettingsForm",
           "apply_issues"]
