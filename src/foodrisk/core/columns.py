"""Date and date-time columns for every table, registered with django-tables2's column library (its documented
way to favour a project's own column for a model field type).

The stock DateColumn and DateTimeColumn are template columns: they compile a small template for every cell
they render, about half of a list page's cell time when a table has a date. These render the same text in
Python, exactly as the `date` filter would (the value in local time, the locale's short format); exports keep
the stock ISO values.
"""

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.timezone import template_localtime
from django_tables2.columns import library


class _RenderedInPython:
    def __init__(self, format=None, short=True, *args, **kwargs):
        super().__init__(format, short, *args, **kwargs)
        self.date_format = format or (self.short_format if short else self.long_format)

    def render(self, value, bound_column):
        if not value:  # as the stock template's `|default:default`: the table's text for an empty cell
            return bound_column.default
        return date_format(template_localtime(value), self.date_format)


@library.register
class DateColumn(_RenderedInPython, tables.DateColumn):
    short_format, long_format = "SHORT_DATE_FORMAT", "DATE_FORMAT"


@library.register
class DateTimeColumn(_RenderedInPython, tables.DateTimeColumn):
    short_format, long_format = "SHORT_DATETIME_FORMAT", "DATETIME_FORMAT"
