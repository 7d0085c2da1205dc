"""Push subscriptions (webhooks): the fan-out of events into deliveries and the sending of each, in the worker.

Fan-out. Scoring, alerts and supervision emit their events through core.outbox inside the transaction of the change
(grade_changed, alert_raised, alert_transitioned, task_changed); the reactions below run in the worker and write one
Delivery per matching subscription — active, of an active client, subscribed to the event type, whose region
covers the enterprise. The payload holds only the client's granted fields of the enterprise (masked as the pull
API masks them), the event's own codes and, for a warning or measure event, the client's granted fields of the
`warnings` / `measures` dataset's row. A reaction may run twice: the message id is derived from the
subscription and the event, so a second run finds the deliveries there and adds none.

Sending (send(), the task sharing.tasks.send_delivery). Standard Webhooks 1.0 headers (signing.py), no redirect
followed, timeouts, private addresses refused unless SHARING_WEBHOOK_ALLOW_PRIVATE. A 2xx is delivered; a network
error, 5xx, 408 or 429 is tried again after the parameter `sharing_webhook_retry_seconds` (± the
`sharing_webhook_jitter` share; a longer Retry-After is honoured); any other answer fails it at once (the receiver
refused it: sending it again changes nothing). After the last wait the delivery is dead: audited, and the client's
administrators are told. Per enterprise the order holds: a delivery waits while an older one of the same
subscription and enterprise is still pending or being sent, and is started when that one ends.

The HTTP request runs outside any transaction (a slow receiver must not hold a database lock): the delivery is
claimed (status delivering) in one short transaction and its outcome written in another.
"""

import datetime as dt
import ipaddress
import json
import logging
import random
import socket
import time
import uuid
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core import outbox, params
from foodrisk.core.querysets import region_prefix
from foodrisk.core.services import audit, notifications

from . import signing
from .models import ClientStatus, Delivery, DeliveryAttempt, DeliveryStatus, EventType, Subscription

logger = logging.getLogger(__name__)

D = DeliveryStatus
DEFAULT_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000)
DEFAULT_JITTER = 0.1
RETRY_STATUSES = frozenset({408, 429})
MAX_RETRY_AFTER_S = 86400  # a receiver asking for more than a day is waited for a day, not forever
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5, 15
EXCERPT_CHARS = 1000
MESSAGE_NAMESPACE = uuid.UUID("6f1d3c52-3b5e-4a5e-9a57-2f1e0b7c9d41")
DEAD_TEMPLATE = "sharing_webhook_dead"

notifications.register_default(
    DEAD_TEMPLATE, subject="【数据共享】推送失败转入死信：{{ client }}",
    body="接入系统“{{ client }}”的订阅推送 {{ event_id }}（{{ event_type }}）经 {{ attempts }} 次尝试仍未送达，"
         "已转入死信。请检查对方接收地址，处理后可在投递详情页重新投递。")


def _now():
    return timezone.now()


