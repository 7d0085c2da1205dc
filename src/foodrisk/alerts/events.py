"""Events of alerts, queued inside the transaction of the change (core.outbox). Supervision (and other apps
above) react in the worker; alerts never imports them.

`alert_raised`: alert_id, created (False = a repeat added an occurrence), occurrence_id.
`alert_transitioned`: alert_id, action ("confirm", "dismiss", "dispatch", "handle", "close", "escalate"),
from_status, to_status, user_id (None for the system).
"""

from foodrisk.core import outbox

ALERT_RAISED = "alert_raised"
ALERT_TRANSITIONED = "alert_transitioned"


def emit_raised(alert, created, occurrence):
    outbox.emit(ALERT_RAISED, alert_id=alert.pk, created=created, occurrence_id=occurrence.pk)


def emit_transitioned(alert, action, from_status, to_status, user):
    outbox.emit(ALERT_TRANSITIONED, alert_id=alert.pk, action=action, from_status=from_status, to_status=to_status,
                user_id=getattr(user, "pk", None))
