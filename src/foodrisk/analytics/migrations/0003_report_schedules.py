from django.db import migrations


def seed(apps, schema_editor):
    from foodrisk.analytics.seeds import seed_schedules

    seed_schedules(apps.get_model("core", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_report"),
        ("core", "0007_purge_files_schedule"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
