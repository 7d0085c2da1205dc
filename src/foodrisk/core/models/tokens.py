from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A personal API token: it authenticates as its owner (their permissions and region scope), for a limited
    time, read-only or read-write. Only a SHA-256 hash of the secret is kept; the owner sees the secret once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    key_prefix = models.CharField(_("prefix"), max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("access"), max_length=5, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        # Made and revoked by their owner through core.services.tokens; no view/add/change/delete permissions
        # (a "*.view_*" role must not see other people's tokens). Revoking someone else's is the administrator's.
        default_permissions = ()
        permissions = [("revoke_apitoken", _("Can revoke other users' API tokens"))]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def status(self):
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @property
    def is_usable(self):
        return self.status == "active"

    def get_status_display(self):
        return {"revoked": pgettext_lazy("api token", "Revoked"), "expired": _("Expired"), "active": _("Active")}[self.status]
