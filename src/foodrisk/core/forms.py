from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

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
from .models.config import Channel
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


class ParameterForm(forms.ModelForm):
    class Meta:
        model = Parameter
        fields = ["key", "name", "category", "value_type", "value", "description", "source"]

    def clean(self):
        data = super().clean()
        value, kind = data.get("value"), data.get("value_type")
        checks = {"int": int, "decimal": (int, float), "text": str, "bool": bool}
        if kind in checks and value is not None and not isinstance(value, checks[kind]) or (
            kind == "int" and isinstance(value, bool)
        ):
            self.add_error("value", _("The value does not match the parameter's type."))
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


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = ["name", "job_kind", "params", "frequency", "at_time", "weekday", "day_of_month", "enabled"]

    def __init__(self, *args, **kwargs):
        from . import jobs

        super().__init__(*args, **kwargs)
        self.fields["job_kind"] = forms.ChoiceField(
            label=_("job kind"), choices=[(k, str(v.title)) for k, v in jobs.kinds().items()]
        )


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
