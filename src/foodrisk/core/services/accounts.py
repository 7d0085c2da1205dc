"""Users and roles: every change audited; passwords never logged."""

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from ..models import User
from . import audit


def users_with_perm(perm, *, include_superusers=True):
    """Active users holding `perm` through a role, directly or (include_superusers) as superusers: what
    User.has_perm answers, in one query instead of one (or more) per user. ModelBackend is the only configured
    backend that grants permissions (the OIDC backend subclasses it), so its answer is has_perm's."""
    return User.objects.with_perm(perm, include_superusers=include_superusers,
                                  backend="django.contrib.auth.backends.ModelBackend")


def create_user(*, username, password, roles=(), by=None, **fields):
    validate_password(password, User(username=username, **{k: v for k, v in fields.items() if k != "phone"}))
    with transaction.atomic():
        user = User(username=username, **fields)
        user.set_password(password)
        user.save()
        user.groups.set(roles)
        audit.record("core.user.create", user, after=_user_state(user), user=by)
    return user


def _user_state(user):
    state = audit.snapshot(user, fields={"username", "full_name", "email", "organisation", "scope_region",
                                          "national_scope", "is_active", "is_staff", "is_superuser", "phone"})
    state["roles"] = sorted(user.groups.values_list("name", flat=True))
    return state


def update_user(form, *, by=None):
    user = form.instance
    before = _user_state(User.objects.get(pk=user.pk))
    with transaction.atomic():
        user = form.save()
        audit.record("core.user.update", user, before=before, after=_user_state(user), user=by)
    return user


def set_password(user, password, *, by=None):
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record("core.user.set_password", user, user=by)


def save_role(form, *, by=None):
    role = form.instance
    creating = role._state.adding
    before = None if creating else _role_state(type(role).objects.get(pk=role.pk))
    with transaction.atomic():
        role = form.save()
        audit.record(f"core.role.{'create' if creating else 'update'}", role, before=before,
                     after=_role_state(role), user=by)
    return role


def _role_state(role):
    return {
        "code": role.code,
        "name": role.name,
        "description": role.description,
        "permissions": sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()),
    }
