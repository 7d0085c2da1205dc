from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .. import homes
from ..models import AuditEntry, Job
from ..services import announcements
from ..services.jobs import my_files


@login_required
def home(request):
    """The start page: unread system announcements and the home of the user's role (core.homes: the leader's
    figures, the inspector's work, …; ?home= picks another of his homes), or the page of links — what the user
    can reach, their recent jobs and unread notifications."""
    user = request.user
    mine = homes.homes_for(user)
    wanted = request.GET.get("home") or (mine[0].key if mine else homes.LINKS)
    home = next((h for h in mine if h.key == wanted), None)
    context = {
        "homes": mine, "home": home, "home_key": home.key if home else homes.LINKS,
        "panel": home.figures(request) if home else None,
        "announcements": announcements.unread_for(user).select_related("published_by")[:20],
        # the page of links only: a role's home shows its own figures instead
        "recent_jobs": [] if home else Job.objects.restrict(user, "view")[:5],
        "my_files": my_files(user)[:10],  # exports and reports waiting for their requester, until they expire
        # every home: a decision or a task someone asked of this person is one click away
        "recent_notifications": user.notifications.filter(read_at__isnull=True)[:5],
        "audit_count": None if home else AuditEntry.objects.restrict(user, "view").count() if user.has_perm("core.view_auditentry") else None,
    }
    return render(request, "core/home.html", context)
