"""Sensitive fields of an enterprise: shown in clear only with `enterprises.unmask_enterprise`."""

from foodrisk.core.crypto import mask

SENSITIVE_PERMISSION = "enterprises.unmask_enterprise"


def can_see_sensitive(user):
    return bool(user and user.is_authenticated and user.has_perm(SENSITIVE_PERMISSION))


def legal_representative(enterprise, user):
    value = enterprise.legal_representative or ""
    return value if can_see_sensitive(user) else mask(value)
