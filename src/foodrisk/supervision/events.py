"""Events of supervision, queued inside the transaction of the change (core.outbox); apps above (sharing's push
subscriptions) react in the worker, supervision never imports them.

`task_changed`: task_id, action ("create" or a transition: "start", "cancel", "complete", "result", "submit",
"verify"), status (the task's status after it) — a supervision measure on an enterprise began or moved on.
"""

from foodrisk.core import outbox

TASK_CHANGED = "task_changed"


def task_changed(task, action):
    """Every change of a task passes here inside its transaction (create_task and each transition), so the change
    log row that the sharing app's incremental pull follows is written here too: one place, never missed."""
    from .models import TaskChange

    TaskChange.objects.create(task=task, action=action[:12])
    outbox.emit(TASK_CHANGED, task_id=task.pk, action=action, status=task.status)
