from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

from foodrisk.core.rows import ADVANCED_HELP, RowListsMixin, parse_value, plain, show_value
from foodrisk.core.validators import is_digits

from .models import (
    Announcement,
    DictionaryItem,
    DictionaryType,
    MessageTemplate,
    Organisation,
    Parameter,
    Region,
    Role,
    Schedule,
    User,
)
from .models.config import PARAMETER_CATEGORIES, Channel
from .models.tokens import TokenScope


def add_service_errors(form, exc):
    """A service's ValidationError on the form: a field's errors under that field when the form shows it, the
    rest above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["code", "name", "kind", "parent", "region", "contact", "active"]


class StationForm(forms.ModelForm):
    """Sub-county supervision stations are configurable; GB/T 2260 divisions come from the loader."""

    class Meta:
        model = Region
        fields = ["code", "name", "parent", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Region.objects.filter(level="county")
        self.fields["parent"].required = True
        if self.instance.pk:
            self.fields["code"].disabled = True

    def clean(self):
        data = super().clean()
        code, parent = data.get("code"), data.get("parent")
        if code and parent and not (code.startswith(parent.code) and len(code) > 6 and is_digits(code)):
            self.add_error("code", _("A station code is its county's 6-digit code followed by more digits."))
        return data

    def save(self, commit=True):
        self.instance.level = "station"
        self.instance.full_name = f"{self.instance.parent.full_name or self.instance.parent.name}{self.instance.name}"
        return super().save(commit)


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(label=_("initial password"), widget=forms.PasswordInput, strip=False)
    roles = forms.ModelMultipleChoiceField(label=_("roles"), queryset=Role.objects.all(), required=False,
                                           widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = User
        fields = ["username", "full_name", "email", "phone", "organisation", "scope_region", "is_active"]


class UserEditForm(forms.ModelForm):
    roles = forms.ModelMultipleChoiceField(label=_("roles"), queryset=Role.objects.all(), required=False,
                                           widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = User
        fields = ["full_name", "email", "phone", "organisation", "scope_region", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = Role.objects.filter(group_ptr__in=self.instance.groups.all())

    def save(self, commit=True):
        user = super().save(commit)
        user.groups.set(self.cleaned_data["roles"])
        return user


class PasswordSetForm(forms.Form):
    password = forms.CharField(label=_("new password"), widget=forms.PasswordInput, strip=False)


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        from .audit_labels import permission_label

        return permission_label(obj)


class RoleForm(forms.ModelForm):
    permissions = PermissionChoiceField(
        label=_("permissions"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Permission.objects.filter(content_type__app_label__in=(
            "core", "enterprises", "records", "ingest", "indicators", "scoring", "alerts", "supervision",
            "analytics", "sharing")).select_related("content_type").order_by("content_type__app_label", "codename"),
    )

    class Meta:
        model = Role
        fields = ["code", "name", "description", "permissions"]


class DictionaryTypeForm(forms.ModelForm):
    class Meta:
        model = DictionaryType
        fields = ["code", "name", "description"]


DictionaryItemFormSet = forms.inlineformset_factory(
    DictionaryType, DictionaryItem, fields=["code", "label", "order", "enabled"], extra=3, can_delete=True
)


# the form field of a parameter's value, by the parameter's type (a "json" value that is a list: rows)
VALUE_FIELDS = {
    "int": lambda: forms.IntegerField(label=_("value"), required=False),
    "decimal": lambda: forms.FloatField(label=_("value"), required=False),
    "text": lambda: forms.CharField(label=_("value"), required=False, strip=False),
    "bool": lambda: forms.BooleanField(label=_("value"), required=False),
}
SHOWN_TYPE = "shown_type"  # hidden: the type the value field was shown for


class ParameterForm(RowListsMixin, forms.ModelForm):
    """A parameter; its value in a field of the parameter's type (number, whole number, yes/no, text) or, for a
    list, as rows. The JSON stays available to experts as the collapsed advanced field `value`: when it is
    edited, it wins."""

    class Meta:
        model = Parameter
        fields = ["key", "name", "category", "value_type", "value", "description", "source"]
        labels = {"value": _("Value (JSON)")}
        help_texts = {"value": ADVANCED_HELP}

    typed_value = forms.Field(required=False)  # replaced in __init__ by the field of the shown type

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].required = False
        current = self.instance.category  # by its Chinese name; a category of the bureau's own is kept
        self.fields["category"] = forms.ChoiceField(
            label=self.fields["category"].label, required=False,
            choices=[("", "—"), *PARAMETER_CATEGORIES.items(),
                     *([(current, current)] if current and current not in PARAMETER_CATEGORIES else [])])
        stored = self.instance.value_type if self.instance.pk else (self.initial.get("value_type") or "text")
        self.shown_type = stored
        posted_shown = self.data.get(SHOWN_TYPE) if self.is_bound else None
        if self.is_bound and posted_shown:
            self.shown_type = posted_shown
        self.type_changed = self.is_bound and posted_shown is not None and self.data.get("value_type") != posted_shown
        if self.type_changed:  # the type changed: show the new type's field (its value typed again), save nothing
            self.data = self.data.copy()
            self.shown_type = self.data.get("value_type")
            self.data[SHOWN_TYPE] = self.shown_type
        value = self.instance.value
        if self.shown_type in VALUE_FIELDS:
            self.fields["typed_value"] = VALUE_FIELDS[self.shown_type]()
            self.initial.setdefault("typed_value", value)
        else:
            del self.fields["typed_value"]
        # a list (or no value yet) of a structured parameter is edited as rows; anything else in the JSON alone
        self.row_lists = ({"items": ("value",)} if self.shown_type == "json" and isinstance(value, (list, type(None)))
                          else {})
        self.fields[SHOWN_TYPE] = forms.CharField(widget=forms.HiddenInput, required=False, initial=self.shown_type)
        self.init_rows()
        if self.is_bound and SHOWN_TYPE not in self.data and "typed_value" in self.fields:
            del self.fields["typed_value"]  # a post without the typed field (a script): the JSON alone counts

    def json_field(self, name):
        return "value"

    def row_items(self, name):
        return self.instance.value if isinstance(self.instance.value, list) else []

    def add_row(self, name, i, item):
        key = self.row_key(name, i, "value")
        self.fields[key] = forms.CharField(label=_("Item"), required=False)
        if item is not None:
            self.initial[key] = show_value(item)

    def clean_row(self, name, i, values):
        text = (values["value"] or "").strip()
        if not text:
            return None
        texts = all(isinstance(v, str) for v in self.row_items(name))  # a list of texts stays texts ("12315")
        try:
            return parse_value(text, "text" if texts and self.row_items(name) else None)
        except forms.ValidationError as exc:
            raise forms.ValidationError({"value": exc}) from exc

    def layout(self):
        head = [n for n in ("key", "name", "category", "value_type", "typed_value", SHOWN_TYPE, "items-rows")
                if n in self.fields]
        blocks = [self.fields_block(*head)]
        if self.row_lists:
            blocks.append(self.rows_block("items", _("Value"), _("One item per row; empty rows are left out.")))
        advanced = self.advanced_block("value")
        advanced["open"] |= "typed_value" not in self.fields and not self.row_lists  # the JSON is the only editor
        return [*blocks, self.fields_block("description", "source"), advanced]

    def clean(self):
        data = super().clean()
        if self.type_changed:
            raise forms.ValidationError(_("The type changed: enter the value in the field of the new type, then "
                                          "save."))
        if "value" not in self.changed_data:
            if "typed_value" in self.fields and "typed_value" not in self.errors:
                typed = data.get("typed_value")
                data["value"] = plain(typed) if self.shown_type == "decimal" else typed
                if self.shown_type == "text" and typed == "":
                    data["value"] = ""
            self.clean_rows(data)
        value, kind = data.get("value"), data.get("value_type")
        checks = {"int": int, "decimal": (int, float), "text": str, "bool": bool}
        if kind in checks and value is not None and not isinstance(value, checks[kind]) or (
            kind == "int" and isinstance(value, bool)
        ):
            self.add_error("typed_value" if "typed_value" in self.fields and "value" not in self.changed_data
                           else "value", _("The value does not match the parameter's type."))
        return data


class MessageTemplateForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(label=_("channels"), choices=Channel.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = MessageTemplate
        fields = ["code", "name", "channels", "subject", "body", "enabled"]

    def clean_body(self):
        from django.template import Template, TemplateSyntaxError

        body = self.cleaned_data["body"]
        try:
            Template(body)
        except TemplateSyntaxError as exc:
            raise forms.ValidationError(_("Template error: %(error)s") % {"error": exc}) from exc
        return body


class ScheduleForm(RowListsMixin, forms.ModelForm):
    """A schedule; the parameters of its job as rows (parameter, value) — the parameters the job kind takes, by
    their Chinese names — the JSON kept as the collapsed advanced field `params`: when it is edited, it wins."""

    class Meta:
        model = Schedule
        fields = ["name", "job_kind", "params", "frequency", "at_time", "weekday", "day_of_month", "enabled"]
        labels = {"params": _("Parameters (JSON)")}
        help_texts = {"params": ADVANCED_HELP}

    row_lists = {"params": ("name", "value")}

    def __init__(self, *args, **kwargs):
        from . import jobs

        super().__init__(*args, **kwargs)
        self.fields["job_kind"] = forms.ChoiceField(
            label=_("job kind"), choices=[(k, str(v.title)) for k, v in jobs.kinds().items()]
        )
        self.fields["params"].required = False
        # changed or not is told against the schedule's stored parameters, not a hidden copy the post may lack
        self.fields["params"].show_hidden_initial = False
        kind = (self.data.get("job_kind") if self.is_bound else None) or self.instance.job_kind
        stored = self.instance.params if isinstance(self.instance.params, dict) else {}
        self.param_choices = [("", "—"), *jobs.param_choices(kind, extra=stored)]
        self.init_rows()

    def row_items(self, name):
        params = self.instance.params
        return [{"name": k, "value": v} for k, v in params.items()] if isinstance(params, dict) else []

    def add_row(self, name, i, item):
        key = lambda k: self.row_key(name, i, k)  # noqa: E731
        self.fields[key("name")] = forms.ChoiceField(label=_("Parameter"), choices=self.param_choices,
                                                     required=False)
        self.fields[key("value")] = forms.CharField(label=_("Value"), required=False)
        if item:
            self.initial.update({key("name"): item["name"], key("value"): show_value(item["value"])})

    def clean_row(self, name, i, values):
        if not values["name"]:
            if (values["value"] or "").strip():
                raise forms.ValidationError({"name": _("Choose the parameter of this value.")})
            return None
        try:
            return values["name"], parse_value(values["value"])
        except forms.ValidationError as exc:
            raise forms.ValidationError({"value": exc}) from exc

    def rows_value(self, name, items):
        names = [n for n, _v in items]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            labels = dict(self.param_choices)
            self.add_error(None, _("A parameter is given twice: %(names)s") % {
                "names": "、".join(str(labels.get(n, n)) for n in twice)})
        return dict(items)

    def clean(self):
        return self.clean_rows(super().clean())

    def layout(self):
        return [self.fields_block("name", "job_kind", "params-rows"),
                self.rows_block("params", _("Parameters"),
                                _("What the job is run with; none = its defaults. Dates: YYYY-MM-DD; yes/no: 是 or 否.")),
                self.fields_block("frequency", "at_time", "weekday", "day_of_month", "enabled"),
                self.advanced_block("params")]


class AnnouncementForm(forms.ModelForm):
    """Publish a system announcement; services.announcements.publish checks the audience and saves it."""

    class Meta:
        model = Announcement
        fields = ["title", "body", "level", "audience", "organisations", "expires_at"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 5}),
            # what <input type=datetime-local> sends and shows, whatever the locale
            "expires_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


class LoginForm(AuthenticationForm):
    """The login form; after failed attempts (core.security.captcha_required) it asks for a captcha (验证码)
    drawn locally by django-simple-captcha, and a wrong code stops the attempt before the password is tried."""

    def __init__(self, request=None, *args, **kwargs):
        from captcha.fields import CaptchaField, CaptchaTextInput

        from .security import captcha_required

        super().__init__(request, *args, **kwargs)
        username = str(self.data.get("username", ""))[:150] if self.is_bound else ""
        if request is not None and captcha_required(request, username):
            self.fields["captcha"] = CaptchaField(
                label=_("Verification code"),
                widget=CaptchaTextInput(attrs={"class": "form-control", "autocomplete": "off"}),
                error_messages={"invalid": _("The verification code is wrong; enter the characters in the picture."),
                                "required": _("Enter the verification code."),
                                "incomplete": _("Enter the verification code.")})

    def clean(self):
        if "captcha" in self.errors:  # no password check (and no oracle) without the right code
            return self.cleaned_data
        return super().clean()


class ExportConfirmForm(forms.Form):
    """The second confirmation of an export (a high-risk action), and the request for sensitive fields."""

    confirm = forms.BooleanField(label=_("I confirm this export: the file leaves the system and is recorded."),
                                 error_messages={"required": _("Tick the confirmation to export.")})
    include_sensitive = forms.BooleanField(label=_("include sensitive fields in clear"), required=False,
                                           help_text=_("Needs a second person's approval; the file is then made "
                                                       "in the background."))
    reason = forms.CharField(label=_("purpose"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, sensitive=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not sensitive:  # the list has no sensitive columns, or the user may not ask for them in clear
            del self.fields["include_sensitive"]
            del self.fields["reason"]


class ExportDecisionForm(forms.Form):
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ApiTokenForm(forms.Form):
    """A new personal API token; the lifetime in days (the service checks it against the maximum)."""

    name = forms.CharField(label=_("name"), max_length=100,
                           help_text=_("What the token is for, e.g. the statistics script of the district bureau."))
    scope = forms.ChoiceField(label=_("access"), choices=TokenScope.choices, initial=TokenScope.READ)
    days = forms.IntegerField(label=_("valid for (days)"), min_value=1)

    def __init__(self, *args, default_days, max_days, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = default_days
        self.fields["days"].help_text = _("At most %(days)d days.") % {"days": max_days}
