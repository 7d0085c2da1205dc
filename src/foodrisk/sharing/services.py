"""Every write of the sharing app, and the checks and reads of the signed pull API.

Clients (ClientSystem): register → pending → a second person approves (active) or rejects; a change that widens
what a client receives (a dataset, a field, an unmasked field, a wider region) sends it back to pending; suspend;
rotate the secret (the previous one stays valid for `sharing_secret_overlap_hours`). All through core.workflow
or one transaction with an audit entry; the secret is never in an audit entry or a log.

Push subscriptions (Subscription): create (its whsec_ secret shown once), change, switch off, rotate the secret;
redeliver a delivery. Each in one transaction with an audit entry; the fan-out and the sending are webhooks.py's,
run by the worker.

Calls: authenticate() checks a request's headers (SIGNATURE_MISSING, APP_KEY_UNKNOWN, CLIENT_INACTIVE,
IP_NOT_ALLOWED, TIMESTAMP_EXPIRED, NONCE_INVALID, SIGNATURE_INVALID, NONCE_REPLAYED, RATE_EXCEEDED — errors.py),
the reads answer only granted fields of enterprises in the client's region, sensitive ones masked unless granted
unmasked; every call is logged (SharingCall) by the API view.
"""

import base64
import ipaddress
import random
import re
import secrets
import time
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodrisk.core import params
from foodrisk.core.crypto import mask
from foodrisk.core.querysets import region_prefix
from foodrisk.core.services import audit, notifications
from foodrisk.core.workflow import Transition, Workflow

from . import signing
from .catalogue import DATASETS, SENSITIVE
from .errors import SharingError
from .models import (
    ClientStatus,
    ClientSystem,
    Delivery,
    DeliveryStatus,
    EventType,
    Nonce,
    SharingCall,
    Subscription,
)

S = ClientStatus
CLOCK_TOLERANCE_S = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_LIMIT = 1000
CHANGE_HORIZON_S = 5  # changes younger than this are served by the next pull (a later commit of an earlier number)

CLIENTS = Workflow(
    ClientSystem,
    {"approve": Transition({S.PENDING}, "sharing.approve_clientsystem", second_person="created_by",
                           label=gettext_lazy("approve")),
     "reject": Transition({S.PENDING}, "sharing.approve_clientsystem", second_person="created_by",
                          label=gettext_lazy("reject")),
     "suspend": Transition({S.ACTIVE, S.PENDING}, "sharing.change_clientsystem", label=gettext_lazy("suspend")),
     "reactivate": Transition({S.SUSPENDED, S.REJECTED}, "sharing.change_clientsystem",
                              label=gettext_lazy("reactivate"))},
    audit_as="sharing.clientsystem",
    state_fields=("name", "organisation", "status", "grants", "unmasked", "region", "rate_per_minute", "ip_allow",
                  "valid_from", "valid_until", "algorithm", "approved_by"))


# ------------------------------------------------------------------------------------------------- clients
def _clean(grants, unmasked, ip_allow):
    """The grant as stored; ValidationError naming what the catalogue does not have."""
    errors, clean = {}, {}
    for code, fields in (grants or {}).items():
        dataset = DATASETS.get(code)
        if dataset is None:
            errors["grants"] = _("Unknown dataset %(code)s.") % {"code": code}
            continue
        unknown = [f for f in fields if dataset.field(f) is None]
        if unknown:
            errors["grants"] = _("Dataset %(code)s has no field %(fields)s.") % {"code": code,
                                                                               "fields": "、".join(unknown)}
        clean[code] = [f for f in dataset.field_names if f in fields]  # catalogue order
    clean = {k: v for k, v in clean.items() if v}
    if not clean and "grants" not in errors:
        errors["grants"] = _("Grant at least one field of one dataset.")
    sensitive = {f"{c}.{f.name}" for c, fs in clean.items() for f in DATASETS[c].fields
                 if f.sensitivity == SENSITIVE and f.name in fs}
    unmasked = sorted(set(unmasked or ()))
    if set(unmasked) - sensitive:
        errors["unmasked"] = _("Only granted sensitive fields can be sent unmasked.")
    networks = []
    for entry in ip_allow or ():
        try:
            networks.append(str(ipaddress.ip_network(str(entry).strip(), strict=False)))
        except ValueError:
            errors["ip_allow"] = _("%(entry)s is not an IP address or network.") % {"entry": entry}
    if errors:
        raise ValidationError(errors)
    return clean, unmasked, networks


