"""The ShipStation-compatible API (/api/v1/): every endpoint's fields and formats against
ShipStation's documented examples (tests/fixtures/shipstation), its filters and paging, its error
bodies, keys that see only their merchant's rows, the rate limit, and constant queries a page."""
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.apikeys import api_key_revoke
from orders.models import ImportTrigger, Order, Shipment, WebhookSubscription
from stores.models import OrderStatus, RefreshStatus, StatusMapping
from tests.factories import MerchantFactory, OrderFactory, OrderItemFactory, StoreFactory
from tests.fixtures.api import basic_auth
from tests.fixtures.shipstation import (ADDRESS_FIELDS, ADVANCED_OPTIONS_FIELDS, CREATE_ORDER_EXAMPLE, DATETIME, DAY,
                                        ORDER_FIELDS, ORDER_ITEM_FIELDS, PAGING_FIELDS, RATE_HEADERS,
                                        REFRESH_STATUS_FIELDS, SHIPMENT_FIELDS, STORE_FIELDS, WEBHOOK_FIELDS)
from tests.utils import SHIP_DAY

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def store(merchant):
    store = StoreFactory(merchant=merchant, name="Webshop")
    StatusMapping.objects.create(store=store, store_status="paid", status=OrderStatus.AWAITING_SHIPMENT)
    StatusMapping.objects.create(store=store, store_status="sent", status=OrderStatus.SHIPPED)
    return store


def make_order(store, number="1001", *, items=2, **fields):
    order = OrderFactory(store=store, order_number=number, external_id=f"EXT-{number}", **fields)
    for index in range(items):
        OrderItemFactory(order=order, line_item_id=f"{number}-{index}", sku=f"SKU-{number}-{index}",
                         name=f"Widget {index}", quantity=index + 1, weight_grams=Decimal("100.000"),
                         options=[["Size", "L"]])
    return order


# --- contract: fields and formats ----------------------------------------------------------


def test_list_orders_answers_shipstations_fields_formats_and_paging(api_client, store):
    order = make_order(store, order_total=Decimal("19.90"), ship_to_state="", bill_to_name="Ada")

    reply = api_client.get(f"{API}/orders")

    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"orders"} | PAGING_FIELDS
    assert (body["total"], body["page"], body["pages"]) == (1, 1, 1)
    (data,) = body["orders"]
    assert set(data) == ORDER_FIELDS
    assert set(data["shipTo"]) == ADDRESS_FIELDS and set(data["billTo"]) == ADDRESS_FIELDS
    assert set(data["advancedOptions"]) == ADVANCED_OPTIONS_FIELDS
    assert data["orderId"] == order.pk and data["orderNumber"] == "1001" and data["orderKey"] == "EXT-1001"
    for name in ("orderDate", "createDate", "modifyDate"):
        assert DATETIME.match(data[name]), (name, data[name])
    assert data["orderDate"] == order.order_date.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
    assert data["orderStatus"] == "awaiting_shipment"
    assert data["orderTotal"] == 19.9 and data["amountPaid"] == 19.9 and data["taxAmount"] is None
    assert data["shipTo"]["name"] == "Ada Lovelace" and data["shipTo"]["country"] == "GB"
    assert data["shipTo"]["state"] is None  # ShipStation's null for an absent value, not ""
    assert data["billTo"]["name"] == "Ada" and data["billTo"]["street1"] is None
    assert data["advancedOptions"]["storeId"] == store.pk
    assert data["weight"] == {"value": 300.0, "units": "grams", "WeightUnits": 3}  # 100 g × (1 + 2)
    first, second = data["items"]
    assert set(first) == ORDER_ITEM_FIELDS
    assert (first["lineItemKey"], first["sku"], first["quantity"], first["unitPrice"]) == ("1001-0", "SKU-1001-0", 1,
                                                                                           9.99)
    assert first["options"] == [{"name": "Size", "value": "L"}]
    assert first["weight"] == {"value": 100.0, "units": "grams", "WeightUnits": 3}
    assert DATETIME.match(first["createDate"]) and first["adjustment"] is False
    assert second["quantity"] == 2


