"""The signed pull API of the sharing app (issue 15): a valid call passes and its answer verifies; each
tampering is refused with its documented code and logged; grants, masking, region scope, cursors, rotation,
rate limit, IP allow-list; the two-person approval of clients and of wider grants."""

import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import grant
from foodrisk.enterprises.testing import make_enterprise
from foodrisk.scoring.models import GradeChange
from foodrisk.sharing import services, signing
from foodrisk.sharing.client import SharingClient, SharingRefused
from foodrisk.sharing.models import ClientSystem, SharingCall

pytestmark = pytest.mark.django_db

ALL_FIELDS = {"enterprise_grade": ["uscc", "name", "region", "grade", "score", "legal_representative"]}


@pytest.fixture
def world(make_world):
    return make_world()


def active_client(world, **overrides):
    regions, admin, approver, _hz, _nb = world
    kwargs = {"name": "杭州市信用平台", "organisation": "杭州市发展和改革委员会", "grants": ALL_FIELDS,
              "region": regions["330100"], **overrides}
    client, secret = services.register(user=admin, **kwargs)
    services.approve(client, user=approver, note="同意接入")
    return ClientSystem.objects.get(pk=client.pk), secret


def call(django_client, path, api, *, params=None, headers=None, **sign):
    """A GET through Django's test client, signed as the reference client signs it."""
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    headers = headers or api.signed_headers("GET", path, query, **sign)
    return django_client.get(path + (f"?{query}" if query else ""), headers=headers)


def test_a_valid_lookup_answers_granted_fields_and_its_signature_verifies(world, client):
    _regions, _admin, _approver, hz, _nb = world
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    r = call(client, f"/api/sharing/v1/enterprises/{hz.uscc}/", api)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["code"] == "OK" and body["data"]["grade"] == "C" and body["data"]["name"] == "杭州老王面馆"
    assert body["data"]["legal_representative"] == "张**"  # sensitive: masked unless granted unmasked
    message = signing.response_message(200, r[signing.TIMESTAMP_HEADER], r.content)
    assert signing.matches("hmac-sha256", secret, message, r[signing.SIGNATURE_HEADER])
    log = SharingCall.objects.get()
    assert log.client == sc and log.code == "OK" and log.rows == 1 and log.status == 200


@pytest.mark.parametrize("tamper,code,status", [
    ("query", "SIGNATURE_INVALID", 401), ("timestamp", "TIMESTAMP_EXPIRED", 401), ("secret", "SIGNATURE_INVALID", 401),
    ("key", "APP_KEY_UNKNOWN", 401), ("missing", "SIGNATURE_MISSING", 401), ("nonce", "NONCE_INVALID", 400),
    ("field", "FIELD_NOT_GRANTED", 403), ("region", "OUT_OF_SCOPE", 403), ("dataset", "NOT_FOUND", 404),
])
def test_each_tampering_is_refused_with_its_code_and_logged(world, client, tamper, code, status):
    _regions, _admin, _approver, hz, nb = world
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path, params, headers = f"/api/sharing/v1/enterprises/{hz.uscc}/", {}, None
    if tamper == "query":  # signed without the parameter, sent with it
        headers = api.signed_headers("GET", path, "")
        params = {"fields": "uscc"}
    elif tamper == "timestamp":
        headers = api.signed_headers("GET", path, timestamp=int(time.time()) - 301)
    elif tamper == "secret":
        headers = SharingClient("http://testserver/", sc.app_key, "not-the-secret").signed_headers("GET", path)
    elif tamper == "key":
        headers = SharingClient("http://testserver/", "fr-unknown", secret).signed_headers("GET", path)
    elif tamper == "missing":
        headers = {signing.KEY_HEADER: sc.app_key}
    elif tamper == "nonce":
        headers = api.signed_headers("GET", path, nonce="short")
    elif tamper == "field":
        params = {"fields": "uscc,key_supervision"}
    elif tamper == "region":
        path = f"/api/sharing/v1/enterprises/{nb.uscc}/"
    elif tamper == "dataset":
        path = "/api/sharing/v1/datasets/penalties/"
    r = call(client, path, api, params=params, headers=headers)
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert SharingCall.objects.get().code == code


