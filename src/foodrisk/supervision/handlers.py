"""Supervision reacts to other apps' events in the worker (subscribed in SupervisionConfig.ready through
core.outbox).

- alerts' alert_transitioned, action "dispatch": when the parameter `alert_dispatch_creates_task` is true, an
  inspection task is created for the dispatched alert (once: create_task_from_alert returns the existing one).
"""


def on_alert_transitioned(alert_id=None, action=None, user_id=None, **kwargs):
    if action != "dispatch" or alert_id is None:
        return None
    from foodrisk.core import params

    if not params.get("alert_dispatch_creates_task", False):
        return None
    from foodrisk.alerts.models import Alert
    from foodrisk.core.models import User

    from .services.tasks import create_task_from_alert

    user = User.objects.filter(pk=user_id).first() if user_id else None
    return {"task": create_task_from_alert(Alert.objects.get(pk=alert_id), user=user).pk}


def connect():
    from django.apps import apps

    if not apps.is_installed("foodrisk.alerts"):
        return
    from foodrisk.alerts.events import ALERT_TRANSITIONED
    from foodrisk.core import outbox

    outbox.react(ALERT_TRANSITIONED, "foodrisk.supervision.handlers.on_alert_transitioned")
