"""The orders desk: the Order list (filters, search, pagination, constant queries), the order
page, the packing slip and the bulk refresh of stores."""
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import ImportRun, Order, OrderItem, Shipment, ShipmentItem, StoreNotification
from stores.models import OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

DESK = reverse("admin:orders_order_changelist")


def bulk_orders(store, count, *, start=0):
    now = timezone.now()
    orders = Order.objects.bulk_create([
        Order(store=store, external_id=f"B{start + i}", order_number=f"N{start + i:05d}",
              order_date=now - dt.timedelta(minutes=i), modified_at=now, status=OrderStatus.AWAITING_SHIPMENT,
              store_status="paid", ship_to_name=f"Customer {start + i}", ship_to_street1="1 Main St",
              ship_to_city="Springfield", ship_to_postal_code="12345", ship_to_country="US")
        for i in range(count)
    ], batch_size=2000)
    if not orders[0].pk:
        orders = list(Order.objects.filter(store=store).order_by("pk"))
    OrderItem.objects.bulk_create([
        OrderItem(order=o, line_item_id="1", sku=f"SKU-{o.external_id}", name="Widget", quantity=2,
                  unit_price=Decimal("3.50"))
        for o in orders
    ], batch_size=2000)
    return orders


def test_desk_queries_do_not_grow_with_rows_on_the_page(admin_client_su, monkeypatch):
    # Given 10,000 orders, the newest of which have shipments with store notifications
    store = StoreFactory(name="Big shop")
    bulk_orders(store, 10_000)
    for order in Order.objects.order_by("-order_date", "-id")[:120]:
        shipment = Shipment.objects.create(order=order, carrier="UPS", tracking_number="1Z", ship_date=dt.date.today())
        ShipmentItem.objects.create(shipment=shipment, order_item=order.items.first(), quantity=2)
        StoreNotification.objects.create(shipment=shipment, status="sent", attempts=1)
    model_admin = admin.site._registry[Order]

    counts = {}
    for per_page in (10, 100):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_su.get(DESK)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.count('<tr><td class="action-checkbox">') == per_page
        assert "1 · <span class=\"sb-status-sent\">1 sent</span>" in html and "1 / 2" in html
        counts[per_page] = len(queries)
    # Then the page of 100 runs exactly as many queries as the page of 10
    assert counts[10] == counts[100], counts
    assert counts[100] <= 15, counts


