from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def end_duplicates(apps, schema_editor):
    """Before the constraints: where two proposals were pending (or two approved) for one enterprise, the latest
    stays and the earlier ones are withdrawn with a note, as a new approval would have done."""
    GradeAdjustment = apps.get_model("scoring", "GradeAdjustment")
    for status in ("pending", "approved"):
        seen = set()
        for adj in GradeAdjustment.objects.filter(status=status).order_by("enterprise_id", "-proposed_at", "-pk"):
            if adj.enterprise_id in seen:
                adj.status, adj.ended_at = "withdrawn", timezone.now()
                adj.decision_note = (adj.decision_note + "\n" if adj.decision_note else "") + \
                    "superseded: a later adjustment of the same enterprise was open at the same time"
                adj.save(update_fields=["status", "ended_at", "decision_note"])
            seen.add(adj.enterprise_id)


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0005_recordversion'),
        ('scoring', '0006_default_schedules'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(end_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='gradeadjustment',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('enterprise',), name='scoring_one_pending_adjustment'),
        ),
        migrations.AddConstraint(
            model_name='gradeadjustment',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'approved')), fields=('enterprise',), name='scoring_one_approved_adjustment'),
        ),
    ]
