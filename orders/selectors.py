"""Read queries used by the admin, the views and the operator commands: orders, shipments,
and the store pages that show them (activity log, dashboard, time-zone check)."""
from __future__ import annotations

import datetime as dt

from django.db.models import (Count, Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum,
                              Value)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext, gettext_noop

from stores.models import OrderStatus, Store

from .models import (NOTIFICATION_NOT_REQUESTED, NotificationAttempt, NotificationStatus, Order, OrderItem, Shipment,
                     ShipmentItem, StoreNotification)

# An order written with an order date or modification time this far past the moment it was
# written has come from a store whose time-zone setting is probably wrong.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# (marked only: the page shows it with gettext(TIMEZONE_WARNING))
TIMEZONE_WARNING = gettext_noop("Timestamps from this store land in the future: its time zone setting is probably "
                                "wrong.")
SUSPECT_SAMPLE = 20


def count_subquery(qs) -> Coalesce:
    """COUNT(*) of a correlated queryset, as a scalar subquery (no GROUP BY on the outer query,
    no extra query per row). Used by the dashboard and the orders desk."""
    counted = qs.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- stores, as seen through their orders ---------------------------------------------------


def _future_q() -> Q:
    return Q(order_date__gt=F("updated_at") + FUTURE_TOLERANCE) | Q(modified_at__gt=F("updated_at") + FUTURE_TOLERANCE)


def store_timezone_suspect(*, store: Store) -> bool:
    """True when the store's newest orders, written since its settings last changed, carry
    an order date or modification time in the future (beyond a few minutes)."""
    newest = (Order.objects.filter(store=store, updated_at__gte=store.updated_at)
              .order_by("-updated_at", "-id").values("pk")[:SUSPECT_SAMPLE])
    return Order.objects.filter(pk__in=Subquery(newest)).filter(_future_q()).exists()


def stores_for_dashboard(*, stores: QuerySet[Store]) -> QuerySet[Store]:
    """`stores` (already limited to what the user may see) with what the dashboard shows,
    in a constant number of queries."""
    awaiting = Order.objects.filter(store=OuterRef("pk"), status=OrderStatus.AWAITING_SHIPMENT)
    failed = StoreNotification.objects.filter(shipment__order__store=OuterRef("pk"), status=NotificationStatus.FAILED)
    suspect = Exists(Order.objects.filter(store=OuterRef("pk"), updated_at__gte=OuterRef("updated_at"))
                     .filter(_future_q()))
    return (stores.select_related("merchant")
            .annotate(awaiting_shipment=count_subquery(awaiting),
                      failed_notifications=count_subquery(failed),
                      timezone_suspect=suspect)
            .order_by("merchant__name", "name"))


def store_import_runs(*, store: Store, limit: int = 50):
    return list(store.import_runs.select_related("triggered_by").order_by("-started_at", "-id")[:limit])


def store_notifications(*, store: Store, limit: int = 50):
    """The store's shipment notifications, newest first, each with its attempts (newest first)."""
    return list(
        StoreNotification.objects.filter(shipment__order__store=store)
        .select_related("shipment", "shipment__order")
        .prefetch_related(Prefetch("attempt_log", queryset=NotificationAttempt.objects.order_by("-number")))
        .order_by("-created_at", "-id")[:limit]
    )


# --- shipping ------------------------------------------------------------------------------


