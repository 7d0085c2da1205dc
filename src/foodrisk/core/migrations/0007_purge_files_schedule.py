from django.db import migrations


def seed(apps, schema_editor):
    from foodrisk.core.seeds import PARAMETERS, seed_parameters, seed_purge_schedule

    seed_purge_schedule(apps.get_model("core", "Schedule"))
    seed_parameters([row for row in PARAMETERS if row[0] == "generated_file_days"], apps.get_model("core", "Parameter"))


class Migration(migrations.Migration):
    dependencies = [("core", "0006_announcements")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