def test_dates_are_written_in_the_api_zone(api_client, store, settings):
    settings.SHIPBRIDGE_API_TIMEZONE = "America/Los_Angeles"  # ShipStation's own (Pacific)
    make_order(store, order_date=dt.datetime(2024, 1, 15, 20, 30, tzinfo=dt.timezone.utc))

    (data,) = api_client.get(f"{API}/orders").json()["orders"]

    assert data["orderDate"] == "2024-01-15T12:30:00.0000000"
    late = api_client.get(f"{API}/orders", {"orderDateStart": "2024-01-15 12:30:00"}).json()
    assert late["total"] == 1
    assert api_client.get(f"{API}/orders", {"orderDateStart": "2024-01-15 12:30:01"}).json()["total"] == 0


def test_get_order_and_the_list_alias_real_clients_call(api_client, store):
    order = make_order(store)

    one = api_client.get(f"{API}/orders/{order.pk}")
    alias = api_client.get(f"{API}/orders/list", {"orderNumber": "1001"})  # natecox/pyshipstation's path

    assert one.status_code == 200 and set(one.json()) == ORDER_FIELDS and one.json()["orderId"] == order.pk
    assert alias.status_code == 200 and [o["orderId"] for o in alias.json()["orders"]] == [order.pk]


def test_list_stores_and_get_store_with_its_status_mapping(api_client, store, merchant):
    inactive = StoreFactory(merchant=merchant, name="Old shop", active=False)
    store.import_cursor = timezone.now()
    store.save()

    listed = api_client.get(f"{API}/stores").json()
    everything = api_client.get(f"{API}/stores", {"showInactive": "true"}).json()
    one = api_client.get(f"{API}/stores/{store.pk}").json()

    assert [s["storeId"] for s in listed] == [store.pk]
    assert {s["storeId"] for s in everything} == {store.pk, inactive.pk}
    assert set(listed[0]) == STORE_FIELDS
    assert listed[0]["storeName"] == "Webshop" and listed[0]["active"] is True and listed[0]["autoRefresh"] is True
    assert listed[0]["marketplaceName"] == store.connector_class.label
    assert listed[0]["integrationUrl"] == "http://127.0.0.1:9/store"
    assert DATETIME.match(listed[0]["refreshDate"]) and listed[0]["lastRefreshAttempt"] is None
    assert set(one) == STORE_FIELDS | {"statusMappings"}
    assert {(m["orderStatus"], m["statusKey"]) for m in one["statusMappings"]} == {
        ("awaiting_shipment", "paid"), ("shipped", "sent")}


def test_refresh_status(api_client, store):
    store.last_refresh_status, store.last_refresh_at = RefreshStatus.RUNNING, timezone.now()
    store.save()

    running = api_client.get(f"{API}/stores/getrefreshstatus", {"storeId": store.pk}).json()
    store.last_refresh_status, store.last_refresh_error = RefreshStatus.FAILED, "cannot reach the store"
    store.save()
    failed = api_client.get(f"{API}/stores/getrefreshstatus", {"storeId": store.pk}).json()
    missing = api_client.get(f"{API}/stores/getrefreshstatus")

    assert set(running) == REFRESH_STATUS_FIELDS
    assert (running["refreshStatusId"], running["refreshStatus"]) == (2, "Updating orders")
    assert DATETIME.match(running["lastRefreshAttempt"])
    assert (failed["refreshStatusId"], failed["refreshStatus"]) == (3, "Failed: cannot reach the store")
    assert missing.status_code == 400 and missing.json()["ModelState"] == {"storeId": ["storeId is required"]}


