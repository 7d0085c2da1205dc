from django.db import migrations

SHIPPED = {"grade-into-d": (["D"], "企业信用风险等级降为D级（含首次评级即为D级）。"),
           "grade-into-c": (["C"], "企业信用风险等级降为C级。")}


def first_grading_is_no_drop(apps, schema_editor):
    """The built-in 'into C/D' rules as shipped fired on an enterprise's first grading, so a bureau's first run
    raised one warning per C/D enterprise (issue 13). Rules an administrator has edited are left alone."""
    from foodrisk.alerts.seeds import DEFAULT_RULES

    WarningRule = apps.get_model("alerts", "WarningRule")
    now = {code: (params, description) for code, _n, _k, params, _l, _t, _d, description in DEFAULT_RULES}
    for code, (to_grades, description) in SHIPPED.items():
        rule = WarningRule.objects.filter(code=code, builtin=True).first()
        if rule is None or rule.params != {"min_steps": 1, "to_grades": to_grades, "include_first_grading": True}:
            continue
        rule.params, rule.description = now[code]
        rule.save(update_fields=["params", "description"])


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_catch_up_schedule")]

    operations = [migrations.RunPython(first_grading_is_no_drop, migrations.RunPython.noop)]