def _check_region(user, region):
    prefix = user.scope_prefix
    if region is None and prefix != "":
        raise ValidationError({"region": _("Only a nationwide administrator can register a nationwide client.")})
    if region is not None and not user.in_scope(region.code):
        raise ValidationError({"region": _("The region lies outside your jurisdiction.")})


def register(*, user, name, organisation, grants, unmasked=(), region=None, contact="", algorithm="hmac-sha256",
             rate_per_minute=60, ip_allow=(), valid_from=None, valid_until=None, note=""):
    """A new client system, pending approval. Returns (client, secret): the secret is shown this once."""
    if not user.has_perm("sharing.add_clientsystem"):
        raise PermissionDenied
    grants, unmasked, ip_allow = _clean(grants, unmasked, ip_allow)
    _check_region(user, region)
    if algorithm not in signing.ALGORITHMS:
        raise ValidationError({"algorithm": _("Unknown signature algorithm.")})
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end lies before the start.")})
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ClientSystem.objects.create(
            name=name.strip(), organisation=organisation.strip(), contact=contact.strip(),
            app_key="fr" + secrets.token_hex(15), secret=secret, algorithm=algorithm, grants=grants,
            unmasked=unmasked, region=region, rate_per_minute=rate_per_minute, ip_allow=ip_allow,
            valid_from=valid_from, valid_until=valid_until, note=note.strip(), created_by=user)
        audit.record("sharing.clientsystem.register", client, after=CLIENTS.snapshot(client), user=user)
        _ask_approval(client, user)
    return client, secret


def widens(client, grants, unmasked, region):
    """Does the change give the client anything it did not have (the approval it had does not cover it)?"""
    before = {(c, f) for c, fs in client.grants.items() for f in fs}
    after = {(c, f) for c, fs in grants.items() for f in fs}
    wider_region = client.region_id is not None and (region is None or not region.code.startswith(
        region_prefix(client.region_id)))
    return bool(after - before or set(unmasked) - set(client.unmasked) or wider_region)


def change(client, *, user, grants, unmasked=(), region=None, rate_per_minute=None, ip_allow=(), valid_from=None,
           valid_until=None, note=None):
    """Change what a client receives and how it may call. A wider grant goes back to approval."""
    if not user.has_perm("sharing.change_clientsystem"):
        raise PermissionDenied
    grants, unmasked, ip_allow = _clean(grants, unmasked, ip_allow)
    _check_region(user, region)
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        before = CLIENTS.snapshot(locked)
        wider = widens(locked, grants, unmasked, region)
        locked.grants, locked.unmasked, locked.region, locked.ip_allow = grants, unmasked, region, ip_allow
        locked.valid_from, locked.valid_until = valid_from, valid_until
        if rate_per_minute:
            locked.rate_per_minute = rate_per_minute
        if note is not None:
            locked.note = note.strip()
        if wider and locked.status == S.ACTIVE:
            locked.status, locked.created_by = S.PENDING, user  # the person asking; a second one approves
        locked.save()
        if locked.status == S.PENDING:
            _ask_approval(locked, user)
        audit.record("sharing.clientsystem.update", locked, before=before, after=CLIENTS.snapshot(locked), user=user,
                     details={"widened": wider})
    return locked


