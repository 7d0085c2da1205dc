"""Forms of the indicator library: edit indicators, rules and settings without writing JSON.

Every form builds a piece of the spec, the service validates the whole spec with the engine, and
the engine's SpecError issues are shown next to the field they name (`apply_issues`)."""

import re

from django import forms
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Region
from foodrisk.core.rows import (
    ADVANCED_HELP,
    JSONTextField,
    RowListsMixin,
    parse_value,
    plain,
    show_value,
)
from foodrisk.engine import list_profiles
from foodrisk.engine.profiles import profile_dict
from foodrisk.engine.schema import BUSINESS_FORMS, LABELS, SCHEMAS, column_family, columns
from foodrisk.engine.spec import AGGREGATIONS, FILTER_OPS, RULE_TYPES

from . import labels
from .models import IndicatorSet


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
ROW_KEYS = {"conditions": ("field", "op", "value"), "bands": ("kind", "min", "max", "equals", "points")}
OP_LABELS = {"=": _("equals"), "!=": _("does not equal"), "in": _("is one of"), "not_in": _("is none of"),
             ">": _("greater than"), ">=": _("at least"), "<": _("less than"), "<=": _("at most"),
             "is_null": _("is empty"), "not_null": _("is not empty")}
OP_CHOICES = [(op, OP_LABELS[op]) for op in FILTER_OPS]
BAND_KINDS = [("range", _("From … to")), ("equals", _("Equals")), ("missing", _("No value"))]
# what an explanation may hold, shown as code (the names are the engine's, never translated)
PLACEHOLDERS = " ".join(f"<code>{{{name}}}</code>" for name in ("value", "label", "points", "name", "code", "weight"))
AGGREGATION_CHOICES = [(a, labels.AGGREGATIONS.get(a, a)) for a in AGGREGATIONS]


SOURCE_CHOICES = [(t, labels.source_label(t)) for t in SCHEMAS]


def add_condition_row(form, name, i, item, subject, choices, labels_of):
    """A condition row: what is tested (`subject`: a record's "field" or a rule's "indicator", a select of
    `choices`), the operator and the value (codes shown by their labels, `labels_of(subject)`). The row's keys
    are "field", "op" and "value" whatever the subject (a rule's rows name the indicator in "field")."""
    key = lambda k: form.row_key(name, i, k)  # noqa: E731
    label = _("Field") if subject == "field" else _("Indicator")
    form.fields[key("field")] = forms.ChoiceField(label=label, choices=choices, required=False)
    form.fields[key("op")] = forms.ChoiceField(label=_("Condition"), choices=OP_CHOICES, required=False)
    form.fields[key("value")] = forms.CharField(label=_("Value"), required=False)
    if item:
        form.initial.update({key("field"): item.get(subject), key("op"): item.get("op"),
                             key("value"): show_value(item.get("value"), labels_of(item.get(subject)))})


def clean_condition_row(values, subject, family_and_labels):
    """A condition from its row ({subject, op, value}); None for an empty row. `family_and_labels(name)`: the
    value family of what is tested (None = guessed) and the labels of its codes."""
    name, op, text = values["field"], values["op"] or "=", values["value"]
    if not name:
        return None
    condition = {subject: name, "op": op}
    if op not in ("is_null", "not_null"):
        family, labels = family_and_labels(name)
        try:
            condition["value"] = parse_value(text, family, labels, many=op in ("in", "not_in"))
        except forms.ValidationError as exc:
            raise forms.ValidationError({"value": exc}) from exc
    return condition


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


