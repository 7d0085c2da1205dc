"""Call statistics and anomaly alarms of the sharing API (issue 15, item 6): the figures equal the call log;
alarms fire on bursts of signature failures, replays, error rates and unusual volumes, and not on normal traffic;
each is recorded, notified to the watchers and chained into the audit log; pages in Chinese, permissions and
region."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from foodrisk.core.models import AuditEntry, Notification, User
from foodrisk.core.testing import grant, make_regions
from foodrisk.enterprises.testing import make_enterprise
from foodrisk.sharing import alarms, callstats, services
from foodrisk.sharing.client import SharingClient
from foodrisk.sharing.models import ClientSystem, SharingAlarm, SharingCall

pytestmark = pytest.mark.django_db

GRANT = {"enterprise_grade": ["uscc", "name", "grade"]}


@pytest.fixture
def world():
    regions = make_regions()
    admin = grant(User.objects.create_user("admin", national_scope=True), "sharing.add_clientsystem",
                  "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.view_sharingcall",
                  "sharing.view_sharingalarm", "sharing.change_sharingalarm", "sharing.view_exchangeexport")
    approver = grant(User.objects.create_user("approver", national_scope=True), "sharing.approve_clientsystem",
                     "sharing.view_clientsystem")
    hz = make_enterprise(regions["330102"], name="杭州老王面馆", current_grade="C")
    clients = []
    for name, region in (("杭州市信用平台", "330100"), ("宁波市信用平台", "330200")):
        client, secret = services.register(user=admin, name=name, organisation="发改委", grants=GRANT,
                                           region=regions[region], rate_per_minute=1000)
        services.approve(client, user=approver)
        clients.append((ClientSystem.objects.get(pk=client.pk), secret))
    return regions, admin, hz, clients


def lookup(django_client, api, uscc, **sign):
    path = f"/api/sharing/v1/enterprises/{uscc}/"
    return django_client.get(path, headers=api.signed_headers("GET", path, **sign))


def test_normal_traffic_raises_no_alarm_and_the_statistics_equal_the_log(world, client):
    _regions, admin, hz, [(sc, secret), (nb, nb_secret)] = world
    api = SharingClient("http://testserver/", sc.app_key, secret)
    for _ in range(12):
        assert lookup(client, api, hz.uscc).status_code == 200
    for _ in range(3):  # a few mistakes are normal: below every threshold
        assert lookup(client, SharingClient("http://testserver/", sc.app_key, "wrong"), hz.uscc).status_code == 401
    assert lookup(client, SharingClient("http://testserver/", nb.app_key, nb_secret), hz.uscc).status_code == 403
    assert alarms.scan() == [] and not SharingAlarm.objects.exists()
    rows = callstats.statistics(SharingCall.objects.all(), ("client",))
    by_client = {r["client"]: r for r in rows}
    log = SharingCall.objects.filter(client=sc)
    mine = by_client[sc.pk]
    assert mine["calls"] == log.count() == 15 and mine["rows"] == 12 and mine["errors"] == 3
    assert mine["signature_failures"] == 3 and mine["error_rate"] == round(3 / 15, 4)
    latencies = sorted(log.values_list("latency_ms", flat=True))
    assert mine["p95_ms"] == latencies[14] and mine["p50_ms"] == latencies[7]
    assert by_client[nb.pk]["errors"] == 1 and by_client[nb.pk]["signature_failures"] == 0
    (endpoint_row,) = callstats.statistics(SharingCall.objects.all(), ("endpoint",))
    assert endpoint_row["endpoint"] == "enterprises/{uscc}/" and endpoint_row["calls"] == 16
    client.force_login(admin)
    api_rows = client.get("/api/sharing/admin/call-stats/?group=client&group=day").json()
    assert api_rows["total"]["calls"] == 16 and {r["client"] for r in api_rows["rows"]} == {sc.pk, nb.pk}
    assert api_rows["rows"][0]["day"] == timezone.localdate().isoformat()


def test_a_burst_of_signature_failures_raises_one_alarm_to_the_watchers_and_the_audit(world, client):
    _regions, admin, hz, [(sc, _secret), _nb] = world
    forged = SharingClient("http://testserver/", sc.app_key, "guessed-secret")
    for _ in range(12):
        assert lookup(client, forged, hz.uscc).json()["code"] == "SIGNATURE_INVALID"
    alarm = SharingAlarm.objects.get()  # once per burst, not once per call after the threshold
    assert alarm.kind == "signature_failures" and alarm.client == sc and alarm.observed == 10
    entry = AuditEntry.objects.get(action="sharing.alarm.raise")
    assert entry.details["kind"] == "signature_failures" and entry.details["client"] == sc.pk
    note = Notification.objects.get(recipient=admin)
    assert note.title.startswith("【共享接口告警】") and note.level == "danger"
    assert alarms.acknowledge(alarm, user=admin) and AuditEntry.objects.filter(
        action="sharing.alarm.acknowledge").exists()


def test_unknown_keys_from_one_address_and_replays_raise_alarms(world, client):
    _regions, _admin, hz, [(sc, secret), _nb] = world
    stranger = SharingClient("http://testserver/", "fr-guess", "x")
    for _ in range(10):
        assert lookup(client, stranger, hz.uscc).json()["code"] == "APP_KEY_UNKNOWN"
    by_ip = SharingAlarm.objects.get(kind="signature_failures")
    assert by_ip.client is None and by_ip.ip == "127.0.0.1"
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path = f"/api/sharing/v1/enterprises/{hz.uscc}/"
    headers = api.signed_headers("GET", path)
    for _ in range(4):
        client.get(path, headers=headers)
    replay = SharingAlarm.objects.get(kind="replays")
    assert replay.client == sc and replay.observed == 3


def test_error_rate_and_volume_alarms_come_from_the_periodic_scan(world):
    _regions, _admin, _hz, [(sc, _secret), (nb, _nb_secret)] = world
    now = timezone.now()
    calls = [SharingCall(client=sc, method="GET", path="/api/sharing/v1/enterprises/x/", status=404, code="NOT_FOUND")
             for _ in range(30)]
    calls += [SharingCall(client=sc, method="GET", path="/api/sharing/v1/enterprises/x/", status=200, code="OK",
                          rows=1) for _ in range(10)]
    # Ningbo usually pulls 100 rows an hour; this hour 50,000
    calls += [SharingCall(client=nb, method="GET", path="/api/sharing/v1/datasets/enterprise_grade/", status=200,
                          code="OK", rows=100) for _ in range(7 * 24)]
    calls += [SharingCall(client=nb, method="GET", path="/api/sharing/v1/datasets/enterprise_grade/", status=200,
                          code="OK", rows=1000) for _ in range(50)]
    SharingCall.objects.bulk_create(calls)
    usual = list(SharingCall.objects.filter(client=nb, rows=100).values_list("pk", flat=True))
    for i, pk in enumerate(usual):  # auto_now_add: spread the usual traffic over the last week afterwards
        SharingCall.objects.filter(pk=pk).update(at=now - timedelta(hours=2 + i))
    raised = alarms.scan(now + timedelta(seconds=1))
    assert {(a.kind, a.client_id) for a in raised} == {("error_rate", sc.pk), ("volume", nb.pk)}
    assert alarms.scan(now + timedelta(seconds=2)) == []  # raised once per window
    assert AuditEntry.objects.filter(action="sharing.alarm.raise").count() == 2


def test_pages_in_chinese_and_region_scope(world, client):
    regions, admin, hz, [(sc, secret), (nb, nb_secret)] = world
    lookup(client, SharingClient("http://testserver/", sc.app_key, secret), hz.uscc)
    lookup(client, SharingClient("http://testserver/", nb.app_key, nb_secret), hz.uscc)
    for _ in range(10):
        lookup(client, SharingClient("http://testserver/", nb.app_key, "bad"), hz.uscc)
    district = grant(User.objects.create_user("hz-admin", scope_region=regions["330100"]),
                     "sharing.view_sharingcall", "sharing.view_sharingalarm", "sharing.view_clientsystem")
    nobody = User.objects.create_user("nobody", national_scope=True)
    with translation.override("zh-hans"):
        client.force_login(admin)
        page = client.get("/sharing/calls/stats/?group=client&group=endpoint").content.decode()
        assert "调用统计" in page and "杭州市信用平台" in page and "宁波市信用平台" in page
        assert "宁波市信用平台" in client.get("/sharing/alarms/").content.decode()
        assert client.get("/sharing/exports/").status_code == 200
        client.force_login(district)  # Hangzhou's administrator sees Hangzhou's client only
        page = client.get("/sharing/calls/stats/").content.decode()
        assert "杭州市信用平台" in page and "宁波市信用平台" not in page
        assert "宁波市信用平台" not in client.get("/sharing/alarms/").content.decode()
        client.force_login(nobody)
        assert client.get("/sharing/calls/stats/").status_code == 403
        assert client.get("/api/sharing/admin/call-stats/").status_code == 403
