"""Pagination for the list pages: the total row count read through the cache.

Every list page shows "N records" and pages by it, so each view ran a COUNT over the user's whole scope:
for a district of a 200k-enterprise city, counting the inspections joined to the district's enterprises
took hundreds of milliseconds, on every page view of every user. The count is kept in the cache for
LIST_COUNT_CACHE_SECONDS under a digest of the exact SQL and parameters of the query — so only the same
query (same region scope, same filters) shares it, never across scopes — and may lag that long behind new
rows. The rows of the page are always read fresh.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


def _queryset_of(object_list):
    """The QuerySet behind a page's rows: django-tables2 passes its BoundRows (rows.data.data)."""
    for candidate in (object_list, getattr(object_list, "data", None),
                      getattr(getattr(object_list, "data", None), "data", None)):
        if isinstance(candidate, QuerySet):
            return candidate
    return None


def count_cache_key(queryset):
    """The cache key of a queryset's row count: a digest of its database, SQL and parameters."""
    sql, params = queryset.order_by().query.sql_with_params()
    return "foodrisk:count:" + hashlib.sha256(f"{queryset.db}\0{sql}\0{params!r}".encode()).hexdigest()


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self):
        queryset = _queryset_of(self.object_list)
        seconds = settings.LIST_COUNT_CACHE_SECONDS
        if queryset is None or not seconds:
            return super().count
        key = count_cache_key(queryset)
        total = cache.get(key)
        if total is None:
            total = queryset.count()
            cache.set(key, total, seconds)
        return total
