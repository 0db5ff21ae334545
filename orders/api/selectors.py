"""What the API reads: one merchant's rows only, loaded in a constant number of queries per page
(the page's orders, then their items and shipments in one query each)."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from orders.models import (NotificationStatus, Order, OrderItem, Shipment, ShipmentItem, WebhookBatch,
                           WebhookSubscription)
from stores.models import Merchant, StatusMapping, Store


def api_stores(*, merchant: Merchant, show_inactive: bool = False) -> QuerySet[Store]:
    stores = Store.objects.filter(merchant=merchant).order_by("pk")
    return stores if show_inactive else stores.filter(active=True)


def api_store(*, merchant: Merchant, store_id) -> Store | None:
    """The merchant's store `store_id` with its status mapping (None: not one of theirs)."""
    return (Store.objects.filter(merchant=merchant, pk=store_id)
            .prefetch_related(Prefetch("status_mappings", queryset=StatusMapping.objects.order_by("status", "pk")))
            .first())


def api_orders(*, merchant: Merchant) -> QuerySet[Order]:
    """The merchant's orders, for a page: items and (non-void) shipments prefetched."""
    return (Order.objects.filter(store__merchant=merchant)
            .select_related("store")
            .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("pk")),
                              Prefetch("shipments", queryset=Shipment.objects.filter(voided_at__isnull=True)
                                       .order_by("-ship_date", "-pk"), to_attr="live_shipments")))


def api_order(*, merchant: Merchant, order_id) -> Order | None:
    return api_orders(merchant=merchant).filter(pk=order_id).first()


def api_shipments(*, merchant: Merchant, include_items: bool = False) -> QuerySet[Shipment]:
    shipments = (Shipment.objects.filter(order__store__merchant=merchant)
                 .select_related("order", "order__store", "notification"))
    if include_items:
        shipments = shipments.prefetch_related(
            Prefetch("items", queryset=ShipmentItem.objects.select_related("order_item").order_by("pk")))
    return shipments


def api_webhooks(*, merchant: Merchant) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(merchant=merchant, active=True).order_by("pk")


def api_batch(*, merchant: Merchant, **lookup) -> WebhookBatch | None:
    return WebhookBatch.objects.filter(merchant=merchant, **lookup).first()


def notification_sent(shipment: Shipment) -> bool:
    notification = getattr(shipment, "notification", None) if shipment.notify_store else None
    return notification is not None and notification.status == NotificationStatus.SENT
