"""Chinese labels of audit actions and object types, for the audit pages. An action is "<app>.<noun>.<verb>"
(records.inspections.upsert, scoring.run.publish) or a bare verb (view, query); the noun is read as a model of
the app (its verbose name), a record kind, or one of NOUNS; the verb from VERBS. Anything unknown is shown as
it is stored, so a new action is never hidden — add its word here."""

from django.apps import apps
from django.utils.translation import pgettext_lazy

# each word in the "audit" context: apart from the same English elsewhere ("created" is also a date's label)
VERBS = {
    "create": pgettext_lazy("audit", "created"),
    "update": pgettext_lazy("audit", "changed"),
    "delete": pgettext_lazy("audit", "deleted"),
    "upsert": pgettext_lazy("audit", "written in bulk"),
    "approve": pgettext_lazy("audit", "approved"),
    "reject": pgettext_lazy("audit", "rejected"),
    "retire": pgettext_lazy("audit", "retired"),
    "start": pgettext_lazy("audit", "started"),
    "review": pgettext_lazy("audit", "reviewed"),
    "fail": pgettext_lazy("audit", "failed"),
    "activate": pgettext_lazy("audit", "activated"),
    "withdraw": pgettext_lazy("audit", "withdrawn"),
    "verify": pgettext_lazy("audit", "verified"),
    "train": pgettext_lazy("audit", "trained"),
    "submit": pgettext_lazy("audit", "submitted"),
    "stale": pgettext_lazy("audit", "found interrupted"),
    "set_password": pgettext_lazy("audit", "password set"),
    "seed": pgettext_lazy("audit", "seeded"),
    "run": pgettext_lazy("audit", "run"),
    "rollback": pgettext_lazy("audit", "rolled back"),
    "reveal": pgettext_lazy("audit", "shown unmasked"),
    "retry": pgettext_lazy("audit", "retried"),
    "resume": pgettext_lazy("audit", "resumed"),
    "request": pgettext_lazy("audit", "requested"),
    "publish": pgettext_lazy("audit", "published"),
    "propose": pgettext_lazy("audit", "proposed"),
    "preview": pgettext_lazy("audit", "impact preview"),
    "overdue": pgettext_lazy("audit", "overdue"),
    "finish": pgettext_lazy("audit", "finished"),
    "drift": pgettext_lazy("audit", "drift check"),
    "discard": pgettext_lazy("audit", "discarded"),
    "confirm_duplicate": pgettext_lazy("audit", "re-import confirmed"),
    "confirm": pgettext_lazy("audit", "confirmed"),
    "bootstrap": pgettext_lazy("audit", "first activation"),
    "apply": pgettext_lazy("audit", "applied"),
    "abandoned": pgettext_lazy("audit", "abandoned"),
    "raise": pgettext_lazy("audit", "raised"),
    "repeat": pgettext_lazy("audit", "occurred again"),
    "dispatch": pgettext_lazy("audit", "dispatched"),
    "handle": pgettext_lazy("audit", "handled"),
    "close": pgettext_lazy("audit", "closed"),
    "escalate": pgettext_lazy("audit", "escalated"),
    "view": pgettext_lazy("audit", "viewed"),
    "query": pgettext_lazy("audit", "searched"),
    "export": pgettext_lazy("audit", "exported"),
    "download": pgettext_lazy("audit", "downloaded"),
    "login": pgettext_lazy("audit", "logged in"),
    "logout": pgettext_lazy("audit", "logged out"),
    "login_failed": pgettext_lazy("audit", "login failed"),
    "promote": pgettext_lazy("audit", "promoted"),
    "cancel": pgettext_lazy("audit", "cancelled"),
    "complete": pgettext_lazy("audit", "completed"),
    "draw": pgettext_lazy("audit", "drawn"),
    "assign": pgettext_lazy("audit", "assigned"),
    "decide": pgettext_lazy("audit", "decided"),
    "expire": pgettext_lazy("audit", "expired"),
    "backup": pgettext_lazy("audit", "backed up"),
    "restore": pgettext_lazy("audit", "restored"),
    "checkpoint": pgettext_lazy("audit", "checkpoint written"),
    "deliver": pgettext_lazy("audit", "delivered"),
    "read": pgettext_lazy("audit", "read"),
}
NOUNS = {
    "run": pgettext_lazy("audit", "scoring run"),
    "quarantine": pgettext_lazy("audit", "quarantined rows"),
    "auth": pgettext_lazy("audit", "account"),
    "items": pgettext_lazy("audit", "items"),
    "tasks": pgettext_lazy("audit", "tasks"),
    "audit": pgettext_lazy("audit", "audit log"),
}


def noun_label(app_label, noun):
    """A model of the app (alerts.alert → 预警), a record kind (records.inspections → 监督检查), or NOUNS."""
    try:
        return apps.get_model(app_label, noun)._meta.verbose_name
    except (LookupError, ValueError):
        pass
    if app_label == "records":
        from foodrisk.records.models import RECORD_KINDS

        if noun in RECORD_KINDS:
            return RECORD_KINDS[noun]._meta.verbose_name
    return NOUNS.get(noun, noun)


def action_label(action):
    parts = (action or "").split(".")
    if len(parts) == 1:
        return str(VERBS.get(parts[0], parts[0]))
    verb = str(VERBS.get(parts[-1], parts[-1]))
    noun = noun_label(parts[0], parts[1]) if len(parts) >= 3 else NOUNS.get(parts[0], parts[0])
    return f"{noun}·{verb}"


def object_type_label(object_type):
    app_label, _dot, noun = (object_type or "").partition(".")
    return str(noun_label(app_label, noun)) if noun else object_type


DEFAULT_PERMISSION_VERBS = {
    "add": pgettext_lazy("permission", "add"), "change": pgettext_lazy("permission", "change"),
    "delete": pgettext_lazy("permission", "delete"), "view": pgettext_lazy("permission", "view"),
}


def permission_label(permission):
    """A permission in Chinese: its own name when the catalogue translates it (the permissions apps declare),
    else Django's default add/change/delete/view built from the model's verbose name (their stored names are
    English, written when the permission row was made)."""
    from django.utils.translation import gettext

    translated = gettext(permission.name)
    if translated != permission.name:
        return translated
    verb, _sep, _model = permission.codename.partition("_")
    model = permission.content_type.model_class()
    if verb in DEFAULT_PERMISSION_VERBS and model is not None:
        return f"{DEFAULT_PERMISSION_VERBS[verb]}{model._meta.verbose_name}"
    return permission.name
