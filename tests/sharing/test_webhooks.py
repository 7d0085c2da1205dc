"""Push subscriptions (issue 15 item 4): a live loopback receiver gets Standard Webhooks 1.0 deliveries the
reference client verifies; a tampered one fails; 5xx is retried on the schedule (jitter within bounds) then
dead-lettered, 4xx fails at once, 429's Retry-After is honoured; a redelivery succeeds with the same id; the
order per enterprise holds; payloads carry only granted fields, masked, of enterprises in the client's region;
only a system administrator of the client's region manages subscriptions and redelivers. Time is moved by
patching webhooks._now, never slept."""

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from foodrisk.core.models import AuditEntry, Notification, User
from foodrisk.core.testing import grant, run_worker
from foodrisk.sharing import services, signing, webhooks
from foodrisk.sharing.client import BadWebhook, verify_webhook
from foodrisk.sharing.models import ClientSystem, Delivery, DeliveryAttempt, EventType, Subscription

pytestmark = pytest.mark.django_db

SCHEDULE = [5, 300, 1800, 7200, 18000, 36000]


class Receiver:
    """An HTTP endpoint on loopback that records what it gets and answers from a script (status, headers)."""

    def __init__(self):
        self.received, self.answers, self.default = [], [], (200, {})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append((dict(self.headers), body))
                status, headers = outer.answers.pop(0) if outer.answers else outer.default
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.SHARING_WEBHOOK_ALLOW_PRIVATE = True
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def world(make_world):
    return make_world("sharing.view_delivery", "sharing.view_subscription", "sharing.redeliver_delivery")


def active_client(world, fields=("uscc", "name", "grade", "score", "legal_representative"), **overrides):
    regions, admin, approver, _hz, _nb = world
    kwargs = {"name": "杭州市信用平台", "organisation": "杭州市发展和改革委员会",
              "grants": {"enterprise_grade": list(fields)}, "region": regions["330100"], **overrides}
    client, _secret = services.register(user=admin, **kwargs)
    services.approve(client, user=approver, note="同意接入")
    return ClientSystem.objects.get(pk=client.pk)


def subscribe(world, receiver, types=(EventType.GRADE_CHANGED,), **client_kwargs):
    sc = active_client(world, **client_kwargs)
    return services.create_subscription(sc, user=world[1], url=receiver.url, event_types=list(types))


def grade_change(world, enterprise, new="D"):
    """A published grade change through scoring's own path (a second person approves a manual adjustment)."""
    from foodrisk.scoring import services as scoring

    _regions, admin, approver, _hz, _nb = world
    admin = grant(User.objects.get(pk=admin.pk), "scoring.add_gradeadjustment", "scoring.view_gradeadjustment")
    approver = grant(User.objects.get(pk=approver.pk), "scoring.approve_gradeadjustment",
                     "scoring.view_gradeadjustment")
    adj = scoring.propose_adjustment(enterprise, new, "现场检查发现重大隐患", user=admin)
    return scoring.approve_adjustment(adj, user=approver, note="同意")


class Clock:
    """webhooks._now, moved by the test."""

    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now


def one_delivery(world, sub, enterprise=None):
    enterprise = enterprise or world[3]
    return webhooks.fan_out(EventType.GRADE_CHANGED, [(f"test:{time.monotonic_ns()}", enterprise, timezone.now(),
                                                       {"change": {}})])[0]


def test_a_loopback_receiver_gets_a_delivery_the_reference_client_verifies(world, receiver):
    _regions, _admin, _approver, hz, _nb = world
    sub, secret = subscribe(world, receiver)
    assert secret.startswith("whsec_") and sub.secret == secret
    adjustment = grade_change(world, hz, "D")
    run_worker()
    assert len(receiver.received) == 1
    assert webhooks.on_grade_changed(adjustment_id=adjustment.pk) == {"deliveries": 0}  # a reaction run twice
    headers, body = receiver.received[0]
    event = verify_webhook(secret, headers, body)
    assert event["type"] == "grade.changed"
    assert event["data"]["enterprise"]["uscc"] == hz.uscc and event["data"]["change"]["new_grade"] == "D"
    delivery = Delivery.objects.get()
    assert headers["webhook-id"] == delivery.event_id and headers["webhook-timestamp"].isdigit()
    assert headers["webhook-signature"].startswith("v1,")
    assert delivery.status == "succeeded" and delivery.attempts == 1
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok" and attempt.error == ""
    run_worker()  # the reaction ran once; running the worker again sends nothing new
    assert len(receiver.received) == 1


