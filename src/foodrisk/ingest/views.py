"""Ingest pages: upload, batches and their report, quarantine (fix, resubmit, discard, workbook round trip),
entity review queue, quality report, import templates, sources and mapping profiles."""

import json
import math

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from foodrisk.core.validators import is_digits
from foodrisk.core.views.generic import ObjectDetailView, ObjectEditView, ObjectListView, ScopedMixin
from foodrisk.core.widgets import bootstrap
from foodrisk.enterprises.models import Enterprise

from . import filtersets, forms, mapping, profile_format, readers, tables
from .choices import LINK_LABELS
from .models import Batch, MappingProfile, MatchCandidate, QuarantinedRow, Source
from .services import DuplicateFile, IngestError, batches, designer, held, profiles, quarantine, workbooks
from .validators import field_labels, reason_label

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INLINE_MAX_BYTES = 2 * 1024 * 1024  # smaller files run at once; bigger ones wait for the worker


def _attachment(content, name, content_type=XLSX):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _axis_min(rates, target):
    """The pass-rate axis starts at the tenth below the lowest rate (0.86 → 0.8), so that every bar shows."""
    return max(0.0, math.floor(min([*rates, target]) * 10) / 10)


def pass_rate_chart(field_stats, target, kind=""):
    names, labels = list(field_stats), field_labels(kind)
    return json.dumps({
        "tooltip": {}, "grid": {"left": 110, "right": 30, "top": 20, "bottom": 30},
        "xAxis": {"type": "value", "min": _axis_min([field_stats[n]["pass_rate"] for n in names], target), "max": 1},
        "yAxis": {"type": "category", "data": [labels.get(n, n) for n in names]},
        "series": [{"type": "bar", "data": [round(field_stats[n]["pass_rate"], 4) for n in names],
                    "markLine": {"symbol": "none", "data": [{"xAxis": target}]}}],
    }, ensure_ascii=False)


def trend_chart(trend, target):
    return json.dumps({
        "tooltip": {"trigger": "axis"}, "grid": {"left": 50, "right": 30, "top": 20, "bottom": 30},
        "xAxis": {"type": "category", "data": [t["label"] for t in trend]},
        "yAxis": {"type": "value", "min": _axis_min([t["pass_rate"] for t in trend], target), "max": 1},
        "series": [{"type": "line", "data": [t["pass_rate"] for t in trend],
                    "markLine": {"symbol": "none", "data": [{"yAxis": target}]}}],
    }, ensure_ascii=False)


def quality_target():
    from foodrisk.core import params

    return float(params.get("quality_target_pass_rate", 0.99))


def _field_rows(field_stats, target, kind=""):
    labels = field_labels(kind)
    return [{"field": f, "label": labels.get(f, f), **st, "ok": st["pass_rate"] >= target}
            for f, st in field_stats.items()]


def findings(counts, kind=""):
    """[(reason or note code, its words, rows)] of a report's counts, most frequent first."""
    return [(code, reason_label(code, kind), n) for code, n in sorted(counts.items(), key=lambda kv: -kv[1])]


# --------------------------------------------------------------------------------------------- upload
SESSION_PENDING = "ingest_pending_uploads"  # {token: {"path", "name"}}: files waiting for a duplicate confirmation


class UploadView(ScopedMixin, FormView):
    model = Batch
    action = "add"
    form_class = forms.UploadForm
    template_name = "ingest/upload.html"

    def get_form_kwargs(self):
        profiles.ensure_builtin_profiles()  # the built-ins can be chosen on a fresh installation
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def form_valid(self, form):
        data = form.cleaned_data
        upload, token = data["file"], data["pending"]
        pending = self.request.session.get(SESSION_PENDING, {})
        if upload:  # a file chosen (again) wins over one kept from before
            content, file_name = upload.read(), upload.name
        elif token in pending:
            content, file_name = held.load(pending[token]["path"]), pending[token]["name"]
        else:
            form.add_error("file", _("The kept file is no longer available: choose the file again."))
            return self.form_invalid(form)
        source = data["source"] or data["new_source"].strip()
        try:
            batch = batches.create_batch(user=self.request.user, source=source, kind=data["kind"],
                                          content=content, file_name=file_name, profile=data["profile"],
                                          confirm_duplicate=data["confirm_duplicate"])
        except DuplicateFile as exc:
            # keep the file on the server while the person decides, so that confirming needs no new upload
            if not upload:
                new_token = token
            else:
                new_token = held.token()
                pending[new_token] = {"path": held.hold(content, file_name, "pending"), "name": file_name[:200]}
                self.request.session[SESSION_PENDING] = pending
            form.ask_to_confirm(str(exc), new_token, file_name)
            return self.form_invalid(form)
        except IngestError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        if token in pending and not upload:
            held.discard(pending.pop(token)["path"])
            self.request.session[SESSION_PENDING] = pending
        batches.start_batch(batch, user=self.request.user, wait=len(content) <= INLINE_MAX_BYTES)
        messages.success(self.request, _("The file was received and is being imported."))
        return redirect(batch.get_absolute_url())


