from django.db import migrations

OLD = "bootstrap (first installation)"
NEW = "首次安装时启用（尚无第二人）。"  # the text bootstrap_profile now writes in zh-hans


def translate(apps, schema_editor):
    apps.get_model("indicators", "IndicatorSet").objects.filter(change_note=OLD).update(change_note=NEW)


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial")]

    operations = [migrations.RunPython(translate, migrations.RunPython.noop)]