def test_a_tampered_push_fails_verification(world, receiver):
    sub, secret = subscribe(world, receiver)
    one_delivery(world, sub)
    run_worker()
    headers, body = receiver.received[0]
    with pytest.raises(BadWebhook):
        verify_webhook(secret, headers, body.replace(b"C", b"A"))
    with pytest.raises(BadWebhook):
        verify_webhook("whsec_" + "QUFB" * 8, headers, body)  # another secret
    with pytest.raises(BadWebhook):
        verify_webhook(secret, headers, body, now=time.time() + 301)  # replayed later
    with pytest.raises(BadWebhook):
        verify_webhook(secret, {k: v for k, v in headers.items() if k.lower() != "webhook-id"}, body)
    assert verify_webhook(secret, headers, body)["type"] == "grade.changed"


def test_the_signature_follows_standard_webhooks_exactly():
    """The spec's own construction: HMAC-SHA256 over id.timestamp.body with the base64-decoded secret."""
    import base64
    import hashlib
    import hmac

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                                         b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330." + body, hashlib.sha256).digest())
    assert signing.webhook_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1," + expected.decode()


def test_a_500_is_retried_on_the_schedule_with_jitter_then_dead_lettered(world, receiver):
    _regions, admin, _approver, _hz, _nb = world
    receiver.default = (500, {})
    sub, _secret = subscribe(world, receiver)
    delivery = one_delivery(world, sub)
    clock = Clock()
    waits = []
    with mock.patch.object(webhooks, "_now", clock):
        for n in range(len(SCHEDULE) + 1):
            assert webhooks.send(delivery.pk) in ("pending", "dead")
            delivery.refresh_from_db()
            assert delivery.attempts == n + 1
            if n < len(SCHEDULE):
                assert delivery.status == "pending"
                wait = (delivery.next_attempt_at - clock.now).total_seconds()
                waits.append(wait)
                assert SCHEDULE[n] * 0.9 - 0.01 <= wait <= SCHEDULE[n] * 1.1 + 0.01, (n, wait)
                # the next attempt is a task row for the worker, due then
                task = DBTaskResult.objects.filter(task_path="foodrisk.sharing.tasks.send_delivery",
                                                   status="READY").order_by("-enqueued_at").first()
                assert abs((task.run_after - delivery.next_attempt_at).total_seconds()) < 1
                assert webhooks.send(delivery.pk) == "skipped"  # not due yet
                clock.now = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert delivery.status == "dead" and delivery.finished_at is not None
    assert len(receiver.received) == len(SCHEDULE) + 1
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery))
    assert [a.number for a in attempts] == list(range(1, 8)) and {a.status_code for a in attempts} == {500}
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(SCHEDULE[i] * 0.9 <= gap <= SCHEDULE[i] * 1.1 + 1.01 for i, gap in enumerate(gaps)), gaps
    assert AuditEntry.objects.filter(action="sharing.delivery.dead", object_id=str(delivery.pk)).exists()
    assert Notification.objects.filter(recipient=admin, link=delivery.get_absolute_url()).exists()
    assert len({round(w / s, 3) for w, s in zip(waits, SCHEDULE, strict=True)}) > 1  # jittered, not fixed


def test_a_4xx_fails_at_once_without_retry(world, receiver):
    receiver.default = (400, {})
    sub, _secret = subscribe(world, receiver)
    delivery = one_delivery(world, sub)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.next_attempt_at is None
    assert not DBTaskResult.objects.filter(task_path="foodrisk.sharing.tasks.send_delivery", status="READY").exists()


