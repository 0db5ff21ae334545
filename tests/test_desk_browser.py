"""The shipping desk in a real browser (headless Chromium): bulk ship 20 orders with typed
tracking numbers; a tracking CSV with good and bad rows previewed and confirmed; scan-to-verify
an order with a wrong item then the right ones, then ship, keyboard only; 10 packing slips
printed as one document; the dashboard's totals and charts; the grid at 1366 px.

Screenshots go to $SHIPBRIDGE_SCREENSHOTS_DIR when set (docs/screenshots/ holds the committed
ones), else to a temporary folder."""
import os
import re

import pytest

from orders.models import NotificationStatus, Order, Product, Shipment, StoreNotification
from stores.models import OrderStatus
from tests.test_browser import PASSWORD, browser, people, shots  # noqa: F401 - shared fixtures
from tests.utils import import_orders, log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def desk_store(sandboxes, count):
    """A sandbox store of the merchant admin's merchant with `count` orders awaiting shipment."""
    sandbox = sandboxes("custom_store", orders=0)
    store, orders = import_orders(sandbox, count, merchant_name="Acme Goods")
    return sandbox, store, orders


def select_on_desk(page, live_server, store, orders):
    page.goto(f"{live_server.url}/admin/orders/order/?status__exact=awaiting_shipment&store__id__exact={store.pk}")
    for order in orders:
        page.locator("#result_list tbody tr", has=page.get_by_role("link", name=order.order_number, exact=True)
                     ).locator("input.action-select").check()


def run_action(page, action):
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_bulk_ship_20_orders_with_typed_tracking_numbers(browser, live_server, sandboxes, people, eager_celery,
                                                         shots):
    from playwright.sync_api import expect

    sandbox, store, orders = desk_store(sandboxes, 20)
    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    select_on_desk(page, live_server, store, orders)
    run_action(page, "ship_selected")
    expect(page.locator("#bulk-ship-orders tbody tr")).to_have_count(20)
    page.select_option("#id_carrier", "UPS")
    page.fill("#id_service", "Ground")
    # typed one after the other: Enter moves to the next order's field, as a scanner's Enter would
    first = page.locator("input.sb-scan").first
    first.click()
    for index, _order in enumerate(page.locator("input.sb-scan").all()):
        page.keyboard.type(f"1ZBULK{index:04d}")
        page.keyboard.press("Enter")
    expect(page.locator("#ship-all")).to_be_focused()
    page.screenshot(path=str(shots / "bulk-ship.png"), full_page=True)
    page.click("#ship-all")
    expect(page.locator("#content")).to_contain_text("20 orders shipped")
    expect(page.locator("#bulk-result tr.sb-row-ok")).to_have_count(20)
    page.screenshot(path=str(shots / "bulk-ship-result.png"), full_page=False)
    numbers = {o.pk: Shipment.objects.get(order=o).tracking_number for o in orders}
    assert sorted(numbers.values()) == [f"1ZBULK{i:04d}" for i in range(20)]
    assert StoreNotification.objects.filter(status=NotificationStatus.SENT).count() == 20
    assert sorted(n.params["tracking_number"] for n in sandbox.state.notices) == sorted(numbers.values())
    assert not Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).exists()
    page.context.close()


def test_a_tracking_csv_with_good_and_bad_rows_is_previewed_and_confirmed(browser, live_server, sandboxes, people,
                                                                          eager_celery, shots, tmp_path):
    from playwright.sync_api import expect

    sandbox, store, orders = desk_store(sandboxes, 3)
    csv = tmp_path / "ups-export.csv"
    csv.write_text("Package Reference No. 1,Tracking No.,Service Type,Ship Date\n"
                   f"{orders[0].order_number},1Z999AA10123456784,Ground,\n"
                   f"{orders[1].order_number},1Z999AA10123456785,Next Day Air,\n"
                   "NO-SUCH-ORDER,1Z999AA10123456786,Ground,\n"
                   f"{orders[2].order_number},1Z999AA10123456787,Ground,31/31/2024\n")
    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.click("#desk-tracking")
    page.set_input_files("#id_file", str(csv))
    page.click("#tracking-preview")
    expect(page.locator("#tracking-counts")).to_contain_text("2 orders will ship")
    expect(page.locator("#tracking-counts")).to_contain_text("2 errors")
    expect(page.locator("#line-4")).to_contain_text("Unknown order")
    expect(page.locator("#line-5")).to_contain_text("Invalid")
    assert not Shipment.objects.exists()
    page.screenshot(path=str(shots / "tracking-preview.png"), full_page=True)
    page.click("#tracking-confirm")
    expect(page.locator("#tracking-counts")).to_contain_text("2 orders shipped")
    expect(page.locator("#line-2")).to_contain_text("Shipped")
    assert {s.tracking_number: s.carrier for s in Shipment.objects.all()} == {
        "1Z999AA10123456784": "UPS", "1Z999AA10123456785": "UPS"}
    assert len(sandbox.state.notices) == 2
    page.context.close()


