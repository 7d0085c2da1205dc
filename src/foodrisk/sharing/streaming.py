"""The streamed incremental pull (GET /api/sharing/v1/datasets/{code}/changes/?since=N): every change after the
cursor in one answer, as NDJSON, with bounded memory however many there are.

The changes are read in keyset pages of CHUNK (change number > the last one sent), each page's enterprises in
one query, written out and forgotten: the server holds one page at a time. Lines:

    {"code": "OK", "dataset": …, "version": …, "since": N, "fields": […]}      the header
    {…row…}                                                                    one per changed enterprise and page
    {"end": true, "count": …, "next": {"since": M}, "sha256": …, "timestamp": …, "signature": …}

The answer's headers cannot carry a signature (they leave before the body exists), so the trailer does: sha256 is
the digest of every byte before the trailer line, signed like a header-signed answer (signing.stream_message).
A receiver keeps `next.since` only after the trailer verified; a stream without a trailer was cut short.
"""

import hashlib
import json
import time
from datetime import timedelta
from types import SimpleNamespace

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from . import signing
from .catalogue import DATASETS
from .services import CHANGE_HORIZON_S, ROW_COLUMNS, _cursor, _in_client_scope, enterprise_row, fields_for

CHUNK = 5000
CONTENT_TYPE = "application/x-ndjson; charset=utf-8"


def _line(obj):
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder) + "\n").encode()


def prepare(client, dataset_code, since, requested_fields=""):
    """Check the request before the first byte is sent (a refusal must still be an ordinary signed answer):
    returns (fields, start cursor)."""
    fields = fields_for(client, dataset_code, requested_fields)
    return fields, _cursor(since, "since")


def lines(client, secret, dataset_code, fields, start, *, on_end=None):
    """The NDJSON lines of every change after `start` (bytes, a page of rows at a time); `on_end(count)` is
    called once the trailer is written."""
    from foodrisk.scoring.models import GradeChange

    digest = hashlib.sha256()

    def out(obj):
        line = _line(obj)
        digest.update(line)
        return line

    yield out({"code": "OK", "dataset": dataset_code, "version": DATASETS[dataset_code].version, "since": start,
               "fields": fields})
    horizon = timezone.now() - timedelta(seconds=CHANGE_HORIZON_S)  # fixed for the whole stream
    changes = _in_client_scope(client, GradeChange.objects.filter(at__lte=horizon), "enterprise__region__code")
    # one query per page: the changes joined to the granted columns of their enterprises, as plain values (no
    # model instances, no IN list of thousands of ids)
    columns = list(dict.fromkeys(ROW_COLUMNS[f] for f in fields))
    selected = ["pk", "enterprise_id", *(f"enterprise__{c}" for c in columns)]
    last, count = start, 0
    while True:
        page = list(changes.filter(pk__gt=last).order_by("pk").values_list(*selected)[:CHUNK])
        if not page:
            break
        seen, block = set(), []
        for values in page:
            if values[1] in seen:  # changed twice within the page: sent once, in its latest state
                continue
            seen.add(values[1])
            block.append(out(enterprise_row(client, SimpleNamespace(**dict(zip(columns, values[2:], strict=True))),
                                            fields)))
        count += len(block)
        last = page[-1][0]
        yield b"".join(block)
        del page, block, seen
    stamp = str(int(time.time()))
    sha = digest.hexdigest()
    yield _line({"end": True, "count": count, "next": {"since": last}, "sha256": sha, "timestamp": stamp,
                 "signature": signing.sign(client.algorithm, secret, signing.stream_message(stamp, sha))})
    if on_end is not None:
        on_end(count)
