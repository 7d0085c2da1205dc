from django.db import migrations


def seed(apps, schema_editor):
    from foodrisk.core.seeds import PARAMETERS, seed_parameters

    seed_parameters([row for row in PARAMETERS if row[0] == "sharing_secret_overlap_hours"],
                    apps.get_model("core", "Parameter"))


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial"), ("core", "0007_purge_files_schedule")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
