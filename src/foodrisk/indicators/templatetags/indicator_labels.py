from django import template

from .. import labels

register = template.Library()


@register.filter
def aggregation_label(code):
    return labels.AGGREGATIONS.get(code, code)


@register.filter
def rule_type_label(code):
    return labels.RULE_TYPES.get(code, code)


@register.filter
def match_label(code):
    return labels.MATCH.get(code, code)


@register.filter
def source_label(indicator):
    return labels.source_label(indicator.get("source", ""), indicator.get("field") or "")


@register.filter
def category_label(code, categories):
    return labels.category_label(code, categories)
