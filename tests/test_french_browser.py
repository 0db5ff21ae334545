"""ShipBridge in French in a real browser (headless Chromium whose language is French, as a
French reader's is): log in, the dashboard, the orders desk, an order, ship it, the store page
with its errors, the activity log — every page checked for English of ShipBridge's own
(tests.utils.english_on_page); the French orders desk's screenshot. And a French store's
customer e-mail and packing slip in French while the clerk works in English.

Screenshots go to $SHIPBRIDGE_SCREENSHOTS_DIR when set (docs/screenshots/ holds the committed
ones), else to a temporary folder."""
import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core import mail

from orders.importing import store_refresh
from orders.models import NotificationStatus, Order, StoreNotification
from stores.models import OrderStatus, User
from stores.sandbox.customstore import SandboxLine
from stores.services import store_create
from tests.factories import MerchantFactory, StoreFactory, UserFactory
from tests.test_browser import PASSWORD, browser, shots  # noqa: F401 - shared fixtures
from tests.utils import english_on_page, store_settings

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDERS = 8
ADDRESS = {"Name": "Camille Dupont", "Company": "", "Address1": "12 rue de Rivoli", "Address2": "",
           "City": "Paris", "State": "", "PostalCode": "75001", "Country": "FR", "Phone": ""}


def french_lines(prefix):
    return [SandboxLine(line_item_id=f"{prefix}-1", sku="THE-VERT", name="Thé vert", quantity=2,
                        unit_price=Decimal("1234.50")),
            SandboxLine(line_item_id=f"{prefix}-2", sku="TASSE-BL", name="Tasse bleue", quantity=1,
                        unit_price=Decimal("12.50"))]


@pytest.fixture
def french_shop(sandboxes, fast_passwords, fast_retries):
    """A merchant admin, a French store that imported 8 orders and skipped 2 (a status not
    mapped, no address), and a store that cannot be reached."""
    import importlib

    from django.apps import apps

    # a transactional test starts from an emptied database: the groups as the migrations make them
    for module, function in (("stores.migrations.0003_merchant_groups", "create_groups"),
                             ("stores.migrations.0004_merchant_admin_no_shipmentitem_delete", "remove_permission"),
                             ("stores.migrations.0008_merchant_admin_enters_manual_orders", "add_permissions"),
                             ("orders.migrations.0009_shipment_change_view_permission", "grant")):
        getattr(importlib.import_module(module), function)(apps, None)
    merchant = MerchantFactory(name="Marchand Ada")
    UserFactory(username="ada-admin", merchant=merchant, first_name="Ada", groups=["merchant admin"])
    sandbox = sandboxes("custom_store", orders=0)
    when = sandbox.state.now() - dt.timedelta(minutes=5)
    for index in range(ORDERS):
        sandbox.state.add_order(lines=french_lines(f"L{index}"), when=when, ship_to=dict(ADDRESS))
    sandbox.state.add_order(lines=french_lines("LX"), when=when, ship_to=dict(ADDRESS), status="en-revue")
    sandbox.state.add_order(lines=french_lines("LY"), when=when, ship_to=None)
    store = store_create(connector="custom_store", name="Boutique Ada", merchant=merchant,
                         settings=store_settings(sandbox), language="fr", brand_company_name="Chez Ada")
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded" and run.imported == ORDERS and run.skipped == 2, run.error
    broken = StoreFactory(name="Boutique en panne", merchant=merchant)
    assert store_refresh(store_id=broken.pk, trigger="command").status == "failed"
    return {"sandbox": sandbox, "store": store, "broken": broken}


