from django.db import migrations

OLD_NAMES = {"food_2016": "食品生产经营风险分级（2016试行办法）· 大庆抽查比例",
             "food_2022_draft": "食品生产企业风险分级（2022征求意见稿）· 巴彦淖尔抽查比例"}


def neutral_names(apps, schema_editor):
    """A Hangzhou bureau should not see its measures named after 大庆 or 巴彦淖尔: the shipped profiles are named by
    their ratios (the description still says where the ratios come from). Names an administrator changed stay."""
    from foodrisk.supervision.seeds import PROFILES

    Profile = apps.get_model("supervision", "SupervisionProfile")
    new = {p["code"]: p["name"] for p in PROFILES}
    for code, old in OLD_NAMES.items():
        Profile.objects.filter(code=code, name=old).update(name=new[code])


class Migration(migrations.Migration):
    dependencies = [("supervision", "0006_draws_respect_people")]

    operations = [migrations.RunPython(neutral_names, migrations.RunPython.noop)]
