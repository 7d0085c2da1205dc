"""Chinese words for the codes of an indicator set (aggregations, sources and their fields, rule types,
categories), for the pages. The spec keeps its codes; unknown codes are shown as they are."""

from django.utils.translation import gettext_lazy as _

AGGREGATIONS = {
    "count": _("Number of records"), "exists": _("Any record (yes / no)"), "sum": _("Sum of the field"),
    "max": _("Largest value of the field"), "min": _("Smallest value of the field"),
    "days_since_last": _("Days since the latest record"), "rate": _("Share of records (rate)"),
    "trend": _("Trend (recent half against previous half)"), "value": _("Enterprise attribute"),
    "age_months": _("Age in months"),
}
RULE_TYPES = {"veto": _("veto (straight to a grade)"), "raise": _("raise the grade"), "lower": _("lower the grade"),
              "new_enterprise": _("new enterprise")}
MATCH = {"all": _("and"), "any": _("or")}
# the parts of a category code (food_safety.static, dynamic.inspection, signal) the set's own categories do not name
CATEGORY_PARTS = {
    "static": _("static"), "dynamic": _("dynamic"), "signal": _("model signal"), "credit": _("credit"),
    "food_safety": _("food safety"), "tier": _("static tier"), "form": _("business form"), "scale": _("scale"),
    "key": _("key supervision"), "inspection": _("inspections"), "sampling": _("sampling tests"),
    "penalty": _("penalties"), "complaint": _("complaints"), "licence": _("licences"), "list": _("lists"),
    "social": _("social credit"),
}


# snapshot columns that are no model field (derived or renamed)
COLUMN_LABELS = {"region_code": _("region code"), "active": _("still listed"), "valid": _("in force")}


def table_models():
    """Snapshot table → its model (the engine's tables are the archive's record kinds, enterprises, licences)."""
    from django.apps import apps

    from foodrisk.records.models import RECORD_KINDS

    return {**RECORD_KINDS, "enterprises": apps.get_model("enterprises", "Enterprise"),
            "licences": apps.get_model("enterprises", "Licence")}


def column_label(table, column):
    from django.core.exceptions import FieldDoesNotExist

    model = table_models().get(table)
    try:
        return model._meta.get_field(column).verbose_name
    except (AttributeError, FieldDoesNotExist):
        return COLUMN_LABELS.get(column, column)


def source_label(source, field=""):
    """enterprises.static_tier → 企业·静态风险等级: the table's and the field's verbose names."""
    model = table_models().get(source)
    label = str(model._meta.verbose_name) if model is not None else source
    return f"{label}·{column_label(source, field)}" if field else label


def category_label(code, categories=None):
    """A category code by the set's own category names (categories: spec["categories"]) and CATEGORY_PARTS."""
    names = {k: v.get("name") for k, v in (categories or {}).items()}
    parts = (code or "").split(".")
    return "·".join(str(names.get(p) or CATEGORY_PARTS.get(p, p)) for p in parts if p)
