"""Notify people through the channels a message template names: in-app, e-mail, SMS.

`notify` is called inside the transaction of the event it tells about: the in-app Notification is written there,
and each outside channel becomes a Delivery row with a task (core.outbox) that the worker runs — sent, or retried
with backoff (attempts, last error, next try) until MAX_ATTEMPTS, then failed and visible to the administrator.
A rolled-back event sends nothing; a crash after the commit loses nothing.
"""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.template import Context, Template
from django.utils import timezone

from .. import outbox
from ..models import Delivery, MessageTemplate, Notification
from ..sms import get_backend

MAX_ATTEMPTS = 6

logger = logging.getLogger(__name__)


_defaults = {}


def register_default(code, *, subject, body, channels=("inapp",)):
    """The text a message has until an administrator edits it (a MessageTemplate row with the same
    code overrides it; a disabled row silences it). Messages never vanish because a row is missing."""
    _defaults[code] = (subject, body, list(channels))


def render(template_code, context):
    row = MessageTemplate.objects.filter(code=template_code).first()
    if row is not None:
        if not row.enabled:
            return None, None, []
        subject, body, channels = row.subject, row.body, row.channels
    elif template_code in _defaults:
        subject, body, channels = _defaults[template_code]
    else:
        return None, None, []
    ctx = Context(context, autoescape=False)
    return Template(subject).render(ctx), Template(body).render(ctx), channels


def notify(recipients, template_code, context, *, link="", level="info"):
    """Notify each active recipient: in-app at once, the template's other channels as deliveries for the worker."""
    subject, body, channels = render(template_code, context)
    if subject is None:
        logger.warning("message template %s missing or disabled", template_code)
        return []
    sent = []
    with transaction.atomic():
        for user in recipients:
            if not user.is_active:
                continue
            notification = Notification.objects.create(recipient=user, title=subject[:200], body=body, link=link,
                                                       level=level)
            sent.append(notification)
            wanted = [c for c, address in (("email", user.email), ("sms", user.phone)) if c in channels and address]
            for channel in wanted:
                delivery = Delivery.objects.create(notification=notification, channel=channel)
                _queue(delivery)
    return sent


def _queue(delivery, run_after=None):
    from ..tasks import deliver

    outbox.enqueue(deliver, delivery.pk, run_after=run_after)


def send(delivery_id):
    """Send one delivery (the worker's task). Sent once: a delivery already sent, or given up, is left alone; a
    failure records the error and queues the next attempt after a backoff."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("notification__recipient")
                    .filter(pk=delivery_id, status="pending").first())
        if delivery is None:
            return "done"
        delivery.attempts += 1
        note = delivery.notification
        try:
            if delivery.channel == "email":
                send_mail(note.title, note.body, None, [note.recipient.email])
            else:
                get_backend().send(note.recipient.phone, f"{note.title} {note.body}"[:300])
        except Exception as exc:  # a gateway outage: keep the delivery and try again later
            logger.warning("delivery %s (%s) failed, attempt %s", delivery.pk, delivery.channel, delivery.attempts,
                           exc_info=True)
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status, delivery.next_try_at = "failed", None
            else:
                delivery.next_try_at = timezone.now() + outbox.backoff(delivery.attempts)
                _queue(delivery, run_after=delivery.next_try_at)
            delivery.save(update_fields=["attempts", "last_error", "status", "next_try_at"])
            return delivery.status
        delivery.status, delivery.sent_at, delivery.next_try_at = "sent", timezone.now(), None
        delivery.save(update_fields=["attempts", "status", "sent_at", "next_try_at"])
    return "sent"


def retry(delivery, *, user=None):
    """An administrator sends a failed delivery again (attempts start over)."""
    from . import audit

    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status="failed").update(
            status="pending", attempts=0, next_try_at=None)
        if updated:
            audit.record("core.delivery.retry", delivery, user=user, details={"channel": delivery.channel})
            _queue(delivery)
    return bool(updated)


def mark_read(user, ids=None):
    from django.utils import timezone

    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def ask_approval(obj, permission, *, requester, region_code=None, subject=None):
    """Tell the people who may approve `obj` (holding `permission`, with `region_code` in their scope — None:
    nationwide people only) that it waits for them; never the requester (the second-person rule)."""
    from .accounts import users_with_perm

    approvers = users_with_perm(permission, include_superusers=False).select_related("organisation")  # scope
    if requester is not None:
        approvers = approvers.exclude(pk=requester.pk)
    people = [u for u in approvers[:50]
              if (region_code is None and u.scope_prefix == "") or (region_code and u.in_scope(region_code))]
    context = {"subject": subject or f"{obj._meta.verbose_name}“{obj}”", "requester": requester}
    return notify(people, "approval_requested", context, link=obj.get_absolute_url())