# ------------------------------------------------------------------------------------------------- addresses
def _private(address):
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def check_url(url):
    """ValidationError unless `url` may receive pushes: https (http only to a loopback address, or when
    SHARING_WEBHOOK_ALLOW_HTTP), and no private, loopback or link-local address literal unless
    SHARING_WEBHOOK_ALLOW_PRIVATE (names are checked again, resolved, at each sending)."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise ValidationError({"url": _("Give an http(s) address without user name or password.")})
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    loopback = host == "localhost" or (literal is not None and literal.is_loopback)
    if parts.scheme == "http" and not (settings.SHARING_WEBHOOK_ALLOW_HTTP or loopback):
        raise ValidationError({"url": _("Pushes go over https only.")})
    if (loopback or (literal is not None and _private(host))) and not settings.SHARING_WEBHOOK_ALLOW_PRIVATE:
        raise ValidationError({"url": _("Internal and loopback addresses may not receive pushes.")})


class Refused(Exception):
    """The endpoint may not be called (an address it resolves to is private): not sent, not retried."""


def _resolve_checked(host, port):
    """Refuse a host that resolves to a private address (a public name pointing inside: SSRF)."""
    if settings.SHARING_WEBHOOK_ALLOW_PRIVATE:
        return
    for *_rest, sockaddr in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP):
        if _private(sockaddr[0]):
            raise Refused(_("The address resolves to an internal address %(address)s.") % {"address": sockaddr[0]})


# ------------------------------------------------------------------------------------------------- fan-out
def _subscriptions(event_type):
    """Active subscriptions to `event_type` of clients that may receive data today."""
    today = timezone.localdate()
    subs = (Subscription.objects.filter(active=True, client__status=ClientStatus.ACTIVE)
            .select_related("client"))
    return [s for s in subs if event_type in s.event_types and "enterprise_grade" in s.client.grants
            and not (s.client.valid_from and today < s.client.valid_from)
            and not (s.client.valid_until and today > s.client.valid_until)]


def _covers(client, enterprise):
    return client.region_id is None or enterprise.region_id.startswith(region_prefix(client.region_id))


def message_id(subscription, source):
    """The webhook-id: the same for the same subscription and event (a reaction run twice adds nothing)."""
    return "msg_" + uuid.uuid5(MESSAGE_NAMESPACE, f"{subscription.pk}:{source}").hex


def _payload(subscription, event_type, enterprise, at, details):
    """The Standard Webhooks body {type, timestamp, data}: the enterprise as the pull API answers it (granted
    fields only, sensitive ones masked unless granted unmasked), and the event's details."""
    from .services import enterprise_row

    client = subscription.client
    data = {"enterprise": enterprise_row(client, enterprise, client.grants["enterprise_grade"]), **details}
    return {"type": event_type, "timestamp": timezone.localtime(at).isoformat(), "data": data}


def fan_out(event_type, events):
    """Deliveries for `events`: (source key, enterprise, time, details or a function(client) → details).
    Returns the deliveries created (each queued for sending)."""
    subs = _subscriptions(event_type)
    if not subs:
        return []
    wanted = [(message_id(sub, source), sub, enterprise, at, details)
              for source, enterprise, at, details in events for sub in subs if _covers(sub.client, enterprise)]
    with transaction.atomic():
        known = set(Delivery.objects.filter(event_id__in=[w[0] for w in wanted]).values_list("event_id", flat=True))
        created = Delivery.objects.bulk_create([  # the ones known: this reaction ran before
            Delivery(subscription=sub, event_id=event_id, event_type=event_type, enterprise=enterprise,
                     payload=_payload(sub, event_type, enterprise, at,
                                      details(sub.client) if callable(details) else details))
            for event_id, sub, enterprise, at, details in wanted if event_id not in known])
        for delivery in created:
            _queue(delivery)
    return created


def _grade_details(change):
    def details(client):
        granted = client.grants.get("enterprise_grade", [])
        out = {}
        if "grade" in granted:  # the grade is an internal field: only a client granted it learns the change
            out.update(old_grade=change.old_grade or None, new_grade=change.new_grade)
        if "score" in granted:
            out["score"] = change.score
        return {"change": out}
    return details


def on_grade_changed(run_id=None, adjustment_id=None, changes=None, **_kwargs):
    from foodrisk.scoring.models import GradeChange

    if run_id is None and adjustment_id is None:
        return {"deliveries": 0}
    if not _subscriptions(EventType.GRADE_CHANGED):
        return {"deliveries": 0}  # a full run changes many grades: read none of them when nobody listens
    rows = GradeChange.objects.filter(**({"run_id": run_id} if run_id is not None else
                                         {"adjustment_id": adjustment_id}))
    total, last = 0, 0
    while True:  # in chunks: a run may change a million grades
        chunk = list(rows.filter(pk__gt=last).select_related("enterprise").order_by("pk")[:500])
        if not chunk:
            return {"deliveries": total}
        total += len(fan_out(EventType.GRADE_CHANGED, [
            (f"grade:{c.pk}", c.enterprise, c.at, _grade_details(c)) for c in chunk]))
        last = chunk[-1].pk


