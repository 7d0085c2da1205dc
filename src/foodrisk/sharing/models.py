"""Client systems of the sharing API, the nonces they used and the log of every call."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodrisk.core.fields import EncryptedTextField
from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.models import UnicodeJSONEncoder

from .signing import ALGORITHMS


class ClientStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class ClientSystem(models.Model):
    """Another government system that pulls shared data. Its secret is stored encrypted and shown once; a
    rotation keeps the previous secret valid for an overlap so the client can switch without a gap. A new
    client, and any wider grant, needs a second person's approval before it can call."""

    name = models.CharField(_("system name"), max_length=100)
    organisation = models.CharField(_("operating organisation"), max_length=100)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    app_key = models.CharField(_("app key"), max_length=40, unique=True, editable=False)
    secret = EncryptedTextField(_("secret"), editable=False)
    previous_secret = EncryptedTextField(_("previous secret"), blank=True, editable=False)
    previous_valid_until = models.DateTimeField(_("previous secret valid until"), null=True, blank=True,
                                                editable=False)
    algorithm = models.CharField(_("signature algorithm"), max_length=12, default=ALGORITHMS[0],
                                 choices=[(a, a.upper()) for a in ALGORITHMS])
    grants = models.JSONField(_("granted fields"), default=dict, blank=True, encoder=UnicodeJSONEncoder,
                              help_text=_("{dataset: [field, …]}"))
    unmasked = models.JSONField(_("sensitive fields sent unmasked"), default=list, blank=True,
                                encoder=UnicodeJSONEncoder)
    region = models.ForeignKey("core.Region", verbose_name=_("region scope"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("Empty = nationwide (only a nationwide administrator can grant it)."))
    rate_per_minute = models.PositiveIntegerField(_("calls per minute"), default=60)
    ip_allow = models.JSONField(_("allowed IP addresses / networks"), default=list, blank=True,
                                encoder=UnicodeJSONEncoder, help_text=_("Empty = any address."))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ClientStatus.choices, default=ClientStatus.PENDING,
                              db_index=True)
    note = models.TextField(_("purpose and legal basis"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved / rejected by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(_("decided"), null=True, blank=True)

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("client system")
        verbose_name_plural = _("client systems")
        permissions = [("approve_clientsystem", _("Can approve client systems and their grants"))]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sharing:clientsystem_detail", args=[self.pk])

    def display_grants(self):
        from .catalogue import DATASETS

        parts = []
        for code, fields in self.grants.items():
            dataset = DATASETS.get(code)
            if dataset is None:
                continue
            labels = "、".join(str(dataset.field(f).label) for f in fields if dataset.field(f))
            parts.append(f"{dataset.label}：{labels}")
        return "；".join(parts)

    def display_unmasked(self):
        from .catalogue import DATASETS

        labels = []
        for entry in self.unmasked:
            code, _dot, name = entry.partition(".")
            field = DATASETS[code].field(name) if code in DATASETS else None
            labels.append(str(field.label) if field else entry)
        return "、".join(labels)

    def display_ip_allow(self):
        return "、".join(self.ip_allow)


class Nonce(models.Model):
    """A nonce a client used: accepted once. Rows older than twice the clock tolerance are swept."""

    client = models.ForeignKey(ClientSystem, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "nonce"], name="sharing_nonce_once")]

    def __str__(self):
        return self.nonce


class SharingCall(models.Model):
    """One call of the sharing API, answered or refused (调用审计)."""

    client = models.ForeignKey(ClientSystem, verbose_name=_("client system"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="calls")
    app_key = models.CharField(_("app key"), max_length=40, blank=True)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=300)
    query = models.CharField(_("parameters"), max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    code = models.CharField(_("result code"), max_length=32)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    scope_field = "client__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("sharing call")
        verbose_name_plural = _("sharing calls")
        default_permissions = ("view",)
        indexes = [models.Index(fields=["client", "at"])]

    def __str__(self):
        return f"{self.method} {self.path} → {self.code}"


# ------------------------------------------------------------------------------------------------- push (webhooks)
class EventType(models.TextChoices):
    """What a client may subscribe to; the code is the payload's `type` (Standard Webhooks' dotted style)."""

    GRADE_CHANGED = "grade.changed", _("Credit-risk grade changed")
    WARNING_RAISED = "warning.raised", _("Warning raised")
    WARNING_CLOSED = "warning.closed", _("Warning closed")
    MEASURE_CHANGED = "measure.changed", _("Supervision measure changed")


class Subscription(models.Model):
    """A client system's push endpoint: the events it wants, delivered per Standard Webhooks 1.0 and signed with
    the subscription's own `whsec_` secret (stored encrypted, shown once, rotatable) — not the client's API
    secret, so a receiver that only verifies webhooks never holds a key that can call our API."""

    client = models.ForeignKey(ClientSystem, verbose_name=_("client system"), on_delete=models.PROTECT,
                               related_name="subscriptions")
    url = models.URLField(_("endpoint URL"), max_length=500)
    event_types = models.JSONField(_("event types"), default=list, encoder=UnicodeJSONEncoder)
    secret = EncryptedTextField(_("signing secret"), editable=False)
    # after a rotation both secrets sign (Standard Webhooks' several `v1,` signatures) until the overlap ends
    previous_secret = EncryptedTextField(_("previous signing secret"), blank=True, editable=False)
    previous_valid_until = models.DateTimeField(_("previous secret valid until"), null=True, blank=True,
                                                editable=False)
    active = models.BooleanField(_("active"), default=True, db_index=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    secret_rotated_at = models.DateTimeField(_("secret issued"), null=True, blank=True)

    scope_field = "client__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["client", "pk"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self):
        return f"{self.client} · {self.url}"

    def get_absolute_url(self):
        return reverse("sharing:subscription_detail", args=[self.pk])

    def display_event_types(self):
        labels = dict(EventType.choices)
        return "、".join(str(labels.get(code, code)) for code in self.event_types)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    DELIVERING = "delivering", _("Being sent")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed, not retried")
    DEAD = "dead", _("Given up (dead letter)")


class Delivery(models.Model):
    """One event for one subscription; `event_id` is the webhook-id, the same on every attempt and redelivery so
    the receiver can drop duplicates. The payload is built when the event happens (the granted fields as they
    were then), masked and limited to the client's grant and region."""

    subscription = models.ForeignKey(Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    event_id = models.CharField(_("message id"), max_length=64, unique=True)
    event_type = models.CharField(_("event type"), max_length=32, choices=EventType.choices, db_index=True)
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(_("payload"), encoder=UnicodeJSONEncoder)
    status = models.CharField(_("status"), max_length=12, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # attempts made before the last redelivery: the retry schedule starts again from there
    retry_from = models.PositiveSmallIntegerField(_("attempts before redelivery"), default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    scope_field = "subscription__client__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        permissions = [("redeliver_delivery", _("Can redeliver webhook deliveries"))]
        indexes = [models.Index(fields=["subscription", "enterprise", "status"])]

    def __str__(self):
        return self.event_id

    def get_absolute_url(self):
        return reverse("sharing:delivery_detail", args=[self.pk])


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery and what came back (the response cut short: a receiver's page is not ours
    to keep)."""

    delivery = models.ForeignKey(Delivery, verbose_name=_("webhook delivery"), on_delete=models.CASCADE,
                                 related_name="attempt_rows")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    manual = models.BooleanField(_("redelivery"), default=False)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.delivery} #{self.number}"
from .exchange_models import (  # noqa: E402,F401
    AlarmKind,
    ExchangeExport,
    ExportFormat,
    ExportStatus,
    InboundProfile,
    SharingAlarm,
)
