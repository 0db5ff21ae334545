"""Read queries for the store pages, the activity log and the dashboard."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, F, IntegerField, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from .models import OrderStatus, RefreshStatus, Store

# An order written with an order date or modification time this far past the moment it was
# written has come from a store whose time-zone setting is probably wrong.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
TIMEZONE_WARNING = "Timestamps from this store land in the future: its time zone setting is probably wrong."
SUSPECT_SAMPLE = 20


def _future_q() -> Q:
    return Q(order_date__gt=F("updated_at") + FUTURE_TOLERANCE) | Q(modified_at__gt=F("updated_at") + FUTURE_TOLERANCE)


def store_timezone_suspect(*, store: Store) -> bool:
    """True when the store's newest orders, written since its settings last changed, carry
    an order date or modification time in the future (beyond a few minutes)."""
    from orders.models import Order

    newest = (Order.objects.filter(store=store, updated_at__gte=store.updated_at)
              .order_by("-updated_at", "-id").values("pk")[:SUSPECT_SAMPLE])
    return Order.objects.filter(pk__in=Subquery(newest)).filter(_future_q()).exists()


def _timezone_suspect_annotation():
    from orders.models import Order

    return Exists(Order.objects.filter(store=OuterRef("pk"), updated_at__gte=OuterRef("updated_at"))
                  .filter(_future_q()))


def count_subquery(qs) -> Coalesce:
    """COUNT(*) of a correlated queryset, as a scalar subquery (no GROUP BY on the outer query,
    no extra query per row). Used by the dashboard and the orders desk."""
    counted = qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def stores_for_dashboard(*, stores: QuerySet[Store]) -> QuerySet[Store]:
    """`stores` (already limited to what the user may see) with what the dashboard shows,
    in a constant number of queries."""
    from orders.models import NotificationStatus, Order, StoreNotification

    awaiting = Order.objects.filter(store=OuterRef("pk"), status=OrderStatus.AWAITING_SHIPMENT)
    failed = StoreNotification.objects.filter(shipment__order__store=OuterRef("pk"), status=NotificationStatus.FAILED)
    return (stores.select_related("merchant")
            .annotate(awaiting_shipment=count_subquery(awaiting),
                      failed_notifications=count_subquery(failed),
                      timezone_suspect=_timezone_suspect_annotation())
            .order_by("merchant__name", "name"))


@dataclass(frozen=True)
class StoreState:
    code: str  # ok / failing / running / never / inactive
    label: str
    detail: str


def store_state(*, store: Store, now: dt.datetime | None = None) -> StoreState:
    """The store's state in words: what it is doing and, when failing, its last error."""
    now = now or timezone.now()
    if store.lease_expires_at and store.lease_expires_at > now:
        return StoreState("running", "Importing now", "An import of this store is running.")
    if not store.active:
        return StoreState("inactive", "Inactive", "This store is inactive: it does not import. Its orders stay.")
    status = store.last_refresh_status
    if status == RefreshStatus.FAILED:
        when = f"{timesince(store.last_refresh_at, now)} ago" if store.last_refresh_at else "recently"
        error = store.last_refresh_error or "no reason was recorded"
        return StoreState("failing", "Failing",
                          f"The last import failed {when}: {error}. It is retried at the next refresh.")
    if status == RefreshStatus.SUCCEEDED:
        when = f"{timesince(store.last_refresh_at, now)} ago" if store.last_refresh_at else ""
        return StoreState("ok", "OK", f"The last import succeeded {when}.".replace(" .", "."))
    if status == RefreshStatus.RUNNING:
        return StoreState("running", "Importing now", "An import of this store is running.")
    return StoreState("never", "Never refreshed", "This store has not imported yet.")


def next_refresh_words(*, store: Store, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if not store.active:
        return "— (inactive)"
    if store.next_refresh_at is None or store.next_refresh_at <= now:
        return "due now"
    return f"in {timeuntil(store.next_refresh_at, now)}"


def store_import_runs(*, store: Store, limit: int = 50):
    return list(store.import_runs.select_related("triggered_by").order_by("-started_at", "-id")[:limit])


def store_notifications(*, store: Store, limit: int = 50):
    """The store's shipment notifications, newest first, each with its attempts (newest first)."""
    from django.db.models import Prefetch

    from orders.models import NotificationAttempt, StoreNotification

    return list(
        StoreNotification.objects.filter(shipment__order__store=store)
        .select_related("shipment", "shipment__order")
        .prefetch_related(Prefetch("attempt_log", queryset=NotificationAttempt.objects.order_by("-number")))
        .order_by("-created_at", "-id")[:limit]
    )
