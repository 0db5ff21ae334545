"""Every page of ShipBridge read in French: the desk, the order and its shipments, shipping one
order or many, tracking numbers from a file, scan to pack, the stores with their errors and
their activity, products, API keys and webhooks, the packing slips — no English of ShipBridge's
own left on any of them (tests.utils.english_on_page: a phrase the catalogue translates, or a
word only English has; the data shown as it is left out). The browser walk of the same pages is
tests/test_french_browser.py."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.importing import store_refresh
from orders.models import ImportRun, Order, Product, Shipment, StoreNotification, WebhookDelivery
from orders.notifying import notification_deliver_now
from orders.shipping import shipment_create
from orders.webhooks import delivery_attempt, subscription_create
from stores.models import OrderStatus, Store
from stores.sandbox.customstore import SandboxLine
from stores.sandbox.customstore.state import QBC_FULFILLED_ERROR
from stores.services import store_create
from tests.factories import MerchantFactory, StoreFactory, UserFactory
from tests.utils import SHIP_DAY, english_on_page, page_text, store_settings

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ADDRESS = {"Name": "Camille Dupont", "Company": "", "Address1": "12 rue de Rivoli", "Address2": "",
           "City": "Paris", "State": "", "PostalCode": "75001", "Country": "FR", "Phone": ""}


def french_lines(prefix):
    return [SandboxLine(line_item_id=f"{prefix}-1", sku="THE-VERT", name="Thé vert", quantity=2,
                        unit_price=Decimal("1234.50")),
            SandboxLine(line_item_id=f"{prefix}-2", sku="TASSE-BL", name="Tasse bleue", quantity=1,
                        unit_price=Decimal("12.50"))]


@pytest.fixture
def french_world(sandboxes, fast_retries, settings, eager_celery, django_capture_on_commit_callbacks):
    """A French merchant: a store that imported orders and skipped some (an unmapped status, no
    address), a shipment the store refused, a store that cannot be reached, an API key and a
    webhook that failed."""
    settings.SHIPBRIDGE_SITE_URL = "https://ship.example.test"
    merchant = MerchantFactory(name="Marchand Ada")
    sandbox = sandboxes("quickbooks_commerce", orders=0)
    state = sandbox.state
    when = state.now() - dt.timedelta(minutes=5)
    for index in range(4):
        state.add_order(lines=french_lines(f"L{index}"), when=when, ship_to=dict(ADDRESS))
    state.add_order(lines=french_lines("LX"), when=when, ship_to=dict(ADDRESS), status="en-revue")
    state.add_order(lines=french_lines("LY"), when=when, ship_to=None)
    store = store_create(connector="quickbooks_commerce", name="Boutique Ada", merchant=merchant,
                         settings=store_settings(sandbox), language="fr", brand_company_name="Chez Ada",
                         status_mapping={"finalized": OrderStatus.AWAITING_SHIPMENT,
                                         "fulfilled": OrderStatus.SHIPPED})
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded" and run.imported == 4 and run.skipped == 2, run.error
    orders = list(Order.objects.filter(store=store).order_by("order_number"))
    Product.objects.create(merchant=merchant, sku="THE-VERT", name="Thé vert", barcode="0012345678905",
                           bin_location="A-01")
    # A shipment the store refuses (QuickBooks Commerce's own words, and ShipBridge's advice)
    state.reject_shipnotify_422(count=None)
    with django_capture_on_commit_callbacks(execute=True):
        refused = shipment_create(order=orders[0], carrier="UPS", tracking_number="1ZREFUSE1", ship_date=SHIP_DAY)
    notification_deliver_now(notification_id=refused.notification.pk)
    # A store that cannot be reached
    broken = StoreFactory(name="Boutique en panne", merchant=merchant, language="fr")
    failed = store_refresh(store_id=broken.pk, trigger="command")
    assert failed.status == "failed"
    # An API key and a webhook whose target answers 500
    subscription = subscription_create(merchant=merchant, event="SHIP_NOTIFY",
                                       target_url="http://127.0.0.1:9/hook").subscription
    with django_capture_on_commit_callbacks(execute=False):
        shipped = shipment_create(order=orders[1], carrier="Colissimo", tracking_number="6A1234", ship_date=SHIP_DAY,
                                  notify_store=False)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    delivery_attempt(delivery_id=delivery.pk)
    return {"store": store, "broken": broken, "orders": orders, "refused": refused, "shipped": shipped,
            "subscription": subscription, "delivery": delivery, "merchant": merchant, "sandbox": sandbox}


def _pages(world):
    store, orders = world["store"], world["orders"]
    order, open_order = orders[0], orders[2]
    url = reverse
    return [
        url("admin:index"), url("shipbridge_dashboard"),
        url("admin:orders_order_changelist"), *(url("admin:orders_order_changelist") + f"?status__exact={s}"
                                                for s in OrderStatus.values),
        url("admin:orders_order_changelist") + "?o=", url("admin:orders_order_change", args=[order.pk]),
        url("admin:orders_order_change", args=[open_order.pk]), url("admin:orders_order_ship", args=[open_order.pk]),
        url("admin:orders_order_ship", args=[order.pk]),
        url("admin:orders_order_pack"), url("admin:orders_order_pack") + f"?order={open_order.pk}",
        url("admin:orders_order_pack") + "?scan=COMMANDE-INCONNUE",
        url("admin:orders_order_pack") + f"?order={order.pk}",
        url("admin:orders_order_tracking"), url("admin:orders_order_add"),
        url("admin:orders_order_add") + f"?merchant={world['merchant'].pk}",
        url("admin:orders_shipment_changelist"), url("admin:orders_shipment_change", args=[world["refused"].pk]),
        url("admin:orders_shipment_correct", args=[world["refused"].pk]),
        url("admin:orders_shipment_correct", args=[world["shipped"].pk]),
        url("admin:orders_storenotification_changelist"),
        url("admin:orders_storenotification_change", args=[world["refused"].notification.pk]),
        url("admin:orders_notificationattempt_changelist"), url("admin:orders_importrun_changelist"),
        url("admin:orders_importrun_change", args=[ImportRun.objects.filter(store=store).first().pk]),
        url("admin:orders_product_changelist"), url("admin:orders_product_add"),
        url("admin:orders_shipmentchange_changelist"), url("admin:orders_orderitem_changelist"),
        url("admin:stores_store_changelist"), url("admin:stores_store_add"),
        url("admin:stores_store_add") + "?connector=custom_store",
        url("admin:stores_store_add") + "?connector=quickbooks_commerce",
        url("admin:stores_store_add") + "?connector=acumatica",
        url("admin:stores_store_change", args=[store.pk]), url("admin:stores_store_change", args=[world["broken"].pk]),
        url("admin:stores_store_activity", args=[store.pk]), url("admin:stores_store_activity",
                                                                args=[world["broken"].pk]),
        url("admin:stores_merchant_changelist"), url("admin:stores_statusmapping_changelist"),
        url("admin:orders_apikey_changelist"), url("admin:orders_apikey_add"),
        url("admin:orders_webhooksubscription_changelist"), url("admin:orders_webhooksubscription_add"),
        url("admin:orders_webhooksubscription_change", args=[world["subscription"].pk]),
        url("admin:orders_webhookdelivery_changelist"),
        url("admin:orders_webhookdelivery_change", args=[world["delivery"].pk]),
        url("admin:orders_webhookbatch_changelist"),
        url("shipbridge_packing_slip", args=[order.pk]),
        url("shipbridge_packing_slips") + f"?ids={order.pk},{open_order.pk}",
        url("admin:stores_user_changelist"), url("admin:stores_user_add"),
    ]


def _english(client, method, path, data=None, **extra) -> list[str]:
    response = getattr(client, method)(path, data, follow=True, **FRENCH, **extra)
    assert response.status_code == 200, (path, response.status_code)
    # QuickBooks Commerce's refusal is quoted in its own words
    return [f"{path}: {line}" for line in english_on_page(response.content.decode(), data=[QBC_FULFILLED_ERROR])]


def test_every_page_reads_in_french(admin_client_su, french_world):
    found = []
    for path in _pages(french_world):
        found += _english(admin_client_su, "get", path)
    assert not found, "English on French pages:\n" + "\n".join(found)


def test_a_merchant_admins_pages_read_in_french(client, french_world, fast_passwords):
    # what a merchant's own admin sees (their users and roles, their stores and orders)
    boss = UserFactory(username="ada-admin", merchant=french_world["merchant"], groups=["merchant admin"])
    clerk = UserFactory(username="marc-expe", merchant=french_world["merchant"], groups=["shipping clerk"])
    client.force_login(boss)
    found = []
    for path in (reverse("admin:index"), reverse("admin:stores_user_changelist"), reverse("admin:stores_user_add"),
                 reverse("admin:stores_user_change", args=[clerk.pk]), reverse("admin:orders_order_changelist"),
                 reverse("admin:orders_order_add"), reverse("shipbridge_dashboard")):
        found += _english(client, "get", path)
    assert not found, "English on French pages:\n" + "\n".join(found)
    assert "administrateur marchand" in client.get(reverse("admin:stores_user_changelist"), **FRENCH).content.decode()


def test_what_the_pages_answer_reads_in_french(admin_client_su, french_world, django_capture_on_commit_callbacks):
    # forms sent wrong and right, actions and their outcomes, messages after a redirect
    store, orders = french_world["store"], french_world["orders"]
    desk = reverse("admin:orders_order_changelist")
    open_ids = [o.pk for o in orders[2:]]
    found = []
    with django_capture_on_commit_callbacks(execute=False):
        found += _english(admin_client_su, "post", reverse("admin:orders_order_ship", args=[orders[2].pk]),
                          {"carrier": "", "ship_date": "2001-01-01", "_ship": "1"})
        found += _english(admin_client_su, "post", desk, {"action": "ship_selected", "_selected_action": open_ids})
        found += _english(admin_client_su, "post", desk, {"action": "combine_orders", "_selected_action": open_ids})
        found += _english(admin_client_su, "post", desk, {"action": "ship_selected", "_selected_action": open_ids,
                                                          "apply": "1", "carrier": "Other", "carrier_other": "",
                                                          "notify_store": "on",
                                                          f"tracking_{open_ids[0]}": "1ZSAME",
                                                          f"tracking_{open_ids[1]}": "1ZSAME"})
        found += _english(admin_client_su, "post", desk, {"action": "ship_selected", "_selected_action": open_ids,
                                                          "apply": "1", "carrier": "UPS",
                                                          f"tracking_{open_ids[0]}": "1ZBULK1"})
        csv = ("Order Number,Tracking Number,Carrier,Ship Date\n"
               f"{orders[3].order_number},1Z999AA10123456784,UPS,\n"
               f"{orders[0].order_number},1Z999AA10123456785,UPS,\n"
               "COMMANDE-INCONNUE,1Z999AA10123456786,UPS,\n"
               f"{orders[3].order_number},,UPS,31/31/2024\n")
        tracking = reverse("admin:orders_order_tracking")
        found += _english(admin_client_su, "post", tracking, {"content": csv, "notify_store": "on"})
        found += _english(admin_client_su, "post", tracking, {"content": "a,b\n1,2\n"})
        found += _english(admin_client_su, "post", tracking, {})
        found += _english(admin_client_su, "post", tracking, {"content": csv, "_confirm": "1"})
        found += _english(admin_client_su, "post", reverse("admin:orders_order_pack"),
                          {"order": orders[3].pk, "carrier": "UPS"})
        found += _english(admin_client_su, "post", reverse("admin:orders_order_add") +
                          f"?merchant={french_world['merchant'].pk}",
                          {"ship_to_name": "", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
                           "lines-0-quantity": "1", "_save": "1"})
        found += _english(admin_client_su, "post", reverse("admin:orders_shipment_correct",
                                                           args=[french_world["shipped"].pk]),
                          {"carrier": "UPS", "tracking_number": "1ZNEW", "ship_date": SHIP_DAY.isoformat(),
                           "_correct": "1"})
        found += _english(admin_client_su, "post", reverse("admin:stores_store_refresh", args=[store.pk]))
        found += _english(admin_client_su, "post", reverse("admin:stores_store_reimport", args=[store.pk]),
                          {"since": "2001-01-01"})
        found += _english(admin_client_su, "post", reverse("admin:stores_store_test_connection",
                                                           args=[french_world["broken"].pk]))
        found += _english(admin_client_su, "post", reverse("admin:stores_store_resend",
                                                           args=[store.pk, french_world["refused"].notification.pk]))
        found += _english(admin_client_su, "post", reverse("admin:orders_shipment_changelist"),
                          {"action": "resend_notification", "_selected_action": [french_world["shipped"].pk]})
        found += _english(admin_client_su, "post", reverse("admin:orders_shipment_changelist"),
                          {"action": "void_shipments", "_selected_action": [french_world["shipped"].pk]})
        found += _english(admin_client_su, "post", reverse("admin:orders_apikey_add"),
                          {"merchant": french_world["merchant"].pk, "label": "ERP"})
        found += _english(admin_client_su, "post", reverse("admin:orders_webhooksubscription_add"),
                          {"merchant": french_world["merchant"].pk, "event": "SHIP_NOTIFY",
                           "target_url": "ftp://example.test/x", "deliveries-TOTAL_FORMS": "0",
                           "deliveries-INITIAL_FORMS": "0"})
        found += _english(admin_client_su, "post", reverse("admin:orders_webhookdelivery_resend",
                                                           args=[french_world["delivery"].pk]))
    assert not found, "English on French pages:\n" + "\n".join(found)


def test_the_check_finds_english_on_a_page(admin_client_su, french_world):
    # The checks above cannot pass vacuously: the same pages in English are full of it, and a
    # French page with one English sentence of ShipBridge's is caught.
    english = admin_client_su.get(reverse("shipbridge_dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert len(english_on_page(english)) > 5
    french = admin_client_su.get(reverse("shipbridge_dashboard"), **FRENCH).content.decode()
    assert english_on_page(french) == []
    assert english_on_page(french.replace("</h2>", "<p>Nothing to import, left alone.</p></h2>", 1))
    assert english_on_page(french.replace("</h2>", "<p>Bordereau of the store</p></h2>", 1))
    # and the data shown as it is (a name, a SKU) is not the page's language
    assert "Boutique Ada" in page_text(french) and "Tasse bleue" not in page_text(french)
    assert english_on_page(french.replace("</h2>", "<p>Boutique Ada</p></h2>", 1)) == []
    assert Store.objects.get(name="Boutique Ada").language == "fr" and Shipment.objects.exists()
    assert StoreNotification.objects.filter(status="failed").exists()


def test_the_api_answers_in_english_whatever_the_callers_language(api_client, merchant):
    # ShipStation's contract is English; a program calling from a French system gets it too
    from rest_framework.test import APIClient

    from tests.test_api import API, CREATE_ORDER_EXAMPLE

    StoreFactory(merchant=merchant, name="Webshop")

    incomplete = api_client.post(f"{API}/orders/createorder", {
        **CREATE_ORDER_EXAMPLE, "shipTo": {"name": "Nobody", "country": "US"}}, format="json", **FRENCH)
    assert incomplete.status_code == 400 and incomplete["Content-Language"] == "en"
    assert incomplete.json()["ExceptionMessage"] == (
        "the ship-to address is incomplete (missing: street, city, postal code, state)")
    denied = APIClient().get(f"{API}/stores", **FRENCH)
    assert denied.json() == {"Message": "Authorization has been denied for this request."}
    assert api_client.get(f"{API}/stores", **FRENCH).json()[0]["marketplaceName"] == "Custom Store (XML)"
    # while the admin answers the same caller in French
    assert api_client.get(reverse("admin:login"), **FRENCH)["Content-Language"] == "fr"
