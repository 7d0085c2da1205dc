from django import template

from ..params import summary

register = template.Library()


@register.filter
def rule_params(rule):
    """A warning rule's parameters as readable text ("天数：30；仅已核实：是"), not its JSON."""
    return summary(rule.kind, rule.params)
