"""Chinese words for the codes of an indicator set (aggregations, sources and their fields, rule types,
categories), for the pages. The spec keeps its codes; unknown codes are shown as they are."""

from django.utils.translation import gettext_lazy as _

AGGREGATIONS = {
    "count": _("count"), "sum": _("sum"), "max": _("maximum"), "min": _("minimum"), "exists": _("exists"),
    "days_since_last": _("days since the last"), "rate": _("rate"), "trend": _("trend"), "value": _("value"),
    "age_months": _("age in months"),
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


def source_label(source, field=""):
    """enterprises.static_tier → 企业·静态风险等级: the record kind's and the field's verbose names."""
    from django.apps import apps

    from foodrisk.records.models import RECORD_KINDS

    models = {"enterprises": apps.get_model("enterprises", "Enterprise"),
              "licences": apps.get_model("enterprises", "Licence"), **RECORD_KINDS}
    model = models.get(source)
    if model is None:
        return f"{source}.{field}" if field else source
    label = str(model._meta.verbose_name)
    if field:
        try:
            label += "·" + str(model._meta.get_field(field).verbose_name)
        except Exception:  # a field of the engine's snapshot only (e.g. food_categories as text): its code
            label += "·" + field
    return label


def category_label(code, categories=None):
    """A category code by the set's own category names (categories: spec["categories"]) and CATEGORY_PARTS."""
    names = {k: v.get("name") for k, v in (categories or {}).items()}
    parts = (code or "").split(".")
    return "·".join(str(names.get(p) or CATEGORY_PARTS.get(p, p)) for p in parts if p)