# --------------------------------------------------------------------------------------------- batches
class BatchListView(ObjectListView):
    model = Batch
    table_class = tables.BatchTable
    filterset_class = filtersets.BatchFilterSet

    def get(self, request, *args, **kwargs):
        batches.fail_stale_batches()  # a batch whose process died is shown as failed (and resumable), not running
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().select_related("source")


class BatchDetailView(ObjectDetailView):
    model = Batch
    template_name = "ingest/batch_detail.html"

    def get(self, request, *args, **kwargs):
        batches.fail_stale_batches()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        batch, target = self.object, quality_target()
        snap = getattr(batch, "quality", None) if hasattr(batch, "quality") else None
        report = batch.report or {}
        ctx.update(target=target, target_percent=round(target * 100, 2), snapshot=snap,
                   counts=batches.counts(batch), report=report, findings=findings(report.get("reasons") or {}, batch.kind),
                   notes=findings(report.get("notes") or {}),
                   link_rows=[(LINK_LABELS.get(method, method), n, report.get("link_rows", {}).get(method, ""))
                              for method, n in report.get("links", {}).items()])
        ctx["can_resume"] = batch.status == "failed" and self.request.user.has_perm("ingest.add_batch")
        if snap is not None:
            ctx["field_rows"] = _field_rows(snap.field_stats, target, batch.kind)
            ctx["chart"] = pass_rate_chart(snap.field_stats, target, batch.kind)
        return ctx


class BatchResumeView(ScopedMixin, View):
    """Run a failed (e.g. interrupted) batch again from its first uncommitted row."""

    model = Batch
    action = "add"

    def post(self, request, pk):
        batch = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            batches.resume_batch(batch, user=request.user)
        except IngestError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The import goes on from row %(row)s.") % {"row": batch.rows_read + 1})
        return redirect(batch.get_absolute_url())


# --------------------------------------------------------------------------------------------- quarantine
class QuarantinedRowListView(ObjectListView):
    model = QuarantinedRow
    table_class = tables.QuarantinedRowTable
    filterset_class = filtersets.QuarantinedRowFilterSet
    template_name = "ingest/quarantinedrow_list.html"

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["generic/object_list.html#results"]
        return ["ingest/quarantinedrow_list.html"]

    def get_queryset(self):
        return super().get_queryset().select_related("batch")

    def export_rows(self, queryset, sensitive):
        # the correction workbook (id, reasons, the original columns): edited and uploaded back
        return workbooks.quarantine_rows(queryset)


class QuarantinedRowDetailView(ObjectDetailView):
    model = QuarantinedRow
    template_name = "ingest/quarantinedrow_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["correction_form"] = bootstrap(forms.CorrectionForm(row=self.object))
        ctx["discard_form"] = bootstrap(forms.DiscardForm())
        ctx["can_change"] = self.request.user.has_perm("ingest.change_quarantinedrow")
        return ctx


class QuarantineResubmitView(ScopedMixin, View):
    model = QuarantinedRow
    action = "change"

    def post(self, request, pk):
        row = get_object_or_404(self.get_queryset().select_related("batch", "batch__source"), pk=pk, status="open")
        form = forms.CorrectionForm(request.POST, row=row)
        if not form.is_valid():
            messages.error(request, _("The correction could not be read."))
            return redirect(row.get_absolute_url())
        outcome = quarantine.resubmit(row, form.corrected(), user=request.user)
        if outcome.status == "quarantined":
            messages.warning(request, _("The row still fails: %(reasons)s")
                             % {"reasons": "；".join(reason_label(r, row.batch.kind) for r in outcome.reasons)})
        elif outcome.status == "review":
            messages.info(request, _("The row passed validation and waits in the entity review queue."))
        else:
            messages.success(request, _("The corrected row was accepted."))
        return redirect(row.get_absolute_url())


