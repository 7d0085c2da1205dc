"""Events of the archive (enterprises, licences, records), below both the enterprises and the records apps, so
either may emit them and neither imports the other for it. Reactions (scoring, alerts) subscribe through
core.outbox.react and run in the worker.

`records_changed`: kind (e.g. "penalties", "licences", "enterprises") and enterprise_ids (sorted list of ints);
emitted inside the transaction that wrote the rows.
"""

from . import outbox

RECORDS_CHANGED = "records_changed"


def records_changed(kind, enterprise_ids):
    ids = sorted(set(enterprise_ids))
    if ids:
        outbox.emit(RECORDS_CHANGED, kind=kind, enterprise_ids=ids)
