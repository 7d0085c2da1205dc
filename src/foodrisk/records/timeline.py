"""The enterprise profile's record timeline and attachments (contributed to enterprises.profile)."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from foodrisk.enterprises import history

from .models import RECORD_KINDS, Attachment

DEFAULT_LIMIT = 20
MAX_ALL = 2000

STYLE = {  # badge colour, icon
    "inspections": ("primary", "bi-clipboard-check"),
    "sampling_tests": ("info", "bi-eyedropper"),
    "penalties": ("danger", "bi-hammer"),
    "complaints": ("warning", "bi-megaphone"),
    "credit_repairs": ("success", "bi-arrow-repeat"),
    "list_entries": ("dark", "bi-journal-x"),
}


@dataclass
class Entry:
    kind: str
    kind_label: str
    colour: str
    icon: str
    date: object
    title: str
    facts: list
    url: str
    alert: bool = False
    versions: int = 0  # RecordVersions (changes of the record), linked to its detail page's history


def _yuan(value):
    return _("%(amount)s yuan") % {"amount": number_format(value, 2, force_grouping=True)}


def facts(kind, r):
    """(key facts, is-adverse) of one record, for a one-line summary."""
    if kind == "inspections":
        out = [r.get_kind_display(), r.get_result_display()]
        if r.key_items_failed or r.general_items_failed:
            out.append(_("%(key)d key / %(general)d general items failed")
                       % {"key": r.key_items_failed, "general": r.general_items_failed})
        if r.rectification_ordered:
            out.append(_("rectification ordered"))
        return out, r.result == "fail"
    if kind == "sampling_tests":
        out = [r.get_level_display(), r.product, r.get_result_display()]
        out += [item.get("item", "") for item in (r.failed_items or [])[:3] if isinstance(item, dict)]
        return out, r.result == "fail"
    if kind == "penalties":
        out = [r.violation_type, r.get_severity_display()]
        if r.fine:
            out.append(_("fine %(amount)s") % {"amount": _yuan(r.fine)})
        if r.confiscation:
            out.append(_("confiscation %(amount)s") % {"amount": _yuan(r.confiscation)})
        if r.licence_revoked:
            out.append(_("licence revoked"))
        if r.repaired:
            out.append(_("credit repaired"))
        return out, not r.repaired
    if kind == "complaints":
        out = [r.get_channel_display(), r.category, _("verified") if r.verified else _("not verified"),
               r.get_status_display()]
        return [x for x in out if x], r.verified
    if kind == "credit_repairs":
        return [r.get_target_kind_display(), r.target_no, r.get_decision_display()], False
    if kind == "list_entries":
        out = [r.reason] if r.reason else []
        out.append(_("removed %(date)s") % {"date": r.removed_on} if r.removed_on else _("still listed"))
        return out, r.removed_on is None
    return [], False


def visible_kinds(user):
    return {kind: model for kind, model in RECORD_KINDS.items()
            if user.has_perm(f"records.view_{model._meta.model_name}")}


def timeline(enterprise, user, limit=DEFAULT_LIMIT):
    """Every kind merged, newest event first. Returns (entries, total, counts by kind)."""
    entries, counts = [], {}
    cap = limit or MAX_ALL
    versions = history.counts_for(user, enterprise) if user.has_perm("enterprises.view_recordversion") else {}
    for kind, model in visible_kinds(user).items():
        qs = model.objects.restrict(user, "view").filter(enterprise=enterprise)
        counts[kind] = qs.count()
        colour, icon = STYLE[kind]
        for r in qs.order_by(f"-{model.date_field}", "-pk")[:cap]:
            summary, adverse = facts(kind, r)
            entries.append(Entry(kind, str(model._meta.verbose_name), colour, icon, r.event_date, str(r),
                                 [str(x) for x in summary if x], r.get_absolute_url(), adverse,
                                 versions.get((kind, getattr(r, model.natural_key_field)), 0) if versions else 0))
    entries.sort(key=lambda e: e.date, reverse=True)
    return entries[:cap], sum(counts.values()), counts


def timeline_section(enterprise, request):
    user = request.user
    kinds = visible_kinds(user)
    if not kinds:
        return None
    show_all = request.GET.get("timeline") == "all"
    entries, total, counts = timeline(enterprise, user, limit=None if show_all else DEFAULT_LIMIT)
    links = []
    for kind, model in kinds.items():
        name = model._meta.model_name
        links.append({
            "label": model._meta.verbose_name_plural, "count": counts.get(kind, 0), "colour": STYLE[kind][0],
            "list_url": f"{reverse(f'records:{name}_list')}?enterprise={enterprise.pk}",
            "add_url": (f"{reverse(f'records:{name}_add')}?enterprise={enterprise.pk}"
                        if user.has_perm(f"records.add_{name}") else ""),
        })
    return {"template": "records/profile_timeline.html", "entries": entries, "total": total,
            "shown": len(entries), "show_all": show_all, "kinds": links}


def attachments_section(enterprise, request):
    user = request.user
    if not user.has_perm("records.view_attachment"):
        return None
    from .forms import AttachmentForm

    rows = list(Attachment.objects.restrict(user, "view").filter(enterprise=enterprise)
                .select_related("uploaded_by", "content_type"))
    form = None
    if user.has_perm("records.add_attachment"):
        from foodrisk.core.widgets import bootstrap

        form = bootstrap(AttachmentForm(user=user, enterprise=enterprise))
    return {"template": "records/profile_attachments.html", "attachments": rows, "form": form}


