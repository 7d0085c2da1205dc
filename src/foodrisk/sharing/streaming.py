"""The streamed incremental pull (GET /api/sharing/v1/datasets/{code}/changes/?since=N): every change after the
cursor in one answer, as NDJSON, with bounded memory however many there are.

The changes are read in keyset pages of CHUNK (change number > the last one sent), each page's rows in one
query, written out and forgotten: the server holds one page at a time. Lines:

    {"code": "OK", "dataset": …, "version": …, "since": N, "fields": […]}      the header
    {…row…}                                                                    one per changed row and page
    {"end": true, "count": …, "next": {"since": M}, "sha256": …, "timestamp": …, "signature": …}

The answer's headers cannot carry a signature (they leave before the body exists), so the trailer does: sha256 is
the digest of every byte before the trailer line, signed like a header-signed answer (signing.stream_message).
A receiver keeps `next.since` only after the trailer verified; a stream without a trailer was cut short.
"""

import hashlib
import json
import time
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from . import signing
from .catalogue import DATASETS
from .services import (
    CHANGE_HORIZON_S,
    _cursor,
    changes_after,
    columns,
    dataset_row,
    fields_for,
    scoped_source,
)

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
    dataset = DATASETS[dataset_code]
    digest = hashlib.sha256()

    def out(obj):
        line = _line(obj)
        digest.update(line)
        return line

    yield out({"code": "OK", "dataset": dataset_code, "version": dataset.version, "since": start,
               "fields": fields})
    horizon = timezone.now() - timedelta(seconds=CHANGE_HORIZON_S)  # fixed for the whole stream
    source, cols = scoped_source(client, dataset), columns(dataset, fields)
    last, count = start, 0
    while True:
        # one page of changes, then their rows in one query as plain values (no model instances)
        page = list(changes_after(client, dataset, last, horizon).values_list("pk", dataset.change_row)[:CHUNK])
        if not page:
            break
        order = list(dict.fromkeys(row for _pk, row in page))  # changed twice within the page: sent once
        by_id = {values["pk"]: values for values in source.filter(pk__in=order).values(*cols)}
        block = [out(dataset_row(client, dataset, by_id[r], fields)) for r in order if r in by_id]
        count += len(block)
        last = page[-1][0]
        yield b"".join(block)
        del page, block, by_id
    stamp = str(int(time.time()))
    sha = digest.hexdigest()
    yield _line({"end": True, "count": count, "next": {"since": last}, "sha256": sha, "timestamp": stamp,
                 "signature": signing.sign(client.algorithm, secret, signing.stream_message(stamp, sha))})
    if on_end is not None:
        on_end(count)