def _ask_approval(client, user):
    notifications.ask_approval(client, "sharing.approve_clientsystem", requester=user, region_code=client.region_id)


def approve(client, *, user, note=""):
    with CLIENTS.step(client, "approve", user=user, note=note) as step:
        step.obj.status, step.obj.approved_by, step.obj.approved_at = S.ACTIVE, user, timezone.now()
        step.details = {"note": note}
    return step.obj


def reject(client, *, user, note):
    if not (note or "").strip():
        raise ValidationError({"note": _("Give the reason for the rejection.")})
    with CLIENTS.step(client, "reject", user=user, note=note) as step:
        step.obj.status, step.obj.approved_by, step.obj.approved_at = S.REJECTED, user, timezone.now()
        step.details = {"note": note}
    return step.obj


def suspend(client, *, user, note=""):
    with CLIENTS.step(client, "suspend", user=user, note=note) as step:
        step.obj.status = S.SUSPENDED
        step.details = {"note": note}
    return step.obj


def reactivate(client, *, user):
    """Back to approval: a second person decides again."""
    with CLIENTS.step(client, "reactivate", user=user) as step:
        step.obj.status, step.obj.created_by = S.PENDING, user
        _ask_approval(step.obj, user)
    return step.obj


def rotate_secret(client, *, user):
    """A new secret (returned, shown once); the previous one stays valid for the overlap."""
    if not user.has_perm("sharing.change_clientsystem"):
        raise PermissionDenied
    hours = int(params.get("sharing_secret_overlap_hours", 24))
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        locked.previous_secret, locked.secret = locked.secret, secret
        locked.previous_valid_until = timezone.now() + timedelta(hours=hours)
        locked.save()
        audit.record("sharing.clientsystem.rotate", locked, user=user,
                     details={"previous_valid_until": locked.previous_valid_until})
    return locked, secret


# ------------------------------------------------------------------------------------------------- calls
def client_ip(request):
    return request.META.get("REMOTE_ADDR") or None


def log_call(request, client, *, status, code, rows, latency_ms):
    """The call log (调用审计): one row per call, answered or refused; the secret and the signature never."""
    call = SharingCall.objects.create(
        client=client, app_key=request.headers.get(signing.KEY_HEADER, "")[:40], method=request.method[:8],
        path=request.path[:300], query=request.META.get("QUERY_STRING", "")[:500], status=status, code=code[:32],
        rows=rows, latency_ms=latency_ms, ip=client_ip(request))
    if status >= 400:  # a refusal may complete a burst (alarms.check_call); an answered call costs nothing more
        from .alarms import check_call

        check_call(call)
    return call


