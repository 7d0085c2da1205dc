"""django-tables2 made cheaper per cell, for every table: date and date-time columns rendered in Python, and the
signatures of render and link callables read once.

The date columns are registered with django-tables2's column library (its documented way to favour a
project's own column for a model field type).

The stock DateColumn and DateTimeColumn are template columns: they compile a small template for every cell
they render, about half of a list page's cell time when a table has a date. These render the same text in
Python, exactly as the `date` filter would (the value in local time, the locale's short format).

Exports get the values themselves, not text: a date column's cell is the date, a date-time column's the time
stamp, a boolean column's the bool (django-tables2's own `value()` gives ISO text and "True"/"False"); the one
export writer (core.spreadsheets) makes them Excel dates, Beijing time and 是/否. Patched on the stock classes,
so a table declaring `tables.BooleanColumn(...)` itself exports the same way.
"""

import datetime as dt
import types

import django_tables2 as tables
import django_tables2.utils
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


def _date_value(self, value, **kwargs):
    return value if isinstance(value, dt.date) else tables.Column.value(self, value=value, **kwargs)


def _bool_value(self, record, value, bound_column):
    return self._get_bool_value(record, value, bound_column)


tables.DateColumn.value = _date_value  # DateTimeColumn too: a datetime is a date
tables.DateTimeColumn.value = _date_value
tables.BooleanColumn.value = _bool_value


# django-tables2 asks `inspect.signature` of a cell's render (or link, or attribute) callable for every cell it
# renders, to pass only the arguments it names: a fifth of a list page's CPU time. The answer depends only on
# the function, so it is read once per function (bound methods: per underlying function, without `self`).
# `call_with_appropriate` looks `signature` up in its module at each call, which is what is replaced here.
_signature = django_tables2.utils.signature
_known = {}  # (function, bound) → (argument names, name of **kwargs); a few hundred entries in this project


def signature(fn):
    bound = isinstance(fn, types.MethodType)
    function = fn.__func__ if bound else fn
    if not isinstance(function, types.FunctionType):
        return _signature(fn)  # partials, classes, other callables: asked each time, as before
    key = (function, bound)
    try:
        return _known[key]
    except KeyError:
        if len(_known) > 4096:  # functions made at run time must not grow it without bound
            _known.clear()
        _known[key] = answer = _signature(fn)
        return answer


django_tables2.utils.signature = signature
