"""Table bodies rendered by core's `table_rows` tag are the cells django-tables2's stock template renders:
local time and localisation, escaping, links, choice labels, row and cell attributes, the empty text."""

import datetime as dt
import re

import django_tables2 as tables
import pytest
from django.template.loader import get_template
from django.test import RequestFactory
from django.utils import timezone
from django.utils.html import format_html

from foodrisk.enterprises.models import Enterprise

STOCK = "django_tables2/bootstrap5-responsive.html"
OURS = "django_tables2/table.html"


class SampleTable(tables.Table):
    name = tables.Column(linkify=lambda record: f"/e/{record['id']}/")
    at = tables.Column()
    amount = tables.Column(attrs={"td": {"class": lambda value: "text-danger" if value and value > 100 else ""}})
    note = tables.Column()
    badge = tables.Column(empty_values=())

    class Meta:
        row_attrs = {"class": lambda record: "table-warning" if record["id"] == 2 else ""}
        empty_text = "没有记录"

    def render_badge(self, record):
        return format_html('<span class="grade">{}</span>', record["id"])


def tbody(template, table, request):
    html = get_template(template).render({"table": table, "request": request}, request)
    body = re.search(r"<tbody.*?</tbody>", html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", body)).replace("<td >", "<td>").replace("<tr >", "<tr>")


ROWS = [
    {"id": 1, "name": "上城区<某>食品店", "at": dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), "amount": 1234.5,
     "note": "=cmd|' /C calc'!A0"},
    {"id": 2, "name": "A & B", "at": None, "amount": 50, "note": ""},
]


@pytest.mark.parametrize("rows", [ROWS, []], ids=["rows", "empty"])
def test_our_body_equals_the_stock_body(rows):
    request = RequestFactory().get("/")
    table = SampleTable(rows)
    tables.RequestConfig(request).configure(table)
    with timezone.override("Asia/Shanghai"):
        ours, stock = tbody(OURS, table, request), tbody(STOCK, table, request)
    assert ours == stock
    if rows:
        assert "2026年7月1日 07:30" in ours  # local time (UTC+8), localised
        assert "上城区&lt;某&gt;食品店" in ours and 'class="text-danger">1234.5<' in ours
        assert 'class="table-warning odd"' in ours and "&#x27; /C calc&#x27;" in ours
    else:
        assert "没有记录" in ours


@pytest.mark.django_db
def test_model_tables_render_choice_labels_through_our_template(django_user_model):
    from foodrisk.enterprises.tables import EnterpriseTable

    table = EnterpriseTable(Enterprise.objects.none())
    request = RequestFactory().get("/")
    tables.RequestConfig(request).configure(table)
    assert tbody(OURS, table, request) == tbody(STOCK, table, request)


def test_the_project_uses_our_template():
    from django.conf import settings

    assert settings.DJANGO_TABLES2_TEMPLATE == OURS


def test_date_columns_render_what_the_stock_template_columns_render():
    """core.columns replaces django-tables2's date columns (a template compiled per cell) with Python rendering
    of the same text; a model's date fields get them."""
    from django_tables2.columns import DateColumn as StockDate
    from django_tables2.columns import DateTimeColumn as StockDateTime

    from foodrisk.core import columns
    from foodrisk.scoring.tables import GradeChangeTable, ScoreTable

    assert type(ScoreTable([]).columns["as_of"].column) is columns.DateColumn
    assert type(GradeChangeTable([]).columns["at"].column) is columns.DateTimeColumn

    def table(date_class, datetime_class, **kwargs):
        return type("T", (tables.Table,), {"on": date_class(**kwargs), "at": datetime_class(**kwargs)})

    rows = [{"on": dt.date(2026, 2, 28), "at": dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)},
            {"on": None, "at": None}]
    request = RequestFactory().get("/")
    for kwargs in ({}, {"short": False}, {"format": "Y-m-d"}):
        ours, stock = table(columns.DateColumn, columns.DateTimeColumn, **kwargs)(rows), \
            table(StockDate, StockDateTime, **kwargs)(rows)
        with timezone.override("Asia/Shanghai"):
            assert tbody(OURS, ours, request) == tbody(STOCK, stock, request), kwargs
        assert list(ours.as_values()) == list(stock.as_values())  # exports keep the ISO values
    with timezone.override("Asia/Shanghai"):
        assert "7月1日" in tbody(OURS, table(columns.DateColumn, columns.DateTimeColumn)(rows), request)


def test_signatures_are_read_once_per_function_with_the_same_answer():
    import django_tables2.utils as tables_utils

    from foodrisk.core import columns

    assert tables_utils.signature is columns.signature

    class Owner:
        def method(self, value, record):
            pass

        def star(*args, record, **kwargs):
            pass

    def plain(value, table=None, **extra):
        pass

    for fn in (Owner().method, Owner().method, Owner().star, plain, plain, lambda record: None, Owner.method):
        assert columns.signature(fn) == columns._signature(fn)
    assert columns.signature(Owner().method) == (("value", "record"), None)
    assert (Owner.method, False) in columns._known and (Owner.method, True) in columns._known
