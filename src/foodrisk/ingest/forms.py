from django import forms
from django.utils.translation import gettext_lazy as _

from . import profile_format
from .choices import Kind
from .models import MappingProfile, Source

MAX_UPLOAD = 200 * 1024 * 1024


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=_("source"), queryset=Source.objects.filter(active=True), required=False)
    new_source = forms.CharField(label=_("or a new source"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=[("auto", _("Detect from the headers")), *Kind.choices],
                             initial="auto")
    profile = forms.ModelChoiceField(label=_("mapping profile"), queryset=MappingProfile.objects.all(),
                                     required=False, help_text=_("Leave empty to detect it from the headers."))
    file = forms.FileField(label=_("file"), required=False,
                           help_text=_("CSV (UTF-8, UTF-16, GBK or GB18030), XLSX, XLS, ODS or JSON."))
    # shown (as a checkbox) only once the file turned out to have been imported before: see ask_to_confirm
    confirm_duplicate = forms.BooleanField(label=_("Import this file again"), required=False,
                                           widget=forms.HiddenInput)
    # the file kept on the server while the person decides (see views.UploadView): not chosen again
    pending = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = MappingProfile.objects.restrict(user).order_by("code")

    def ask_to_confirm(self, message, token, file_name):
        """The file was already imported: say so and offer the confirmation; the file is kept (token)."""
        field = self.fields["confirm_duplicate"]
        field.widget = forms.CheckboxInput()
        field.help_text = _("Tick to import “%(file)s” again and submit; it is kept, no need to choose it again.") % {
            "file": file_name}
        self["confirm_duplicate"].help_text = field.help_text  # the bound field copied it when the form was cleaned
        self.data = self.data.copy()
        self.data["pending"] = token
        self.add_error("file", message)

    def clean(self):
        data = super().clean()
        if not data.get("source") and not data.get("new_source"):
            raise forms.ValidationError(_("Choose a source or name a new one."))
        upload = data.get("file")
        if upload and upload.size > MAX_UPLOAD:
            self.add_error("file", _("The file is too large."))
        if not upload and not data.get("pending"):
            self.add_error("file", _("Choose the file to import."))
        return data


class CorrectionForm(forms.Form):
    """One text field per column of the quarantined row (named by position, labelled by header)."""

    def __init__(self, *args, row=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .services.quarantine import shown

        data = shown(row.corrected_data or row.raw_data)  # a sensitive cell masked; unchanged, it is kept
        self.headers = list(data)
        for i, header in enumerate(self.headers):
            self.fields[f"c{i}"] = forms.CharField(label=header, required=False, initial=data[header],
                                                   max_length=2000)

    def corrected(self):
        return {h: self.cleaned_data.get(f"c{i}", "") or "" for i, h in enumerate(self.headers)}


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300)


class ResubmitUploadForm(forms.Form):
    file = forms.FileField(label=_("corrected workbook"),
                           help_text=_("The downloaded quarantine workbook with the rows corrected."))


class CandidateDecisionForm(forms.Form):
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["name", "system", "description", "key_config", "active"]


class MappingProfileForm(forms.ModelForm):
    config = forms.JSONField(label=_("configuration"), widget=forms.Textarea(attrs={"rows": 20}))

    class Meta:
        model = MappingProfile
        fields = ["code", "name", "source", "kind", "config"]

    def clean_config(self):
        config = self.cleaned_data["config"]
        kind = self.cleaned_data.get("kind") or (config.get("kind") if isinstance(config, dict) else None)
        try:
            return profile_format.to_jsonable(profile_format.validate(config, kind=kind))
        except profile_format.ProfileInvalid as exc:
            raise forms.ValidationError(exc.errors) from exc


class DesignerSampleForm(forms.Form):
    profile = forms.ModelChoiceField(label=_("edit a profile"), queryset=MappingProfile.objects.none(), required=False,
                                     help_text=_("Leave empty to make a new profile. A profile you edit keeps its "
                                                 "earlier versions."))
    kind = forms.ChoiceField(label=_("kind"), choices=Kind.choices,
                             help_text=_("For a new profile (an edited profile keeps its kind)."))
    source = forms.CharField(label=_("source"), max_length=100, required=False,
                             help_text=_("The system the files come from (for the dry run's lineage)."))
    file = forms.FileField(label=_("sample file"),
                           help_text=_("A file as the source system delivers it: CSV (UTF-8, GBK, GB18030), XLSX or "
                                       "JSON. The first 200 rows are used."))
    sheet = forms.CharField(label=_("sheet"), max_length=100, required=False,
                            help_text=_("A workbook's sheet: its name or number (default the first)."))
    header_row = forms.IntegerField(label=_("header row"), min_value=1, max_value=profile_format.MAX_HEADER_ROW,
                                    required=False,
                                    help_text=_("The row holding the column headers (default: detected)."))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = MappingProfile.objects.restrict(user, "change").order_by("code")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is too large."))
        return upload