class QuarantineDiscardView(ScopedMixin, View):
    model = QuarantinedRow
    action = "change"

    def post(self, request, pk):
        row = get_object_or_404(self.get_queryset(), pk=pk, status="open")
        form = forms.DiscardForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give a reason to discard the row."))
            return redirect(row.get_absolute_url())
        quarantine.discard(row, form.cleaned_data["reason"], user=request.user)
        messages.success(request, _("The row was discarded."))
        return redirect(row.get_absolute_url())


class QuarantineUploadView(ScopedMixin, FormView):
    model = QuarantinedRow
    action = "change"
    form_class = forms.ResubmitUploadForm
    template_name = "ingest/quarantine_upload.html"

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            result = workbooks.resubmit_workbook(upload.read(), upload.name, self.get_queryset(), user=self.request.user)
        except IngestError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        messages.success(self.request, _("Resubmitted: %(fixed)s accepted, %(still_failing)s still failing, "
                                         "%(skipped)s skipped.") % result)
        return redirect("ingest:quarantinedrow_list")


# --------------------------------------------------------------------------------------------- review queue
class MatchCandidateListView(ObjectListView):
    model = MatchCandidate
    table_class = tables.MatchCandidateTable
    filterset_class = filtersets.MatchCandidateFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise", "batch")


class MatchCandidateDetailView(ObjectDetailView):
    model = MatchCandidate
    template_name = "ingest/matchcandidate_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["decision_form"] = bootstrap(forms.CandidateDecisionForm())
        ctx["can_change"] = self.request.user.has_perm("ingest.change_matchcandidate")
        ent = self.object.enterprise
        ctx["candidate"] = {"name": ent.name, "address": ent.address, "uscc": ent.uscc, "region": ent.region_id}
        return ctx


class MatchCandidateDecisionView(ScopedMixin, View):
    model = MatchCandidate
    action = "change"
    decision = "confirm"

    def post(self, request, pk):
        candidate = get_object_or_404(self.get_queryset().select_related("batch", "batch__source"), pk=pk,
                                      status="pending")
        # the linked enterprise must be one the user may see
        if not Enterprise.objects.in_scope(request.user).filter(pk=candidate.enterprise_id).exists():
            raise Http404
        try:
            if self.decision == "confirm":
                quarantine.confirm_candidate(candidate, user=request.user)
                messages.success(request, _("Confirmed: the record was written for this enterprise."))
            else:
                quarantine.reject_candidate(candidate, user=request.user, note=request.POST.get("note", ""))
                messages.success(request, _("Rejected: the row was moved to quarantine."))
        except IngestError as exc:
            messages.error(request, str(exc))
        return redirect(candidate.get_absolute_url())


# --------------------------------------------------------------------------------------------- quality, templates
class QualityView(ScopedMixin, TemplateView):
    model = Batch
    template_name = "ingest/quality.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        target = quality_target()
        succeeded = self.get_queryset().filter(status="succeeded")
        overview = workbooks.quality_overview(succeeded)
        ctx.update(target=target, target_percent=round(target * 100, 2), overview=overview,
                   findings=findings(overview["reason_codes"]), field_rows=_field_rows(overview["fields"], target),
                   chart=pass_rate_chart(overview["fields"], target) if overview["fields"] else "",
                   trend=trend_chart(overview["trend"][-50:], target) if overview["trend"] else "")
        return ctx


class TemplatesView(ScopedMixin, TemplateView):
    model = Batch
    template_name = "ingest/templates.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["kinds"] = [(k, mapping.KIND_LABELS[k], [h for _f, h, _t, r in mapping.TEMPLATE_FIELDS[k]])
                        for k in mapping.KINDS]
        return ctx


class TemplateDownloadView(ScopedMixin, View):
    model = Batch

    def get(self, request, kind):
        if kind not in mapping.KINDS:
            raise Http404
        return _attachment(workbooks.template_xlsx(kind), f"template-{kind}.xlsx")


# --------------------------------------------------------------------------------------------- sources, profiles
class SourceListView(ObjectListView):
    model = Source
    table_class = tables.SourceTable
    filterset_class = filtersets.SourceFilterSet


class SourceDetailView(ObjectDetailView):
    model = Source

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["related"] = [(_("mapping profiles"), self.object.profiles.all())]
        return ctx


class SourceEditView(ObjectEditView):
    model = Source
    form_class = forms.SourceForm