def _with_row(details, dataset_code, pk):
    """The event's details, and for a client granted the dataset (`warnings`, `measures`) the row as the pull
    API answers it (granted fields only, masked alike) under the dataset's code: read once per event, the
    fields picked per client."""
    from .catalogue import DATASETS
    from .services import columns, dataset_row

    dataset = DATASETS[dataset_code]
    values = dataset.source().filter(pk=pk).values(*columns(dataset, dataset.field_names)).first()

    def per_client(client):
        granted = client.grants.get(dataset_code)
        if not granted or values is None:
            return details
        return {**details, dataset_code: dataset_row(client, dataset, values, granted)}
    return per_client


def _warning(alert):
    return {"warning": {"id": alert.pk, "level": alert.level, "status": alert.status,
                        "raised_at": timezone.localtime(alert.raised_at).isoformat()}}


def on_alert_raised(alert_id=None, created=True, **_kwargs):
    from foodrisk.alerts.models import Alert

    if not created:  # a repeat adds an occurrence to an open warning; nothing new was raised
        return {"deliveries": 0}
    alert = Alert.objects.select_related("enterprise").filter(pk=alert_id).first()
    if alert is None:
        return {"deliveries": 0}
    return {"deliveries": len(fan_out(EventType.WARNING_RAISED, [
        (f"warning.raised:{alert.pk}", alert.enterprise, alert.raised_at,
         _with_row(_warning(alert), "warnings", alert.pk))]))}


def on_alert_transitioned(alert_id=None, action=None, to_status=None, **_kwargs):
    from foodrisk.alerts.choices import FINAL_STATUSES
    from foodrisk.alerts.models import Alert

    if to_status not in FINAL_STATUSES:
        return {"deliveries": 0}
    alert = Alert.objects.select_related("enterprise").filter(pk=alert_id).first()
    if alert is None:
        return {"deliveries": 0}
    details = _warning(alert)
    details["warning"].update(status=to_status, closed_by=action)  # "close" (handled) or "dismiss"
    return {"deliveries": len(fan_out(EventType.WARNING_CLOSED, [
        (f"warning.closed:{alert.pk}:{to_status}", alert.enterprise, _now(),
         _with_row(details, "warnings", alert.pk))]))}


def on_task_changed(task_id=None, action=None, status=None, **_kwargs):
    from foodrisk.supervision.models import Task

    task = Task.objects.select_related("enterprise").filter(pk=task_id).first()
    if task is None:
        return {"deliveries": 0}
    details = {"measure": {"id": task.pk, "kind": task.kind, "action": action, "status": status,
                           "due_on": task.due_on.isoformat() if task.due_on else None}}
    return {"deliveries": len(fan_out(EventType.MEASURE_CHANGED, [
        (f"measure:{task.pk}:{action}:{status}", task.enterprise, _now(), _with_row(details, "measures", task.pk))]))}


def connect():
    """Subscribe the reactions (SharingConfig.ready)."""
    from foodrisk.alerts.events import ALERT_RAISED, ALERT_TRANSITIONED
    from foodrisk.scoring.events import GRADE_CHANGED
    from foodrisk.supervision.events import TASK_CHANGED

    for event, handler in ((GRADE_CHANGED, "on_grade_changed"), (ALERT_RAISED, "on_alert_raised"),
                           (ALERT_TRANSITIONED, "on_alert_transitioned"), (TASK_CHANGED, "on_task_changed")):
        outbox.react(event, f"foodrisk.sharing.webhooks.{handler}")


# ------------------------------------------------------------------------------------------------- sending
def _queue(delivery, run_after=None):
    from .tasks import send_delivery

    outbox.enqueue(send_delivery, delivery.pk, run_after=run_after)


