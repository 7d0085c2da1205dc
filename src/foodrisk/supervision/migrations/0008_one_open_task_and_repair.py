from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

NOTE = "duplicate: another open one for the same record existed when the rule became a constraint"


def end_duplicates(apps, schema_editor):
    """Before the constraints: of several open follow-up tasks of one warning (per kind) the oldest stays and the
    others are cancelled; of several open repair applications for one record the oldest stays and the others are
    rejected — each with a note saying why."""
    Task = apps.get_model("supervision", "Task")
    RepairCase = apps.get_model("supervision", "RepairCase")
    seen = set()
    for task in Task.objects.filter(source="alert", status__in=["assigned", "in_progress", "verifying"]) \
            .order_by("source_ref", "kind", "pk"):
        if (task.source_ref, task.kind) in seen:
            task.status, task.completed_at, task.outcome = "cancelled", timezone.now(), NOTE
            task.save(update_fields=["status", "completed_at", "outcome"])
        seen.add((task.source_ref, task.kind))
    for field in ("penalty_id", "list_entry_id"):
        seen = set()
        for case in RepairCase.objects.filter(status__in=["applied", "reviewed"], **{f"{field}__isnull": False}) \
                .order_by(field, "pk"):
            if getattr(case, field) in seen:
                case.status, case.decided_at, case.reason = "rejected", timezone.now(), NOTE
                case.save(update_fields=["status", "decided_at", "reason"])
            seen.add(getattr(case, field))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_purge_files_schedule'),
        ('enterprises', '0005_recordversion'),
        ('records', '0004_attachment_uploaded_by_label'),
        ('supervision', '0007_neutral_profile_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(end_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='repaircase',
            constraint=models.UniqueConstraint(condition=models.Q(('penalty__isnull', False), ('status__in', ['applied', 'reviewed'])), fields=('penalty',), name='supervision_one_open_repair_per_penalty'),
        ),
        migrations.AddConstraint(
            model_name='repaircase',
            constraint=models.UniqueConstraint(condition=models.Q(('list_entry__isnull', False), ('status__in', ['applied', 'reviewed'])), fields=('list_entry',), name='supervision_one_open_repair_per_list_entry'),
        ),
        migrations.AddConstraint(
            model_name='task',
            constraint=models.UniqueConstraint(condition=models.Q(('source', 'alert'), ('status__in', ['assigned', 'in_progress', 'verifying'])), fields=('source_ref', 'kind'), name='supervision_one_open_task_per_alert'),
        ),
    ]
