"""Read queries used by the admin and the operator commands."""
from __future__ import annotations

from django.db.models import F, Func, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from stores.selectors import count_subquery

from .models import NOTIFICATION_NOT_REQUESTED, NotificationStatus, Order, OrderItem, Shipment, StoreNotification


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
