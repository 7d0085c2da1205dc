from django.db import migrations


def add_digest_templates(apps, schema_editor):
    """The digest message templates (one notification per person for an event raising many alerts), so that an
    administrator finds and can edit them in existing databases too. Existing rows are left as they are."""
    from foodrisk.alerts.seeds import DIGEST_TEMPLATES

    MessageTemplate = apps.get_model("core", "MessageTemplate")
    for code, name, channels, subject, body in DIGEST_TEMPLATES:
        MessageTemplate.objects.get_or_create(code=code, defaults=dict(name=name, channels=channels, subject=subject,
                                                                       body=body))


class Migration(migrations.Migration):
    dependencies = [("alerts", "0004_first_grading_is_no_drop")]

    operations = [migrations.RunPython(add_digest_templates, migrations.RunPython.noop)]