class IndicatorForm(RowListsMixin, forms.Form):
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

    row_lists = {name: ROW_KEYS[kind] for name, kind in ROW_LISTS.items()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = (self.data.get("source") if self.is_bound else self.initial.get("source")) or "inspections"
        self.field_choices = _column_choices(source)
        self.fields["field"].choices = self.field_choices
        self.init_rows()

    def add_row(self, name, i, item):
        item = item if isinstance(item, dict) else None
        if ROW_LISTS[name] == "conditions":
            add_condition_row(self, name, i, item, "field", self.field_choices,
                              lambda column: LABELS.get(column, {}))
        else:
            self._add_band_row(name, i, item)

    def _add_band_row(self, name, i, item):
        key = lambda k: self.row_key(name, i, k)  # noqa: E731
        self.fields[key("kind")] = forms.ChoiceField(label=_("Band"), choices=BAND_KINDS, required=False)
        self.fields[key("min")] = forms.FloatField(label=_("From (inclusive)"), required=False)
        self.fields[key("max")] = forms.FloatField(label=_("To (exclusive)"), required=False)
        self.fields[key("equals")] = forms.CharField(label=_("Equals"), required=False)
        self.fields[key("points")] = forms.FloatField(label=_("Points"), required=False)
        if item:
            kind = "range" if "equals" not in item else "missing" if item["equals"] is None else "equals"
            labels = LABELS.get(self.initial.get("field") or "", {})
            self.initial.update({key("kind"): kind, key("min"): item.get("min"), key("max"): item.get("max"),
                                 key("points"): item.get("points"),
                                 key("equals"): show_value(item.get("equals"), labels) if kind == "equals" else ""})

    def layout(self):
        """The form in the order of the page (generic/_layout.html); rows of filter, bands and denominator filter
        between the fields, their JSON collapsed at the end."""
        return [
            self.fields_block("code", "name", "category", "description", "source", "field",
                              *(f"{name}-rows" for name in ROW_LISTS)),
            self.rows_block("filter", _("Records counted"), _(
                "Only records meeting every condition count. Several values: separate them with 、; yes/no columns: "
                "是 or 否; dates: YYYY-MM-DD.")),
            self.fields_block("window_months", "aggregation"),
            self.rows_block("bands", _("Points"), _(
                "Tried in order: the first band that matches gives its points. From … to: from ≤ value < to, either "
                "may be empty (open). No value: the value is missing (e.g. never inspected).")),
            self.fields_block("weight", "applies_to", "enabled", "explanation"),
            self.rows_block("denominator_filter", _("Denominator (rate only)"), _(
                "Which records form the denominator of a rate; no condition = all records in the window.")),
            self.fields_block("trend_mode"),
            self.advanced_block(*ROW_LISTS),
        ]

    def clean(self):
        return self.clean_rows(super().clean())

    def clean_row(self, name, i, values):
        source = self.cleaned_data.get("source")
        if ROW_LISTS[name] == "conditions":
            return clean_condition_row(values, "field", lambda column: (
                column_family(source, column) if source else None, LABELS.get(column, {})))
        return self._band(values, source, self.cleaned_data.get("field") or None)

    def _band(self, values, source, field):
        kind, low, high, text, points = (values[k] for k in ("kind", "min", "max", "equals", "points"))
        if points is None and low is None and high is None and not text and kind != "missing":
            return None  # an empty row
        if points is None:
            raise forms.ValidationError({"points": _("Enter the points of this band.")})
        if kind == "missing":
            return {"equals": None, "points": plain(points)}
        if kind == "equals":
            family = column_family(source, field) if source and field else None
            try:
                return {"equals": parse_value(text, family, LABELS.get(field or "", {})), "points": plain(points)}
            except forms.ValidationError as exc:
                raise forms.ValidationError({"equals": exc}) from exc
        return {"min": plain(low), "max": plain(high), "points": plain(points)}

    def to_spec(self):
        d = {k: v for k, v in self.cleaned_data.items() if k in self.base_fields}  # not the rows' fields
        d["field"] = d["field"] or None
        return d


class RuleForm(RowListsMixin, forms.Form):
    """A policy rule; its conditions are rows (indicator, operator, value), their JSON the advanced field."""

    code = forms.CharField(label=_("Code"), max_length=63)
    name = forms.CharField(label=_("Name"), max_length=200)
    type = forms.ChoiceField(label=_("Type"), choices=[(t, labels.RULE_TYPES.get(t, t)) for t in RULE_TYPES])
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    when = JSONTextField(label=_("Conditions (JSON)"), help_text=ADVANCED_HELP)
    match = forms.ChoiceField(label=_("Match"), choices=[("all", _("all conditions")), ("any", _("any condition"))])
    grade = forms.ChoiceField(label=_("Grade (veto)"), required=False,
                              choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")])
    steps = forms.IntegerField(label=_("Steps (raise / lower)"), required=False, min_value=1, initial=1)
    max_age_months = forms.IntegerField(label=_("Maximum age in months (new enterprise)"), required=False)
    categories = forms.MultipleChoiceField(label=_("Categories (new enterprise)"), required=False, choices=[],
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text=_("The categories whose points a new enterprise gets scaled."))
    factor = forms.FloatField(label=_("Factor (new enterprise)"), required=False, initial=1.0)
    explanation = forms.CharField(label=_("Explanation"), required=False, max_length=300)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    row_lists = {"when": ROW_KEYS["conditions"]}

    def __init__(self, *args, indicators=(), categories=None, **kwargs):
        """`indicators`: the set's indicators (their codes and names for the conditions' select); `categories`:
        the set's categories (spec["categories"]) and those its indicators name."""
        super().__init__(*args, **kwargs)
        codes = [*(categories or {}), *(str(i.get("category") or "").split(".", 1)[0] for i in indicators
                                        if isinstance(i, dict)), *(self.initial.get("categories") or [])]
        self.fields["categories"].choices = [(c, labels.category_label(c, categories)) for c in dict.fromkeys(codes)
                                             if c]
        self.indicator_choices = [("", "—"), *((i.get("code"), f"{i.get('name') or ''}（{i.get('code')}）")
                                               for i in indicators if isinstance(i, dict) and i.get("code"))]
        self.init_rows()

    def add_row(self, name, i, item):
        add_condition_row(self, name, i, item if isinstance(item, dict) else None, "indicator",
                          self.indicator_choices, lambda _code: {})

    def clean_row(self, name, i, values):
        return clean_condition_row(values, "indicator", lambda _code: (None, {}))

    def clean(self):
        return self.clean_rows(super().clean())

    def layout(self):
        head = ("code", "name", "type", "description", "when-rows")
        return [self.fields_block(*head),
                self.rows_block("when", _("Conditions"), _(
                    "Each row tests one indicator of this set. Several values: separate them with 、; yes/no: 是 or 否.")),
                self.fields_block(*(n for n in self.base_fields if n not in head and n != "when")),
                self.advanced_block("when")]

    @classmethod
    def initial_from(cls, rule):
        data = dict(rule)
        data["match"] = data.get("match") or "all"  # a new-enterprise rule has none (the select needs one)
        data["categories"] = list(rule.get("categories") or [])
        return data

    def to_spec(self):
        d = dict(self.cleaned_data)
        rule = {k: d[k] for k in ("code", "name", "type", "description", "explanation", "enabled")}
        if d["type"] == "new_enterprise":
            rule.update(max_age_months=d["max_age_months"], factor=d["factor"] if d["factor"] is not None else 1.0,
                        categories=list(d["categories"] or []))
            if d["when"]:
                rule["when"] = d["when"]  # not used by this type: let the engine say so rather than drop it
        else:
            rule.update(when=d["when"], match=d["match"])
            if d["type"] == "veto":
                rule["grade"] = d["grade"] or None
            else:
                rule["steps"] = d["steps"] or 1
        return rule


class SettingsForm(RowListsMixin, forms.Form):
    """Name, scope, cut-offs, blend weights and the other set-level values; the categories as rows (code, name,
    cap), their JSON the advanced field."""

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
    categories = JSONTextField(label=_("Categories (JSON)"), empty={}, help_text=ADVANCED_HELP)
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, grades=("A", "B", "C", "D"), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope_region"].queryset = Region.objects.exclude(level="station").order_by("code")
        self.grades = list(grades)
        for g in self.grades[:-1]:
            self.fields[f"cutoff_{g}"] = forms.FloatField(
                label=_("Cut-off: highest score of grade %(g)s") % {"g": g})
        self.init_rows()

    row_lists = {"categories": ("code", "name", "cap")}

    def row_items(self, name):
        """{"static": {"name": …, "cap": 40}} as rows; a value that is no object stays in the JSON alone."""
        categories = self.initial.get(name)
        if not isinstance(categories, dict):
            return []
        return [{"code": code, **(c if isinstance(c, dict) else {})} for code, c in categories.items()]

    def add_row(self, name, i, item):
        key = lambda k: self.row_key(name, i, k)  # noqa: E731
        self.fields[key("code")] = forms.SlugField(label=_("Code"), required=False, max_length=63)
        self.fields[key("name")] = forms.CharField(label=_("Name"), required=False, max_length=100)
        self.fields[key("cap")] = forms.FloatField(label=_("Maximum points"), required=False, min_value=0)
        if item:
            self.initial.update({key("code"): item.get("code"), key("name"): item.get("name"),
                                 key("cap"): item.get("cap")})

    def clean_row(self, name, i, values):
        code, label, cap = values["code"], values["name"], values["cap"]
        if not code:
            if label or cap is not None:
                raise forms.ValidationError({"code": _("Enter the code of this category.")})
            return None
        category = {"name": label or ""}
        if cap is not None:
            category["cap"] = plain(cap)
        return code, category

    def rows_value(self, name, items):
        codes = [code for code, _c in items]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            self.add_error(None, _("Category codes appear twice: %(codes)s") % {"codes": "、".join(duplicates)})
        return dict(items)

    def clean(self):
        return self.clean_rows(super().clean())

    def layout(self):
        fields = [n for n in self.fields if n != "categories" and not n.startswith("categories-")]
        at = fields.index("top_reasons") + 1
        return [self.fields_block(*fields[:at], "categories-rows"),
                self.rows_block("categories", _("Categories"), _(
                    "The top-level categories of the indicators (e.g. static, dynamic): their name on the pages and the "
                    "most points their indicators together give; an empty maximum = no cap.")),
                self.fields_block(*fields[at:]), self.advanced_block("categories")]

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
