from django import forms
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Organisation, User
from foodrisk.core.services.accounts import users_with_perm

from .choices import Outcome
from .models import WarningRule
from .params import SCHEMAS


def _kind_help():
    return " · ".join(f"{kind}: {', '.join(f'{p.name}={p.default!r}' for p in params)}"
                      for kind, params in SCHEMAS.items())


class WarningRuleForm(forms.ModelForm):
    class Meta:
        model = WarningRule
        fields = ["code", "name", "kind", "params", "level", "target", "target_organisation", "deadline_days",
                  "enabled", "description"]
        widgets = {"params": forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
                   "description": forms.Textarea(attrs={"rows": 2})}

    confirmed = forms.BooleanField(
        label=_("I confirm enabling this rule: it raises warnings for every enterprise in its scope."), required=False,
        help_text=_("Needed when the rule is created enabled or switched on."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["params"].required = False

    def enables(self):
        """The save switches the rule on (a new enabled rule, or a disabled one enabled): a high-risk action."""
        return bool(self.cleaned_data.get("enabled")) and (self.instance.pk is None or not self.initial.get("enabled"))
        self.fields["params"].help_text = _("JSON object; missing keys take their defaults. Keys per kind — %(h)s") % {
            "h": _kind_help()}


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
