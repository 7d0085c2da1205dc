"""Call statistics of the sharing API (调用统计), read from the call log (SharingCall): per client, per endpoint,
per day (Beijing time) or any combination — calls, rows, errors and their rate, signature failures, replays,
p50/p95 latency. One function feeds the page, the XLSX export of the page and the API, so the figures agree."""

import datetime as dt
import math
import re
from collections import defaultdict

from django.utils import timezone

PREFIX = "/api/sharing/v1/"
DIMENSIONS = ("client", "endpoint", "day")
# a request that failed the signature checks (or guessed an app key): what a burst alarm counts
SIGNATURE_FAILURES = frozenset({"SIGNATURE_MISSING", "APP_KEY_UNKNOWN", "SIGNATURE_INVALID", "TIMESTAMP_EXPIRED",
                                "NONCE_INVALID"})
REPLAYS = frozenset({"NONCE_REPLAYED"})
_ENTERPRISE = re.compile(r"^enterprises/[^/]+/")
_EXPORT_FILE = re.compile(r"^exports/\d+/[^/]+$")


def endpoint(path):
    """The endpoint of a logged path, its identifiers replaced: enterprises/{uscc}/, exports/{id}/{file}."""
    rest = path[len(PREFIX):] if path.startswith(PREFIX) else path
    rest = _ENTERPRISE.sub("enterprises/{uscc}/", rest)
    return _EXPORT_FILE.sub("exports/{id}/{file}", rest)


def percentile(values, p):
    """Nearest-rank percentile of sorted values (None when there are none)."""
    if not values:
        return None
    return values[max(0, math.ceil(p / 100 * len(values)) - 1)]


def calls(user=None, *, qs=None, client=None, date_from=None, date_to=None, code=""):
    """The calls a person may see (or `qs`), filtered; dates are Beijing calendar days, both ends included."""
    from .models import SharingCall

    qs = qs if qs is not None else SharingCall.objects.restrict(user, "view")
    if client:
        qs = qs.filter(client=client)
    if date_from:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=_day_start(date_to + dt.timedelta(days=1)))
    if code:
        qs = qs.filter(code=code)
    return qs


def _day_start(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def statistics(qs, group=("client",)):
    """One row per group of `group` (a subset of DIMENSIONS, in that order): the figures of its calls. Reads the
    log once, in chunks; latencies are kept per group to give exact percentiles."""
    group = tuple(d for d in DIMENSIONS if d in group) or ("client",)
    groups = defaultdict(lambda: {"calls": 0, "rows": 0, "errors": 0, "signature_failures": 0, "replays": 0,
                                  "latencies": []})
    names = {}
    fields = ("client_id", "client__name", "app_key", "path", "at", "status", "code", "rows", "latency_ms")
    for client_id, name, app_key, path, at, status, code, rows, latency in qs.order_by().values_list(
            *fields).iterator(chunk_size=5000):
        parts = {"client": client_id if client_id is not None else f"key:{app_key}", "endpoint": endpoint(path),
                 "day": timezone.localtime(at).date().isoformat()}
        key = tuple(parts[d] for d in group)
        names[parts["client"]] = name or app_key or "—"
        g = groups[key]
        g["calls"] += 1
        g["rows"] += rows
        g["errors"] += status >= 400
        g["signature_failures"] += code in SIGNATURE_FAILURES
        g["replays"] += code in REPLAYS
        g["latencies"].append(latency)
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(p) for p in k)):
        g = groups.pop(key)
        latencies = sorted(g.pop("latencies"))
        row = dict(zip(group, key, strict=True))
        if "client" in row:
            row["client_name"] = names[row["client"]]
            row["client"] = row["client"] if isinstance(row["client"], int) else None
        row.update(g, error_rate=round(g["errors"] / g["calls"], 4),
                   p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95))
        out.append(row)
    return out


def totals(rows):
    """The figures of all groups together (percentiles are not additive and are left out)."""
    keys = ("calls", "rows", "errors", "signature_failures", "replays")
    total = {k: sum(r[k] for r in rows) for k in keys}
    total["error_rate"] = round(total["errors"] / total["calls"], 4) if total["calls"] else 0.0
    return total
