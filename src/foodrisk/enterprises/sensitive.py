"""Sensitive fields of an enterprise. Every page, list, API answer and export shows them masked; seeing one in
clear is a deliberate act (services.reveal_sensitive: the `enterprises.unmask_enterprise` permission, a stated
reason, an audit entry), or an export a second person approved (core.services.exports)."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core.crypto import mask

SENSITIVE_PERMISSION = "enterprises.unmask_enterprise"
SENSITIVE_FIELDS = {"legal_representative": _("legal representative")}


def can_see_sensitive(user):
    """May ask to reveal a sensitive field (never shown in clear as a side effect of this permission)."""
    return bool(user and user.is_authenticated and user.has_perm(SENSITIVE_PERMISSION))


def masked(enterprise, field="legal_representative"):
    return mask(getattr(enterprise, field) or "")