@pytest.mark.parametrize("path,where", [("refreshstore", "body"), ("refresh", "query")])
def test_refresh_store_queues_an_import_from_the_date_given(api_client, store, monkeypatch, path, where,
                                                            django_capture_on_commit_callbacks, settings):
    settings.SHIPBRIDGE_API_TIMEZONE = "UTC"
    queued = []
    monkeypatch.setattr("orders.tasks.refresh_store.delay", lambda *a, **k: queued.append((a, k)))
    values = {"storeId": store.pk, "refreshDate": "2020-05-29 15:05:02"}

    with django_capture_on_commit_callbacks(execute=True):
        if where == "body":
            reply = api_client.post(f"{API}/stores/{path}", values, format="json")
        else:  # shipstation-node's Stores.refresh sends its parameters in the query string
            reply = api_client.post(f"{API}/stores/{path}?storeId={store.pk}&refreshDate=2020-05-29%2015:05:02")

    assert reply.status_code == 200
    assert reply.json() == {"success": True, "message": f"A store refresh has been initiated for Store ID {store.pk}"}
    assert queued == [((store.pk,), {"trigger": ImportTrigger.API, "user_id": None,
                                     "since": "2020-05-29T15:05:02+00:00"})]


def test_refresh_of_a_store_that_does_not_import_says_why(api_client, store):
    store.active = False
    store.save()

    reply = api_client.post(f"{API}/stores/refreshstore", {"storeId": store.pk}, format="json")

    assert reply.status_code == 200
    assert reply.json()["success"] is False and "deactivated" in reply.json()["message"]


def test_create_order_from_the_documented_example_then_update_it_by_order_key(api_client, merchant):
    reply = api_client.post(f"{API}/orders/createorder", CREATE_ORDER_EXAMPLE, format="json")

    assert reply.status_code == 200, reply.json()
    data = reply.json()
    assert set(data) == ORDER_FIELDS
    order = Order.objects.get(pk=data["orderId"])
    assert order.store.merchant == merchant and order.store.connector_class.manual_entry
    assert (order.external_id, order.order_number) == ("0f6bec18-3e89-4771-83aa-f392d84f4c74", "TEST-ORDER-API-DOCS")
    assert data["orderDate"] == "2015-06-29T08:46:27.0000000" and data["shipByDate"] == "2015-07-05T00:00:00.0000000"
    assert (data["orderStatus"], data["amountPaid"], data["taxAmount"], data["shippingAmount"]) == (
        "awaiting_shipment", 218.73, 5.0, 10.0)
    assert (data["customerNotes"], data["gift"], data["giftMessage"], data["requestedShippingService"]) == (
        "Please ship as soon as possible!", True, "Thank you!", "Priority Mail")
    assert data["shipTo"]["street2"] == "Oval Office" and data["billTo"]["name"] == "The President"
    item, discount = data["items"]
    assert (item["lineItemKey"], item["sku"], item["quantity"], item["unitPrice"]) == ("vd08-MSLbtx", "ABC123", 2,
                                                                                       99.99)
    assert item["weight"]["value"] == pytest.approx(680.39) and item["warehouseLocation"] == "Aisle 1, Bin 7"
    assert item["options"] == [{"name": "Size", "value": "Large"}]
    assert (discount["adjustment"], discount["unitPrice"]) == (True, -20.55)

    changed = {**CREATE_ORDER_EXAMPLE, "orderStatus": "on_hold", "shipTo": {**CREATE_ORDER_EXAMPLE["shipTo"],
                                                                             "street2": "West Wing"}}
    again = api_client.post(f"{API}/orders/createorder", changed, format="json")

    assert again.status_code == 200 and again.json()["orderId"] == order.pk
    assert again.json()["orderStatus"] == "on_hold" and again.json()["shipTo"]["street2"] == "West Wing"
    assert Order.objects.filter(store__merchant=merchant).count() == 1


