"""List endpoints read from a query string: filters, modified-since, sorting and page numbers over a
:class:`~connectors.sandboxkit.resources.ResourceStore`.

Most REST accounting APIs spell a list query the same way with different names: ``field=value`` (exact, ignoring
case), a "contains" and a "starts with" variant of a field, a modified-since time, a sort column and direction,
and ``page`` / ``per_page`` with a largest page. A platform declares its names and its error for a bad parameter in
one :class:`Listing`; what only it does (a ``filter_by`` vocabulary, a free-text search) is the ``where`` it passes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .platform import parse_timestamp
from .resources import Page, ResourceStore, Row


@dataclass(frozen=True)
class Listing:
    """One platform's list query convention. ``filters``: resource -> fields a list may be filtered on.
    ``sorts``: the sort column values accepted; ``columns`` maps one to a store column (``created``, ``modified``)
    when it is not a record field. ``invalid(name)``: the exception the platform raises for a bad parameter."""

    filters: Mapping[str, tuple[str, ...]]
    sorts: frozenset[str]
    invalid: Callable[[str], Exception]
    columns: Mapping[str, str] = field(default_factory=dict)
    default_sort: str = ""
    #: Resources listed in descending order when the query names no order (documents newest first, say).
    descending: frozenset[str] = frozenset()
    max_per_page: int = 200
    contains: str | None = "_contains"
    startswith: str | None = "_startswith"
    page_param: str = "page"
    per_page_param: str = "per_page"
    sort_param: str = "sort_column"
    order_param: str = "sort_order"
    modified_param: str | None = None

    def query(self, store: ResourceStore, resource: str, params: Mapping[str, str],
              where: Callable[[Row], bool] | None = None) -> tuple[Page, str, bool]:
        """One page of ``resource`` as ``params`` ask, with the sort column and whether it is descending. An
        order is ascending when its value starts with "a" (``A``, ``asc``, ``ascending``)."""
        fields = self.filters[resource]
        equals = {f: params[f] for f in fields if params.get(f, "") != ""}
        contains = {f: params[f + self.contains] for f in fields if self.contains and params.get(f + self.contains)}
        starts = {f: params[f + self.startswith] for f in fields
                  if self.startswith and params.get(f + self.startswith)}
        since = self._time(params, self.modified_param)
        column = params.get(self.sort_param) or self.default_sort
        if column and column not in self.sorts:
            raise self.invalid(self.sort_param)
        order = params.get(self.order_param) or ("D" if resource in self.descending else "A")
        try:
            page = max(1, int(params.get(self.page_param) or 1))
            per_page = min(self.max_per_page, max(1, int(params.get(self.per_page_param) or self.max_per_page)))
        except ValueError:
            raise self.invalid(self.page_param) from None
        descending = not order.lower().startswith("a")
        found = store.query(resource, equals=equals, contains=contains, startswith=starts, modified_since=since,
                            where=where, sort=self.columns.get(column, column) or None, descending=descending,
                            page=page, per_page=per_page)
        return found, column, descending

    def _time(self, params: Mapping[str, Any], name: str | None) -> float | None:
        if not name or not params.get(name):
            return None
        try:
            return parse_timestamp(params[name])
        except ValueError:
            raise self.invalid(name) from None
