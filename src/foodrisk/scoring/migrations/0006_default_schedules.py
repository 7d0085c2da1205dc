from django.db import migrations


def seed(apps, schema_editor):
    from foodrisk.scoring.seeds import seed_schedules

    seed_schedules(apps.get_model("core", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0005_list_order_indexes"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