def authenticate(request, body):
    """The ClientSystem a signed request comes from, or SharingError with the reason (checked in the order of
    the code table: what needs no secret first, the nonce only once the signature holds)."""
    key = request.headers.get(signing.KEY_HEADER, "")
    stamp = request.headers.get(signing.TIMESTAMP_HEADER, "")
    nonce = request.headers.get(signing.NONCE_HEADER, "")
    signature = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not (key and stamp and nonce and signature):
        raise SharingError("SIGNATURE_MISSING")
    client = ClientSystem.objects.filter(app_key=key).first()
    if client is None:
        raise SharingError("APP_KEY_UNKNOWN")
    request.sharing_client = client  # logged from here on
    today = timezone.localdate()
    if client.status != S.ACTIVE or (client.valid_from and today < client.valid_from) or \
            (client.valid_until and today > client.valid_until):
        raise SharingError("CLIENT_INACTIVE")
    if client.ip_allow:
        try:
            address = ipaddress.ip_address(client_ip(request) or "")
        except ValueError:
            address = None
        if address is None or not any(address in ipaddress.ip_network(n) for n in client.ip_allow):
            raise SharingError("IP_NOT_ALLOWED")
    if not stamp.isascii() or not stamp.isdigit() or abs(int(stamp) - time.time()) > CLOCK_TOLERANCE_S:
        raise SharingError("TIMESTAMP_EXPIRED")
    if not NONCE_RE.match(nonce):
        raise SharingError("NONCE_INVALID")
    message = signing.canonical_request(request.method, request.path, _query_pairs(request), body, stamp, nonce)
    secrets_ok = [client.secret]
    if client.previous_secret and client.previous_valid_until and client.previous_valid_until > timezone.now():
        secrets_ok.append(client.previous_secret)
    secret = next((s for s in secrets_ok if signing.matches(client.algorithm, s, message, signature)), None)
    if secret is None:
        raise SharingError("SIGNATURE_INVALID")
    request.sharing_secret = secret  # the answer is signed with the secret the request was signed with
    try:
        with transaction.atomic():
            Nonce.objects.create(client=client, nonce=nonce, at=timezone.now())
    except IntegrityError:
        raise SharingError("NONCE_REPLAYED") from None
    if random.random() < 0.01:  # sweep: a nonce older than twice the tolerance can no longer be replayed
        Nonce.objects.filter(at__lt=timezone.now() - timedelta(seconds=2 * CLOCK_TOLERANCE_S)).delete()
    minute = int(time.time() // 60)
    # keyed by the app key, not the row id: an id comes back after a rollback (tests), a key never does
    counter = f"sharing:rate:{client.app_key}:{minute}"
    cache.add(counter, 0, timeout=120)
    if cache.incr(counter) > client.rate_per_minute:
        raise SharingError("RATE_EXCEEDED")
    return client


def _query_pairs(request):
    return [(k, v) for k, values in request.GET.lists() for v in values]


def fields_for(client, dataset_code, requested):
    """The fields to answer: the requested ones (all granted when none), each one granted."""
    if dataset_code not in DATASETS:
        raise SharingError("NOT_FOUND")
    granted = client.grants.get(dataset_code) or []
    if not granted:
        raise SharingError("DATASET_NOT_GRANTED")
    if not requested:
        return granted
    names = [f.strip() for f in requested.split(",") if f.strip()]
    refused = [f for f in names if f not in granted]
    if refused:
        raise SharingError("FIELD_NOT_GRANTED", "、".join(refused)[:200])
    return names


def _in_client_scope(client, qs, field="region__code"):
    if client.region_id is None:
        return qs
    return qs.filter(**{f"{field}__startswith": region_prefix(client.region_id)})


def columns(dataset, fields):
    """The values() paths the rows of `fields` need (each once, the row's pk first): only these are read."""
    return list(dict.fromkeys(["pk", *(dataset.field(f).path for f in fields)]))


def dataset_row(client, dataset, values, fields):
    """The answer's row from the stored values ({column: value}): each field read as the catalogue says, a
    sensitive one masked unless the client is granted it unmasked."""
    row = {}
    for name in fields:
        spec = dataset.field(name)
        value = values[spec.path]
        if spec.read is not None:
            value = spec.read(value)
        if spec.sensitivity == SENSITIVE:
            value = value or ""
            if f"{dataset.code}.{name}" not in client.unmasked:
                value = mask(value)
        row[name] = value
    return row


def dataset_rows(client, dataset, qs, fields):
    """Rows of a queryset of the dataset's source, in its order, read as plain values (no model instances)."""
    cols = columns(dataset, fields)
    return [dataset_row(client, dataset, values, fields) for values in qs.values(*cols)]


def enterprise_row(client, enterprise, fields):
    """An Enterprise instance as a row of enterprise_grade (webhook payloads): its columns are its attributes."""
    from .catalogue import ENTERPRISE_GRADE

    values = {c: getattr(enterprise, c) for c in columns(ENTERPRISE_GRADE, fields)}  # "pk" is an attribute too
    return dataset_row(client, ENTERPRISE_GRADE, values, fields)


def scoped_source(client, dataset):
    """The dataset's rows the client may receive (its region scope)."""
    return _in_client_scope(client, dataset.source(), dataset.region)


def lookup(client, uscc, requested_fields="", dataset_code="enterprise_grade"):
    """One enterprise's rows: enterprise_grade answers the enterprise's row, a dataset of many rows per
    enterprise (warnings, measures) the list of them."""
    from foodrisk.enterprises.models import Enterprise

    fields = fields_for(client, dataset_code, requested_fields)
    dataset = DATASETS[dataset_code]
    enterprise = Enterprise.objects.filter(uscc=uscc.upper()).only("pk", "region_id").first()
    if enterprise is None:
        raise SharingError("NOT_FOUND")
    if client.region_id and not enterprise.region_id.startswith(region_prefix(client.region_id)):
        raise SharingError("OUT_OF_SCOPE")
    rows = dataset_rows(client, dataset, scoped_source(client, dataset).filter(**{dataset.uscc: uscc.upper()})
                        .order_by("pk"), fields)
    if dataset.uscc == "uscc":
        return rows[0] if rows else None
    return rows


def _limit(raw):
    if raw in (None, ""):
        return 100
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise SharingError("BAD_REQUEST", f"limit: 1–{MAX_LIMIT}")
    return int(raw)


def _cursor(raw, name):
    if raw in (None, ""):
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise SharingError("BAD_REQUEST", name)
    return int(raw)


def changes_after(client, dataset, start, horizon):
    """The dataset's change log after `start`, in the client's scope, older than the horizon, in change order."""
    changes = dataset.changes().filter(pk__gt=start, at__lte=horizon)
    return _in_client_scope(client, changes, dataset.change_region).order_by("pk")


def page(client, dataset_code, *, after=None, since=None, limit=None, requested_fields=""):
    """One page of a dataset: in row order (`after` = the last row id received) or, with `since`, the rows
    changed after that change number, in change order. Returns (rows, next cursor)."""
    fields = fields_for(client, dataset_code, requested_fields)
    dataset = DATASETS[dataset_code]
    limit = _limit(limit)
    if after not in (None, "") and since not in (None, ""):
        raise SharingError("BAD_REQUEST", "after / since")
    source = scoped_source(client, dataset)
    cols = columns(dataset, fields)
    if since in (None, ""):
        start = _cursor(after, "after")
        chunk = list(source.filter(pk__gt=start).order_by("pk").values(*cols)[:limit])
        rows = [dataset_row(client, dataset, values, fields) for values in chunk]
        return rows, ({"after": chunk[-1]["pk"]} if len(chunk) == limit else None)
    start = _cursor(since, "since")
    horizon = timezone.now() - timedelta(seconds=CHANGE_HORIZON_S)
    changes = list(changes_after(client, dataset, start, horizon).values_list("pk", dataset.change_row)[:limit])
    order = list(dict.fromkeys(row for _pk, row in changes))
    by_id = {values["pk"]: values for values in source.filter(pk__in=order).values(*cols)}
    rows = [dataset_row(client, dataset, by_id[r], fields) for r in order if r in by_id]
    last = changes[-1][0] if changes else start
    return rows, {"since": last}


# ------------------------------------------------------------------------------------------------- subscriptions
def _webhook_secret():
    """A Standard Webhooks secret: whsec_ + base64 of 32 random bytes."""
    return signing.WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _subscription_state(sub):
    return {"client": sub.client_id, "url": sub.url, "event_types": list(sub.event_types), "active": sub.active,
            "description": sub.description}


def _check_subscription(client, url, event_types):
    from . import webhooks

    errors = {}
    try:
        webhooks.check_url(url)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    types = [t for t in EventType.values if t in set(event_types or ())]
    if not types or set(event_types or ()) - set(EventType.values):
        errors["event_types"] = _("Choose at least one event type from the list.")
    if "enterprise_grade" not in client.grants:
        errors["client"] = _("The client system is not granted the enterprise dataset, which every push carries.")
    if errors:
        raise ValidationError(errors)
    return types


def _may_manage(client, user):
    """System administrators manage subscriptions of the clients in their jurisdiction."""
    if not user.has_perm("sharing.change_clientsystem") or \
            not ClientSystem.objects.restrict(user, "change").filter(pk=client.pk).exists():
        raise PermissionDenied


def create_subscription(client, *, user, url, event_types, description=""):
    """A push endpoint of a client. Returns (subscription, secret): the whsec_ secret is shown this once."""
    _may_manage(client, user)
    types = _check_subscription(client, url.strip(), event_types)
    secret = _webhook_secret()
    with transaction.atomic():
        sub = Subscription.objects.create(client=client, url=url.strip(), event_types=types, secret=secret,
                                          description=description.strip(), created_by=user,
                                          secret_rotated_at=timezone.now())
        audit.record("sharing.subscription.create", sub, after=_subscription_state(sub), user=user,
                     region_code=client.region_id or "")
    return sub, secret


def change_subscription(sub, *, user, url=None, event_types=None, description=None, active=None):
    """Change where and what a subscription receives, or switch it off (active=False) and on."""
    _may_manage(sub.client, user)
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().select_related("client").get(pk=sub.pk)
        before = _subscription_state(locked)
        new_url = locked.url if url is None else url.strip()
        types = _check_subscription(locked.client, new_url, locked.event_types if event_types is None else event_types)
        locked.url, locked.event_types = new_url, types
        if description is not None:
            locked.description = description.strip()
        if active is not None:
            locked.active = bool(active)
        locked.save()
        audit.record("sharing.subscription.update", locked, before=before, after=_subscription_state(locked),
                     user=user, region_code=locked.client.region_id or "")
    return locked


def rotate_subscription_secret(sub, *, user):
    """A new whsec_ secret (returned, shown once); the previous one keeps signing beside it for the overlap
    (Standard Webhooks' several signatures), so the receiver can switch without a refused push."""
    _may_manage(sub.client, user)
    hours = int(params.get("sharing_secret_overlap_hours", 24))
    secret = _webhook_secret()
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().select_related("client").get(pk=sub.pk)
        now = timezone.now()
        locked.previous_secret, locked.secret = locked.secret, secret
        locked.previous_valid_until, locked.secret_rotated_at = now + timedelta(hours=hours), now
        locked.save()
        audit.record("sharing.subscription.rotate", locked, user=user, region_code=locked.client.region_id or "",
                     details={"previous_valid_until": locked.previous_valid_until})
    return locked, secret


def redeliver(delivery, *, user):
    """Send a delivery again (any state but being sent), with the same webhook-id; the retry schedule starts over.
    The attempt runs in the worker."""
    from . import webhooks

    if not user.has_perm("sharing.redeliver_delivery"):
        raise PermissionDenied
    _may_manage(delivery.subscription.client, user)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().select_related("subscription__client").get(pk=delivery.pk)
        if locked.status in (DeliveryStatus.DELIVERING, DeliveryStatus.PENDING) and locked.attempts == locked.retry_from:
            raise ValidationError(_("The delivery is waiting to be sent already."))
        if locked.status == DeliveryStatus.DELIVERING and not webhooks.lease_expired(locked):
            raise ValidationError(_("The delivery is being sent right now."))
        before = {"status": locked.status, "attempts": locked.attempts}
        locked.status, locked.retry_from, locked.next_attempt_at, locked.finished_at = (
            DeliveryStatus.PENDING, locked.attempts, None, None)
        locked.save(update_fields=["status", "retry_from", "next_attempt_at", "finished_at"])
        audit.record("sharing.delivery.redeliver", locked, user=user, before=before,
                     region_code=locked.subscription.client.region_id or "",
                     details={"event_id": locked.event_id, "subscription": locked.subscription_id})
        webhooks._queue(locked)
    return locked
