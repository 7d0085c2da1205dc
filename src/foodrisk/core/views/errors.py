from django.shortcuts import render

from ..services import audit


def csrf_failure(request, reason=""):
    """A forged or missing CSRF token: refuse clearly and record it."""
    audit.record("security.csrf_failure", details={"path": request.path, "reason": reason})
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def not_found(request, exception=None):
    return render(request, "404.html", status=404)