def test_create_order_refusals_are_shipstation_error_bodies(api_client, store):
    missing = api_client.post(f"{API}/orders/createorder", {"orderNumber": "X"}, format="json")
    incomplete = api_client.post(f"{API}/orders/createorder", {
        **CREATE_ORDER_EXAMPLE, "shipTo": {"name": "Nobody", "country": "US"}}, format="json")
    imported_store = api_client.post(f"{API}/orders/createorder", {
        **CREATE_ORDER_EXAMPLE, "advancedOptions": {"storeId": store.pk}}, format="json")
    malformed = api_client.post(f"{API}/orders/createorder", "{not json", content_type="application/json")

    assert missing.status_code == 400 and missing.json()["Message"] == "The request is invalid."
    assert {"orderDate", "orderStatus", "billTo", "shipTo", "items"} <= set(missing.json()["ModelState"])
    assert incomplete.status_code == 400 and incomplete.json() == {
        "Message": "An error has occurred.", "ExceptionType": "ShipBridge.ManualOrderError", "StackTrace": None,
        "ExceptionMessage": "the ship-to address is incomplete (missing: street, city, postal code, state)"}
    assert imported_store.status_code == 400
    assert "orders entered in ShipBridge go to a Manual orders store" in imported_store.json()["ExceptionMessage"]
    assert malformed.status_code == 400 and malformed.json()["Message"] == "The request is invalid."
    assert Order.objects.count() == 0


def test_an_imported_order_is_not_changed_through_createorder(api_client, store):
    order = make_order(store)

    reply = api_client.post(f"{API}/orders/createorder", {**CREATE_ORDER_EXAMPLE, "orderId": order.pk}, format="json")

    assert reply.status_code == 400 and "only orders entered in ShipBridge" in reply.json()["ExceptionMessage"]


def test_mark_as_shipped_ships_through_the_shipping_service(api_client, store, django_capture_on_commit_callbacks,
                                                            monkeypatch):
    order = make_order(store)
    queued = []
    monkeypatch.setattr("orders.shipping.notification_queue", lambda **kw: queued.append(kw))

    with django_capture_on_commit_callbacks(execute=True):
        reply = api_client.post(f"{API}/orders/markasshipped", {
            "orderId": order.pk, "carrierCode": "usps", "shipDate": SHIP_DAY.isoformat(),
            "trackingNumber": "913492493294329421", "notifyCustomer": False, "notifySalesChannel": True},
            format="json")

    assert reply.status_code == 200 and reply.json() == {"orderId": order.pk, "orderNumber": "1001"}
    shipment = Shipment.objects.get(order=order)
    # stored under the carrier list's name (reports group by carrier), answered as ShipStation's code
    assert (shipment.carrier, shipment.tracking_number, shipment.ship_date, shipment.notify_store) == (
        "USPS", "913492493294329421", SHIP_DAY, True)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert len(queued) == 1  # the store's notification, once

    again = api_client.post(f"{API}/orders/markshipped", {"orderId": order.pk, "carrierCode": "usps",
                                                          "notifySalesChannel": True}, format="json")
    assert again.status_code == 400 and again.json()["ExceptionType"] == "ShipBridge.ShippingError"
    assert "already shipped" in again.json()["ExceptionMessage"]


def test_mark_shipped_without_notify_sales_channel_does_not_tell_the_store(api_client, store):
    order = make_order(store)

    reply = api_client.post(f"{API}/orders/markshipped", {"orderId": order.pk, "carrierCode": "ups"}, format="json")

    assert reply.status_code == 200
    assert Shipment.objects.get(order=order).notify_store is False  # ShipStation's default: false


