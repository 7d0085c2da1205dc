from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..models import AuditEntry, Job
from ..services import announcements
from ..services.jobs import my_files


@login_required
def home(request):
    """The start page: unread system announcements, what the user can reach, their recent jobs and unread
    notifications.
    Apps add their own cards through `home_cards` in navigation as they land."""
    user = request.user
    context = {
        "announcements": announcements.unread_for(user).select_related("published_by")[:20],
        "recent_jobs": Job.objects.restrict(user, "view")[:5],
        "my_files": my_files(user)[:10],  # exports and reports waiting for their requester, until they expire
        "recent_notifications": user.notifications.filter(read_at__isnull=True)[:5],
        "audit_count": AuditEntry.objects.restrict(user, "view").count() if user.has_perm("core.view_auditentry") else None,
    }
    return render(request, "core/home.html", context)
