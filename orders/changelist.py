"""The orders desk's date drill-down, without reading every order.

Django's date hierarchy lists the distinct years (months, days) of the orders in the list: a
query that truncates the date of every row — the whole table at the top level — whatever the
page shows. Here the drill-down offers every year (month, day) from the list's first order to its
last, found with two index lookups on the date column (the first and the last order): a period
in between without orders may be offered and then shows an empty list."""
from __future__ import annotations

import datetime as dt
from functools import cache

from django.contrib.admin.views.main import ChangeList
from django.db.models import F, Max, Min
from django.utils import timezone


class DateRangeDrillDown:
    """QuerySet mixin: `datetimes()` / `dates()` answer every period between the first and the
    last value of the field (what the admin's date hierarchy asks), and the admin's own
    `aggregate(first=Min(f), last=Max(f))` is answered from the same bounds. The bounds are read
    once per queryset, each with ORDER BY … LIMIT 1 on the indexed column (one MIN and one MAX in
    a single aggregate would make the database read every row of the list)."""

    def aggregate(self, *args, **kwargs):
        first, last = kwargs.get("first"), kwargs.get("last")
        if not args and set(kwargs) == {"first", "last"} and type(first) is Min and type(last) is Max:
            field_name = _field_name(first)
            if field_name is not None and field_name == _field_name(last):
                bounds = self._bounds(field_name)
                return {"first": bounds[0], "last": bounds[1]}
        return super().aggregate(*args, **kwargs)

    def _bounds(self, field_name: str) -> tuple:
        known = self.__dict__.setdefault("_drill_down_bounds", {})
        if field_name not in known:
            values = self.filter(**{f"{field_name}__isnull": False}).values_list(field_name, flat=True)
            known[field_name] = (values.order_by(field_name).first(), values.order_by(f"-{field_name}").first())
        return known[field_name]

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        zone = tzinfo or timezone.get_current_timezone()
        first, last = self._bounds(field_name)
        if first is None:
            return []
        first, last = (value.astimezone(zone) if timezone.is_aware(value) else value for value in (first, last))
        periods = [dt.datetime.combine(day, dt.time(), tzinfo=zone if timezone.is_aware(first) else None)
                   for day in _periods(first.date(), last.date(), kind)]
        return periods if order == "ASC" else periods[::-1]

    def dates(self, field_name, kind, order="ASC"):
        first, last = self._bounds(field_name)
        if first is None:
            return []
        periods = _periods(first, last, kind)
        return periods if order == "ASC" else periods[::-1]


def _field_name(aggregate) -> str | None:
    """The field an aggregate such as Min("order_date") reads (None for anything else)."""
    sources = [source for source in aggregate.get_source_expressions() if source is not None]  # (filter slot)
    if len(sources) == 1 and isinstance(sources[0], F) and aggregate.filter is None:
        return sources[0].name
    return None


def _periods(first: dt.date, last: dt.date, kind: str) -> list[dt.date]:
    """The first day of every `kind` (year, month, day) from `first` to `last`."""
    if kind == "year":
        return [dt.date(year, 1, 1) for year in range(first.year, last.year + 1)]
    if kind == "month":
        return [dt.date(index // 12, index % 12 + 1, 1)
                for index in range(first.year * 12 + first.month - 1, last.year * 12 + last.month)]
    if kind == "day":
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    raise ValueError(f"no drill-down by {kind!r}")


@cache
def _with_drill_down(queryset_class: type) -> type:
    return type(f"DateRange{queryset_class.__name__}", (DateRangeDrillDown, queryset_class), {})


class DateRangeChangeList(ChangeList):
    """A ChangeList whose date hierarchy reads MIN and MAX, not the distinct dates (see above)."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        clone = queryset._chain()
        clone.__class__ = _with_drill_down(type(queryset))
        return clone