def test_list_shipments_with_and_without_items(api_client, store):
    from orders.shipping import shipment_create, shipment_void

    order = make_order(store)
    kept = shipment_create(order=order, carrier="ups", service="ground", tracking_number="1Z1", ship_date=SHIP_DAY,
                           items=[(order.items.first(), 1)], notify_store=False, cost="4.20")
    voided = shipment_create(order=order, carrier="usps", ship_date=SHIP_DAY, notify_store=False)
    shipment_void(shipment=voided)

    plain = api_client.get(f"{API}/shipments", {"sortBy": "CreateDate", "sortDir": "ASC"}).json()
    with_items = api_client.get(f"{API}/shipments", {"includeShipmentItems": "True", "trackingNumber": "1Z1"}).json()
    void_only = api_client.get(f"{API}/shipments", {"voidDateStart": "2000-01-01"}).json()

    assert set(plain) == {"shipments"} | PAGING_FIELDS and plain["total"] == 2
    first = plain["shipments"][0]
    assert set(first) == SHIPMENT_FIELDS
    assert (first["shipmentId"], first["orderId"], first["carrierCode"], first["serviceCode"]) == (
        kept.pk, order.pk, "ups", "ground")
    assert DAY.match(first["shipDate"]) and DATETIME.match(first["createDate"])
    assert first["shipmentCost"] == 4.2 and first["voided"] is False and first["shipmentItems"] is None
    assert first["marketplaceNotified"] is False and set(first["shipTo"]) == ADDRESS_FIELDS
    (listed,) = with_items["shipments"]
    (item,) = listed["shipmentItems"]
    assert set(item) == ORDER_ITEM_FIELDS and (item["sku"], item["quantity"]) == ("SKU-1001-0", 1)
    assert [s["shipmentId"] for s in void_only["shipments"]] == [voided.pk]
    assert void_only["shipments"][0]["voided"] is True and DATETIME.match(void_only["shipments"][0]["voidDate"])


def test_webhooks_list_subscribe_and_unsubscribe(api_client, store, site_url):
    made = api_client.post(f"{API}/webhooks/subscribe", {
        "target_url": "https://hooks.example.test/neworder", "event": "ORDER_NOTIFY", "store_id": store.pk,
        "friendly_name": "My Webhook"}, format="json")

    assert made.status_code == 200
    assert set(made.json()) == {"id", "signing_secret"} and len(made.json()["signing_secret"]) == 64
    listed = api_client.get(f"{API}/webhooks").json()
    assert set(listed) == {"webhooks"}
    (hook,) = listed["webhooks"]
    assert set(hook) == WEBHOOK_FIELDS
    assert (hook["WebHookID"], hook["HookType"], hook["Url"], hook["Name"], hook["StoreID"], hook["Active"]) == (
        made.json()["id"], "ORDER_NOTIFY", "https://hooks.example.test/neworder", "My Webhook", store.pk, True)

    gone = api_client.delete(f"{API}/webhooks/{made.json()['id']}")
    assert gone.status_code == 200 and not WebhookSubscription.objects.exists()


def test_subscribe_refusals(api_client, settings, site_url):
    settings.SHIPBRIDGE_EGRESS_ALLOW = []
    bad_event = api_client.post(f"{API}/webhooks/subscribe", {"target_url": "https://a.test/x", "event": "NOPE"},
                                format="json")
    loopback = api_client.post(f"{API}/webhooks/subscribe", {"target_url": "http://127.0.0.1:9/x",
                                                             "event": "SHIP_NOTIFY"}, format="json")
    not_http = api_client.post(f"{API}/webhooks/subscribe", {"target_url": "ftp://a.test/x", "event": "SHIP_NOTIFY"},
                               format="json")
    settings.SHIPBRIDGE_SITE_URL = ""
    no_site = api_client.post(f"{API}/webhooks/subscribe", {"target_url": "https://a.test/x",
                                                            "event": "SHIP_NOTIFY"}, format="json")

    assert bad_event.status_code == 400 and "event" in bad_event.json()["ModelState"]
    assert loopback.status_code == 400 and "a loopback address" in loopback.json()["ExceptionMessage"]
    assert not_http.status_code == 400 and "http:// or https://" in not_http.json()["ExceptionMessage"]
    assert no_site.status_code == 400 and "SHIPBRIDGE_SITE_URL" in no_site.json()["ExceptionMessage"]
    assert not WebhookSubscription.objects.exists()


# --- filters, sort and paging --------------------------------------------------------------


