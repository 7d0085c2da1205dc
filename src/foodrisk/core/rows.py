"""Lists edited as rows of form fields instead of JSON — the one mechanism of every form that has a list to
edit (indicator filters and bands, policy-rule conditions, categories, schedule parameters, list parameters).

A form mixes in `RowListsMixin`, names its lists in `row_lists` (list name → the keys of a row) and says how a
row is made (`add_row`) and read back (`clean_row`). Every row's fields are named `<list>-<i>-<key>`; a hidden
`<list>-rows` says how many rows were shown (absent: a post without rows — a script posting JSON — whose JSON
alone counts). The list's JSON stays available to experts as an advanced field (`json_field`): when it is
edited, it replaces the rows. "Add rows" posts the form with `_more=<list>` (`MoreRowsMixin` on the view): the
same form comes back with more empty rows, nothing saved. The template is generic/_rows.html.
"""

import json
import re

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic.detail import SingleObjectMixin

EXTRA_ROWS = 2  # empty rows shown below the existing ones (more with "add rows")
MAX_ROWS = 50
MORE = "_more"  # the posted name of the list that wants more rows
LIST_SEPARATORS = r"\s*[,，、;；]\s*"
ADVANCED_HELP = _("For experts. Leave it unchanged to use the rows; once edited, it replaces them.")


class JSONTextField(forms.CharField):
    """A textarea holding JSON (the advanced field of a list edited as rows)."""

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

    def has_changed(self, initial, data):
        try:
            posted = self.to_python(data)
        except forms.ValidationError:
            return True
        return posted != (self.empty if initial in (None, "") else initial)


def plain(value):
    """8.0 from a number input is kept as 8, as it was written in the JSON."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def show_value(value, labels=None):
    """A value as typed in a row: 是/否, Chinese labels of codes, lists joined by 、."""
    labels = labels or {}
    if isinstance(value, list):
        return "、".join(show_value(v, labels) for v in value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dict):  # e.g. {"as_of_offset_days": 90}: shown (and accepted) as JSON
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    return str(labels.get(str(value), value))


def parse_value(text, family=None, labels=None, many=False):
    """The value typed in a row: numbers for numeric columns, 是/否 for yes/no, codes for their Chinese labels;
    `many`: a list separated by 、 or commas. family None = guessed (number, yes/no, else text); "text" = as
    typed. A value starting with { or [ is JSON."""
    labels = labels or {}
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
    if family == "text":
        return text
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


class RowListsMixin:
    """A Form whose lists are edited as rows (see the module's doc). Call `init_rows()` at the end of
    `__init__` and `clean_rows(data)` in `clean()`.

    Subclasses define `row_lists` ({list: (key, …)}), `add_row(name, i, item)` (adds the row's fields with
    `self.fields[self.row_key(name, i, key)] = …` and their initial from `item`, None for an empty row) and
    `clean_row(name, i, values)` → the item, None to skip an empty row; a ValidationError names the row's key
    ({key: message}) or the row as a whole. `row_items(name)` gives the current list (default
    `initial[name]`), `rows_value(name, items)` turns the rows back into the stored value (default the list),
    `json_field(name)` is the advanced JSON field the rows fill (default the list's name)."""

    row_lists = {}

    @staticmethod
    def row_key(name, i, key):
        return f"{name}-{i}-{key}"

    def row_items(self, name):
        items = self.initial.get(name) or []
        return items if isinstance(items, list) else []

    def rows_value(self, name, items):
        return items

    def json_field(self, name):
        return name

    def init_rows(self):
        self.row_counts = {}
        for name in self.row_lists:
            items = self.row_items(name)
            count = self.posted_rows(name)
            if count is None:
                count = len(items) + EXTRA_ROWS
            self.row_counts[name] = count
            self.fields[f"{name}-rows"] = forms.IntegerField(widget=forms.HiddenInput, initial=count, required=False)
            for i in range(count):
                item = items[i] if i < len(items) else None
                self.add_row(name, i, item)

    def posted_rows(self, name):
        """How many rows were shown (the hidden count); None when the post has no rows (a script posting JSON)."""
        if not self.is_bound:
            return None
        try:
            return max(0, min(int(self.data[f"{name}-rows"]), MAX_ROWS))
        except (KeyError, TypeError, ValueError):
            return None

    def rows(self, name):
        """The bound fields of each row of a list (for the template's table)."""
        keys = self.row_lists[name]
        return [[self[self.row_key(name, i, k)] for k in keys if self.row_key(name, i, k) in self.fields]
                for i in range(self.row_counts[name])]

    def part(self, *names):
        """Some of the form's fields, for generic/form_fields.html (the template lays out the rows itself)."""
        fields = [self[name] for name in names if name in self.fields]
        return {"visible_fields": [f for f in fields if not f.is_hidden],
                "hidden_fields": [f for f in fields if f.is_hidden]}

    def fields_block(self, *names):
        return {"fields": self.part(*names), "rows": None}

    def rows_block(self, name, title, help=""):
        """A list's rows for generic/_layout.html, with the errors of its JSON field (the list as a whole)."""
        json_name = self.json_field(name)
        errors = self[json_name].errors if json_name in self.fields else []
        return {"name": name, "rows": self.rows(name), "title": title, "help": help, "errors": errors}

    def advanced_block(self, *names):
        """The JSON fields, collapsed unless one of them has an error."""
        return {"fields": self.part(*names), "rows": None, "advanced": True,
                "open": any(name in self.errors for name in names)}

    def json_edited(self, name):
        """The expert changed the advanced JSON of `name` (then it wins over the rows)."""
        json_name = self.json_field(name)
        return json_name in self.fields and self[json_name]._has_changed()

    def clean_rows(self, data):
        """Put each list read from its rows into `data` under its JSON field (unless the JSON was edited, the
        post had no rows, or the JSON itself is wrong)."""
        for name, keys in self.row_lists.items():
            json_name = self.json_field(name)
            if self.posted_rows(name) is None or json_name in self.errors or self.json_edited(name):
                continue
            items = []
            for i in range(self.row_counts[name]):
                values = {k: self.cleaned_data.get(self.row_key(name, i, k)) for k in keys}
                if any(self.row_key(name, i, k) in self.errors for k in keys):
                    continue
                try:
                    item = self.clean_row(name, i, values)
                except forms.ValidationError as exc:
                    self._row_error(name, i, keys, exc)
                    continue
                if item is not None:
                    items.append(item)
            if not any(key.startswith(f"{name}-") for key in self.errors):
                data[json_name] = self.rows_value(name, items)
        return data

    def _row_error(self, name, i, keys, exc):
        if hasattr(exc, "error_dict"):
            for key, errors in exc.error_dict.items():
                field = self.row_key(name, i, key)
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(self.row_key(name, i, keys[-1]), exc)


class MoreRowsMixin:
    """On an edit view of a form with `row_lists`: a post with `_more=<list>` ("add rows", htmx) shows the same
    form with more empty rows of that list, nothing saved."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        data = kwargs.get("data")
        more = data.get(MORE) if data is not None else None
        if more:
            data = data.copy()
            try:
                shown = int(data.get(f"{more}-rows") or 0)
            except ValueError:
                shown = 0
            data[f"{more}-rows"] = str(min(shown + EXTRA_ROWS, MAX_ROWS))
            kwargs["data"] = data
        return kwargs

    def post(self, request, *args, **kwargs):
        if request.POST.get(MORE):
            if isinstance(self, SingleObjectMixin):  # an edit view of a model instance
                self.object = self.get_object()
            return self.render_to_response(self.get_context_data(form=self.get_form()))
        return super().post(request, *args, **kwargs)
