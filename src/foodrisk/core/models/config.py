from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..querysets import RestrictedQuerySet


class DictionaryType(models.Model):
    """A code dictionary (代码字典), e.g. violation types; items are the allowed codes and labels."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    builtin = models.BooleanField(_("built-in"), default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("dictionary")
        verbose_name_plural = _("dictionaries")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:dictionarytype_detail", args=[self.pk])


class DictionaryItem(models.Model):
    dictionary = models.ForeignKey(DictionaryType, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["dictionary", "order", "code"]
        unique_together = [("dictionary", "code")]
        verbose_name = _("dictionary item")
        verbose_name_plural = _("dictionary items")

    def __str__(self):
        return f"{self.code} {self.label}"


class ParameterType(models.TextChoices):
    INTEGER = "int", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    TEXT = "text", _("Text")
    BOOLEAN = "bool", _("Yes/no")
    JSON = "json", _("Structured (JSON)")


PARAMETER_CATEGORIES = {"ingest": _("data collection"), "credit": _("credit repair"), "supervision": _("supervision"),
                        "security": _("security"), "scoring": _("scoring"), "alerts": _("warnings")}


class Parameter(models.Model):
    """A system parameter: a regulation number or operating setting kept as data, not code."""

    key = models.SlugField(_("key"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=50, blank=True)
    value_type = models.CharField(_("type"), max_length=10, choices=ParameterType.choices, default="text")
    value = models.JSONField(_("value"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["category", "key"]
        verbose_name = _("parameter")
        verbose_name_plural = _("parameters")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:parameter_detail", args=[self.pk])

    def display_category(self):  # the pages show display_<field> when a model has one (core.views.generic)
        return PARAMETER_CATEGORIES.get(self.category, self.category)


class Channel(models.TextChoices):
    INAPP = "inapp", _("In-app")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class MessageTemplate(models.Model):
    """Text of a notification; subject and body are Django templates over the event's context."""

    code = models.SlugField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=100)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:messagetemplate_detail", args=[self.pk])

    def display_subject(self):  # template text (its {{ variables }} are code, not words of the page)
        return format_html("<code>{}</code>", self.subject)

    def display_body(self):
        return format_html("<code class=\"text-wrap\">{}</code>", self.body)

    def display_channels(self):
        labels = dict(Channel.choices)
        return "、".join(str(labels.get(c, c)) for c in self.channels or [])


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    level = models.CharField(_("level"), max_length=10, default="info")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One notification to one recipient over one outside channel (e-mail, SMS), sent by the worker and retried
    with backoff until it goes through or the attempts run out. Written in the transaction of the event it tells
    about, so a crash between the event and the send loses nothing."""

    notification = models.ForeignKey(Notification, verbose_name=_("notification"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "notification__recipient__organisation__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="core_delivery_once")]

    def __str__(self):
        return f"{self.notification} → {self.get_channel_display()}"

    def get_absolute_url(self):
        return reverse("core:delivery_detail", args=[self.pk])
