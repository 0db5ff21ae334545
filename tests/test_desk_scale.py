"""The orders grid at 100,000 orders keeps the number of queries it has at 50 (status tabs,
counts, the page's rows and their columns): nothing is asked per row or per order."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderItem, Shipment, ShipmentItem, StoreNotification
from stores.models import OrderStatus
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

DESK = reverse("admin:orders_order_changelist")
STATUSES = [OrderStatus.AWAITING_SHIPMENT, OrderStatus.SHIPPED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED]


def add_orders(stores, count, *, start):
    now = timezone.now()
    batch = []
    for i in range(start, start + count):
        batch.append(Order(store=stores[i % len(stores)], external_id=f"X{i}", order_number=f"N{i:06d}",
                           order_date=now - dt.timedelta(minutes=i), modified_at=now, status=STATUSES[i % 4],
                           store_status="paid", ship_to_name=f"Customer {i}", ship_to_country="US"))
        if len(batch) == 5000:
            Order.objects.bulk_create(batch)
            batch = []
    Order.objects.bulk_create(batch)


def page_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DESK, params)
    assert response.status_code == 200
    return len(queries)


def test_the_grid_at_100000_orders_asks_as_many_queries_as_at_50(admin_client_su):
    stores = [StoreFactory(name="Shop A"), StoreFactory(name="Shop B")]
    add_orders(stores, 50, start=0)
    newest = list(Order.objects.order_by("-order_date")[:30])
    for order in newest:  # lines, shipments and notifications on the first page
        item = OrderItem.objects.create(order=order, sku="SKU", quantity=2, unit_price=Decimal("1.00"))
        shipment = Shipment.objects.create(order=order, carrier="UPS", ship_date=dt.date.today())
        ShipmentItem.objects.create(shipment=shipment, order_item=item, quantity=1)
        StoreNotification.objects.create(shipment=shipment, status="sent")
    # the default tab (Awaiting shipment), "All" on page 2, one store's shipped orders
    views = [{}, {"o": "", "p": "2"}, {"status__exact": "shipped", "store__id__exact": stores[0].pk}]
    small = [page_queries(admin_client_su, params) for params in views]

    add_orders(stores, 100_000 - 50, start=50)
    assert Order.objects.count() == 100_000
    large = [page_queries(admin_client_su, params) for params in views]
    assert large == small
    assert max(large) <= 16, large