def shipped_quantities(*, order: Order) -> dict[int, int]:
    """{order item id: quantity in the order's shipments that are not void}."""
    rows = (
        ShipmentItem.objects.filter(shipment__order_id=order.pk, shipment__voided_at__isnull=True)
        .values("order_item_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["order_item_id"]: row["total"] for row in rows}


def order_shipping_lines(*, order: Order) -> list[dict]:
    """Each line of the order with what is shipped and what is left (adjustments included,
    flagged, so a form can show them greyed out)."""
    shipped = shipped_quantities(order=order)
    lines = []
    for item in order.items.all().order_by("id"):
        done = shipped.get(item.pk, 0)
        lines.append({
            "item": item,
            "ordered": item.quantity,
            "shipped": done,
            "remaining": 0 if item.adjustment else max(0, item.quantity - done),
        })
    return lines


def order_deletable(*, order: Order) -> bool:
    """Whether the order may be deleted: entered in ShipBridge (its store imports nothing: an
    imported order would come back with the next import) and without any shipment (a void one
    included: it records what was shipped)."""
    return not order.store.connector_class.imports_orders and not Shipment.objects.filter(order=order).exists()


def order_repeat_notification_advice(*, order: Order) -> str:
    """When the order's store takes no second notice for items it was already told about
    (`accepts_repeat_notification`) and it was notified of a shipment of this order (void ones
    included: the store is never told about a void), what to do instead, in words (in the
    active language); else ""."""
    connector = order.store.connector_class
    if connector.accepts_repeat_notification:
        return ""
    notified = list(StoreNotification.objects.filter(shipment__order_id=order.pk, status=NotificationStatus.SENT)
                    .order_by("shipment_id").values_list("shipment_id", flat=True))
    if not notified:
        return ""
    shipments = ", ".join(f"#{pk}" for pk in notified)
    return gettext("{kind} was already notified of shipment {shipments} of this order. {advice}").format(
        kind=gettext(connector.short_label), shipments=shipments, advice=gettext(connector.repeat_notification_advice))


def order_failed_notifications(*, order: Order) -> list[StoreNotification]:
    """The failed store notifications of the order's shipments that are not void (the order
    page shows them first, each with "Resend")."""
    return list(StoreNotification.objects.filter(shipment__order_id=order.pk, shipment__voided_at__isnull=True,
                                                 status=NotificationStatus.FAILED)
                .select_related("shipment").order_by("pk"))


def notification_for_shipment(*, shipment: Shipment) -> StoreNotification | None:
    """The shipment's store notification; None when it was made with "do not notify the store"."""
    if not shipment.notify_store:
        return None
    return StoreNotification.objects.filter(shipment_id=shipment.pk).first()


# --- orders --------------------------------------------------------------------------------


def order_list(*, store_id: int | None = None, status: str | None = None) -> QuerySet[Order]:
    qs = Order.objects.select_related("store").prefetch_related(
        "items",
        Prefetch(
            "shipments",
            queryset=Shipment.objects.filter(voided_at__isnull=True).select_related("notification").order_by("id"),
        ),
    )
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("store_id", "order_date", "id")


def packing_slip_orders(*, orders: QuerySet[Order], ids) -> list[Order]:
    """The orders `ids` among `orders` (already limited to what the user may see), with their
    store and lines: a constant number of queries for any number of slips."""
    return list(orders.filter(pk__in=list(ids)).select_related("store")
                .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id"))))


def order_status_counts(*, orders: QuerySet[Order], store_id=None) -> dict[str, int]:
    """{status: number of orders} among `orders` (what the user may see), in one query."""
    if store_id not in (None, ""):
        orders = orders.filter(store_id=store_id)
    return dict(orders.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def order_desk_annotations() -> dict:
    """What the orders desk shows per row, computed in the list's own query (one query per
    page, whatever its number of rows)."""
    lines = OrderItem.objects.filter(order=OuterRef("pk"), adjustment=False)
    units = lines.order_by().annotate(n=Func(F("quantity"), function="SUM")).values("n")
    shipments = Shipment.objects.filter(order=OuterRef("pk"), voided_at__isnull=True)
    notifications = StoreNotification.objects.filter(shipment__order=OuterRef("pk"), shipment__voided_at__isnull=True,
                                                     shipment__notify_store=True)
    return {
        "desk_lines": count_subquery(lines),
        "desk_units": Coalesce(Subquery(units, output_field=IntegerField()), Value(0)),
        "desk_shipments": count_subquery(shipments),
        "desk_notify_failed": count_subquery(notifications.filter(status=NotificationStatus.FAILED)),
        "desk_notify_pending": count_subquery(notifications.filter(status=NotificationStatus.PENDING)),
        "desk_notify_sent": count_subquery(notifications.filter(status=NotificationStatus.SENT)),
    }


def _iso(value):
    return value.isoformat() if value is not None else None


def _number(value):
    return float(value) if value is not None else None


def shipment_as_dict(shipment: Shipment) -> dict:
    notification = getattr(shipment, "notification", None) if shipment.notify_store else None
    return {
        "id": shipment.pk,
        "carrier": shipment.carrier,
        "service": shipment.service,
        "tracking_number": shipment.tracking_number,
        "ship_date": _iso(shipment.ship_date),
        "notify_store": shipment.notify_store,
        "notification": {
            "status": notification.status if notification else NOTIFICATION_NOT_REQUESTED,
            "error": (notification.error or None) if notification else None,
        },
    }


def order_as_dict(order: Order) -> dict:
    """The documented `list_orders --json` shape (no secrets, no raw payload)."""
    return {
        "store": order.store_id,
        "external_id": order.external_id,
        "order_number": order.order_number,
        "order_date": _iso(order.order_date),
        "modified_at": _iso(order.modified_at),
        "status": order.status,
        "store_status": order.store_status,
        "ship_to": {
            "name": order.ship_to_name,
            "company": order.ship_to_company,
            "street1": order.ship_to_street1,
            "street2": order.ship_to_street2,
            "city": order.ship_to_city,
            "state": order.ship_to_state,
            "postal_code": order.ship_to_postal_code,
            "country": order.ship_to_country,
            "phone": order.ship_to_phone,
        },
        "items": [
            {
                "line_item_id": item.line_item_id,
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": _number(item.unit_price),
            }
            for item in order.items.all()
        ],
        "shipments": [shipment_as_dict(s) for s in order.shipments.all()],
    }


# --- the packing page (scan to verify) ------------------------------------------------------


def orders_by_scan(*, orders: QuerySet[Order], code: str) -> list[Order]:
    """The orders (among `orders`, what the user may see) whose order number is the scanned
    code: the barcode on a packing slip. Orders still to ship first."""
    code = code.strip()
    if not code:
        return []
    found = list(orders.filter(order_number=code).select_related("store").order_by("pk")[:20])
    if not found:  # a scanner set to upper case, or a number typed by hand
        found = list(orders.filter(order_number__iexact=code).select_related("store").order_by("pk")[:20])
    shippable = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD)
    return sorted(found, key=lambda o: (o.status not in shippable, o.pk))


def order_packing_lines(*, order: Order) -> list[dict]:
    """Each product line of the order with what is left to ship and the codes that count as it
    when scanned: its SKU, and the product's barcode / UPC and SKU aliases (the merchant's
    product with that SKU, or whose alias it is). Upper-cased (scanners differ)."""
    from .models import Product, ProductAlias

    lines = [line for line in order_shipping_lines(order=order) if not line["item"].adjustment]
    skus = {line["item"].sku for line in lines if line["item"].sku}
    merchant_id = order.store.merchant_id
    products = {p.sku: p for p in Product.objects.filter(merchant_id=merchant_id, sku__in=skus)}
    for alias in ProductAlias.objects.filter(product__merchant_id=merchant_id, sku__in=skus).select_related("product"):
        products.setdefault(alias.sku, alias.product)
    aliases: dict[int, list[str]] = {}
    for product_id, sku in ProductAlias.objects.filter(product__in=[p.pk for p in products.values()]).values_list(
            "product_id", "sku"):
        aliases.setdefault(product_id, []).append(sku)
    for line in lines:
        item = line["item"]
        product = products.get(item.sku)
        codes = {item.sku}
        if product is not None:
            codes |= {product.sku, product.barcode, *aliases.get(product.pk, [])}
        line["product"] = product
        line["codes"] = sorted(c.strip().upper() for c in codes if c and c.strip())
    return lines


# --- the dashboard ---------------------------------------------------------------------------

CHART_DAYS = 30


def dashboard_totals(*, stores: QuerySet[Store], today_start: dt.datetime) -> dict:
    """The dashboard's totals over `stores` (what the user may see): orders awaiting shipment,
    shipments made today, failed store notifications — one query each."""
    orders = Order.objects.filter(store__in=stores)
    return {
        "awaiting_shipment": orders.filter(status=OrderStatus.AWAITING_SHIPMENT).count(),
        "shipped_today": Shipment.objects.filter(order__store__in=stores, voided_at__isnull=True,
                                                 created_at__gte=today_start).count(),
        "failed_notifications": StoreNotification.objects.filter(shipment__order__store__in=stores,
                                                                 status=NotificationStatus.FAILED).count(),
    }


def dashboard_daily(*, stores: QuerySet[Store], since: dt.datetime, tz) -> dict[int, dict[str, dict]]:
    """{store id: {"imported": {day: n}, "shipped": {day: n}}} since `since`, days in `tz`:
    orders imported per day and shipments made per day (void ones left out), two queries."""
    from django.db.models.functions import TruncDate

    daily: dict[int, dict[str, dict]] = {}
    imported = (Order.objects.filter(store__in=stores, imported_at__gte=since)
                .annotate(day=TruncDate("imported_at", tzinfo=tz)).values("store_id", "day")
                .annotate(n=Count("pk")).order_by())
    for row in imported:
        daily.setdefault(row["store_id"], {"imported": {}, "shipped": {}})["imported"][row["day"]] = row["n"]
    shipped = (Shipment.objects.filter(order__store__in=stores, created_at__gte=since, voided_at__isnull=True)
               .annotate(day=TruncDate("created_at", tzinfo=tz)).values("order__store_id", "day")
               .annotate(n=Count("pk")).order_by())
    for row in shipped:
        daily.setdefault(row["order__store_id"], {"imported": {}, "shipped": {}})["shipped"][row["day"]] = row["n"]
    return daily


def running_imports(*, stores: QuerySet[Store]) -> dict[int, "ImportRun"]:
    """The running import of each store that has one (the newest): its pages and orders so far."""
    from .models import ImportRun, ImportRunStatus

    runs = {}
    for run in (ImportRun.objects.filter(store__in=stores, status=ImportRunStatus.RUNNING)
                .order_by("store_id", "-started_at", "-id")):
        runs.setdefault(run.store_id, run)
    return runs
