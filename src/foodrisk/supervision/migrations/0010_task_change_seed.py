"""One change row per task that existed before the change log: a client's first incremental pull (since=0)
receives every task, not only the ones that move after the upgrade."""

from django.db import migrations
from django.utils import timezone

BATCH = 5000


def seed(apps, schema_editor):
    Task = apps.get_model("supervision", "Task")
    TaskChange = apps.get_model("supervision", "TaskChange")
    now, last = timezone.now(), 0
    while True:
        ids = list(Task.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        TaskChange.objects.bulk_create([TaskChange(task_id=pk, action="existing", at=now) for pk in ids])
        last = ids[-1]


class Migration(migrations.Migration):
    dependencies = [("supervision", "0009_task_change")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
