from django.db import migrations


def add_schedules(apps, schema_editor):
    """The hourly alert catch-up (and any other default schedule still missing)."""
    from foodrisk.alerts.seeds import SCHEDULES

    Schedule = apps.get_model("core", "Schedule")
    for schedule in SCHEDULES:
        Schedule.objects.get_or_create(job_kind=schedule["job_kind"], defaults=schedule)


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_default_rules"),
        ("core", "0004_worker_heartbeat_deliveries"),
    ]

    operations = [migrations.RunPython(add_schedules, migrations.RunPython.noop)]
