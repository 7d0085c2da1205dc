from django.db import migrations


def forwards(apps, schema_editor):
    from foodrisk.supervision.seeds import seed

    seed(apps)


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial"), ("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
