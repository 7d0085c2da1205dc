"""Forms of the indicator library: edit indicators, rules and settings without writing JSON.

Every form builds a piece of the spec, the service validates the whole spec with the engine, and
the engine's SpecError issues are shown next to the field they name (`apply_issues`)."""

import json
import re

from django import forms
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region
from foodrisk.engine import list_profiles
from foodrisk.engine.profiles import profile_dict
from foodrisk.engine.schema import BUSINESS_FORMS, LABELS, SCHEMAS, column_family, columns
from foodrisk.engine.spec import AGGREGATIONS, FILTER_OPS, RULE_TYPES

from . import labels
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


# lists of the indicator spec edited as rows: conditions (field, operator, value) or bands (→ points)
ROW_LISTS = {"filter": "conditions", "bands": "bands", "denominator_filter": "conditions"}
EXTRA_ROWS = 2  # empty rows shown below the existing ones (more after a save)
MAX_ROWS = 50
OP_LABELS = {"=": _("equals"), "!=": _("does not equal"), "in": _("is one of"), "not_in": _("is none of"),
             ">": _("greater than"), ">=": _("at least"), "<": _("less than"), "<=": _("at most"),
             "is_null": _("is empty"), "not_null": _("is not empty")}
OP_CHOICES = [(op, OP_LABELS[op]) for op in FILTER_OPS]
BAND_KINDS = [("range", _("From … to")), ("equals", _("Equals")), ("missing", _("No value"))]
# what an explanation may hold, shown as code (the names are the engine's, never translated)
PLACEHOLDERS = " ".join(f"<code>{{{name}}}</code>" for name in ("value", "label", "points", "name", "code", "weight"))
ADVANCED_HELP = _("For experts. Leave it unchanged to use the rows; once edited, it replaces them.")
AGGREGATION_CHOICES = [(a, labels.AGGREGATIONS.get(a, a)) for a in AGGREGATIONS]
LIST_SEPARATORS = r"\s*[,，、;；]\s*"


SOURCE_CHOICES = [(t, labels.source_label(t)) for t in SCHEMAS]


def _plain(value):
    """8.0 from a number input is kept as 8, as it was written in the JSON."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _column_label(table, column):
    return labels.column_label(table, column)


def _column_choices(source):
    """The columns a filter may name, by their Chinese labels: the source table's first, then the other
    tables' (the engine checks the column against the source when the indicator is saved)."""
    def table_columns(table):
        return [(c, _column_label(table, c)) for c in columns(table) if c != "enterprise_id"]

    own = table_columns(source) if source in SCHEMAS else []
    seen = {c for c, _label in own}
    others = []
    for table in SCHEMAS:
        for c, label in table_columns(table):
            if c not in seen:
                seen.add(c)
                others.append((c, label))
    return [("", "—"), *own, *([(_("Other tables"), others)] if others else [])]


def show_value(value, labels):
    """A filter / band value as typed in the row: 是/否, Chinese labels of codes, lists joined by 、."""
    if isinstance(value, list):
        return "、".join(show_value(v, labels) for v in value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict):  # e.g. {"as_of_offset_days": 90}: shown (and accepted) as JSON
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    return str(labels.get(str(value), value))


def parse_value(text, family, labels, many=False):
    """The value of a row: numbers for numeric columns, 是/否 for yes/no, codes for their Chinese labels;
    `many`: a list separated by 、 or commas. family None = guessed (number, yes/no, else text)."""
    text = (text or "").strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(e)s") % {"e": exc}) from exc
    if many:
        return [parse_value(t, family, labels) for t in re.split(LIST_SEPARATORS, text) if t]
    if not text:
        raise forms.ValidationError(_("Enter a value."))
    codes = {str(label): code for code, label in labels.items()}
    text = codes.get(text, text)
    yes_no = {"true": True, "false": False, gettext("Yes").lower(): True, gettext("No").lower(): False}
    if family in ("int", "float", None):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                if family is not None:
                    raise forms.ValidationError(_("Enter a number.")) from None
    if family in ("bool", None) and text.lower() in yes_no:
        return yes_no[text.lower()]
    if family == "bool":
        raise forms.ValidationError(_("Enter yes or no."))
    return text


class IndicatorForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=63)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.CharField(label=_("Category"), max_length=100, help_text=_("e.g. dynamic.inspection"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source = forms.ChoiceField(label=_("Source table"), choices=SOURCE_CHOICES)
    field = forms.ChoiceField(label=_("Field"), required=False, choices=[],
                              help_text=_("The column summed, or whose maximum, minimum or value counts; empty for "
                                          "the other aggregations."))
    # filter, bands and denominator_filter are edited as rows (ROW_LISTS); these JSON boxes are the advanced
    # fields: when one is edited, it replaces its rows
    filter = JSONTextField(label=_("Filter (JSON)"), help_text=ADVANCED_HELP)
    window_months = forms.IntegerField(label=_("Window (months)"), required=False, min_value=1,
                                       help_text=_("Empty = all time."))
    aggregation = forms.ChoiceField(label=_("Aggregation"), choices=AGGREGATION_CHOICES)
    bands = JSONTextField(label=_("Bands (JSON)"), help_text=ADVANCED_HELP)
    weight = forms.FloatField(label=_("Weight"), initial=1.0)
    applies_to = forms.MultipleChoiceField(label=_("Applies to"), required=False,
                                           choices=[(b, LABELS["business_form"][b]) for b in BUSINESS_FORMS],
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text=_("Empty = every business form."))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    explanation = forms.CharField(label=_("Explanation"), required=False, max_length=300,
                                  help_text=mark_safe(format_lazy("{} {}", _("Placeholders:"), PLACEHOLDERS)))
    denominator_filter = JSONTextField(label=_("Denominator filter (JSON)"), help_text=ADVANCED_HELP)
    trend_mode = forms.ChoiceField(label=_("Trend mode"), choices=[("diff", _("Difference (recent − previous)")),
                                                                   ("ratio", _("Ratio (recent ÷ previous)"))],
                                   initial="diff")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = (self.data.get("source") if self.is_bound else self.initial.get("source")) or "inspections"
        field_choices = _column_choices(source)
        self.fields["field"].choices = field_choices
        self.row_counts = {}
        for name, kind in ROW_LISTS.items():
            items = self.initial.get(name) or []
            items = items if isinstance(items, list) else []
            count = self._posted_rows(name)
            if count is None:
                count = len(items) + EXTRA_ROWS
            self.row_counts[name] = count
            self.fields[f"{name}-rows"] = forms.IntegerField(widget=forms.HiddenInput, initial=count, required=False)
            for i in range(count):
                item = items[i] if i < len(items) and isinstance(items[i], dict) else None
                if kind == "conditions":
                    self._add_condition_row(name, i, item, field_choices)
                else:
                    self._add_band_row(name, i, item)

    def _posted_rows(self, name):
        """How many rows were shown (the hidden count); None when the post has no rows (a script posting JSON)."""
        if not self.is_bound:
            return None
        try:
            return min(int(self.data[f"{name}-rows"]), MAX_ROWS)
        except (KeyError, TypeError, ValueError):
            return None

    def _add_condition_row(self, name, i, item, field_choices):
        p = f"{name}-{i}-"
        self.fields[p + "field"] = forms.ChoiceField(label=_("Field"), choices=field_choices, required=False)
        self.fields[p + "op"] = forms.ChoiceField(label=_("Condition"), choices=OP_CHOICES, required=False)
        self.fields[p + "value"] = forms.CharField(label=_("Value"), required=False)
        if item:
            self.initial.update({p + "field": item.get("field"), p + "op": item.get("op"),
                                 p + "value": show_value(item.get("value"), LABELS.get(item.get("field"), {}))})

    def _add_band_row(self, name, i, item):
        p = f"{name}-{i}-"
        self.fields[p + "kind"] = forms.ChoiceField(label=_("Band"), choices=BAND_KINDS, required=False)
        self.fields[p + "min"] = forms.FloatField(label=_("From (inclusive)"), required=False)
        self.fields[p + "max"] = forms.FloatField(label=_("To (exclusive)"), required=False)
        self.fields[p + "equals"] = forms.CharField(label=_("Equals"), required=False)
        self.fields[p + "points"] = forms.FloatField(label=_("Points"), required=False)
        if item:
            kind = "range" if "equals" not in item else "missing" if item["equals"] is None else "equals"
            labels = LABELS.get(self.initial.get("field") or "", {})
            self.initial.update({p + "kind": kind, p + "min": item.get("min"), p + "max": item.get("max"),
                                 p + "points": item.get("points"),
                                 p + "equals": show_value(item.get("equals"), labels) if kind == "equals" else ""})

    def rows(self, name):
        """The bound fields of each row of a list (for the template's table)."""
        keys = ("field", "op", "value") if ROW_LISTS[name] == "conditions" else ("kind", "min", "max", "equals",
                                                                                  "points")
        return [[self[f"{name}-{i}-{k}"] for k in keys] for i in range(self.row_counts[name])]

    def part(self, *names):
        """Some of the form's fields, for generic/form_fields.html (the template lays out the rows itself)."""
        fields = [self[name] for name in names if name in self.fields]
        return {"visible_fields": [f for f in fields if not f.is_hidden],
                "hidden_fields": [f for f in fields if f.is_hidden]}

    def sections(self):
        """The form in the order of the page; rows of filter, bands and denominator filter between the fields."""
        return {"head": self.part("code", "name", "category", "description", "source", "field",
                                  *(f"{name}-rows" for name in ROW_LISTS)),
                "filter": self.rows("filter"), "mid": self.part("window_months", "aggregation"),
                "bands": self.rows("bands"), "tail": self.part("weight", "applies_to", "enabled", "explanation"),
                "denominator_filter": self.rows("denominator_filter"), "trend": self.part("trend_mode"),
                "advanced": self.part(*ROW_LISTS)}

    def json_edited(self, name):
        """The expert changed the advanced JSON of `name` (then it wins over the rows)."""
        field = self.fields[name]
        try:
            posted = field.to_python(self.data.get(name))
        except forms.ValidationError:
            return True
        initial = self.get_initial_for_field(field, name)
        return posted != (field.empty if initial in (None, "") else initial)

    def clean(self):
        data = super().clean()
        source, field = data.get("source"), data.get("field") or None
        for name, kind in ROW_LISTS.items():
            if self._posted_rows(name) is None or name in self.errors or self.json_edited(name):
                continue
            rows = self._condition_rows(name, source) if kind == "conditions" else self._band_rows(name, source,
                                                                                                  field)
            data[name] = rows
        return data

    def _condition_rows(self, name, source):
        out = []
        for i in range(self.row_counts[name]):
            p = f"{name}-{i}-"
            column, op, text = (self.cleaned_data.get(p + k) for k in ("field", "op", "value"))
            if not column:
                continue
            op = op or "="
            condition = {"field": column, "op": op}
            if op not in ("is_null", "not_null"):
                try:
                    condition["value"] = parse_value(text, column_family(source, column) if source else None,
                                                     LABELS.get(column, {}), many=op in ("in", "not_in"))
                except forms.ValidationError as exc:
                    self.add_error(p + "value", exc)
                    continue
            out.append(condition)
        return out

    def _band_rows(self, name, source, field):
        out = []
        family = column_family(source, field) if source and field else None
        for i in range(self.row_counts[name]):
            p = f"{name}-{i}-"
            kind, low, high, text, points = (self.cleaned_data.get(p + k) for k in ("kind", "min", "max", "equals",
                                                                                   "points"))
            if points is None and low is None and high is None and not text and kind != "missing":
                continue  # an empty row
            if points is None:
                self.add_error(p + "points", _("Enter the points of this band."))
                continue
            if kind == "missing":
                out.append({"equals": None, "points": _plain(points)})
            elif kind == "equals":
                try:
                    out.append({"equals": parse_value(text, family, LABELS.get(field or "", {})),
                                "points": _plain(points)})
                except forms.ValidationError as exc:
                    self.add_error(p + "equals", exc)
            else:
                out.append({"min": _plain(low), "max": _plain(high), "points": _plain(points)})
        return out

    def to_spec(self):
        d = {k: v for k, v in self.cleaned_data.items() if k in self.base_fields}  # not the rows' fields
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