def test_a_reused_nonce_is_refused(world, client):
    _regions, _admin, _approver, hz, _nb = world
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    headers = api.signed_headers("GET", f"/api/sharing/v1/enterprises/{hz.uscc}/")
    assert call(client, f"/api/sharing/v1/enterprises/{hz.uscc}/", api, headers=headers).status_code == 200
    again = call(client, f"/api/sharing/v1/enterprises/{hz.uscc}/", api, headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "NONCE_REPLAYED"


def test_sm3_signatures_and_unmasked_grants(world, client):
    _regions, _admin, _approver, hz, _nb = world
    sc, secret = active_client(world, algorithm="hmac-sm3", unmasked=["enterprise_grade.legal_representative"])
    api = SharingClient("http://testserver/", sc.app_key, secret, algorithm="hmac-sm3")
    r = call(client, f"/api/sharing/v1/enterprises/{hz.uscc}/", api)
    assert r.status_code == 200 and r.json()["data"]["legal_representative"] == "张三丰"
    assert signing.matches("hmac-sm3", secret, signing.response_message(200, r[signing.TIMESTAMP_HEADER], r.content),
                           r[signing.SIGNATURE_HEADER])


def test_pages_and_changes_since_a_cursor_stay_in_the_clients_region(world, client):
    regions, _admin, _approver, hz, nb = world
    more = [make_enterprise(regions["330106"], name=f"西湖茶馆{i}") for i in range(3)]
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path = "/api/sharing/v1/datasets/enterprise_grade/"
    first = call(client, path, api, params={"limit": 2}).json()
    assert [row["uscc"] for row in first["data"]] == [hz.uscc, more[0].uscc] and first["next"]
    rest = call(client, path, api, params={"limit": 2, "after": first["next"]["after"]}).json()
    assert [row["uscc"] for row in rest["data"]] == [more[1].uscc, more[2].uscc]  # 宁波 is not the client's
    old = timezone.now() - timedelta(minutes=5)
    for ent, grade in ((nb, "D"), (more[1], "C"), (hz, "D"), (more[1], "D")):
        GradeChange.objects.create(enterprise=ent, old_grade="B", new_grade=grade, at=old)
    changes = call(client, path, api, params={"since": 0}).json()
    assert [row["uscc"] for row in changes["data"]] == [more[1].uscc, hz.uscc]
    later = call(client, path, api, params={"since": changes["next"]["since"]}).json()
    assert later["data"] == [] and later["next"] == changes["next"]


def test_bad_cursor_and_limit_are_a_400(world, client):
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    for params in ({"limit": "0"}, {"limit": "5000"}, {"after": "x"}, {"since": "²"}, {"after": "1", "since": "1"}):
        r = call(client, "/api/sharing/v1/datasets/enterprise_grade/", api, params=params)
        assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST", params


def test_rotation_keeps_the_previous_secret_for_the_overlap(world, client):
    _regions, admin, _approver, hz, _nb = world
    sc, old_secret = active_client(world)
    sc, new_secret = services.rotate_secret(sc, user=admin)
    path = f"/api/sharing/v1/enterprises/{hz.uscc}/"
    for secret in (old_secret, new_secret):
        api = SharingClient("http://testserver/", sc.app_key, secret)
        r = call(client, path, api)
        assert r.status_code == 200
        assert signing.matches("hmac-sha256", secret, signing.response_message(
            200, r[signing.TIMESTAMP_HEADER], r.content), r[signing.SIGNATURE_HEADER])  # signed with that secret
    ClientSystem.objects.filter(pk=sc.pk).update(previous_valid_until=timezone.now() - timedelta(seconds=1))
    r = call(client, path, SharingClient("http://testserver/", sc.app_key, old_secret))
    assert r.json()["code"] == "SIGNATURE_INVALID"
    rotate = AuditEntry.objects.get(action="sharing.clientsystem.rotate")
    assert old_secret not in str(rotate.details) and new_secret not in str(rotate.details)


def test_rate_limit_and_ip_allow_list(world, client):
    _regions, _admin, _approver, hz, _nb = world
    sc, secret = active_client(world, rate_per_minute=2)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path = f"/api/sharing/v1/enterprises/{hz.uscc}/"
    codes = [call(client, path, api).json()["code"] for _ in range(3)]
    assert codes == ["OK", "OK", "RATE_EXCEEDED"]
    walled, secret2 = active_client(world, name="外网系统", ip_allow=["10.0.0.0/8"])
    r = call(client, path, SharingClient("http://testserver/", walled.app_key, secret2))
    assert r.status_code == 403 and r.json()["code"] == "IP_NOT_ALLOWED"  # the test client comes from 127.0.0.1


def test_two_person_approval_and_wider_grants(world, client):
    regions, admin, approver, hz, _nb = world
    sc, secret = services.register(user=admin, name="市场监管协同平台", organisation="省局", region=regions["330100"],
                                   grants={"enterprise_grade": ["uscc", "grade"]})
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path = f"/api/sharing/v1/enterprises/{hz.uscc}/"
    assert call(client, path, api).json()["code"] == "CLIENT_INACTIVE"  # pending
    with pytest.raises(PermissionDenied):
        services.approve(sc, user=grant(admin, "sharing.approve_clientsystem"))  # he registered it
    services.approve(sc, user=approver)
    assert call(client, path, api).json()["data"] == {"uscc": hz.uscc, "grade": "C"}
    sc = services.change(ClientSystem.objects.get(pk=sc.pk), user=admin, region=regions["330100"],
                         grants={"enterprise_grade": ["uscc", "grade", "score"]})
    assert sc.status == "pending"  # a wider grant waits for the second person
    assert call(client, path, api).json()["code"] == "CLIENT_INACTIVE"
    services.approve(sc, user=approver)
    narrower = services.change(ClientSystem.objects.get(pk=sc.pk), user=admin, region=regions["330102"],
                               grants={"enterprise_grade": ["uscc"]})
    assert narrower.status == "active"  # less needs no approval
    with pytest.raises(ValidationError):
        services.register(user=admin, name="x", organisation="y", grants={"enterprise_grade": ["password"]})
    with pytest.raises(ValidationError):
        services.register(user=admin, name="x", organisation="y", grants={"enterprise_grade": ["uscc"]},
                          unmasked=["enterprise_grade.legal_representative"])  # not granted at all


@pytest.mark.e2e  # a live server flushes the database: with the browser tests, not beside tests that need seeded rows
def test_the_reference_client_against_a_live_server(world, live_server):
    regions, _admin, _approver, hz, _nb = world
    more = [make_enterprise(regions["330106"], name=f"西湖面馆{i}") for i in range(5)]
    sc, secret = active_client(world)
    api = SharingClient(live_server.url, sc.app_key, secret)
    assert api.get(f"/api/sharing/v1/enterprises/{hz.uscc}/")["data"]["uscc"] == hz.uscc
    rows = list(api.pull("enterprise_grade", limit=2, fields=["uscc"]))
    assert [r["uscc"] for r in rows] == [hz.uscc] + [e.uscc for e in more]
    with pytest.raises(SharingRefused) as exc:
        api.get("/api/sharing/v1/enterprises/91330000000000000X/")
    assert exc.value.code == "NOT_FOUND" and exc.value.status == 404
