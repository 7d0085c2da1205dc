from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least three of: lower-case, upper-case, digits, symbols (等保 password complexity)."""

    def validate(self, password, user=None):
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                _("The password must mix at least three of: lower-case letters, upper-case letters, digits and symbols."),
                code="password_too_simple",
            )

    def get_help_text(self):
        return _("Use at least three of: lower-case letters, upper-case letters, digits and symbols.")


# the largest id a database column holds (PostgreSQL bigint, SQLite INTEGER): a larger number in a URL, a filter or
# a list of ids names nothing (404 / 400), it is not sent to the database (SQLite raised OverflowError: a 500)
MAX_ID = 2**63 - 1


def is_digits(value) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '①', which int() refuses (a 500 on /api/…/%C2%B2/)."""
    value = str(value)
    return value.isascii() and value.isdigit()


def as_id(value):
    """The row id a request names (a query parameter, a form value), or None when it can name no row: not ASCII
    digits, 0, or beyond any column (MAX_ID; SQLite raises OverflowError for a larger int, a 500)."""
    value = str(value if value is not None else "")
    if not is_digits(value) or len(value) > 19:
        return None
    pk = int(value)
    return pk if 0 < pk <= MAX_ID else None
