"""The home page per role. Apps register a home (like health checks and profile sections) so that core does not
import the apps above it: the leader's desk is analytics', the inspector's desk reads alerts and supervision.

A home applies to a person holding one of its roles (role codes, core.seeds.ROLES); a person with several roles
gets the applicable home with the lowest `order` first and the others as tabs. The page of links (every menu
section) is always the last tab, and the only one for a person whose roles have no home of their own."""

from dataclasses import dataclass, field

LINKS = "links"  # the page of links every person has


@dataclass(frozen=True)
class Home:
    key: str
    label: str
    template: str
    figures: object  # figures(request) -> dict for the template
    roles: frozenset = field(default_factory=frozenset)
    order: int = 50
    superuser: bool = False  # also the home of a superuser holding no role with a home


_homes = {}


def register(key, label, template, figures, *, roles=(), order=50, superuser=False):
    _homes[key] = Home(key, label, template, figures, frozenset(roles), order, superuser)


def role_codes(user):
    """The codes of the user's roles (a Role is a Django group with a code): one query, kept on the user."""
    cached = getattr(user, "_foodrisk_role_codes", None)
    if cached is None:
        from .models import Role

        cached = user._foodrisk_role_codes = frozenset(
            Role.objects.filter(user=user).values_list("code", flat=True))
    return cached


def homes_for(user):
    """The homes of the user's roles, the primary one first."""
    codes = role_codes(user)
    found = [h for h in _homes.values() if h.roles & codes]
    if not found and user.is_superuser:
        found = [h for h in _homes.values() if h.superuser]
    return sorted(found, key=lambda h: (h.order, h.key))
