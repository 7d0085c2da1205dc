"""Read system parameters (data, not code) with a default when the row is absent."""

from .models import Parameter


def get(key, default=None):
    row = Parameter.objects.filter(key=key).values_list("value", flat=True).first()
    return default if row is None else row