def test_desk_filters_by_store_status_and_date(admin_client_su):
    shop, other = StoreFactory(name="Shop"), StoreFactory(name="Other")
    old = OrderFactory(store=shop, order_number="OLD-1", order_date=timezone.now() - dt.timedelta(days=40))
    new = OrderFactory(store=shop, order_number="NEW-1")
    held = OrderFactory(store=shop, order_number="HOLD-1", status=OrderStatus.ON_HOLD)
    elsewhere = OrderFactory(store=other, order_number="ELSE-1")

    def numbers(params):
        response = admin_client_su.get(DESK, params)
        assert response.status_code == 200
        return {o.order_number for o in response.context["cl"].result_list}

    assert numbers({"store__id__exact": shop.pk}) == {"OLD-1", "NEW-1", "HOLD-1"}
    assert numbers({"status__exact": "on_hold"}) == {"HOLD-1"}
    # the date filter's "Past 7 days" link
    since = (timezone.now() - dt.timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert numbers({"store__id__exact": shop.pk, "order_date__gte": since.isoformat()}) == {"NEW-1", "HOLD-1"}
    assert old.store == new.store == held.store != elsewhere.store


def test_desk_searches_order_number_customer_and_sku(admin_client_su):
    store = StoreFactory(name="Shop")
    ada = OrderFactory(store=store, order_number="SO-1001", ship_to_name="Ada Lovelace")
    grace = OrderFactory(store=store, order_number="SO-2002", ship_to_name="Grace Hopper")
    OrderItemFactory(order=ada, sku="TEA-EARL-GREY")
    OrderItemFactory(order=ada, sku="TEA-EARL-GREY-XL")  # two matching lines: the order is listed once
    OrderItemFactory(order=grace, sku="COFFEE-1")

    def found(term):
        response = admin_client_su.get(DESK, {"q": term})
        return [o.order_number for o in response.context["cl"].result_list]

    assert found("SO-2002") == ["SO-2002"]
    assert found("lovelace") == ["SO-1001"]
    assert found("EARL-GREY") == ["SO-1001"]
    assert found("nothing-like-this") == []


def test_desk_paginates(admin_client_su, monkeypatch):
    store = StoreFactory(name="Shop")
    bulk_orders(store, 120)
    response = admin_client_su.get(DESK, {"p": 3})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 20
    assert "120 orders" in response.content.decode()


def test_order_page_shows_lines_ship_to_shipments_and_links(admin_client_su):
    store = StoreFactory(name="Shop")
    order = OrderFactory(store=store, order_number="SO-9", ship_to_name="Ada Lovelace", ship_to_city="London")
    item = OrderItemFactory(order=order, sku="TEA-1", name="Earl Grey")
    shipment = Shipment.objects.create(order=order, carrier="RoyalMail", tracking_number="RM123",
                                       ship_date=dt.date.today())
    ShipmentItem.objects.create(shipment=shipment, order_item=item, quantity=1)
    StoreNotification.objects.create(shipment=shipment, status="failed", error="HTTP 422: already fulfilled")
    html = admin_client_su.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Earl Grey" in html and "TEA-1" in html
    assert "Ship to" in html and 'value="Ada Lovelace"' in html and 'value="London"' in html
    assert "RM123" in html and "Failed" in html and "HTTP 422: already fulfilled" in html
    assert reverse("admin:orders_order_ship", args=[order.pk]) in html
    assert reverse("shipbridge_packing_slip", args=[order.pk]) in html


def test_packing_slip_is_printable_with_branding_and_shippable_lines(admin_client_su):
    store = StoreFactory(name="Shop", brand_company_name="Acme Goods Ltd", brand_phone="+44 20 7946 0000",
                         brand_website="https://acme.example.test", brand_return_address="Unit 4, Dock Road\nLeeds")
    order = OrderFactory(store=store, order_number="SO-55", ship_to_name="Ada Lovelace", gift=True,
                         gift_message="Happy birthday <Zoë>")
    OrderItemFactory(order=order, sku="TEA-1", name="Earl Grey", quantity=3, location="A-01-02")
    OrderItem.objects.create(order=order, sku="", name="Discount", quantity=1, unit_price=-5, adjustment=True)
    response = admin_client_su.get(reverse("shipbridge_packing_slip", args=[order.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme Goods Ltd" in html and "+44 20 7946 0000" in html and "Unit 4, Dock Road" in html
    assert "SO-55" in html and "Earl Grey" in html and "A-01-02" in html and "Discount" not in html
    assert "Happy birthday &lt;Zoë&gt;" in html and "window.print()" in html and "@media print" in html


def test_bulk_refresh_of_the_selected_orders_stores(admin_client_su, eager_celery, django_capture_on_commit_callbacks,
                                                    sandboxes):
    from stores.sandbox.customstore import store_settings
    from stores.services import status_mapping_replace

    sandbox = sandboxes("custom_store", orders=5)
    live = StoreFactory(name="Live shop", settings={k: v for k, v in store_settings(sandbox).items()
                                                    if k != "password"},
                        secrets={"password": sandbox.state.password})
    status_mapping_replace(store=live, mapping={"paid": "awaiting_shipment"})
    asleep = StoreFactory(name="Old shop", active=False)
    picked = [OrderFactory(store=live).pk, OrderFactory(store=live).pk, OrderFactory(store=asleep).pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(DESK, {"action": "refresh_stores", "_selected_action": picked},
                                        follow=True)
    html = response.content.decode()
    assert "Import queued for Live shop" in html and "Inactive, left alone: Old shop." in html
    runs = ImportRun.objects.all()
    assert [(r.store_id, r.trigger, r.status) for r in runs] == [(live.pk, "user", "succeeded")]


# --- who may do what on the desk ----------------------------------------------------------


def clerk_of(store):
    return UserFactory(merchant=store.merchant, username="clerk", groups=["shipping clerk"])


def test_shipping_clerk_ships_without_editing_orders(client):
    store = StoreFactory(name="Shop", notify_store=False)
    order = OrderFactory(store=store, order_number="SO-1")
    item = OrderItemFactory(order=order, quantity=2)
    client.force_login(clerk_of(store))
    html = client.get(DESK).content.decode()
    assert "SO-1" in html and "refresh_stores" not in html  # no store changes for clerks
    assert client.post(reverse("admin:orders_order_change", args=[order.pk]), {"status": "cancelled"}
                       ).status_code == 403
    ship = reverse("admin:orders_order_ship", args=[order.pk])
    assert client.get(ship).status_code == 200
    response = client.post(ship, {"carrier": "UPS", "tracking_number": "1Z1", f"qty_{item.pk}": "2"})
    assert response.status_code == 302
    assert Shipment.objects.get(order=order).tracking_number == "1Z1"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
