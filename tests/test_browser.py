"""The admin in a real browser (headless Chromium driven by Playwright): a merchant admin adds
a sandbox store through the form, tests its connection, refreshes it, sees the orders arrive,
ships one and sees the store notification become sent; a clerk of another merchant sees none of it.

Screenshots of the store page, the dashboard and the orders desk are written to
$SHIPBRIDGE_SCREENSHOTS_DIR when set (docs/screenshots/ holds the committed ones), else to a
temporary folder."""
import os
import re
import shutil
from pathlib import Path

import pytest

from orders.models import NotificationStatus, Order, OrderStatus, StoreNotification
from stores.models import Store
from tests.factories import MerchantFactory, UserFactory
from tests.utils import log_in

# Playwright's sync API keeps an event loop in this thread; Django's ORM is used here from
# plain synchronous test code only.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.sandbox("custom_store", orders=24)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "pass-word-123"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                              else shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SHIPBRIDGE_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def people(fast_passwords):
    # A transactional test starts from an emptied database: make the groups as the migrations do.
    import importlib

    from django.apps import apps

    for module, function in (("stores.migrations.0003_merchant_groups", "create_groups"),
                             ("stores.migrations.0004_merchant_admin_no_shipmentitem_delete", "remove_permission"),
                             ("stores.migrations.0008_merchant_admin_enters_manual_orders", "add_permissions"),
                             ("orders.migrations.0009_shipment_change_view_permission", "grant")):
        getattr(importlib.import_module(module), function)(apps, None)
    acme, globex = MerchantFactory(name="Acme Goods"), MerchantFactory(name="Globex")
    boss = UserFactory(username="acme-admin", merchant=acme, first_name="Ada", groups=["merchant admin"])
    clerk = UserFactory(username="globex-clerk", merchant=globex, groups=["shipping clerk"])
    return {"boss": boss, "clerk": clerk}