def test_scan_to_verify_flags_a_wrong_item_then_ships_keyboard_only(browser, live_server, sandboxes, people,
                                                                    eager_celery, shots):
    from playwright.sync_api import expect

    sandbox, store, (order,) = desk_store(sandboxes, 1)  # TEA-001 × 2, MUG-BLU × 1 (and a discount line)
    Product.objects.create(merchant=store.merchant, sku="MUG-BLU", name="Mug", barcode="0012345678905")
    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/pack/")
    expect(page.locator("#scan-order")).to_be_focused()
    page.keyboard.type(order.order_number)  # the packing slip's barcode
    page.keyboard.press("Enter")
    expect(page.locator("#pack-order")).to_contain_text(order.order_number)
    expect(page.locator("#scan-item")).to_be_focused()

    def scan(code):
        page.keyboard.type(code)
        page.keyboard.press("Enter")

    scan("SOCK-RED")
    expect(page.locator("#scan-feedback")).to_contain_text("Wrong item: SOCK-RED is not in this order")
    expect(page.locator("#scan-feedback")).to_have_class(re.compile("sb-feedback-wrong"))
    scan("tea-001")
    scan("TEA-001")
    scan("TEA-001")
    expect(page.locator("#scan-feedback")).to_contain_text("Extra unit")
    page.screenshot(path=str(shots / "scan-to-pack.png"), full_page=False)
    expect(page.locator("#pack-ship")).to_be_hidden()
    scan("0012345678905")  # the mug's barcode, not its SKU
    expect(page.locator("#pack-ship")).to_be_visible()
    expect(page.locator("#id_carrier")).to_be_focused()
    page.keyboard.type("USPS")  # the select takes the typed name
    page.keyboard.press("Tab")  # to the service ("Other carrier's name" is hidden)
    page.keyboard.press("Tab")
    expect(page.locator("#id_tracking_number")).to_be_focused()
    page.keyboard.type("9400111899223197428490")  # scanned from the label
    page.keyboard.press("Enter")
    expect(page.locator("ul.messagelist")).to_contain_text(f"Order {order.order_number} packed and shipped")
    expect(page.locator("#scan-order")).to_be_focused()  # ready for the next slip
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("USPS", "9400111899223197428490")
    assert sorted((i.order_item.sku, i.quantity) for i in shipment.items.all()) == [("MUG-BLU", 1), ("TEA-001", 2)]
    page.context.close()


def test_10_packing_slips_print_as_one_document_one_a_page(browser, live_server, sandboxes, people, shots):
    from playwright.sync_api import expect

    sandbox, store, orders = desk_store(sandboxes, 10)
    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    select_on_desk(page, live_server, store, orders)
    run_action(page, "print_packing_slips")
    expect(page.locator("section.slip")).to_have_count(10)
    expect(page.locator("svg.sb-barcode")).to_have_count(10)
    page.screenshot(path=str(shots / "packing-slips.png"), full_page=False)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 10  # one slip a page
    page.context.close()


def test_the_dashboard_shows_totals_and_charts_for_the_sandbox_data(browser, live_server, sandboxes, people,
                                                                    eager_celery, shots):
    from playwright.sync_api import expect

    from orders.shipping import shipment_create

    import datetime as dt

    from django.utils import timezone

    sandbox, store, orders = desk_store(sandboxes, 12)
    now = timezone.now()
    for index, order in enumerate(orders):  # imported over the last days, most shipped the day after
        Order.objects.filter(pk=order.pk).update(imported_at=now - dt.timedelta(days=12 - index))
        if index < 10:
            shipment = shipment_create(order=order, carrier="UPS", tracking_number=f"1Z{order.pk}", notify_store=False)
            Shipment.objects.filter(pk=shipment.pk).update(created_at=now - dt.timedelta(days=max(0, 8 - index)))
    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    page.goto(f"{live_server.url}/admin/dashboard/")
    expect(page.locator("#total-awaiting .sb-total-value")).to_have_text("2")
    expect(page.locator("#total-shipped-today .sb-total-value")).to_have_text("2")  # the last two, today
    expect(page.locator(f"#chart-{store.pk} svg.sb-daily-chart")).to_be_visible()
    expect(page.locator(f"#chart-{store.pk}")).to_contain_text("12 imported · 10 shipped")
    assert page.locator(f"#chart-{store.pk} rect").count() == 60  # two bars a day, 30 days
    page.screenshot(path=str(shots / "desk-dashboard.png"), full_page=True)
    page.context.close()


def test_the_grid_and_the_order_page_fit_1366_px(browser, live_server, sandboxes, people, shots):
    from playwright.sync_api import expect

    sandbox, store, orders = desk_store(sandboxes, 12)
    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    page.click("#toggle-nav-sidebar")  # the app list open again, as a first visit shows it
    for width in (1366, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/admin/orders/order/")
        expect(page.locator("#tab-awaiting_shipment")).to_have_attribute("aria-current", "page")
        expect(page.locator("#tab-awaiting_shipment .sb-tab-count")).to_have_text("12")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        slip = page.locator("a.sb-packing-slip").first
        box = slip.bounding_box()
        assert box and box["x"] + box["width"] <= width
        if width == 1366:
            page.screenshot(path=str(shots / "orders-grid-1366.png"), full_page=False)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/orders/order/{orders[0].pk}/change/")
    ship = page.locator("a.shipbridge-ship-link")
    expect(ship).to_be_visible()
    assert ship.bounding_box()["y"] < 400  # at the top, not after the whole page
    expect(page.locator("#order-ship-to")).to_contain_text("New York")
    page.screenshot(path=str(shots / "order-page.png"), full_page=False)
    # the "choose a connector" cards keep their text inside
    page.goto(f"{live_server.url}/admin/stores/store/add/")
    overflowing = page.evaluate("[...document.querySelectorAll('.sb-choice')].filter("
                                "c => c.scrollWidth > c.clientWidth + 1).length")
    assert overflowing == 0
    page.context.close()