class MappingProfileListView(ObjectListView):
    model = MappingProfile
    table_class = tables.MappingProfileTable
    filterset_class = filtersets.MappingProfileFilterSet

    def get(self, request, *args, **kwargs):
        profiles.ensure_builtin_profiles()
        return super().get(request, *args, **kwargs)


class MappingProfileDetailView(ObjectDetailView):
    model = MappingProfile
    template_name = "ingest/mappingprofile_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["config_json"] = json.dumps(self.object.config, ensure_ascii=False, indent=2)
        ctx["hidden_config"] = True
        ctx["can_design"] = MappingProfile.objects.restrict(self.request.user, "change").filter(
            pk=self.object.pk).exists()
        return ctx


class MappingProfileEditView(ObjectEditView):
    model = MappingProfile
    form_class = forms.MappingProfileForm

    def save(self, form):
        return designer.save_form_profile(form, user=self.request.user)


# --------------------------------------------------------------------------------------------- mapping designer
SESSION_SAMPLE = "ingest_designer_sample"
# what happened to an imported row ("updated" is a count here, not the 更新时间 of a record: its own context)
STATUS_LABELS = {"new": _lazy("new"), "updated": pgettext_lazy("import outcome", "updated"), "unchanged": _lazy("unchanged"),
                 "merged": _lazy("merged duplicate"), "quarantined": _lazy("quarantined"),
                 "review": _lazy("waits for review")}


class DesignerView(ScopedMixin, FormView):
    """Step 1 of the mapping designer: upload a sample file and say what it holds."""

    model = MappingProfile
    action = "add"
    form_class = forms.DesignerSampleForm
    template_name = "ingest/designer_upload.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        # "edit in the designer" on a profile's page: that profile preselected
        return {"profile": self.request.GET.get("profile") or None}

    def get_form(self, form_class=None):
        return bootstrap(super().get_form(form_class))

    def form_valid(self, form):
        data = form.cleaned_data
        upload, profile = data["file"], data["profile"]
        content = upload.read()
        # an edited profile reads the sample as it reads its files (its sheet and header row) unless told otherwise
        read = profile_format.read_options(profile.config) if profile else {"sheet": None, "header_row": None}
        sheet = data["sheet"].strip() or read["sheet"]
        header_row = data["header_row"] or (read["header_row"] if profile else None)
        try:
            table, _detected = designer.read_sample(content, upload.name, sheet=sheet, header_row=header_row)
        except readers.UnreadableFile as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        if not table.headers:
            form.add_error("file", _("The file could not be read as a table with a header row."))
            return self.form_invalid(form)
        self.request.session[SESSION_SAMPLE] = {
            "path": designer.store_sample(content, upload.name), "name": upload.name[:200],
            "kind": profile.kind if profile else data["kind"], "profile": profile.pk if profile else None,
            "sheet": sheet, "header_row": header_row, "source": data["source"] or _("mapping designer")}
        return redirect("ingest:designer_map")


