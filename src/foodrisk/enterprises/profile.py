"""The profile page (一企一档) is assembled from sections other apps contribute.

An app above `enterprises` (records, scoring, supervision…) registers a contributor in its AppConfig.ready():

    profile.register(my_section, order=20)

A contributor takes (enterprise, request) and returns None (nothing to show, e.g. no permission) or a dict
with at least "template" — rendered on the profile with that dict as `section`. This keeps the import
direction one way: enterprises never imports the apps that describe an enterprise.
"""

_contributors = []


def register(func, order=50):
    _contributors.append((order, func))
    _contributors.sort(key=lambda pair: pair[0])
    return func


def sections(enterprise, request):
    out = []
    for _order, func in _contributors:
        section = func(enterprise, request)
        if section:
            out.append(section)
    return out


def crosswalk_section(enterprise, request):
    """The identifiers other systems use for this enterprise (the crosswalk imports link records through)."""
    from .models import CrosswalkEntry

    if not request.user.has_perm("enterprises.view_crosswalkentry"):
        return None
    rows = list(CrosswalkEntry.objects.restrict(request.user, "view").filter(enterprise=enterprise))
    if not rows:
        return None
    return {"template": "enterprises/profile_crosswalk.html", "entries": rows}