@pytest.mark.parametrize("status", [408, 429, 503])
def test_408_429_and_5xx_are_retried_and_retry_after_is_honoured(world, receiver, status):
    receiver.answers = [(status, {"Retry-After": "120"})]
    sub, _secret = subscribe(world, receiver)
    delivery = one_delivery(world, sub)
    clock = Clock()
    with mock.patch.object(webhooks, "_now", clock):
        assert webhooks.send(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert (delivery.next_attempt_at - clock.now).total_seconds() >= 120  # not the schedule's 5 s


def test_a_network_error_is_retried(world, settings):
    settings.SHARING_WEBHOOK_ALLOW_PRIVATE = True
    sc = active_client(world)
    sub, _secret = services.create_subscription(sc, user=world[1], url="http://127.0.0.1:9/closed",
                                                event_types=[EventType.GRADE_CHANGED])
    delivery = one_delivery(world, sub)
    assert webhooks.send(delivery.pk) == "pending"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "ConnectionError" in attempt.error


def test_redeliver_sends_again_with_the_same_id_and_is_audited(world, receiver):
    _regions, admin, _approver, _hz, _nb = world
    receiver.default = (400, {})
    sub, secret = subscribe(world, receiver)
    delivery = one_delivery(world, sub)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    receiver.default = (200, {})
    services.redeliver(delivery, user=admin)
    run_worker()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    second = DeliveryAttempt.objects.get(delivery=delivery, number=2)
    assert second.manual and second.status_code == 200
    ids = [h["webhook-id"] for h, _b in receiver.received]
    assert ids == [delivery.event_id, delivery.event_id]
    verify_webhook(secret, *receiver.received[1])
    assert AuditEntry.objects.filter(action="sharing.delivery.redeliver", object_id=str(delivery.pk)).exists()


def test_a_dead_delivery_redelivered_starts_the_schedule_again(world, receiver, settings):
    receiver.default = (500, {})
    sub, _secret = subscribe(world, receiver)
    delivery = one_delivery(world, sub)
    clock = Clock()
    with mock.patch.object(webhooks, "_now", clock), \
            mock.patch.object(webhooks, "schedule", lambda: [5]):
        webhooks.send(delivery.pk)
        clock.now += dt.timedelta(seconds=10)
        assert webhooks.send(delivery.pk) == "dead"
        services.redeliver(Delivery.objects.get(pk=delivery.pk), user=world[1])
        assert webhooks.send(delivery.pk) == "pending"  # the schedule again, from its start
        clock.now += dt.timedelta(seconds=10)
        assert webhooks.send(delivery.pk) == "dead"
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 4


def test_per_enterprise_order_holds(world, receiver):
    _regions, _admin, _approver, hz, _nb = world
    receiver.answers = [(500, {})]
    sub, _secret = subscribe(world, receiver)
    first = one_delivery(world, sub)
    second = one_delivery(world, sub)
    run_worker()  # the first fails and waits for its retry; the second must wait for it
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "pending" and first.attempts == 1
    assert second.status == "pending" and second.attempts == 0
    assert [h["webhook-id"] for h, _b in receiver.received] == [first.event_id]
    clock = Clock()
    clock.now = first.next_attempt_at + dt.timedelta(seconds=1)
    with mock.patch.object(webhooks, "_now", clock):
        assert webhooks.send(first.pk) == "succeeded"
        run_worker()  # the first's end queued the second
    second.refresh_from_db()
    assert second.status == "succeeded"
    assert [h["webhook-id"] for h, _b in receiver.received] == [first.event_id, first.event_id, second.event_id]


def test_payloads_carry_granted_fields_masked_and_only_the_clients_region(world, receiver):
    _regions, _admin, _approver, hz, nb = world
    sub, secret = subscribe(world, receiver, fields=("uscc", "name", "legal_representative"))
    grade_change(world, hz, "D")
    grade_change(world, nb, "D")  # 宁波: outside the client's 杭州
    run_worker()
    assert Delivery.objects.count() == 1
    event = verify_webhook(secret, *receiver.received[0])
    assert event["data"]["enterprise"] == {"uscc": hz.uscc, "name": "杭州老王面馆", "legal_representative": "张**"}
    assert event["data"]["change"] == {}  # the grade is not granted: the change says nothing of it


def test_only_subscribed_event_types_of_active_subscriptions_are_delivered(world, receiver):
    _regions, admin, _approver, hz, _nb = world
    sub, _secret = subscribe(world, receiver, types=(EventType.WARNING_RAISED,))
    grade_change(world, hz, "D")
    run_worker()
    assert not Delivery.objects.filter(event_type="grade.changed").exists()
    services.change_subscription(sub, user=admin, event_types=[EventType.GRADE_CHANGED], active=False)
    grade_change(world, hz, "C")
    run_worker()
    assert not Delivery.objects.filter(event_type="grade.changed").exists()


def test_rotation_signs_with_both_secrets_during_the_overlap(world, receiver):
    _regions, admin, _approver, _hz, _nb = world
    sub, old = subscribe(world, receiver)
    sub, new = services.rotate_subscription_secret(sub, user=admin)
    assert new != old and new.startswith("whsec_")
    one_delivery(world, sub)
    run_worker()
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    verify_webhook(old, headers, body)
    verify_webhook(new, headers, body)
    rotate = AuditEntry.objects.get(action="sharing.subscription.rotate")
    assert old not in json.dumps(rotate.details) and new not in json.dumps(rotate.details)


def test_endpoint_addresses(world, settings):
    sc = active_client(world)
    admin = world[1]
    for url in ("http://example.org/hook", "ftp://example.org/", "https://user:pw@example.org/",
                "https://10.0.0.5/hook", "http://127.0.0.1:8000/hook"):
        with pytest.raises(ValidationError):
            services.create_subscription(sc, user=admin, url=url, event_types=["grade.changed"])
    with pytest.raises(ValidationError):
        services.create_subscription(sc, user=admin, url="https://example.org/", event_types=["nothing"])
    sub, _ = services.create_subscription(sc, user=admin, url="https://example.org/hook",
                                          event_types=["grade.changed"])
    assert sub.pk
    settings.SHARING_WEBHOOK_ALLOW_PRIVATE = True
    services.create_subscription(sc, user=admin, url="http://127.0.0.1:8000/hook", event_types=["grade.changed"])


def test_a_name_resolving_inside_is_refused_at_sending(world, settings):
    sc = active_client(world)
    sub, _ = services.create_subscription(sc, user=world[1], url="https://hooks.example.org/",
                                          event_types=["grade.changed"])
    delivery = one_delivery(world, sub)
    with mock.patch("socket.getaddrinfo", return_value=[(2, 1, 6, "", ("10.1.2.3", 443))]):
        assert webhooks.send(delivery.pk) == "failed"
    assert "10.1.2.3" in DeliveryAttempt.objects.get().error


def test_permissions_and_region(world, receiver):
    regions, admin, _approver, _hz, _nb = world
    sc = active_client(world)
    nobody = User.objects.create_user("nobody", national_scope=True)
    ningbo = grant(User.objects.create_user("ningbo", scope_region=regions["330200"]),
                   "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.redeliver_delivery")
    for person in (nobody, ningbo):
        with pytest.raises(PermissionDenied):
            services.create_subscription(sc, user=person, url=receiver.url, event_types=["grade.changed"])
    sub, _secret = services.create_subscription(sc, user=admin, url=receiver.url, event_types=["grade.changed"])
    delivery = one_delivery(world, sub)
    run_worker()
    for person in (nobody, ningbo):
        with pytest.raises(PermissionDenied):
            services.redeliver(delivery, user=person)
        with pytest.raises(PermissionDenied):
            services.rotate_subscription_secret(sub, user=person)
    assert AuditEntry.objects.filter(action="sharing.subscription.create").count() == 1


# ------------------------------------------------------------------------------------------------- pages and API
def test_pages_create_rotate_switch_off_and_redeliver_in_chinese(world, receiver, client):
    from django.utils import translation

    from foodrisk.core.testing import english_words

    _regions, admin, _approver, hz, _nb = world
    sc = active_client(world)
    client.force_login(admin)
    headers = {"Accept-Language": "zh-hans"}
    with translation.override("zh-hans"):
        form = client.get(f"/sharing/clients/{sc.pk}/subscriptions/add/", headers=headers)
        assert form.status_code == 200 and not english_words(form.content.decode(), {"admin", "approver"})
        r = client.post(f"/sharing/clients/{sc.pk}/subscriptions/add/",
                        {"url": receiver.url, "event_types": ["grade.changed", "warning.raised"]}, headers=headers)
        assert r.status_code == 200, r.content
        sub = sc.subscriptions.get()
        page = r.content.decode()
        assert sub.secret in page and not english_words(page, {"admin", "approver"})
        detail = client.get(sub.get_absolute_url(), headers=headers).content.decode()
        assert sub.secret not in detail and "信用风险等级变动" in detail
        assert not english_words(detail, {"admin", "approver"})
        client_page = client.get(sc.get_absolute_url(), headers=headers).content.decode()
        assert sub.get_absolute_url() in client_page and not english_words(client_page, {"admin", "approver"})
        r = client.post(f"/sharing/subscriptions/{sub.pk}/rotate/", headers=headers)
        sub.refresh_from_db()
        assert r.status_code == 200 and sub.secret in r.content.decode() and sub.previous_secret
        receiver.default = (500, {})
        delivery = one_delivery(world, sub, hz)
        run_worker()
        for path in ("/sharing/deliveries/", "/sharing/deliveries/?status=pending&event_type=grade.changed",
                     delivery.get_absolute_url()):
            r = client.get(path, headers=headers)
            words = english_words(r.content.decode(), {"admin", "approver"})
            assert r.status_code == 200 and not words, (path, words)
        assert "重新投递" in client.get(delivery.get_absolute_url(), headers=headers).content.decode()
        receiver.default = (200, {})
        r = client.post(f"/sharing/deliveries/{delivery.pk}/redeliver/", headers=headers)
        assert r.status_code == 302
        run_worker()
        delivery.refresh_from_db()
        assert delivery.status == "succeeded"
        r = client.post(f"/sharing/subscriptions/{sub.pk}/disable/", headers=headers)
        sub.refresh_from_db()
        assert r.status_code == 302 and not sub.active
    assert AuditEntry.objects.filter(action="sharing.subscription.update").exists()


def test_pages_refuse_others(world, receiver, client):
    regions, admin, _approver, _hz, _nb = world
    sc = active_client(world)
    sub, _secret = services.create_subscription(sc, user=admin, url=receiver.url, event_types=["grade.changed"])
    delivery = one_delivery(world, sub)
    run_worker()
    nobody = User.objects.create_user("nobody", national_scope=True)
    ningbo = grant(User.objects.create_user("ningbo", scope_region=regions["330200"]),
                   "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.view_delivery",
                   "sharing.view_subscription", "sharing.redeliver_delivery")
    client.force_login(nobody)
    assert client.get("/sharing/deliveries/").status_code == 403
    assert client.get(sub.get_absolute_url()).status_code == 403
    assert client.post(f"/sharing/deliveries/{delivery.pk}/redeliver/").status_code == 404
    client.force_login(ningbo)  # another region: the objects do not exist for him
    assert client.get(sub.get_absolute_url()).status_code == 404
    assert client.get(delivery.get_absolute_url()).status_code == 404
    assert client.get(f"/sharing/clients/{sc.pk}/subscriptions/add/").status_code == 404
    assert client.post(f"/sharing/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert client.post(f"/sharing/subscriptions/{sub.pk}/rotate/").status_code == 404
    assert delivery.event_id not in client.get("/sharing/deliveries/").content.decode()
    assert DeliveryAttempt.objects.count() == 1


def test_api_create_rotate_change_list_and_redeliver(world, receiver, client):
    regions, admin, _approver, _hz, _nb = world
    sc = active_client(world)
    client.force_login(admin)
    r = client.post("/api/sharing/subscriptions/", {"client": sc.pk, "url": receiver.url,
                                                    "event_types": ["grade.changed"]}, content_type="application/json")
    assert r.status_code == 201, r.content
    secret = r.json()["secret"]
    sub_id = r.json()["subscription"]["id"]
    assert secret.startswith("whsec_") and "secret" not in client.get(f"/api/sharing/subscriptions/{sub_id}/").json()
    r = client.post("/api/sharing/subscriptions/", {"client": sc.pk, "url": "ftp://x/", "event_types": ["x"]},
                    content_type="application/json")
    assert r.status_code == 400
    r = client.post(f"/api/sharing/subscriptions/{sub_id}/rotate/")
    assert r.status_code == 200 and r.json()["secret"] != secret
    receiver.default = (400, {})
    delivery = one_delivery(world, Subscription.objects.get(pk=sub_id))
    run_worker()
    listed = client.get("/api/sharing/deliveries/?status=failed").json()
    assert [d["id"] for d in listed["results"]] == [delivery.pk]
    detail = client.get(f"/api/sharing/deliveries/{delivery.pk}/").json()
    assert detail["attempts_made"][0]["status_code"] == 400 and detail["payload"]["type"] == "grade.changed"
    receiver.default = (200, {})
    r = client.post(f"/api/sharing/deliveries/{delivery.pk}/redeliver/")
    assert r.status_code == 200, r.content
    run_worker()
    assert Delivery.objects.get(pk=delivery.pk).status == "succeeded"
    r = client.patch(f"/api/sharing/subscriptions/{sub_id}/", {"active": False}, content_type="application/json")
    assert r.status_code == 200 and r.json()["active"] is False
    ningbo = grant(User.objects.create_user("ningbo", scope_region=regions["330200"]),
                   "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.view_delivery",
                   "sharing.view_subscription", "sharing.redeliver_delivery")
    client.force_login(ningbo)
    assert client.post(f"/api/sharing/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert client.get(f"/api/sharing/subscriptions/{sub_id}/").status_code == 404
    r = client.post("/api/sharing/subscriptions/", {"client": sc.pk, "url": receiver.url,
                                                    "event_types": ["grade.changed"]}, content_type="application/json")
    assert r.status_code == 400  # a client outside his jurisdiction is no valid choice


def test_a_delivery_whose_worker_died_blocks_nothing_after_its_lease_and_can_be_redelivered(world, receiver):
    sub, _secret = subscribe(world, receiver)
    first = one_delivery(world, sub)
    Delivery.objects.filter(pk=first.pk).update(status="delivering", attempts=1,
                                                next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    second = one_delivery(world, sub)
    assert webhooks.send(second.pk) == "skipped"  # the first is still within its lease
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert webhooks.send(second.pk) == "succeeded"
    services.redeliver(Delivery.objects.get(pk=first.pk), user=world[1])
    run_worker()
    assert Delivery.objects.get(pk=first.pk).status == "succeeded"


def test_a_delivery_whose_worker_died_is_resumed_when_its_task_is_handed_back(world, receiver):
    """The worker recovery hands the dead worker's task back; run again after the lease, it records the lost
    attempt and sends. Within the lease it does nothing (the first worker may still be sending)."""
    sub, _secret = subscribe(world, receiver)
    lost = one_delivery(world, sub)
    Delivery.objects.filter(pk=lost.pk).update(status="delivering", attempts=1,
                                               next_attempt_at=timezone.now() + dt.timedelta(minutes=1))
    assert webhooks.send(lost.pk) == "skipped"
    Delivery.objects.filter(pk=lost.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert webhooks.send(lost.pk) == "succeeded"
    rows = list(Delivery.objects.get(pk=lost.pk).attempt_rows.order_by("number").values_list(
        "number", "status_code", "error"))
    assert rows == [(1, None, webhooks.LOST_ATTEMPT), (2, 200, "")]
    assert len(receiver.received) == 1


def test_warnings_and_measures_are_pushed(world, receiver):
    """A D grade raises a warning (alerts' own rule) and a supervision task is created: both reach the receiver,
    the task's start too; each payload names its event's codes."""
    from foodrisk.core.models import Organisation
    from foodrisk.supervision.services import tasks

    regions, admin, _approver, hz, _nb = world
    sub, secret = subscribe(world, receiver, types=(EventType.WARNING_RAISED, EventType.WARNING_CLOSED,
                                                    EventType.MEASURE_CHANGED))
    grade_change(world, hz, "D")
    run_worker()
    organisation = Organisation.objects.create(code="O-330102", name="上城区市场监管局", region=regions["330102"])
    inspector = grant(User.objects.create_user("inspector", organisation=organisation,
                                               scope_region=regions["330102"]), "supervision.change_task")
    task = tasks.create_task(hz, "inspection", user=inspector, organisation=organisation, assignee=inspector,
                             notify=False)
    tasks.start(task, user=inspector)
    run_worker()
    events = [verify_webhook(secret, h, b) for h, b in receiver.received]
    types = [e["type"] for e in events]
    warning = events[types.index("warning.raised")]["data"]["warning"]  # alerts' rule for a grade turned D
    assert warning["status"] == "raised" and warning["level"]
    measures = [e["data"]["measure"] for e in events if e["type"] == "measure.changed"]
    assert [(m["action"], m["status"]) for m in measures] == [("create", "assigned"), ("start", "in_progress")]
    assert all(m["kind"] == "inspection" and m["id"] == task.pk for m in measures)
    from foodrisk.alerts import services as alerts
    from foodrisk.alerts.models import Alert

    reviewer = grant(User.objects.create_user("reviewer", national_scope=True), "alerts.review_alert",
                     "alerts.view_alert")
    alerts.review(Alert.objects.get(pk=warning["id"]), user=reviewer, confirm=False, note="经核实为误报")
    run_worker()
    closed = verify_webhook(secret, *receiver.received[-1])
    assert closed["type"] == "warning.closed"
    assert closed["data"]["warning"]["status"] == "dismissed" and closed["data"]["warning"]["closed_by"] == "dismiss"


def test_warning_and_measure_payloads_carry_the_granted_fields_of_their_datasets(world, receiver):
    """A client granted the warnings / measures datasets finds the event's row in the payload, its granted
    fields only, masked as the pull API masks them; one not granted them gets the event's codes alone."""
    from foodrisk.core.models import Organisation
    from foodrisk.supervision.services import tasks

    regions, _admin, _approver, hz, _nb = world
    grants = {"enterprise_grade": ["uscc"], "warnings": ["id", "level", "status"], "measures": ["id", "result"]}
    _sub, secret = subscribe(world, receiver, types=(EventType.WARNING_RAISED, EventType.MEASURE_CHANGED),
                             grants=grants)
    grade_change(world, hz, "D")
    organisation = Organisation.objects.create(code="O-330102", name="上城区市场监管局", region=regions["330102"])
    inspector = grant(User.objects.create_user("inspector", organisation=organisation,
                                               scope_region=regions["330102"]), "supervision.change_task")
    task = tasks.create_task(hz, "interview", user=inspector, organisation=organisation, assignee=inspector,
                             notify=False)
    tasks.complete(task, user=inspector, outcome="约谈后已整改")
    run_worker()
    events = [verify_webhook(secret, h, b) for h, b in receiver.received]
    warning = next(e["data"] for e in events if e["type"] == "warning.raised")
    assert warning["warnings"] == {"id": warning["warning"]["id"], "level": warning["warning"]["level"],
                                   "status": "raised"}
    measures = [e["data"]["measures"] for e in events if e["type"] == "measure.changed"]
    assert measures and all(m.keys() == {"id", "result"} and m["id"] == task.pk for m in measures)
    # the row as it stands when the reaction runs (both ran after the completion); masked: granted masked only
    assert [m["result"] for m in measures] == ["约*****", "约*****"]


def test_a_redirect_is_not_followed_and_fails(world, receiver):
    receiver.default = (302, {"Location": "http://127.0.0.1:1/elsewhere"})
    sub, _secret = subscribe(world, receiver)
    delivery = one_delivery(world, sub)
    assert webhooks.send(delivery.pk) == "failed"
    assert len(receiver.received) == 1 and DeliveryAttempt.objects.get().status_code == 302


def test_retry_after_as_seconds_or_http_date():
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    assert webhooks.retry_after_seconds("120", now) == 120
    assert webhooks.retry_after_seconds("Fri, 04 Dec 2026 12:10:00 GMT", now) == 600
    assert webhooks.retry_after_seconds("9999999", now) == 86400  # at most a day
    assert webhooks.retry_after_seconds("soon", now) is None and webhooks.retry_after_seconds("", now) is None


def test_the_signing_secret_is_stored_encrypted(world, receiver):
    from django.db import connection

    sub, secret = subscribe(world, receiver)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM sharing_subscription WHERE id = %s", [sub.pk])
        stored = cursor.fetchone()[0]
    assert stored and secret not in stored and secret[6:] not in stored
    created = AuditEntry.objects.get(action="sharing.subscription.create")
    assert secret not in json.dumps([created.after, created.details])


def test_nothing_leaves_for_a_suspended_client_or_a_switched_off_subscription(world, receiver):
    _regions, admin, _approver, _hz, _nb = world
    sub, _secret = subscribe(world, receiver)
    first, second = one_delivery(world, sub), one_delivery(world, sub)
    services.suspend(sub.client, user=admin, note="暂停对接")
    assert webhooks.send(first.pk) == "failed"
    services.reactivate(ClientSystem.objects.get(pk=sub.client_id), user=admin)
    services.approve(ClientSystem.objects.get(pk=sub.client_id), user=world[2])
    services.change_subscription(sub, user=admin, active=False)
    assert webhooks.send(second.pk) == "failed"
    assert not receiver.received
    assert set(DeliveryAttempt.objects.values_list("error", flat=True)) == {
        "refused: subscription or client inactive"}
