from django.db import models
from django.utils.translation import gettext_lazy as _

from ..querysets import RestrictedQuerySet


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(RestrictedQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit entries are append-only")

    def delete(self):
        raise AppendOnlyError("audit entries are append-only")

    def in_scope(self, user):
        # Entries carry the region code of their object; entries without one (logins, settings) are
        # shown only to users whose scope is everywhere.
        prefix = user.scope_prefix
        if prefix == "":
            return self
        if prefix is None:
            return self.none()
        return self.filter(region_code__startswith=prefix)


class AuditEntry(models.Model):
    """One key operation. Entries form a hash chain: entry_hash = H(prev_hash + canonical entry)."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    timestamp = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(
        "core.User", verbose_name=_("user"), null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )
    username = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    region_code = models.CharField(_("region"), max_length=12, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    details = models.JSONField(_("details"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    algorithm = models.CharField(_("hash algorithm"), max_length=12)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("hash"), max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        permissions = [("verify_auditentry", _("Can verify the audit chain"))]
        default_permissions = ("view",)

    def __str__(self):
        from ..audit_labels import action_label

        return f"#{self.seq} {action_label(self.action)} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("core:auditentry_detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only")


class AuditChainHead(models.Model):
    """A single row holding the chain's last position; locking it serialises appends."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"audit head #{self.last_seq}"
