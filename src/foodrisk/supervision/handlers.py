"""Supervision reacts to other apps' events; connected in SupervisionConfig.ready().

- alerts.alert_transitioned (after commit), action "dispatch": when the parameter
  `alert_dispatch_creates_task` is true, an inspection task is created for the dispatched alert.
"""

import logging

logger = logging.getLogger(__name__)


def on_alert_transitioned(sender, alert=None, action=None, user=None, **kwargs):
    if action != "dispatch" or alert is None:
        return
    from foodrisk.core import params

    if not params.get("alert_dispatch_creates_task", False):
        return
    from .services.tasks import create_task_from_alert

    try:
        create_task_from_alert(alert, user=user)
    except Exception:  # the alert is dispatched; a task that cannot be created must not fail it
        logger.exception("task for dispatched alert %s not created", getattr(alert, "pk", None))


def connect():
    from django.apps import apps

    if not apps.is_installed("foodrisk.alerts"):
        return
    try:
        from foodrisk.alerts.events import alert_transitioned
    except ImportError:  # the alerts app without its events module
        return
    alert_transitioned.connect(on_alert_transitioned, dispatch_uid="supervision.alert_transitioned")
