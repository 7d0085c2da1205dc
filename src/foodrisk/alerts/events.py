"""Events of alerts, sent after the transaction commits. Supervision (and sharing) listen; alerts never
imports them.

`alert_raised`: alert, created (False = a repeat added an occurrence), occurrence.
`alert_transitioned`: alert, action ("confirm", "dismiss", "dispatch", "handle", "close", "escalate"),
from_status, to_status, user (None for the system).
"""

from django.db import transaction
from django.dispatch import Signal

alert_raised = Signal()
alert_transitioned = Signal()


def emit_raised(alert, created, occurrence):
    transaction.on_commit(lambda: alert_raised.send(sender=type(alert), alert=alert, created=created,
                                                    occurrence=occurrence))


def emit_transitioned(alert, action, from_status, to_status, user):
    transaction.on_commit(lambda: alert_transitioned.send(sender=type(alert), alert=alert, action=action,
                                                          from_status=from_status, to_status=to_status, user=user))