class DesignerMapView(ScopedMixin, TemplateView):
    """Step 2: each source column → target fields, constants, value maps, dates, derived keys; a live dry run
    on the sample; save. Server-rendered; htmx re-renders the form after a target changes and shows the dry run."""

    model = MappingProfile
    action = "add"
    template_name = "ingest/designer_map.html"

    def dispatch(self, request, *args, **kwargs):
        self.sample = request.session.get(SESSION_SAMPLE)
        return super().dispatch(request, *args, **kwargs)

    def edited(self):
        """The profile being edited (a new version is saved), or None for a new one; out of reach: 404."""
        pk = (self.sample or {}).get("profile")
        if not pk:
            return None
        return get_object_or_404(MappingProfile.objects.restrict(self.request.user, "change"), pk=pk)

    def load(self):
        content = designer.load_sample(self.sample["path"])
        table, detected = designer.read_sample(content, self.sample["name"], sheet=self.sample.get("sheet"),
                                               header_row=self.sample.get("header_row"))
        return content, table, detected

    def get(self, request, *args, **kwargs):
        if not self.sample:
            return redirect("ingest:designer")
        try:
            _content, table, detected = self.load()
        except readers.UnreadableFile as exc:  # e.g. a sheet or header row chosen that the sample does not have
            messages.error(request, str(exc))
            return redirect("ingest:designer")
        profile = self.edited()
        if profile is not None:
            cfg = dict(profile_format.upgrade(profile.config), read=designer.read_choices(detected))
        else:
            cfg = designer.suggested_config(self.sample["kind"], table, read=designer.read_choices(detected))
        return self.render_to_response(self.context(table, detected, cfg))

    def context(self, table, detected, cfg, **extra):
        kind = self.sample["kind"]
        profile = self.edited()
        cfg_full = profile_format.upgrade(cfg)
        key = mapping.NATURAL_KEY.get(kind)
        scope = getattr(self.request.user, "scope_prefix", "")
        rows = designer.design_rows(kind, table, cfg, scope=scope)
        return {"sample": self.sample, "kind": kind, "kind_label": mapping.KIND_LABELS[kind], "detected": detected,
                "rows": rows, "targets": designer.target_choices(kind),
                "region_choices": designer.region_choices(scope) if any(
                    v.get("region") for row in rows for v in row["values"]) else [],
                "constants": designer.constant_rows(kind, cfg), "headers": table.headers,
                "preview": table.rows[:5], "hash_fields": [(f, lbl, f in (cfg_full["derive"].get(key) or {}).get(
                    "hash", [])) for f, lbl in profile_format.field_labels(kind).items() if f != key],
                "hash_prefix": (cfg_full["derive"].get(key) or {}).get("prefix", ""), "key_label":
                profile_format.field_labels(kind).get(key, key), "region_from_uscc": "region_code" in cfg_full["derive"],
                "has_region": "region_code" in profile_format.field_types(kind), "profile": profile,
                "code": profile.code if profile else self.request.POST.get("code", ""),
                "name": self.request.POST.get("name") or (profile.name if profile else ""), **extra}

    def post(self, request, *args, **kwargs):
        if not self.sample:
            return redirect("ingest:designer")
        todo = request.POST.get("_action", "refresh")
        if todo == "reread":  # another sheet or header row of the sample
            header_row = request.POST.get("header_row", "").strip()
            self.sample.update(sheet=request.POST.get("sheet", "").strip() or None,
                               header_row=int(header_row) if is_digits(header_row) and 0 < int(header_row) <= 50
                               else None)
            request.session[SESSION_SAMPLE] = self.sample
            return redirect("ingest:designer_map")
        try:
            content, table, detected = self.load()
        except readers.UnreadableFile as exc:
            messages.error(request, str(exc))
            return redirect("ingest:designer")
        kind = self.sample["kind"]
        profile = self.edited()
        cfg = designer.config_from_choices(kind, table.headers, dict(request.POST.lists()),
                                           base=profile.config if profile else None,
                                           read=designer.read_choices(detected))
        errors = []
        if todo in ("dry_run", "save"):
            try:
                profile_format.validate(cfg)
            except profile_format.ProfileInvalid as exc:
                errors = exc.errors
        if todo == "dry_run" and not errors:
            result = designer.dry_run(content, self.sample["name"], cfg, user=request.user, source=self.sample["source"])
            return TemplateResponse(request, "ingest/designer_map.html#dryrun", self.dry_run_context(kind, result))
        if todo == "dry_run":
            return TemplateResponse(request, "ingest/designer_map.html#dryrun", {"dry_errors": errors})
        if todo == "save" and not errors:
            try:
                if profile is not None:  # a new version of the profile being edited
                    profile = designer.save_profile(config=cfg, user=request.user, profile=profile,
                                                    name=request.POST.get("name", ""))
                else:
                    profile = designer.save_profile(config=cfg, user=request.user, code=request.POST.get("code", ""),
                                                    name=request.POST.get("name", ""))
            except profile_format.ProfileInvalid as exc:
                errors = exc.errors
            else:
                messages.success(request, _("The mapping profile was saved."))
                return redirect(profile.get_absolute_url())
        template = "ingest/designer_map.html#form" if request.htmx else "ingest/designer_map.html"
        return TemplateResponse(request, template, self.context(table, detected, cfg, errors=errors))

    def dry_run_context(self, kind, result):
        links, reasons = LINK_LABELS, reason_label
        rows = [{"row": r["row"], "status": STATUS_LABELS.get(r["status"], r["status"]), "status_code": r["status"],
                 "link": links.get(r["link"] or "", "—"), "reasons": [reasons(x, kind) for x in r["reasons"]]}
                for r in result["rows"]]
        counts = [(STATUS_LABELS[k], v) for k, v in result["counts"].items() if v]
        return {"dry": True, "rows": rows, "counts": counts,
                "links": [(links.get(k, k), v) for k, v in sorted(result["links"].items())],
                "reasons": [(reasons(k, kind), v) for k, v in result["reasons"].items()]}
