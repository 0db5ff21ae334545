"""Bulk ship and packing slips in bulk from the orders desk: each selected order ships through
the same service as one by one (its own shipment, its own notification), refusals reported per
order; one printable document of packing slips with a Code 128 barcode of each order number."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.barcodes import code128_svg
from orders.models import NotificationStatus, Order, Shipment, StoreNotification
from orders.shipping import orders_ship_each
from stores.models import OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory, UserFactory
from tests.utils import SHIP_DAY, import_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

DESK = reverse("admin:orders_order_changelist")


def orders_with_lines(store, count, **fields):
    orders = []
    for _ in range(count):
        order = OrderFactory(store=store, **fields)
        OrderItemFactory(order=order, quantity=2)
        orders.append(order)
    return orders


def bulk_post(client, orders, **values):
    data = {"action": "ship_selected", "_selected_action": [o.pk for o in orders], "apply": "1", **values}
    return client.post(DESK, data)


def test_each_order_ships_on_its_own_with_its_tracking_number_and_one_notification(
        sandboxes, admin_client_su, eager_celery, django_capture_on_commit_callbacks):
    # Given three orders of a sandbox store
    sandbox = sandboxes("custom_store", orders=0)
    store, orders = import_orders(sandbox, 3)
    # When they are bulk shipped, each with its own tracking number
    tracking = {f"tracking_{o.pk}": f"1ZBULK{i}" for i, o in enumerate(orders)}
    with django_capture_on_commit_callbacks(execute=True):
        response = bulk_post(admin_client_su, orders, carrier="UPS", service="Ground",
                             ship_date=SHIP_DAY.isoformat(), notify_store="on", **tracking)
    html = response.content.decode()
    # Then each order has one shipment and its store was notified once with its own number
    assert response.status_code == 200 and "3 orders shipped" in html
    for i, order in enumerate(orders):
        shipment = Shipment.objects.get(order=order)
        assert (shipment.carrier, shipment.service, shipment.tracking_number, shipment.ship_date) == (
            "UPS", "Ground", f"1ZBULK{i}", SHIP_DAY)
        assert StoreNotification.objects.get(shipment=shipment).status == NotificationStatus.SENT
    assert sorted(n.params["tracking_number"] for n in sandbox.state.notices) == ["1ZBULK0", "1ZBULK1", "1ZBULK2"]
    assert html.count("sb-row-ok") == 3 and html.count("<td>Pending</td>") == 3  # queued for the worker


def test_a_refused_order_is_reported_and_the_others_ship(admin_client_su):
    store = StoreFactory(notify_store=False)
    good = orders_with_lines(store, 2)
    cancelled = orders_with_lines(store, 1, status=OrderStatus.CANCELLED)[0]
    shipped = orders_with_lines(store, 1, status=OrderStatus.SHIPPED)[0]
    response = bulk_post(admin_client_su, [*good, cancelled, shipped], carrier="FedEx")
    html = response.content.decode()
    assert "2 orders shipped" in html and "2 not shipped" in html
    assert f"Order {cancelled.order_number} is cancelled: it cannot be shipped" in html
    assert f"Order {shipped.order_number} is already shipped" in html
    assert Shipment.objects.filter(order__in=good).count() == 2
    assert not Shipment.objects.filter(order__in=[cancelled, shipped]).exists()  # no additional shipment


def test_the_page_lists_the_orders_and_keeps_the_values_on_an_error(admin_client_su):
    orders = orders_with_lines(StoreFactory(), 2)
    page = admin_client_su.post(DESK, {"action": "ship_selected", "_selected_action": [o.pk for o in orders]})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="bulk-ship-form"' in html
    assert all(f'name="tracking_{o.pk}"' in html for o in orders) and '<select name="carrier"' in html
    # the same tracking number twice: refused, nothing shipped, values kept
    response = bulk_post(admin_client_su, orders, carrier="UPS", **{f"tracking_{o.pk}": "1ZSAME" for o in orders})
    html = response.content.decode()
    assert "is also given for order" in html and 'value="1ZSAME"' in html
    assert not Shipment.objects.exists()
    response = bulk_post(admin_client_su, orders, carrier="")
    assert "This field is required" in response.content.decode() and not Shipment.objects.exists()


def test_a_manual_order_in_a_batch_ships_without_notifying(admin_client_su):
    from orders.manual import manual_order_create
    from tests.factories import MerchantFactory

    merchant = MerchantFactory()
    manual = manual_order_create(merchant=merchant, lines=[{"sku": "A", "quantity": 1}], ship_to={
        "name": "Ada", "street1": "1 Main St", "city": "London", "postal_code": "N1", "country": "GB"})
    [outcome] = orders_ship_each(orders=[Order.objects.select_related("store").get(pk=manual.pk)], carrier="UPS",
                                 notify_store=True)
    assert outcome.shipped and not outcome.shipment.notify_store


def test_a_shipping_clerk_bulk_ships_another_merchants_orders_are_left_out(client):
    store = StoreFactory(notify_store=False)
    mine = orders_with_lines(store, 2)
    theirs = orders_with_lines(StoreFactory(), 1)
    client.force_login(UserFactory(merchant=store.merchant, groups=["shipping clerk"]))
    response = bulk_post(client, [*mine, *theirs], carrier="USPS")
    assert "2 orders shipped" in response.content.decode()
    assert Shipment.objects.filter(order__in=mine).count() == 2 and not Shipment.objects.filter(order__in=theirs)


# --- packing slips in bulk -----------------------------------------------------------------------


def test_print_packing_slips_of_the_selected_orders_in_one_document(admin_client_su):
    store = StoreFactory(brand_company_name="Acme Goods Ltd")
    orders = orders_with_lines(store, 10)
    response = admin_client_su.post(DESK, {"action": "print_packing_slips", "_selected_action": [o.pk for o in orders]})
    assert response.status_code == 302 and response["Location"].startswith(reverse("shipbridge_packing_slips"))
    with CaptureQueriesContext(connection) as queries:
        html = admin_client_su.get(response["Location"]).content.decode()
    assert html.count('<section class="slip"') == 10 and html.count("Acme Goods Ltd") >= 10
    assert html.count('class="sb-barcode"') == 10 and "break-after: page" in html and "@media print" in html
    for order in orders:
        assert f'aria-label="{order.order_number}"' in html
    few = len(queries)
    with CaptureQueriesContext(connection) as queries:
        admin_client_su.get(reverse("shipbridge_packing_slips") + f"?ids={orders[0].pk}")
    assert len(queries) == few  # constant: whatever the number of slips


def test_packing_slips_leave_out_what_the_user_may_not_see(client):
    store = StoreFactory()
    mine, theirs = orders_with_lines(store, 1)[0], orders_with_lines(StoreFactory(), 1)[0]
    client.force_login(UserFactory(merchant=store.merchant, groups=["shipping clerk"]))
    html = client.get(reverse("shipbridge_packing_slips") + f"?ids={mine.pk},{theirs.pk}").content.decode()
    assert mine.order_number in html and theirs.order_number not in html
    assert client.get(reverse("shipbridge_packing_slips") + f"?ids={theirs.pk}").status_code == 404
    assert client.get(reverse("shipbridge_packing_slips") + "?ids=").status_code == 404


def test_the_single_packing_slip_has_the_barcode_too(admin_client_su):
    order = orders_with_lines(StoreFactory(), 1)[0]
    html = admin_client_su.get(reverse("shipbridge_packing_slip", args=[order.pk])).content.decode()
    assert f'aria-label="{order.order_number}"' in html and "<rect" in html


def test_the_barcode_is_code_128_of_the_order_number():
    svg = str(code128_svg("SO-1001"))
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert decode_code128(svg) == "SO-1001"
    assert code128_svg("Zoë-1") == ""  # not printable ASCII: the number in text only


def decode_code128(svg: str) -> str:
    """Read the bars back (Code 128 code set B) with the encoding table of python-barcode."""
    from barcode.charsets import code128

    bars = [(float(x), float(w)) for x, w in re.findall(r'<rect x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"', svg)]
    unit = min(w for _, w in bars)
    modules = []
    position = bars[0][0]
    for x, width in bars:
        modules.extend("0" * round((x - position) / unit))
        modules.extend("1" * round(width / unit))
        position = x + width
    pattern = "".join(modules)
    codes = {bits: value for value, bits in enumerate(code128.CODES)}
    symbols = [codes[pattern[i:i + 11]] for i in range(0, len(pattern) - 13, 11)]
    start, *data, _check = symbols
    sets = {"A": {v: k for k, v in code128.A.items()}, "B": {v: k for k, v in code128.B.items()},
            "C": {v: k for k, v in code128.C.items()}}
    current = {value: name for name, value in code128.START_CODES.items()}[start]
    text = ""
    for value in data:
        char = sets[current].get(value, f"{value:02d}") if current == "C" else sets[current][value]
        if char in ("TO_A", "TO_B", "TO_C"):
            current = char[-1]
        else:
            text += char
    return text
