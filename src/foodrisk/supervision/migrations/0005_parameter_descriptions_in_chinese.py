from django.db import migrations


def document(apps, schema_editor):
    """Supervision's parameters get their Chinese names, descriptions and sources (values are left alone)."""
    from foodrisk.core.seeds import seed_parameters
    from foodrisk.supervision.seeds import PARAMETERS

    seed_parameters(PARAMETERS, apps.get_model("core", "Parameter"))


class Migration(migrations.Migration):
    dependencies = [("supervision", "0004_exportrequest_moved_to_core"), ("core", "0004_worker_heartbeat_deliveries")]

    operations = [migrations.RunPython(document, migrations.RunPython.noop)]
