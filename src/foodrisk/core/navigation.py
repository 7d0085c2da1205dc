"""The menu. Apps add their sections in AppConfig.ready(); a user sees only items they may open."""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    permission: str = ""
    icon: str = ""


@dataclass
class Section:
    key: str
    label: str
    icon: str
    order: int
    items: list = field(default_factory=list)


_sections = {}


def section(key, label, icon="", order=50):
    return _sections.setdefault(key, Section(key, label, icon, order))


def add(section_key, label, url_name, permission="", icon=""):
    _sections[section_key].items.append(Item(label, url_name, permission, icon))


def menu_for(user):
    if not user.is_authenticated:
        return []
    menu = []
    for sec in sorted(_sections.values(), key=lambda s: s.order):
        items = []
        for item in sec.items:
            if item.permission and not user.has_perm(item.permission):
                continue
            try:
                items.append({"label": item.label, "url": reverse(item.url_name), "icon": item.icon,
                              "url_name": item.url_name})
            except NoReverseMatch:
                continue
        if items:
            menu.append({"key": sec.key, "label": sec.label, "icon": sec.icon, "items": items})
    return menu


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    # Context processors run again for every template rendered with the request (django-tables2 renders the
    # table that way): the menu and the unread count are worked out once per request.
    cached = getattr(request, "_foodrisk_navigation", None)
    if cached is None:
        unread = 0
        if user.is_authenticated:
            unread = user.notifications.filter(read_at__isnull=True).count()
        cached = request._foodrisk_navigation = {"nav_menu": menu_for(user), "unread_notifications": unread}
    return cached