def test_order_filters(api_client, store, merchant):
    other_store = StoreFactory(merchant=merchant, name="Second shop")
    now = timezone.now()
    a = make_order(store, "A-100", order_date=now - dt.timedelta(days=3), ship_to_name="Grace Hopper")
    b = make_order(store, "A-200", order_date=now - dt.timedelta(days=1), status=OrderStatus.ON_HOLD)
    c = make_order(other_store, "B-100", order_date=now, bill_to_name="Grace Hopper")
    c.items.update(name="Blue teapot")

    def ids(**params):
        reply = api_client.get(f"{API}/orders", params)
        assert reply.status_code == 200, reply.json()
        return [o["orderId"] for o in reply.json()["orders"]]

    assert ids() == [a.pk, b.pk, c.pk]  # OrderDate, ASC by default
    assert ids(sortBy="OrderDate", sortDir="DESC") == [c.pk, b.pk, a.pk]
    assert ids(orderNumber="A-") == [a.pk, b.pk]  # "starts with"
    assert ids(orderStatus="on_hold") == [b.pk]
    assert ids(storeId=other_store.pk) == [c.pk]
    assert ids(customerName="grace") == [a.pk, c.pk]
    assert ids(itemKeyword="teapot") == [c.pk]
    assert ids(itemKeyword="SKU-A-200") == [b.pk]
    day = (now - dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    assert ids(orderDateStart=day) == [b.pk, c.pk]
    assert ids(orderDateEnd=day) == [a.pk]
    assert ids(createDateStart="2000-01-01", modifyDateEnd=(now + dt.timedelta(days=1)).date().isoformat()) == [
        a.pk, b.pk, c.pk]
    paged = api_client.get(f"{API}/orders", {"pageSize": 2, "page": 2}).json()
    assert (paged["total"], paged["page"], paged["pages"], [o["orderId"] for o in paged["orders"]]) == (3, 2, 2, [c.pk])
    beyond = api_client.get(f"{API}/orders", {"pageSize": 2, "page": 5}).json()
    assert beyond["orders"] == [] and beyond["total"] == 3


@pytest.mark.parametrize("params,field", [
    ({"pageSize": "501"}, "pageSize"), ({"pageSize": "0"}, "pageSize"), ({"page": "x"}, "page"),
    ({"sortBy": "Price"}, "sortBy"), ({"sortDir": "UP"}, "sortDir"), ({"orderStatus": "lost"}, "orderStatus"),
    ({"orderDateStart": "yesterday"}, "orderDateStart"), ({"paymentDateStart": "2020-01-01"}, "paymentDateStart"),
])
def test_bad_list_parameters_are_400_with_the_field_named(api_client, params, field):
    reply = api_client.get(f"{API}/orders", params)

    assert reply.status_code == 400
    assert reply.json()["Message"] == "The request is invalid." and field in reply.json()["ModelState"]


# --- errors, unsupported calls, authentication ---------------------------------------------


def test_unauthenticated_and_wrong_or_revoked_keys_are_401(client, api_key, merchant):
    anonymous = client.get(f"{API}/orders")
    wrong = client.get(f"{API}/orders", HTTP_AUTHORIZATION=basic_auth(api_key.key, "nope"))
    garbage = client.get(f"{API}/orders", HTTP_AUTHORIZATION="Basic %%%")
    good = client.get(f"{API}/orders", HTTP_AUTHORIZATION=basic_auth(api_key.key, api_key.secret))
    api_key_revoke(api_key=api_key.api_key)
    revoked = client.get(f"{API}/orders", HTTP_AUTHORIZATION=basic_auth(api_key.key, api_key.secret))

    for reply in (anonymous, wrong, garbage, revoked):
        assert reply.status_code == 401
        assert reply.json() == {"Message": "Authorization has been denied for this request."}
        assert reply["WWW-Authenticate"].startswith("Basic")
    assert good.status_code == 200


@pytest.mark.parametrize("method,path,words", [
    ("post", "/orders/createlabelfororder", "does not buy or void shipping labels"),
    ("post", "/shipments/createlabel", "does not buy or void shipping labels"),
    ("post", "/shipments/getrates", "does not quote carrier rates"),
    ("get", "/carriers", "does not quote carrier rates"),
    ("post", "/orders/createorders", "one at a time"),
    ("get", "/products", "stores, orders, shipments and webhooks calls only"),
])
def test_calls_shipbridge_cannot_honour_answer_like_shipstation(api_client, method, path, words):
    reply = getattr(api_client, method)(f"{API}{path}", {}, format="json")

    assert reply.status_code == 404
    body = reply.json()
    assert body["Message"] == f"No HTTP resource was found that matches the request URI 'http://testserver{API}{path}'."
    assert words in body["MessageDetail"]


def test_a_method_a_path_does_not_take_is_405(api_client, store):
    reply = api_client.put(f"{API}/stores/{store.pk}", {}, format="json")

    assert reply.status_code == 405
    assert reply.json() == {"Message": "The requested resource does not support http method 'PUT'."}


# --- merchants kept apart ------------------------------------------------------------------


def test_another_merchants_ids_answer_404_everywhere(api_client, api_client_for, store, site_url, settings):
    settings.SHIPBRIDGE_EGRESS_ALLOW = ["hooks.example.test"]
    theirs = MerchantFactory(name="Other Goods")
    their_store = StoreFactory(merchant=theirs, name="Their shop")
    their_order = make_order(their_store, "T-1")
    their_client = api_client_for(theirs)
    their_hook = their_client.post(f"{API}/webhooks/subscribe", {"target_url": "https://hooks.example.test/x",
                                                                 "event": "SHIP_NOTIFY"}, format="json").json()["id"]
    mine = make_order(store, "M-1")

    calls = [
        ("get", f"/stores/{their_store.pk}", None),
        ("get", f"/stores/getrefreshstatus?storeId={their_store.pk}", None),
        ("post", "/stores/refreshstore", {"storeId": their_store.pk}),
        ("post", f"/stores/refresh?storeId={their_store.pk}", None),
        ("get", f"/orders/{their_order.pk}", None),
        ("post", "/orders/createorder", {**CREATE_ORDER_EXAMPLE, "orderId": their_order.pk}),
        ("post", "/orders/createorder", {**CREATE_ORDER_EXAMPLE, "advancedOptions": {"storeId": their_store.pk}}),
        ("post", "/orders/markasshipped", {"orderId": their_order.pk, "carrierCode": "usps"}),
        ("post", "/orders/markshipped", {"orderId": their_order.pk, "carrierCode": "usps"}),
        ("post", "/webhooks/subscribe", {"target_url": "https://hooks.example.test/y", "event": "SHIP_NOTIFY",
                                         "store_id": their_store.pk}),
        ("delete", f"/webhooks/{their_hook}", None),
        ("get", f"/stores/{10 ** 9}", None),
        ("get", f"/orders/{10 ** 9}", None),
    ]
    for method, path, body in calls:
        reply = getattr(api_client, method)(f"{API}{path}", body, format="json")
        assert reply.status_code == 404, (method, path, reply.content)
        assert set(reply.json()) == {"Message"}, (method, path)

    # lists and filters show only the key's merchant's rows
    assert [o["orderId"] for o in api_client.get(f"{API}/orders").json()["orders"]] == [mine.pk]
    assert api_client.get(f"{API}/orders", {"storeId": their_store.pk}).json()["total"] == 0
    assert [s["storeId"] for s in api_client.get(f"{API}/stores", {"showInactive": "true"}).json()] == [store.pk]
    assert api_client.get(f"{API}/shipments", {"orderId": their_order.pk}).json()["total"] == 0
    assert api_client.get(f"{API}/webhooks").json() == {"webhooks": []}
    their_order.refresh_from_db()
    assert their_order.status == OrderStatus.AWAITING_SHIPMENT and not their_order.shipments.exists()
    assert WebhookSubscription.objects.filter(pk=their_hook).exists()


# --- rate limit ----------------------------------------------------------------------------


def test_rate_limit_per_key_with_shipstations_headers(api_client, api_client_for, merchant, settings):
    settings.SHIPBRIDGE_API_RATE_LIMIT = 3

    replies = [api_client.get(f"{API}/stores") for _ in range(4)]
    other_key = api_client_for(merchant, "another key").get(f"{API}/stores")

    for reply in replies:
        assert all(name in reply for name in RATE_HEADERS), reply.headers
        assert reply["X-Rate-Limit-Limit"] == "3" and 1 <= int(reply["X-Rate-Limit-Reset"]) <= 60
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert [r["X-Rate-Limit-Remaining"] for r in replies] == ["2", "1", "0", "0"]
    assert replies[3].json()["Message"] == "Too Many Requests"
    assert replies[3]["Retry-After"] == replies[3]["X-Rate-Limit-Reset"]
    assert other_key.status_code == 200 and other_key["X-Rate-Limit-Remaining"] == "2"  # each key its own count


def test_the_count_is_per_minute(api_key, settings):
    from orders.api.ratelimit import count_request

    settings.SHIPBRIDGE_API_RATE_LIMIT = 2
    minute = 1_700_000_040.0  # the top of a minute
    states = [count_request(api_key.key, now=minute + 10 + i) for i in range(3)]
    next_minute = count_request(api_key.key, now=minute + 61)

    assert [s.allowed for s in states] == [True, True, False]
    assert states[0].reset == 50 and next_minute.allowed and next_minute.remaining == 1


# --- constant queries ----------------------------------------------------------------------


def test_list_orders_runs_a_constant_number_of_queries_whatever_the_page_size(api_client, store, settings):
    from orders.shipping import shipment_create

    settings.SHIPBRIDGE_API_RATE_LIMIT = 1000
    for number in range(30):
        order = make_order(store, f"Q-{number:03d}", items=3)
        if number % 3 == 0:
            shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)

    def queries(size):
        api_client.get(f"{API}/orders", {"pageSize": size})  # the key's last use and the rate window, written
        with CaptureQueriesContext(connection) as captured:
            reply = api_client.get(f"{API}/orders", {"pageSize": size})
        assert reply.status_code == 200 and len(reply.json()["orders"]) == min(size, 30)
        return len(captured.captured_queries)

    small, large = queries(2), queries(500)
    assert small == large, (small, large)
    assert large <= 12


