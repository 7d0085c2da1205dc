"""Events other apps react to (scoring, alerts, sharing) without records knowing them.

`records_changed` is sent after the transaction that wrote the records commits, with
kind (e.g. "penalties"), enterprise_ids (set of ints) and records (the saved instances, or [] for bulk).
"""

from django.db import transaction
from django.dispatch import Signal

records_changed = Signal()


def emit_after_commit(kind, enterprise_ids, records=()):
    ids, rows = set(enterprise_ids), list(records)
    transaction.on_commit(lambda: records_changed.send(sender=kind, kind=kind, enterprise_ids=ids, records=rows))