def test_merchant_admin_adds_refreshes_and_ships_a_clerk_elsewhere_sees_nothing(
        browser, live_server, sandbox, people, eager_celery, shots):
    from playwright.sync_api import expect

    page = log_in(browser, live_server, "acme-admin", PASSWORD)

    # Add a store: the connector first, then its own fields only.
    page.goto(f"{live_server.url}/admin/stores/store/add/")
    page.click("#connector-custom_store")
    expect(page.locator("input[name=conn_stock_location_id]")).to_have_count(0)
    expect(page.locator("input[name=conn_base_url]")).to_have_count(0)
    page.fill("#id_name", "Acme sandbox")
    page.fill("input[name=conn_url]", sandbox.endpoint)
    page.fill("input[name=conn_username]", sandbox.state.username)
    page.fill("input[name=conn_password]", sandbox.state.password)
    page.fill("#id_timezone", "Europe/Lon")
    expect(page.locator("datalist#iana-time-zones option[value='Europe/London']")).to_have_count(1)
    page.fill("#id_timezone", "UTC")
    expect(page.locator("input[name=map_list_awaiting_shipment]")).to_have_value("paid")
    page.fill("#id_brand_company_name", "Acme Goods Ltd")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    store = Store.objects.get(name="Acme sandbox")
    assert store.merchant == people["boss"].merchant and store.get_secrets() == {"password": sandbox.state.password}
    expect(page.locator("input[name=conn_password]")).to_have_value("")

    # Test the connection: the result shows in place.
    page.click("#test-connection")
    expect(page.locator("#connection-test")).to_contain_text("Connection test passed")
    expect(page.locator("#connection-test")).to_contain_text("ok: the store answered")

    # Refresh now: the import runs (in-process here) and the orders arrive.
    page.click("#refresh-now")
    expect(page.locator("ul.messagelist")).to_contain_text("Import queued for Acme sandbox")
    # the sandbox feed has orders without a complete address: skipped, and the store says so
    expect(page.locator("#store-panel")).to_contain_text("Attention")
    expect(page.locator("#store-panel")).to_contain_text("orders skipped — no complete shipping address")
    imported = Order.objects.filter(store=store).count()
    assert imported > 0
    page.screenshot(path=str(shots / "store-page.png"), full_page=True)

    page.click("#activity-link")
    expect(page.locator("#import-runs-table")).to_contain_text("Succeeded")
    expect(page.locator("#import-runs-table")).to_contain_text("Admin user (acme-admin)")

    # The orders desk lists them.
    page.goto(f"{live_server.url}/admin/orders/order/?store__id__exact={store.pk}")
    expect(page.locator("#result_list tbody tr")).to_have_count(min(imported, 100))

    # Ship one order: the store is notified and the notification shows as sent.
    order = Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).order_by("-order_date").first()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.click("a.shipbridge-ship-link")
    page.select_option("#id_carrier", "UPS")
    page.fill("#id_service", "Ground")
    page.fill("#id_tracking_number", "1Z999AA10123456784")
    expect(page.locator("#id_notify_store")).to_be_checked()
    page.click("input[name=_ship]")
    expect(page.locator("ul.messagelist")).to_contain_text("the store will be notified")
    expect(page.locator(".field-notification_status").first).to_contain_text("Sent")
    notification = StoreNotification.objects.get(shipment__order=order)
    assert notification.status == NotificationStatus.SENT
    assert [n.params.get("tracking_number") for n in sandbox.state.notices] == ["1Z999AA10123456784"]

    page.goto(f"{live_server.url}/admin/orders/order/?store__id__exact={store.pk}")
    row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name=order.order_number, exact=True))
    expect(row).to_contain_text("1 sent")
    page.set_viewport_size({"width": 1720, "height": 900})
    page.screenshot(path=str(shots / "orders-desk.png"), full_page=False)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/admin/dashboard/")
    expect(page.locator("#dashboard-stores")).to_contain_text("Acme sandbox")
    expect(page.locator("#dashboard-stores")).to_contain_text("Custom Store (XML)")
    expect(page.locator(f"#store-{store.pk}")).to_contain_text("Attention: ")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=False)
    page.context.close()

    # A shipping clerk of another merchant sees none of it.
    page = log_in(browser, live_server, "globex-clerk", PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/")
    expect(page.locator("#content")).not_to_contain_text(order.order_number)
    expect(page.locator("#content")).to_contain_text("0 orders")
    response = page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/admin/stores/store/{store.pk}/change/")
    assert response.status == 404
    page.goto(f"{live_server.url}/admin/dashboard/")
    expect(page.locator("#content")).not_to_contain_text("Acme sandbox")
    page.context.close()


def test_bad_store_input_shows_form_errors_in_the_browser(browser, live_server, people):
    from playwright.sync_api import expect

    page = log_in(browser, live_server, "acme-admin", PASSWORD)
    page.goto(f"{live_server.url}/admin/stores/store/add/?connector=acumatica")
    page.fill("#id_name", "ERP")
    page.fill("input[name=conn_base_url]", "not a url")
    page.fill("input[name=conn_username]", "admin")
    page.fill("input[name=conn_password]", "secret")
    page.fill("input[name=conn_company]", "Company")
    page.fill("input[name=conn_branch]", "HQ")
    page.select_option("select[name=conn_version]", "2021 R2")
    page.fill("#id_timezone", "Mars/Olympus")
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#content")).to_contain_text("is not an IANA time zone name")
    expect(page.locator("#content")).to_contain_text(re.compile(r"base_url.* must be an http:// or https:// address"))
    assert not Store.objects.exists()
    page.context.close()


def test_a_merchant_fixes_a_wrong_mapping_corrects_a_tracking_number_and_ships_a_manual_order(
        browser, live_server, sandbox, people, eager_celery, shots):
    from playwright.sync_api import expect

    from orders.models import Shipment
    from tests.utils import expected_orders

    page = log_in(browser, live_server, "acme-admin", PASSWORD)

    # Add a store with the wrong mapping: the feed writes "paid", the mapping says "Paid".
    page.goto(f"{live_server.url}/admin/stores/store/add/")
    page.click("#connector-custom_store")
    page.fill("#id_name", "Acme wrong mapping")
    page.fill("input[name=conn_url]", sandbox.endpoint)
    page.fill("input[name=conn_username]", sandbox.state.username)
    page.fill("input[name=conn_password]", sandbox.state.password)
    for status in ("awaiting_payment", "awaiting_shipment", "shipped", "cancelled", "on_hold"):
        page.fill(f"input[name=map_list_{status}]", "")
    page.fill("input[name=map_list_awaiting_shipment]", "Paid")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    store = Store.objects.get(name="Acme wrong mapping")
    page.click("#refresh-now")
    expect(page.locator("#store-panel")).to_contain_text("are not mapped")
    assert not Order.objects.filter(store=store).exists()
    page.click("#refresh-now")  # a later refresh starts from the cursor: still nothing
    assert not Order.objects.filter(store=store).exists()

    # Fix the mapping on the store page, refresh once: every skipped order arrives.
    page.fill("input[name=map_list_awaiting_shipment]", "paid")
    page.fill("input[name=map_list_awaiting_payment]", "unpaid")
    page.fill("input[name=map_list_shipped]", "shipped")
    page.fill("input[name=map_list_cancelled]", "cancelled")
    page.fill("input[name=map_list_on_hold]", "on-hold")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    page.click("#refresh-now")
    expect(page.locator("ul.messagelist")).to_contain_text("Import queued")
    mapping = {"unpaid": "awaiting_payment", "paid": "awaiting_shipment", "shipped": "shipped",
               "cancelled": "cancelled", "on-hold": "on_hold"}
    assert sorted(Order.objects.filter(store=store).values_list("external_id", flat=True)) == sorted(
        expected_orders(sandbox.state, mapping))

    # Ship an order with a wrong tracking number, then correct it: the store gets the new one.
    order = Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).order_by("order_number").first()
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.click("a.shipbridge-ship-link")
    page.select_option("#id_carrier", "UPS")
    page.fill("#id_tracking_number", "1ZWRONG")
    page.click("input[name=_ship]")
    expect(page.locator("ul.messagelist")).to_contain_text("the store will be notified")
    shipment = Shipment.objects.get(order=order)
    page.goto(f"{live_server.url}/admin/orders/shipment/{shipment.pk}/correct/")
    expect(page.locator("#store-correction")).to_be_visible()
    page.fill("#id_tracking_number", "1ZRIGHT")
    page.click("input[name=_correct]")
    expect(page.locator("ul.messagelist")).to_contain_text("1ZRIGHT")
    assert [n.params.get("tracking_number") for n in sandbox.state.notices] == ["1ZWRONG", "1ZRIGHT"]
    shipment.refresh_from_db()
    assert shipment.tracking_number == "1ZRIGHT" and shipment.changes.count() == 1

    # Enter an order by hand and ship it: no store is contacted.
    notices = len(sandbox.state.notices)
    page.goto(f"{live_server.url}/admin/orders/order/add/")
    page.fill("#id_ship_to_name", "Grace Hopper")
    page.fill("#id_ship_to_street1", "1 Harbor Rd")
    page.fill("#id_ship_to_city", "Arlington")
    page.fill("#id_ship_to_state", "VA")
    page.fill("#id_ship_to_postal_code", "22201")
    page.fill("#id_ship_to_country", "US")
    page.fill("input[name=lines-0-sku]", "PHONE-1")
    page.fill("input[name=lines-0-name]", "Replacement cable")
    page.fill("input[name=lines-0-quantity]", "2")
    page.screenshot(path=str(shots / "add-order.png"), full_page=True)
    page.click("input[name=_save]")
    manual = Order.objects.get(ship_to_name="Grace Hopper")
    assert manual.order_number.startswith("M-") and manual.store.merchant == people["boss"].merchant
    page.click("a.shipbridge-ship-link")
    page.select_option("#id_carrier", "USPS")
    page.click("input[name=_ship]")
    expect(page.locator("ul.messagelist")).to_contain_text("the store is not notified")
    manual.refresh_from_db()
    assert manual.status == OrderStatus.SHIPPED and len(sandbox.state.notices) == notices
    page.context.close()