# --- the OpenAPI schema and its docs pages ------------------------------------------------------


def test_schema_and_docs_pages_without_a_cdn(client):
    schema = client.get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get(f"{API}/docs/")
    redoc = client.get(f"{API}/redoc/")

    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/orders", "/api/v1/orders/list", "/api/v1/orders/createorder", "/api/v1/orders/markasshipped",
                 "/api/v1/orders/markshipped", "/api/v1/shipments", "/api/v1/stores", "/api/v1/stores/{store_id}",
                 "/api/v1/stores/refreshstore", "/api/v1/stores/refresh", "/api/v1/stores/getrefreshstatus",
                 "/api/v1/webhooks", "/api/v1/webhooks/subscribe", "/api/v1/webhooks/{webhook_id}"):
        assert path in document["paths"], path
    parameters = {p["name"] for p in document["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert {"orderNumber", "orderStatus", "storeId", "customerName", "itemKeyword", "orderDateStart", "pageSize",
            "sortBy", "importBatch"} <= parameters
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "http", "scheme": "basic", "description": "The API key as user name, its secret as password."}
    for page in (docs, redoc):
        html = page.content.decode()
        assert page.status_code == 200 and "/static/drf_spectacular_sidecar/" in html
        assert "cdn." not in html and "unpkg" not in html


@pytest.mark.services
def test_the_rate_limit_counts_in_redis_across_concurrent_requests(redis_url, settings, api_key):
    """Production's cache: every web process counts in the same Redis, atomically."""
    from concurrent.futures import ThreadPoolExecutor

    from orders.api.ratelimit import count_request

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url,
                                   "KEY_PREFIX": "shipbridge-test"}}
    settings.SHIPBRIDGE_API_RATE_LIMIT = 10
    minute = (int(timezone.now().timestamp()) // 60) * 60 + 1.0

    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(lambda _n: count_request(api_key.key, now=minute), range(25)))

    assert sum(state.allowed for state in states) == 10
    assert sorted(state.remaining for state in states)[-1] == 9
