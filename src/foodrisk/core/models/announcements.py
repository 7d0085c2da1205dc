from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..querysets import RestrictedManager


class AnnouncementLevel(models.TextChoices):
    NORMAL = "normal", _("Normal")
    IMPORTANT = "important", _("Important")
    URGENT = "urgent", _("Urgent")


class AnnouncementAudience(models.TextChoices):
    ALL = "all", _("All users")
    ORGANISATIONS = "organisations", _("Chosen organisations")


class Announcement(models.Model):
    """A system announcement (系统公告): shown on each recipient's home page until they mark it read.

    Written only through core.services.announcements (publish, withdraw). A chosen organisation reaches the
    users of every organisation within its jurisdiction too (the region prefix, as data scope works), so a
    prefecture bureau's announcement reaches its county bureaus and stations.
    """

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    level = models.CharField(_("importance"), max_length=10, choices=AnnouncementLevel.choices,
                             default=AnnouncementLevel.NORMAL)
    audience = models.CharField(_("audience"), max_length=15, choices=AnnouncementAudience.choices,
                                default=AnnouncementAudience.ORGANISATIONS)
    organisations = models.ManyToManyField("core.Organisation", verbose_name=_("organisations"), blank=True,
                                           related_name="announcements")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"),
                                     on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("published"), db_index=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True,
                                      help_text=_("Leave empty to show it until it is withdrawn."))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    # Administrators manage the announcements published within their jurisdiction; who *receives* one is
    # the audience (services.announcements.visible_to), not this scope.
    scope_field = "published_by__organisation__region"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("system announcement")
        verbose_name_plural = _("system announcements")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("core:announcement_detail", args=[self.pk])


class AnnouncementRead(models.Model):
    """That a user has marked an announcement read (知道了); it no longer shows on their home page."""

    announcement = models.ForeignKey(Announcement, verbose_name=_("system announcement"), on_delete=models.CASCADE,
                                     related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    read_at = models.DateTimeField(_("read"), auto_now_add=True)

    class Meta:
        verbose_name = _("announcement read")
        verbose_name_plural = _("announcement reads")
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="core_announcementread_once")]

    def __str__(self):
        return f"{self.announcement} · {self.user}"
