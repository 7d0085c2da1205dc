"""A person's preferences for how pages look (which columns a list shows). Not key operations: no audit
entry, only the person himself writes his own."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import ColumnChoice


def chosen_columns(user, table):
    """The columns `user` chose for `table`, or None (not chosen: his role's default)."""
    if not getattr(user, "is_authenticated", False):
        return None
    row = ColumnChoice.objects.filter(user=user, table=table).values_list("columns", flat=True).first()
    return list(row) if isinstance(row, list) else None


def choose_columns(user, table, columns, *, allowed):
    """Keep `columns` (in the order of `allowed`) as the user's choice for `table`; None = back to the default.
    A column the list does not offer is refused; at least one must stay."""
    if columns is None:
        ColumnChoice.objects.filter(user=user, table=table).delete()
        return None
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise ValidationError(_("This list has no column %(names)s.") % {"names": "、".join(unknown)})
    if not columns:
        raise ValidationError(_("Choose at least one column."))
    chosen = [c for c in allowed if c in set(columns)]
    with transaction.atomic():
        ColumnChoice.objects.update_or_create(user=user, table=table, defaults={"columns": chosen})
    return chosen
