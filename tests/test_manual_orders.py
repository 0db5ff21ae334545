"""Manual orders: entered by hand (service and the admin's "Add order" page) in the merchant's
"Manual orders" store, shipped like any order without the store being told, listed by
list_orders, left alone by imports; imported orders cannot be deleted or "added another"."""
import io
import json
from decimal import Decimal

import pytest
import requests
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from orders.importing import (StoreNotImported, store_queue_refresh, store_refresh, stores_queue_refresh,
                              stores_refresh_due)
from orders.manual import ManualOrderError, manual_order_create, manual_order_delete
from orders.models import ImportRun, Order, OrderItem, Product, Shipment, StoreNotification
from orders.notifying import notification_deliver
from orders.shipping import StoreForbids, shipment_create, shipment_void
from stores.connectors.manual.connector import ManualConnector
from stores.connectors.registry import addable_connector_names, get_connector_class
from stores.models import Store
from tests.factories import MerchantFactory, OrderFactory, OrderItemFactory, StoreFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

SHIP_TO = {"name": "Grace Hopper", "street1": "1 Navy Yard", "city": "Arlington", "state": "VA",
           "postal_code": "22202", "country": "us", "phone": "555-0100"}
ADD = reverse("admin:orders_order_add")


@pytest.fixture(autouse=True)
def no_store_io(monkeypatch):
    """A manual store is never contacted: its connector's I/O and any HTTP request fail the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a manual store was contacted")

    monkeypatch.setattr(ManualConnector, "fetch_orders", refuse)
    monkeypatch.setattr(ManualConnector, "notify_shipment", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)


@pytest.fixture
def widget(merchant):
    return Product.objects.create(merchant=merchant, sku="WID-1", name="Blue widget", weight_grams=Decimal("250"),
                                  bin_location="A-3")


def enter(merchant, **kwargs):
    return manual_order_create(merchant=merchant, **{"ship_to": SHIP_TO, "lines": [{"sku": "X-1", "quantity": 1}],
                                                     **kwargs})


def counts():
    return Store.objects.count(), Order.objects.count(), OrderItem.objects.count()


def merchant_user(merchant, username, *groups):
    return UserFactory(merchant=merchant, username=username, groups=list(groups or ["merchant admin"]))


# --- the service ---------------------------------------------------------------------------


def test_an_order_entered_by_hand_lands_whole_in_the_merchants_manual_store(merchant, widget, superuser):
    # When an order is entered with a product line and a typed line
    order = manual_order_create(
        merchant=merchant, order_number=" PHONE-7 ", ship_to=SHIP_TO, customer_email="grace@example.test",
        notes="Called at 10:05", user=superuser,
        lines=[{"product": widget, "quantity": 2, "unit_price": "19.9"},
               {"sku": "GIFT-WRAP", "name": "Gift wrap", "quantity": "1"}],
    )
    # Then it awaits shipment in the merchant's "Manual orders" store, numbered as typed
    store = order.store
    assert (store.merchant, store.connector_class, store.name) == (merchant, ManualConnector, "Manual orders")
    assert not store.notify_store and not store.status_mappings.exists()
    order.refresh_from_db()
    assert (order.order_number, order.external_id, order.status) == ("PHONE-7", "PHONE-7", "awaiting_shipment")
    assert order.order_date and order.modified_at == order.order_date
    assert (order.ship_to_name, order.ship_to_state, order.ship_to_country) == ("Grace Hopper", "VA", "US")
    assert order.customer_email == "grace@example.test" and order.internal_notes == "Called at 10:05"
    assert order.raw == {"entered_by": "root"}
    product_line, typed_line = order.items.order_by("id")
    assert (product_line.line_item_id, product_line.sku, product_line.name, product_line.quantity) == \
        ("1", "WID-1", "Blue widget", 2)
    assert product_line.unit_price == Decimal("19.90") and product_line.weight_grams == Decimal("250")
    assert product_line.location == "A-3"
    assert (typed_line.sku, typed_line.name, typed_line.quantity, typed_line.unit_price) == \
        ("GIFT-WRAP", "Gift wrap", 1, Decimal("0"))
    # And the next order goes to the same store: one per merchant
    assert enter(merchant).store == store and Store.objects.filter(merchant=merchant).count() == 1


def test_the_manual_store_takes_a_free_name(merchant):
    StoreFactory(merchant=merchant, name="Manual orders")  # a feed the merchant named so
    StoreFactory(merchant=merchant, name="Manual orders 2")
    store = enter(merchant).store
    assert store.name == "Manual orders 3" and store.connector_class is ManualConnector
    assert enter(merchant).store == store


def test_a_typed_sku_of_a_catalogue_product_gets_its_details(merchant, widget):
    order = enter(merchant, lines=[{"sku": "WID-1", "quantity": 1}])
    line = order.items.get()
    assert (line.name, line.weight_grams, line.location) == ("Blue widget", Decimal("250"), "A-3")


def test_numbers_are_generated_when_left_blank_unique_per_store(merchant):
    first, second = enter(merchant), enter(merchant, order_number="")
    assert (first.order_number, second.order_number) == ("M-000001", "M-000002")
    # a typed number in the same series moves the series on; typed numbers elsewhere do not
    enter(merchant, order_number="M-000041")
    enter(merchant, order_number="PHONE-1")
    assert enter(merchant).order_number == "M-000042"
    # another merchant's manual store has its own series
    assert enter(MerchantFactory(name="Other goods")).order_number == "M-000001"
    numbers = list(Order.objects.filter(store__merchant=merchant).values_list("order_number", flat=True))
    assert len(numbers) == len(set(numbers)) == 5


def test_a_number_taken_meanwhile_is_skipped(merchant, monkeypatch):
    # Given another order took the number about to be given (between the look-up and the insert)
    enter(merchant)
    from orders import manual
    stale = iter(["M-000001", "M-000002"])
    monkeypatch.setattr(manual, "_next_number", lambda store: next(stale))
    # Then the database refuses it and the next number is used
    assert enter(merchant).order_number == "M-000002"
    monkeypatch.setattr(manual, "_next_number", lambda store: "M-000001")
    with pytest.raises(ManualOrderError, match="no free order number"):
        enter(merchant)
    assert Order.objects.count() == 2


def test_a_taken_number_is_refused_with_nothing_written(merchant):
    enter(merchant, order_number="PHONE-1")
    before = counts()
    with pytest.raises(ManualOrderError, match="already has an order number 'PHONE-1'"):
        enter(merchant, order_number="PHONE-1")
    assert counts() == before


@pytest.mark.parametrize("changes, message", [
    ({"lines": []}, "at least one line"),
    ({"lines": [{"sku": "X", "quantity": 0}]}, "line 1: the quantity must be at least 1"),
    ({"lines": [{"sku": "X", "quantity": 1}, {"sku": "Y", "quantity": "two"}]}, "line 2: the quantity must be a whole"),
    ({"lines": [{"sku": "X"}]}, "line 1 needs a quantity"),
    ({"lines": [{"sku": "X", "quantity": True}]}, "line 1 needs a quantity"),
    ({"lines": [{"name": "Mystery", "quantity": 1}]}, "line 1 needs a product or a SKU"),
    ({"lines": [{"sku": "X", "quantity": 1, "colour": "red"}]}, "unknown field 'colour'"),
    ({"lines": [{"sku": "X", "quantity": 1, "unit_price": "-1"}]}, "unit price of line 1 must be zero or more"),
    ({"lines": [{"sku": "X", "quantity": 1, "unit_price": "lots"}]}, "unit price of line 1 must be a number"),
    ({"lines": [{"sku": "S" * 201, "quantity": 1}]}, "SKU of line 1 is too long"),
    ({"lines": [{"sku": "X", "name": "N" * 501, "quantity": 1}]}, "name of line 1 is too long"),
    ({"lines": "X-1"}, "must be a list"),
    ({"ship_to": {**SHIP_TO, "city": " "}}, r"incomplete \(missing: city\)"),
    ({"ship_to": {**SHIP_TO, "state": ""}}, r"incomplete \(missing: state\)"),
    ({"ship_to": {"name": "Nobody"}}, r"missing: street, city, postal code, country"),
    ({"ship_to": {**SHIP_TO, "country": "USA"}}, "2-letter ISO code"),
    ({"ship_to": {**SHIP_TO, "country": "XX"}}, "2-letter ISO code"),
    ({"ship_to": {**SHIP_TO, "name": "N" * 201}}, "ship-to name is too long"),
    ({"ship_to": {**SHIP_TO, "zip": "1"}}, "unknown ship-to field 'zip'"),
    ({"customer_email": "not-an-address"}, "is not an e-mail address"),
    ({"order_number": "9" * 101}, "order number is too long"),
])
def test_bad_input_is_refused_in_one_line_with_nothing_written(merchant, changes, message):
    before = counts()
    with pytest.raises(ManualOrderError, match=message) as caught:
        enter(merchant, **changes)
    assert "\n" not in str(caught.value) and isinstance(caught.value, ValueError)
    assert counts() == before  # not even the manual store


def test_another_merchants_product_is_refused(merchant):
    theirs = Product.objects.create(merchant=MerchantFactory(name="Rival"), sku="R-1")
    with pytest.raises(ManualOrderError, match=f"line 1: product {theirs.pk} is not one of Acme Goods's products"):
        enter(merchant, lines=[{"product": theirs, "quantity": 1}])
    assert not Order.objects.exists()


# --- shipping: like any order, the store never told ----------------------------------------


def test_a_manual_order_ships_without_telling_any_store(merchant, django_capture_on_commit_callbacks, monkeypatch):
    from orders import shipping
    monkeypatch.setattr(shipping, "notification_queue", lambda **kw: pytest.fail("a notification was queued"))
    order = enter(merchant, lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}])
    # Asking to notify the store is refused: there is none
    with pytest.raises(StoreForbids, match="Manual orders have no store to notify"):
        shipment_create(order=order, carrier="UPS", notify_store=True)
    # By default it ships, recorded here only
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z999")
    order.refresh_from_db()
    assert order.status == "shipped" and not shipment.notify_store
    assert not StoreNotification.objects.exists()


def test_a_notification_of_a_manual_order_is_skipped_never_sent(merchant):
    # Given a notification row for a manual order's shipment (none is ever made; as if it were)
    shipment = shipment_create(order=enter(merchant), carrier="UPS")
    notification = StoreNotification.objects.create(shipment=shipment)
    # When it is delivered, the store is not called (the fixture fails the test if it is)
    notification = notification_deliver(notification_id=notification.pk)
    assert notification.status == "skipped" and "never notified" in notification.warning


def test_ship_order_command_ships_a_manual_order_not_requested(merchant):
    order = enter(merchant, order_number="PHONE-9")
    out = io.StringIO()
    call_command("ship_order", str(order.store_id), "PHONE-9", "--carrier", "USPS", "--wait", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["notification"] == {"status": "not_requested", "error": None}
    order.refresh_from_db()
    assert order.status == "shipped" and not StoreNotification.objects.exists()


def test_list_orders_lists_manual_orders_like_any_other(merchant):
    imported = OrderFactory(store=StoreFactory(merchant=merchant), order_number="SHOP-1")
    order = enter(merchant, order_number="PHONE-2", lines=[{"sku": "A", "quantity": 3, "unit_price": "2.50"}])
    out = io.StringIO()
    call_command("list_orders", "--json", stdout=out)
    listed = {o["order_number"]: o for o in json.loads(out.getvalue())}
    assert set(listed) == {imported.order_number, "PHONE-2"}
    manual = listed["PHONE-2"]
    assert (manual["store"], manual["external_id"], manual["status"]) == (order.store_id, "PHONE-2",
                                                                          "awaiting_shipment")
    assert manual["ship_to"]["city"] == "Arlington" and manual["shipments"] == []
    assert manual["items"] == [{"line_item_id": "1", "sku": "A", "name": "", "quantity": 3, "unit_price": 2.5}]
    out = io.StringIO()
    call_command("list_orders", "--json", "--store", str(order.store_id), stdout=out)
    assert [o["order_number"] for o in json.loads(out.getvalue())] == ["PHONE-2"]


# --- imports leave manual stores alone --------------------------------------------------------


def test_the_schedule_and_refresh_now_leave_manual_stores_alone(merchant, eager_celery,
                                                                django_capture_on_commit_callbacks):
    manual = enter(merchant).store
    shop = StoreFactory(merchant=merchant, name="Shop")
    # The beat dispatcher queues the shop only
    with django_capture_on_commit_callbacks(execute=False):
        assert stores_refresh_due() == [shop.pk]
    manual.refresh_from_db()
    assert manual.next_refresh_at is None
    # "Refresh now", the refresh_store command and a run here all refuse in words
    result = stores_queue_refresh(stores=[manual], trigger="user")
    assert result.not_imported == [manual] and not result.queued and not result.failed
    with pytest.raises(StoreNotImported):
        store_queue_refresh(store=manual, trigger="command")
    with pytest.raises(StoreNotImported, match="nothing to import"):
        store_refresh(store_id=manual.pk)
    with pytest.raises(CommandError, match="nothing to import"):
        call_command("refresh_store", str(manual.pk))
    assert not ImportRun.objects.exists()


def test_the_store_pages_of_a_manual_store_offer_no_refresh(admin_client_su, merchant,
                                                            django_capture_on_commit_callbacks):
    store = enter(merchant).store
    html = admin_client_su.get(reverse("admin:stores_store_change", args=[store.pk])).content.decode()
    assert "Not imported" in html and 'id="refresh-now"' not in html
    assert 'name="refresh_interval_minutes"' not in html and 'name="notify_store"' not in html
    assert "map_status_" not in html and "map_list_" not in html
    html = admin_client_su.get(reverse("admin:stores_store_activity", args=[store.pk])).content.decode()
    assert "Refresh now" not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(reverse("admin:stores_store_refresh", args=[store.pk]), follow=True)
    assert "Nothing to import, left alone: Manual orders" in response.content.decode()
    assert not ImportRun.objects.exists()
    # the store page saves (time zone, branding) without a status mapping
    response = admin_client_su.post(reverse("admin:stores_store_change", args=[store.pk]), {
        "merchant": merchant.pk, "name": "Phone orders", "timezone": "Europe/London"})
    assert response.status_code == 302, response.content.decode()[:3000]
    store.refresh_from_db()
    assert (store.name, store.timezone) == ("Phone orders", "Europe/London")
    html = admin_client_su.get(reverse("shipbridge_dashboard")).content.decode()
    assert "Phone orders" in html and "Not imported" in html


def test_manual_stores_are_not_added_by_hand(admin_client_su, merchant):
    assert "manual" not in addable_connector_names() and get_connector_class("manual").presets() == []
    html = admin_client_su.get(reverse("admin:stores_store_add")).content.decode()
    assert "Manual orders" not in html and "connector-custom_store" in html
    html = admin_client_su.get(reverse("admin:stores_store_add"), {"connector": "manual"}).content.decode()
    assert "choose its connector" in html  # the chooser again, not a manual store's form
    with pytest.raises(CommandError, match="not added by hand"):
        call_command("add_store", "--connector", "manual", "--name", "Mine", stdout=io.StringIO())
    assert not Store.objects.exists()


# --- the admin's "Add order" page -----------------------------------------------------------


def line_data(*lines, total=5):
    data = {"lines-TOTAL_FORMS": str(total), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "200"}
    for index in range(total):
        data[f"lines-{index}-quantity"] = "1"
    for index, line in enumerate(lines):
        data.update({f"lines-{index}-{key}": value for key, value in line.items()})
    return data


def order_data(*lines, **fields):
    return {"ship_to_name": "Grace Hopper", "ship_to_street1": "1 Navy Yard", "ship_to_city": "Arlington",
            "ship_to_state": "VA", "ship_to_postal_code": "22202", "ship_to_country": "US", **fields,
            **line_data(*lines)}


def test_the_add_page_enters_an_order_for_the_users_merchant(client, merchant, widget):
    # Given a merchant admin of Acme Goods (and another merchant with a product)
    other = MerchantFactory(name="Rival")
    Product.objects.create(merchant=other, sku="RIVAL-SKU")
    client.force_login(merchant_user(merchant, "boss"))
    # The page offers Acme's products only
    response = client.get(ADD, {"merchant": other.pk})
    html = response.content.decode()
    assert response.status_code == 200 and "WID-1 — Blue widget" in html and "RIVAL" not in html
    # When the form is posted with a product line and a typed line (blank rows left out)
    response = client.post(ADD + f"?merchant={other.pk}", order_data(
        {"product": widget.pk, "quantity": "2", "unit_price": "5"}, {"sku": "TYPED", "name": "Typed thing"}))
    # Then the order is made in Acme's manual store and the browser goes to its page
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:orders_order_change",
                                                                           args=[order.pk])
    assert order.store.merchant == merchant and order.order_number == "M-000001"
    assert list(order.items.values_list("sku", "quantity")) == [("WID-1", 2), ("TYPED", 1)]
    html = client.get(response["Location"]).content.decode()
    assert "M-000001" in html and "/ship/" in html


def test_bad_input_on_the_add_page_shows_errors_and_writes_nothing(client, merchant, widget):
    client.force_login(merchant_user(merchant, "boss"))
    cases = [
        (order_data({"sku": "X"}, ship_to_country="XX"), "2-letter ISO code"),  # the service's word
        (order_data({"sku": "X"}, ship_to_state=""), "missing: state"),
        (order_data({"sku": "X"}, ship_to_city=""), "This field is required"),
        (order_data(), "Enter at least one line"),
        (order_data({"name": "No SKU"}), "Choose a product or type a SKU"),
        (order_data({"sku": "X", "quantity": "0"}), "greater than or equal to 1"),
        (order_data({"product": "999999"}), "Select a valid choice"),
        (order_data({"sku": "X"}, customer_email="nope"), "Enter a valid email address"),
    ]
    for data, message in cases:
        response = client.post(ADD, data)
        assert response.status_code == 200, message
        assert message in response.content.decode(), message
    assert not Order.objects.exists() and not Store.objects.exists()
    # a number already taken is a form error too
    enter(merchant, order_number="PHONE-1")
    response = client.post(ADD, order_data({"sku": "X"}, order_number="PHONE-1"))
    assert response.status_code == 200 and "already has an order number" in response.content.decode()
    assert Order.objects.count() == 1


def test_a_superuser_chooses_the_merchant_first(admin_client_su, merchant, widget):
    other = MerchantFactory(name="Rival")
    html = admin_client_su.get(ADD).content.decode()
    assert f'href="?merchant={merchant.pk}"' in html and f'href="?merchant={other.pk}"' in html
    assert 'id="manual-order-form"' not in html
    html = admin_client_su.get(ADD, {"merchant": merchant.pk}).content.decode()
    assert 'id="manual-order-form"' in html and "WID-1" in html
    response = admin_client_su.post(ADD + f"?merchant={other.pk}", order_data({"sku": "R-1"}))
    assert response.status_code == 302
    assert Order.objects.get().store.merchant == other
    # "Add and enter another" comes back to the form
    response = admin_client_su.post(ADD + f"?merchant={other.pk}", {**order_data({"sku": "R-2"}), "_addanother": "1"})
    assert response.status_code == 302 and response["Location"] == ADD + f"?merchant={other.pk}"
    assert admin_client_su.get(ADD, {"merchant": merchant.pk, "lines": "15"}).content.decode().count(
        'name="lines-14-sku"') == 1


def test_merchants_manual_orders_stay_apart(client, merchant, widget):
    # Given Acme's manual order and a user of another merchant
    order = enter(merchant, order_number="ACME-PHONE")
    other = MerchantFactory(name="Rival")
    client.force_login(merchant_user(other, "rival-boss"))
    # They see neither the order nor the store, and cannot add into Acme's store or use its products
    assert "ACME-PHONE" not in client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 404
    assert client.get(reverse("admin:stores_store_change", args=[order.store_id])).status_code == 404
    response = client.post(ADD, order_data({"product": widget.pk}))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(ADD, order_data({"sku": "R-1"}, order_number="ACME-PHONE"))
    assert response.status_code == 302  # the same number is theirs to use: another store
    mine = Order.objects.get(store__merchant=other)
    assert mine.store != order.store and mine.store.name == "Manual orders"
    # And a user without add permission (a shipping clerk) or without a merchant cannot add
    client.force_login(merchant_user(other, "rival-clerk", "shipping clerk"))
    assert client.get(ADD).status_code == 403
    client.force_login(UserFactory(merchant=None, username="loner", is_superuser=False))
    assert client.get(ADD).status_code == 403


def test_merchant_admins_may_add_and_delete_orders():
    names = set(Group.objects.get(name="merchant admin").permissions.values_list("codename", flat=True))
    assert {"add_order", "delete_order"} <= names
    assert "add_order" not in set(Group.objects.get(name="shipping clerk").permissions.values_list("codename",
                                                                                                    flat=True))


def test_the_ship_page_of_a_manual_order_does_not_offer_to_notify(client, merchant):
    order = enter(merchant)
    client.force_login(merchant_user(merchant, "boss"))
    ship = reverse("admin:orders_order_ship", args=[order.pk])
    html = client.get(ship).content.decode()
    assert 'name="notify_store"' not in html and "never notified" in html
    response = client.post(ship, {"carrier": "UPS", f"qty_{order.items.get().pk}": "1", "notify_store": "on"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped" and not Shipment.objects.get().notify_store
    assert not StoreNotification.objects.exists()


# --- deleting: manual orders while unshipped, imported orders never ---------------------------


def test_imported_orders_offer_no_delete_nor_save_and_add_another(client, merchant):
    imported = OrderItemFactory(order=OrderFactory(store=StoreFactory(merchant=merchant))).order
    client.force_login(merchant_user(merchant, "boss"))
    html = client.get(reverse("admin:orders_order_change", args=[imported.pk])).content.decode()
    assert 'name="_addanother"' not in html and "deletelink" not in html and 'name="_save"' in html
    assert client.get(reverse("admin:orders_order_delete", args=[imported.pk])).status_code == 403
    assert client.post(reverse("admin:orders_order_delete", args=[imported.pk]), {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=imported.pk).exists()
    with pytest.raises(ManualOrderError, match="imported orders are not deleted"):
        manual_order_delete(order=imported)
    # no bulk delete on the desk either
    assert "delete_selected" not in client.get(reverse("admin:orders_order_changelist")).content.decode()


def test_a_manual_order_is_deleted_only_while_it_has_no_shipment(client, merchant):
    client.force_login(merchant_user(merchant, "boss"))
    order = enter(merchant, lines=[{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}])
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "deletelink" in html and 'name="_addanother"' in html
    delete = reverse("admin:orders_order_delete", args=[order.pk])
    assert client.get(delete).status_code == 200
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not Order.objects.exists() and not OrderItem.objects.exists()
    # Once shipped (even if the shipment is void since), it stays
    order = enter(merchant)
    shipment_void(shipment=shipment_create(order=order, carrier="UPS"))
    html = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "deletelink" not in html
    assert client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    with pytest.raises(ManualOrderError, match="has a shipment"):
        manual_order_delete(order=order)
    assert Order.objects.filter(pk=order.pk).exists()


def test_correcting_a_manual_shipment_says_no_store_is_told(merchant, widget):
    from orders.shipping import shipment_update

    order = enter(merchant)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1ZOLD")
    result = shipment_update(shipment=shipment, tracking_number="1ZNEW")
    assert "No store is told about shipment" in result.store.message and "entered by hand" in result.store.message


def test_shipments_cannot_be_deleted_in_the_admin_only_voided_or_corrected(merchant, widget, admin_client_su):
    shipment = shipment_create(order=enter(merchant), carrier="UPS")
    html = admin_client_su.get(reverse("admin:orders_shipment_changelist")).content.decode()
    assert "delete_selected" not in html
    response = admin_client_su.post(reverse("admin:orders_shipment_delete", args=[shipment.pk]), {"post": "yes"})
    assert response.status_code == 403 and Shipment.objects.filter(pk=shipment.pk).exists()
