from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Organisation, User
from foodrisk.core.services.accounts import users_with_perm

from .choices import Outcome
from .models import WarningRule
from .params import SCHEMAS, defaults

PARAM_PREFIX = "param_"
# hidden: the kind the parameter fields were shown for. Absent = a post without the fields (the parameters
# come from the JSON alone); another kind = the kind was changed without htmx (its fields were never shown).
SHOWN_KIND = "params_kind"


def param_field(param):
    """The form field of one schema parameter (the one place a schema type becomes a widget)."""
    common = {"label": param.label, "help_text": param.help}
    if param.type == "int":
        return forms.IntegerField(min_value=param.minimum, **common)
    if param.type == "number":
        return forms.FloatField(min_value=param.minimum, **common)
    if param.type == "bool":
        return forms.BooleanField(required=False, **common)
    if param.type == "choice":
        return forms.ChoiceField(choices=param.options, **common)
    return forms.MultipleChoiceField(choices=param.options, required=False, widget=forms.CheckboxSelectMultiple,
                                     **common)


def _plain(value):
    """3.0 from a number input is stored as 3, as it was typed in the JSON."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class WarningRuleForm(forms.ModelForm):
    """A warning rule; its parameters are ordinary fields generated from the kind's schema (alerts.params),
    the JSON stays available to experts as the collapsed advanced field `params`: when it is edited, it wins."""

    class Meta:
        model = WarningRule
        fields = ["code", "name", "kind", "params", "level", "target", "target_organisation", "deadline_days",
                  "enabled", "description"]
        widgets = {"params": forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
                   "description": forms.Textarea(attrs={"rows": 2})}
        labels = {"params": _("Advanced (JSON)")}
        help_texts = {"params": _("For experts. Leave it unchanged to use the parameter fields above; once edited, "
                                  "it replaces them. Missing keys take their defaults.")}

    confirmed = forms.BooleanField(
        label=_("I confirm enabling this rule: it raises warnings for every enterprise in its scope."), required=False,
        help_text=_("Needed when the rule is created enabled or switched on."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["params"].required = False
        self.kind = self._shown_kind()
        if self.is_bound and self.data.get(SHOWN_KIND) not in (None, self.kind):
            # the kind changed without htmx: show the new kind's fields with their defaults, save nothing yet
            self.data = self.data.copy()
            self.data.setlist(SHOWN_KIND, [self.kind])
            for name, value in defaults(self.kind).items():
                self.data.setlist(PARAM_PREFIX + name, value if isinstance(value, list) else [value])
            self.kind_changed = True
        else:
            self.kind_changed = False
        current = self.instance.params if self.kind == self.instance.kind else {}
        values = {**defaults(self.kind), **(current or {})} if self.kind in SCHEMAS else {}
        for param in SCHEMAS.get(self.kind, []):
            self.fields[PARAM_PREFIX + param.name] = param_field(param)
            self.initial.setdefault(PARAM_PREFIX + param.name, values[param.name])
        self.fields[SHOWN_KIND] = forms.CharField(widget=forms.HiddenInput, required=False, initial=self.kind)
        if self.is_bound and SHOWN_KIND not in self.data:
            for name in self.param_names():  # a post without the fields (a script): the JSON alone counts
                del self.fields[name]
        if not self.is_bound:
            self.initial["kind"] = self.kind  # a new rule: the select shows the kind whose fields are shown

    def _shown_kind(self):
        """The kind whose parameters the form shows: the posted one, else `initial` (the kind just picked,
        htmx), else the rule's."""
        kind = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        return kind if kind in SCHEMAS else (self.instance.kind or next(iter(SCHEMAS)))

    def param_names(self):
        return [name for name in self.fields if name.startswith(PARAM_PREFIX)]

    def fields_named(self, *names):
        """Part of the form for the template's sections (rendered by generic/form_fields.html)."""
        fields = [self[name] for name in names if name in self.fields]
        return {"visible_fields": [f for f in fields if not f.is_hidden],
                "hidden_fields": [f for f in fields if f.is_hidden]}

    def sections(self):
        params = {*self.param_names(), "params", SHOWN_KIND}
        main = [name for name in self.fields if name not in params]
        kind_at = main.index("kind") + 1
        return {"head": self.fields_named(*main[:kind_at]), "params": self.fields_named(*self.param_names(), SHOWN_KIND),
                "tail": self.fields_named(*main[kind_at:]), "advanced": self.fields_named("params")}

    def clean(self):
        data = super().clean()
        if self.kind_changed:
            raise forms.ValidationError(_("The rule kind changed: check the parameters of the new kind, then save."))
        if self.param_names() and "params" not in self.changed_data:
            # the model's clean (validate_params, through save_rule's full_clean) checks them once more
            data["params"] = {name.removeprefix(PARAM_PREFIX): _plain(data[name]) for name in self.param_names()
                              if name in data}
        return data

    def enables(self):
        """The save switches the rule on (a new enabled rule, or a disabled one enabled): a high-risk action."""
        return bool(self.cleaned_data.get("enabled")) and (self.instance.pk is None or not self.initial.get("enabled"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("confirm", _("Confirm")), ("dismiss", _("Dismiss"))],
                                 widget=forms.RadioSelect, initial="confirm")
    note = forms.CharField(label=_("Note / reason for dismissal"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(),
                                          required=False)
    assignee = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=forms.DateInput,
                               help_text=_("Empty = keep the current deadline (or the rule's number of days)."))
    instructions = forms.CharField(label=_("Instructions"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, alert=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if alert is not None:
            from foodrisk.core.querysets import organisation_covers

            region = alert.enterprise.region_id
            orgs = [o.pk for o in Organisation.objects.filter(active=True).select_related("region")
                    if organisation_covers(o, region)]
            self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=orgs)
            # one query for the permission; the scope test needs no query with the organisation joined
            people = [u.pk for u in users_with_perm("alerts.handle_alert").filter(organisation_id__in=orgs)
                      .select_related("organisation") if u.in_scope(region)]
            self.fields["assignee"].queryset = User.objects.filter(pk__in=people)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class HandleForm(forms.Form):
    feedback = forms.CharField(label=_("Feedback"), widget=forms.Textarea(attrs={"rows": 3}))
    files = MultipleFileField(label=_("Attachments"), required=False)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
