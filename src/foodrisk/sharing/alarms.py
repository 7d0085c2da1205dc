"""Anomaly alarms on the sharing API's call log (调用异常告警), raised to the administrators.

- On write (check_call, from services.log_call): a refused call whose code is a signature failure or a replay
  counts the same client's (or, without a known client, the same address's) such calls in the last
  `sharing_alarm_window_minutes`; at the threshold an alarm is raised — once per window and subject. One
  indexed COUNT, and only for refused calls: an answered call costs nothing.
- Periodically (scan, the `sharing.alarm_scan` job, hourly schedule): per client over the last hour, the error
  rate (refusals / calls, from a minimum number of calls) and the volume (rows answered) against the client's
  usual hourly volume over the previous 7 days.

Thresholds are parameters (data). An alarm is a SharingAlarm row, an entry in the hash-chained audit log and a
notification to the people who watch alarms (sharing.view_sharingalarm) with the client's region in their
jurisdiction, in one transaction.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from foodrisk.core import params
from foodrisk.core.services import audit, notifications

from .callstats import REPLAYS, SIGNATURE_FAILURES
from .models import AlarmKind, SharingAlarm, SharingCall

TEMPLATE = "sharing_alarm"
WATCH_PERMISSION = "sharing.view_sharingalarm"
SCAN_HOURS = 1
USUAL_DAYS = 7

# (key, name, category, type, value, description, source) as core.seeds.PARAMETERS; seeded by migration 0003
PARAMETERS = [
    ("sharing_alarm_window_minutes", "共享接口告警统计窗口（分钟）", "security", "int", 10,
     "签名失败与重放尝试在此时间窗内累计，达到阈值即告警。", "系统默认"),
    ("sharing_alarm_signature_failures", "签名失败告警阈值（次）", "security", "int", 10,
     "同一接入系统（或同一来源地址）在统计窗口内签名校验失败达到此次数时告警。", "系统默认"),
    ("sharing_alarm_replays", "重放尝试告警阈值（次）", "security", "int", 3,
     "同一接入系统在统计窗口内重复使用随机数（重放）达到此次数时告警。", "系统默认"),
    ("sharing_alarm_error_rate", "调用错误率告警阈值", "security", "decimal", 0.5,
     "接入系统最近一小时被拒绝的调用占比达到此值（且调用数不少于最少调用数）时告警。", "系统默认"),
    ("sharing_alarm_error_min_calls", "错误率告警最少调用数", "security", "int", 20,
     "最近一小时调用少于此数时不计算错误率告警。", "系统默认"),
    ("sharing_alarm_volume_factor", "调用量异常倍数", "security", "decimal", 10,
     "接入系统最近一小时返回的数据行数超过其前7天平均每小时行数的此倍数时告警。", "系统默认"),
    ("sharing_alarm_volume_min_rows", "调用量异常最少行数", "security", "int", 10000,
     "最近一小时返回行数少于此数时不告警（避免平时几乎不调用的系统误报）。", "系统默认"),
]


def _param(key):
    default = next(row[4] for row in PARAMETERS if row[0] == key)
    return float(params.get(key, default))


def _recent(kind, since, *, client=None, ip=None):
    qs = SharingAlarm.objects.filter(kind=kind, window_end__gte=since)
    return qs.filter(client=client) if client is not None else qs.filter(client__isnull=True, ip=ip)


def raise_alarm(kind, *, client=None, ip=None, start, end, observed, threshold, details=None):
    """Record the alarm, chain it into the audit log and notify the watchers, in one transaction."""
    from foodrisk.core.services.accounts import users_with_perm

    with transaction.atomic():
        alarm = SharingAlarm.objects.create(kind=kind, client=client, ip=ip, window_start=start, window_end=end,
                                            observed=observed, threshold=threshold, details=details or {})
        audit.record("sharing.alarm.raise", alarm, details={
            "kind": kind, "client": client.pk if client else None, "ip": ip, "observed": observed,
            "threshold": threshold, "window": [start.isoformat(), end.isoformat()], **(details or {})},
            region_code=client.region_id if client else None)
        region = client.region_id if client else None
        people = [u for u in users_with_perm(WATCH_PERMISSION)
                  if u.scope_prefix == "" or (region and u.in_scope(region))]
        subject = str(client) if client else (ip or "")
        notifications.notify(people, TEMPLATE, {"kind": alarm.get_kind_display(), "subject": subject,
                                                "observed": _figure(observed), "threshold": _figure(threshold),
                                                "start": timezone.localtime(start).strftime("%Y-%m-%d %H:%M"),
                                                "end": timezone.localtime(end).strftime("%Y-%m-%d %H:%M")},
                             link=alarm.get_absolute_url(), level="danger")
    return alarm


def _figure(value):
    return f"{value:.0%}" if value < 1 else f"{value:g}"


def check_call(call):
    """After a refused call is logged: a burst of signature failures or of replays raises its alarm."""
    if call.code in SIGNATURE_FAILURES:
        kind, threshold, codes = AlarmKind.SIGNATURE_FAILURES, _param("sharing_alarm_signature_failures"), \
            SIGNATURE_FAILURES
    elif call.code in REPLAYS:
        kind, threshold, codes = AlarmKind.REPLAYS, _param("sharing_alarm_replays"), REPLAYS
    else:
        return None
    end = call.at
    start = end - dt.timedelta(minutes=_param("sharing_alarm_window_minutes"))
    subject = {"client": call.client} if call.client_id else {"client__isnull": True, "ip": call.ip}
    count = SharingCall.objects.filter(at__gt=start, at__lte=end, code__in=codes, **subject).count()
    if count < threshold:
        return None
    if _recent(kind, start, client=call.client if call.client_id else None, ip=call.ip).exists():
        return None  # raised already for this burst
    return raise_alarm(kind, client=call.client if call.client_id else None, ip=call.ip, start=start, end=end,
                       observed=count, threshold=threshold, details={"last_code": call.code})


def scan(now=None):
    """The periodic checks (error rate, volume) over the last hour; returns the alarms raised."""
    now = now or timezone.now()
    start = now - dt.timedelta(hours=SCAN_HOURS)
    usual_from = start - dt.timedelta(days=USUAL_DAYS)
    hour = (SharingCall.objects.filter(at__gt=start, at__lte=now, client__isnull=False).order_by()
            .values("client").annotate(calls=Count("pk"), errors=Count("pk", filter=Q(status__gte=400)),
                                       rows=Sum("rows")))
    raised = []
    rate, min_calls = _param("sharing_alarm_error_rate"), _param("sharing_alarm_error_min_calls")
    factor, min_rows = _param("sharing_alarm_volume_factor"), _param("sharing_alarm_volume_min_rows")
    from .models import ClientSystem

    for figures in hour:
        client = ClientSystem.objects.get(pk=figures["client"])
        if figures["calls"] >= min_calls and figures["errors"] / figures["calls"] >= rate \
                and not _recent(AlarmKind.ERROR_RATE, start, client=client).exists():
            raised.append(raise_alarm(AlarmKind.ERROR_RATE, client=client, start=start, end=now,
                                      observed=round(figures["errors"] / figures["calls"], 4), threshold=rate,
                                      details={"calls": figures["calls"], "errors": figures["errors"]}))
        usual_rows = SharingCall.objects.filter(client=client, at__gt=usual_from, at__lte=start).aggregate(
            n=Sum("rows"))["n"] or 0
        usual = usual_rows / (USUAL_DAYS * 24)
        rows = figures["rows"] or 0
        if rows >= min_rows and rows > factor * usual and not _recent(AlarmKind.VOLUME, start, client=client).exists():
            raised.append(raise_alarm(AlarmKind.VOLUME, client=client, start=start, end=now, observed=rows,
                                      threshold=max(min_rows, round(factor * usual)),
                                      details={"usual_rows_per_hour": round(usual, 1)}))
    return raised


def acknowledge(alarm, *, user, note=""):
    """An administrator has looked at the alarm (who and when, audited)."""
    if not SharingAlarm.objects.restrict(user, "change").filter(pk=alarm.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        updated = SharingAlarm.objects.filter(pk=alarm.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=timezone.now())
        if updated:
            audit.record("sharing.alarm.acknowledge", alarm, user=user, details={"note": note[:300]})
    return bool(updated)


def visible(user):
    return SharingAlarm.objects.restrict(user, "view").select_related("client", "acknowledged_by")