def schedule():
    """The waits (seconds) after each failed attempt; len + 1 attempts in all."""
    raw = params.get("sharing_webhook_retry_seconds", None)
    try:
        waits = [float(s) for s in raw] if raw else list(DEFAULT_SCHEDULE)
    except (TypeError, ValueError):
        logger.warning("parameter sharing_webhook_retry_seconds is not a list of seconds: %r", raw)
        waits = list(DEFAULT_SCHEDULE)
    return [w for w in waits if w >= 0]


def jitter():
    try:
        return min(0.5, max(0.0, float(params.get("sharing_webhook_jitter", DEFAULT_JITTER))))
    except (TypeError, ValueError):
        return DEFAULT_JITTER


def retry_after_seconds(value, now):
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(int(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0, min(int((when - now).total_seconds()), MAX_RETRY_AFTER_S))


def _blocked(delivery):
    """An older delivery of the same subscription and enterprise is not finished: keep the order."""
    if delivery.enterprise_id is None:
        return False
    return Delivery.objects.filter(_unfinished(_now()), subscription_id=delivery.subscription_id,
                                   enterprise_id=delivery.enterprise_id, pk__lt=delivery.pk).exists()


def _unfinished(now):
    """Pending, or being sent within its lease (a delivery whose worker died mid-request blocks nothing once the
    lease is over; the worker recovery hands its task back, which resumes it — see _claim)."""
    return Q(status=D.PENDING) | Q(status=D.DELIVERING, next_attempt_at__gt=now)


def lease_expired(delivery, now=None):
    return delivery.status == D.DELIVERING and (delivery.next_attempt_at is None or
                                                delivery.next_attempt_at <= (now or _now()))


LOST_ATTEMPT = "发送中断：处理该投递的后台进程已停止"


def _claim(delivery_id, now):
    """Mark the delivery as being sent (one short transaction); None when it is not due, done, or waiting for
    an older one."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("subscription__client")
                    .filter(Q(status=D.PENDING) | Q(status=D.DELIVERING, next_attempt_at__lte=now), pk=delivery_id)
                    .first())
        if delivery is None or (delivery.status == D.PENDING and delivery.next_attempt_at
                                and delivery.next_attempt_at > now):
            return None
        if delivery.status == D.DELIVERING:
            # its worker died mid-request and the worker recovery handed the task back (core.services.jobs.
            # recover_abandoned): that attempt is lost — a row says so — and this one takes its place
            DeliveryAttempt.objects.get_or_create(delivery=delivery, number=delivery.attempts,
                                                  defaults={"at": now, "error": LOST_ATTEMPT})
        if _blocked(delivery):
            if delivery.next_attempt_at is not None:
                Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)  # started by the older one
            return None
        delivery.status, delivery.attempts = D.DELIVERING, delivery.attempts + 1
        # a lease: a worker that died mid-request leaves a delivery another may take after this
        delivery.next_attempt_at = now + dt.timedelta(seconds=CONNECT_TIMEOUT_S + READ_TIMEOUT_S + 60)
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery


class Outcome(NamedTuple):
    """What one attempt came to: the HTTP status (None: no answer), or refused (not sent: not to be retried)."""

    status: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str = ""
    retry_after: str | None = None
    refused: bool = False


def _post(subscription, delivery, stamp):
    """The Outcome of one HTTP request."""
    import requests

    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    secrets_ok = [subscription.secret]
    if subscription.previous_secret and subscription.previous_valid_until and \
            subscription.previous_valid_until > _now():
        secrets_ok.append(subscription.previous_secret)
    headers = {**signing.webhook_headers(secrets_ok, delivery.event_id, stamp, body),
               "Content-Type": "application/json", "User-Agent": "foodrisk-webhooks/1"}
    started = time.perf_counter()
    try:
        parts = urlsplit(subscription.url)
        _resolve_checked(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        with requests.post(subscription.url, data=body, headers=headers, allow_redirects=False, stream=True,
                           timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) as response:
            raw = response.raw.read(EXCERPT_CHARS * 4, decode_content=True) or b""
            excerpt = raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]
            return Outcome(response.status_code, _ms(started), excerpt, retry_after=response.headers.get("Retry-After"))
    except Refused as exc:
        return Outcome(latency_ms=_ms(started), error=f"refused: {exc}"[:500], refused=True)
    except (requests.RequestException, OSError, ValueError) as exc:
        return Outcome(latency_ms=_ms(started), error=f"{type(exc).__name__}: {exc}"[:500])


def _ms(started):
    return int((time.perf_counter() - started) * 1000)


def send(delivery_id):
    """One attempt of a delivery (the worker's task). Returns its status afterwards, or "skipped"."""
    now = _now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "skipped"
    subscription = delivery.subscription
    manual = delivery.retry_from > 0 and delivery.attempts == delivery.retry_from + 1
    if not subscription.active or subscription.client.status != ClientStatus.ACTIVE:
        # switched off or suspended since the event: nothing leaves; a redelivery sends it once allowed again
        outcome = Outcome(error="refused: subscription or client inactive", refused=True)
    else:
        outcome = _post(subscription, delivery, int(now.timestamp()))
    status = outcome.status
    done_at = _now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, status_code=status,
                                       latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt,
                                       error=outcome.error, manual=manual)
        if status is not None and 200 <= status < 300:
            delivery.status, delivery.next_attempt_at, delivery.finished_at = D.SUCCEEDED, None, done_at
        elif outcome.refused or (status is not None and status < 500 and status not in RETRY_STATUSES):
            delivery.status, delivery.next_attempt_at, delivery.finished_at = D.FAILED, None, done_at
        else:
            waits = schedule()
            index = delivery.attempts - delivery.retry_from - 1  # the n-th failure of this run of the schedule
            if index >= len(waits):
                delivery.status, delivery.next_attempt_at, delivery.finished_at = D.DEAD, None, done_at
            else:
                wait = waits[index] * (1 + random.uniform(-jitter(), jitter()))
                asked = retry_after_seconds(outcome.retry_after, done_at)
                wait = max(wait, asked or 0)
                delivery.status, delivery.next_attempt_at = D.PENDING, done_at + dt.timedelta(seconds=wait)
                _queue(delivery, run_after=delivery.next_attempt_at)
        delivery.save(update_fields=["status", "next_attempt_at", "finished_at"])
        if delivery.status == D.DEAD:
            _dead_letter(delivery)
        if delivery.status != D.PENDING:
            _start_next(delivery)
    return delivery.status


def _start_next(delivery):
    """The next delivery of the same subscription and enterprise waited for this one: queue it now."""
    if delivery.enterprise_id is None:
        return
    following = (Delivery.objects.filter(subscription_id=delivery.subscription_id,
                                         enterprise_id=delivery.enterprise_id, pk__gt=delivery.pk,
                                         status=D.PENDING).order_by("pk").first())
    if following is not None:
        _queue(following, run_after=following.next_attempt_at)


def _dead_letter(delivery):
    from foodrisk.core.services.accounts import users_with_perm

    client = delivery.subscription.client
    audit.record("sharing.delivery.dead", delivery, region_code=client.region_id or "", details={
        "event_id": delivery.event_id, "event_type": delivery.event_type, "attempts": delivery.attempts,
        "subscription": delivery.subscription_id, "client": client.pk})
    admins = [u for u in users_with_perm("sharing.change_clientsystem", include_superusers=False)[:50]
              if (client.region_id is None and u.scope_prefix == "") or
              (client.region_id and u.in_scope(client.region_id))]
    notifications.notify(admins, DEAD_TEMPLATE, {
        "client": client.name, "event_id": delivery.event_id, "event_type": delivery.get_event_type_display(),
        "attempts": delivery.attempts}, link=delivery.get_absolute_url(), level="warning")
