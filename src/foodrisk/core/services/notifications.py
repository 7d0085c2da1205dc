"""Notify people through the channels a message template names: in-app, e-mail, SMS."""

import logging

from django.core.mail import send_mail
from django.template import Context, Template

from ..models import MessageTemplate, Notification
from ..sms import get_backend

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
    """Send to each active recipient; in-app always, other channels when the template asks."""
    subject, body, channels = render(template_code, context)
    if subject is None:
        logger.warning("message template %s missing or disabled", template_code)
        return []
    sent = []
    sms = get_backend() if "sms" in channels else None
    for user in recipients:
        if not user.is_active:
            continue
        sent.append(Notification.objects.create(recipient=user, title=subject[:200], body=body, link=link,
                                                level=level))
        if "email" in channels and user.email:
            try:
                send_mail(subject, body, None, [user.email])
            except Exception:  # a mail server outage must not undo the in-app notice or the caller's work
                logger.exception("e-mail to user %s failed", user.pk)
        if sms is not None and user.phone:
            sms.send(user.phone, f"{subject} {body}"[:300])
    return sent


def mark_read(user, ids=None):
    from django.utils import timezone

    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
