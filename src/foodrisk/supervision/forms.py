from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core.models import Organisation, User
from foodrisk.enterprises.forms import date_input
from foodrisk.enterprises.models import Enterprise
from foodrisk.enterprises.widgets import EnterprisePicker
from foodrisk.records.models import ListEntry, Penalty

from .choices import ItemAnswer, TaskKind
from .models import ConflictOfInterest, InspectionPlan, InspectorAbsence, SupervisionProfile


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (photos, evidence); returns a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _scoped(user, qs):
    return qs.in_scope(user)


class TaskForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("enterprise"), queryset=Enterprise.objects.none(),
                                        widget=EnterprisePicker)
    kind = forms.ChoiceField(label=_("kind"), choices=TaskKind.choices)
    organisation = forms.ModelChoiceField(label=_("organisation"), queryset=Organisation.objects.none())
    assignee = forms.ModelChoiceField(label=_("assignee"), queryset=User.objects.none(), required=False)
    second_assignee = forms.ModelChoiceField(label=_("second inspector"), queryset=User.objects.none(),
                                             required=False)
    due_on = forms.DateField(label=_("due"), widget=date_input())
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    instructions = forms.CharField(label=_("instructions"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = _scoped(user, Enterprise.objects.all())
        self.fields["organisation"].queryset = _scoped(user, Organisation.objects.filter(active=True))
        people = _scoped(user, User.objects.filter(is_active=True)).order_by("username")
        self.fields["assignee"].queryset = people
        self.fields["second_assignee"].queryset = people
        if user.organisation_id:
            self.fields["organisation"].initial = user.organisation_id


class TaskOutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("outcome"), widget=forms.Textarea(attrs={"rows": 3}))


class InspectionResultForm(forms.Form):
    """Tablet-friendly: one large three-way toggle per checklist item (compliant / non-compliant / n.a.)."""

    inspected_on = forms.DateField(label=_("inspection date"), widget=date_input(), initial=timezone.localdate)
    findings = forms.CharField(label=_("findings"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    photos = MultipleFileField(label=_("photos"))
    order_rectification = forms.BooleanField(label=_("order rectification of failed items"), required=False,
                                             initial=True)
    rectification_days = forms.IntegerField(label=_("rectification deadline (days)"), min_value=1, max_value=365,
                                            required=False)

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(template.items.all()) if template else []
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=f"{item.number} {item.text}", choices=ItemAnswer.choices, widget=forms.RadioSelect,
                required=True)

    def item_rows(self):
        return [(item, self[f"item_{item.pk}"]) for item in self.items]

    def answers(self):
        return {str(item.pk): self.cleaned_data[f"item_{item.pk}"] for item in self.items}


class EvidenceForm(forms.Form):
    files = MultipleFileField(label=_("rectification evidence"))
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class VerifyForm(forms.Form):
    accepted = forms.BooleanField(label=_("evidence accepted"), required=False)
    note = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PlanForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("organisation"), queryset=Organisation.objects.none())
    period_start = forms.DateField(label=_("period start"), widget=date_input())
    period_end = forms.DateField(label=_("period end"), widget=date_input())
    profile = forms.ModelChoiceField(label=_("supervision profile"), queryset=SupervisionProfile.objects.all(),
                                     required=False, help_text=_("Empty = the active profile."))
    per_inspector = forms.DecimalField(label=_("inspections per inspector per year"), required=False, min_value=0,
                                       help_text=_("Empty = the system parameter."))
    inspectors = forms.IntegerField(label=_("inspectors"), required=False, min_value=0,
                                    help_text=_("Empty = count the organisation's inspectors."))
    name = forms.CharField(label=_("name"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _scoped(user, Organisation.objects.filter(active=True))
        if user.organisation_id:
            self.fields["organisation"].initial = user.organisation_id
        year = timezone.localdate().year
        self.fields["period_start"].initial = f"{year}-01-01"
        self.fields["period_end"].initial = f"{year}-12-31"

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class DrawForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("organisation"), queryset=Organisation.objects.none())
    profile = forms.ModelChoiceField(label=_("supervision profile"), queryset=SupervisionProfile.objects.all(),
                                     required=False, help_text=_("Empty = the active profile."))
    seed = forms.IntegerField(label=_("seed"), required=False, min_value=0,
                              help_text=_("Empty = a new random seed (recorded with the draw)."))
    name = forms.CharField(label=_("name"), max_length=200, required=False)
    plan = forms.ModelChoiceField(label=_("inspection plan"), queryset=InspectionPlan.objects.none(), required=False,
                                  help_text=_("The draw covers the plan's period unless dates are given."))
    period_start = forms.DateField(label=_("period start"), widget=date_input(), required=False,
                                   help_text=_("Empty = the plan's start, or today."))
    period_end = forms.DateField(label=_("period end"), widget=date_input(), required=False,
                                 help_text=_("Empty = the plan's end, or the default task period. Due dates are "
                                             "spread over the period, higher risk earlier."))
    borrow = forms.BooleanField(label=_("Allow borrowing inspectors from the parent organisation"), required=False,
                                help_text=_("Adds the inspectors of the parent organisation to the pool."))
    create_tasks = forms.BooleanField(label=_("create inspection tasks"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = _scoped(user, Organisation.objects.filter(active=True))
        self.fields["plan"].queryset = InspectionPlan.objects.restrict(user, "view").select_related("organisation")
        if user.organisation_id:
            self.fields["organisation"].initial = user.organisation_id

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", _("The period ends before it starts."))
        return data


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = InspectorAbsence
        fields = ["user", "start", "end", "reason"]
        widgets = {"start": date_input(), "end": date_input()}

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The absence ends before it starts."))
        return data


class RepairApplyForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("enterprise"), queryset=Enterprise.objects.none(),
                                        widget=EnterprisePicker)
    penalty = forms.ModelChoiceField(label=_("administrative penalty"), queryset=Penalty.objects.none(),
                                     required=False)
    list_entry = forms.ModelChoiceField(label=_("list entry"), queryset=ListEntry.objects.none(), required=False)
    commitment = forms.CharField(label=_("credit commitment"), widget=forms.Textarea(attrs={"rows": 4}))
    evidence = MultipleFileField(label=_("evidence"))

    def __init__(self, *args, user, enterprise=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = _scoped(user, Enterprise.objects.all())
        penalties = _scoped(user, Penalty.objects.filter(repaired=False))
        entries = _scoped(user, ListEntry.objects.filter(repaired=False))
        ent = enterprise or self.data.get("enterprise") or self.initial.get("enterprise")
        if ent:
            penalties, entries = penalties.filter(enterprise=ent), entries.filter(enterprise=ent)
        else:
            penalties, entries = penalties.none(), entries.none()
        self.fields["penalty"].queryset = penalties
        self.fields["list_entry"].queryset = entries

    def clean(self):
        data = super().clean()
        if bool(data.get("penalty")) == bool(data.get("list_entry")):
            raise forms.ValidationError(_("Choose the penalty or the list entry to repair."))
        return data


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("decision"), coerce=lambda v: v == "1",
                                     choices=[("1", _("Approve")), ("0", _("Reject"))])
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class ConflictForm(forms.ModelForm):
    class Meta:
        model = ConflictOfInterest
        fields = ["inspector", "enterprise", "reason", "declared_on", "active"]
        widgets = {"enterprise": EnterprisePicker, "declared_on": date_input()}
