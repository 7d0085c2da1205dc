from django.db import migrations


def seed(apps, schema_editor):
    from foodrisk.alerts.seeds import seed_default_rules

    seed_default_rules(apps.get_model("alerts", "WarningRule"), apps.get_model("core", "MessageTemplate"),
                       apps.get_model("core", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