def french_page(browser, live_server):
    """A new page of a browser whose language is French (its Accept-Language says so)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
    context.set_default_timeout(20_000)
    return context.new_page()


def assert_french(page, where):
    english = english_on_page(page.content())
    assert not english, f"English on the French {where}:\n" + "\n".join(english)


def test_a_french_reader_logs_in_ships_an_order_and_reads_the_stores_errors(browser, live_server, french_shop,
                                                                            eager_celery, shots):
    from playwright.sync_api import expect

    store, broken = french_shop["store"], french_shop["broken"]
    page = french_page(browser, live_server)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert_french(page, "login page")
    page.fill("#id_username", "ada-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert_french(page, "home page")

    page.click("#header .sb-nav >> text=Tableau de bord")
    expect(page.locator("#dashboard-totals")).to_contain_text("en attente d'expédition")
    expect(page.locator(f"#store-{broken.pk}")).to_contain_text("En échec")
    assert_french(page, "dashboard")
    page.click("#toggle-nav-sidebar")  # more room for the pages (remembered by the browser)

    page.click("#header .sb-nav >> text=Commandes")
    expect(page.locator("#status-tabs")).to_contain_text("En attente d'expédition")
    expect(page.locator("#result_list tbody tr")).to_have_count(ORDERS)
    assert_french(page, "orders desk")
    page.set_viewport_size({"width": 1720, "height": 900})
    page.screenshot(path=str(shots / "orders-desk-fr.png"), full_page=False)
    page.set_viewport_size({"width": 1440, "height": 900})

    order = Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).order_by("order_number").first()
    page.get_by_role("link", name=order.order_number, exact=True).click()
    expect(page.locator("#order-lines")).to_contain_text("Tasse bleue")
    expect(page.locator("a.shipbridge-ship-link")).to_have_text("Expédier")
    assert_french(page, "order page")

    page.click("a.shipbridge-ship-link")
    expect(page.locator("#ship-form")).to_contain_text("Transporteur")
    assert_french(page, "ship page")
    page.select_option("#id_carrier", "UPS")
    page.fill("#id_tracking_number", "1Z999AA10123456784")
    page.click("input[name=_ship]")
    expect(page.locator("ul.messagelist")).to_contain_text("la boutique sera notifiée")
    expect(page.locator(".field-notification_status").first).to_contain_text("Envoyée")
    assert StoreNotification.objects.get(shipment__order=order).status == NotificationStatus.SENT
    assert_french(page, "order page after shipping")

    page.goto(f"{live_server.url}/admin/stores/store/{store.pk}/change/")
    expect(page.locator("#store-panel")).to_contain_text("commande ignorée")
    expect(page.locator("#store-panel")).to_contain_text("n'est pas mappé")
    assert_french(page, "store page")
    page.click("#test-connection")
    expect(page.locator("#connection-test")).to_contain_text("Test de connexion réussi")
    assert_french(page, "store page after the connection test")

    page.click("#activity-link")
    expect(page.locator("#import-runs-table")).to_contain_text("Réussie")
    expect(page.locator("#notifications-table")).to_contain_text("Envoyée")
    assert_french(page, "activity log")

    page.goto(f"{live_server.url}/admin/stores/store/{broken.pk}/change/")
    expect(page.locator("#store-panel")).to_contain_text("impossible de joindre la boutique")
    assert_french(page, "failing store's page")
    page.click("#activity-link")
    expect(page.locator("#import-runs-table")).to_contain_text("Échec")
    assert_french(page, "failing store's activity log")

    # the desk's other pages, and the language switch back to English, remembered
    for path in ("/admin/orders/order/pack/", "/admin/orders/order/import-tracking/",
                 f"/admin/orders/order/{order.pk}/packing-slip/", "/admin/orders/order/add/"):
        page.goto(f"{live_server.url}{path}")
        assert_french(page, path)
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.click("#language-switch button[value=en]")
    expect(page.locator("#status-tabs")).to_contain_text("Awaiting shipment")
    assert User.objects.get(username="ada-admin").language == "en"
    page.context.close()


def test_a_french_stores_email_and_packing_slip_are_french_while_the_clerk_works_in_english(
        browser, live_server, french_shop, eager_celery):
    from playwright.sync_api import expect

    store = french_shop["store"]
    store.notify_customer = True
    store.save(update_fields=["notify_customer"])
    Order.objects.filter(store=store).update(customer_email="camille@example.test")
    order = Order.objects.filter(store=store, status=OrderStatus.AWAITING_SHIPMENT).order_by("order_number").first()
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ada-admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    # the clerk's pages are English
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/ship/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#ship-form")).to_contain_text("Carrier")
    page.select_option("#id_carrier", "UPS")
    page.fill("#id_tracking_number", "1ZFRENCH1")
    expect(page.locator("#id_notify_customer")).to_be_checked()
    page.click("input[name=_ship]")
    expect(page.locator("ul.messagelist")).to_contain_text("the store will be notified")

    # the customer's e-mail is French
    (message,) = mail.outbox
    assert message.to == ["camille@example.test"]
    assert message.subject == f"Votre commande {order.order_number} de Chez Ada a été expédiée"
    html = message.alternatives[0][0]
    assert "Bonjour Camille Dupont," in message.body and "Numéro de suivi" in html and 'lang="fr"' in html
    assert "Hello" not in message.body and "Tracking number" not in html

    # the packing slip is French: the whole single slip, and this store's slip in a mixed batch
    english_store = StoreFactory(name="English shop", merchant=store.merchant)
    other = Order.objects.create(store=english_store, external_id="E-1", order_number="E-1001",
                                 order_date=order.order_date, modified_at=order.order_date,
                                 status=OrderStatus.AWAITING_SHIPMENT, store_status="paid",
                                 ship_to_name="Grace Hopper", ship_to_street1="1 Harbor Rd",
                                 ship_to_city="Arlington", ship_to_postal_code="22201", ship_to_country="US")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/packing-slip/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".slip h1")).to_have_text("Bordereau d'emballage")
    expect(page.locator(".slip thead")).to_contain_text("Article")
    assert not english_on_page(page.content()), english_on_page(page.content())
    page.goto(f"{live_server.url}/admin/orders/order/packing-slips/?ids={order.pk},{other.pk}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#slip-count")).to_contain_text("2 packing slips, one page each.")
    expect(page.locator(f"#slip-{order.pk}")).to_have_attribute("lang", "fr")
    expect(page.locator(f"#slip-{order.pk} h1")).to_have_text("Bordereau d'emballage")
    expect(page.locator(f"#slip-{other.pk}")).to_have_attribute("lang", "en")
    expect(page.locator(f"#slip-{other.pk} h1")).to_have_text("Packing slip")

    # and the clerk's order page is still English
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    expect(page.locator("#order-head")).to_contain_text("Packing slip")
    page.context.close()
