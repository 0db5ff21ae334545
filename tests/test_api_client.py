"""A published ShipStation API client, unmodified but for its base URL, against a live ShipBridge
on loopback: the npm package shipstation-node 1.5.6 (rip-technologies/shipstation-node), installed
with npm into a temporary folder (see tests/clients/shipstation_node/README.md).

It lists stores and orders page by page, creates an order, marks an order shipped (the store, a
sandbox Custom Store, is notified once), subscribes webhooks, and receives ORDER_NOTIFY (after a
refresh it asked for brought new orders) and SHIP_NOTIFY, whose resource_url, read with the
client's own calls, lists exactly those orders and that shipment."""
import json
import pathlib
import shutil
import subprocess
from urllib.parse import parse_qsl, urlsplit

import pytest

from orders.apikeys import api_key_create
from orders.models import Order, Shipment, WebhookDelivery
from stores.models import Merchant
from tests.utils import SHIP_DAY, order_lines, sandbox_store, shipnotify_requests

CLIENT = "shipstation-node@1.5.6"
SHIP_TO = {"Name": "Ada Lovelace", "Company": "", "Address1": "1 Analytical Way", "Address2": "", "City": "Springfield",
           "State": "IL", "PostalCode": "62701", "Country": "US", "Phone": ""}
HERE = pathlib.Path(__file__).parent / "clients" / "shipstation_node"


@pytest.fixture(scope="session")
def shipstation_node(tmp_path_factory):
    """The published client installed by npm into a folder of its own, with our driver beside it."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed to install and run the published shipstation-node client")
    folder = tmp_path_factory.mktemp("shipstation-node")
    (folder / "package.json").write_text('{"name": "shipbridge-client-test", "private": true}')
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", CLIENT], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"npm install {CLIENT} failed: {done.stderr[-2000:]}"
    for name in ("driver.mjs", "resolve.mjs", "register.mjs"):
        shutil.copy(HERE / name, folder / name)
    return folder


class Client:
    """Calls of shipstation-node, one node process each: client.call("orders", "list", {...})."""

    def __init__(self, folder, base_url, key, secret):
        self.folder, self.config = folder, {"baseURL": base_url, "apiKey": key, "apiSecret": secret}

    def call(self, resource, method, *args):
        config = json.dumps({**self.config, "resource": resource, "method": method, "args": list(args)})
        done = subprocess.run(["node", "--import", "./register.mjs", "driver.mjs", config], cwd=self.folder,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def ok(self, resource, method, *args):
        answer = self.call(resource, method, *args)
        assert answer["ok"], answer
        return answer["result"]


def params_of(resource_url):
    return dict(parse_qsl(urlsplit(resource_url).query))


@pytest.fixture
def live(live_server, settings, eager_celery):
    """ShipBridge on loopback, its tasks run in the web process (a refresh, a store
    notification, a webhook delivery happen before the request answers)."""
    settings.SHIPBRIDGE_SITE_URL = live_server.url
    return live_server


def test_a_published_shipstation_client_works_with_shipbridge(shipstation_node, live, sandboxes, webhook_receiver):
    merchant = Merchant.objects.create(name="Acme Goods")
    sandbox = sandboxes(orders=0)
    state = sandbox.state
    for index in range(3):
        state.add_order(lines=order_lines(f"A{index}"), when=state.now(), ship_to=dict(SHIP_TO))
    store = sandbox_store(sandbox, merchant=merchant)
    key = api_key_create(merchant=merchant, label="shipstation-node")
    client = Client(shipstation_node, f"{live.url}/api/v1/", key.key, key.secret)

    # stores
    stores = client.ok("stores", "list", {"showInactive": True})
    assert [s["storeId"] for s in stores] == [store.pk] and stores[0]["storeName"] == "Sandbox shop"
    assert {m["statusKey"] for m in client.ok("stores", "get", store.pk)["statusMappings"]} == set(
        store.status_map())

    # a refresh the client asks for (POST /stores/refresh?storeId=...) imports the store's orders
    assert client.ok("stores", "refresh", {"storeId": store.pk})["success"] is True
    assert client.ok("stores", "getRefreshRate", store.pk)["refreshStatus"] == "Idle"

    # orders, page by page
    first = client.ok("orders", "list", {"pageSize": 2, "page": 1, "sortBy": "OrderDate", "sortDir": "ASC"})
    second = client.ok("orders", "list", {"pageSize": 2, "page": 2, "sortBy": "OrderDate", "sortDir": "ASC"})
    assert (first["total"], first["pages"], len(first["orders"]), len(second["orders"])) == (3, 2, 2, 1)
    listed = [o["orderId"] for o in first["orders"] + second["orders"]]
    assert sorted(listed) == sorted(Order.objects.filter(store=store).values_list("pk", flat=True))

    # webhooks
    receiver = webhook_receiver()
    order_hook = client.ok("webhooks", "subscribe", {"target_url": receiver.url, "event": "ORDER_NOTIFY",
                                                     "store_id": store.pk, "friendly_name": "New orders"})
    client.ok("webhooks", "subscribe", {"target_url": receiver.url, "event": "SHIP_NOTIFY"})
    assert {w["HookType"] for w in client.ok("webhooks", "list")["webhooks"]} == {"ORDER_NOTIFY", "SHIP_NOTIFY"}

    # new orders in the store, a refresh: ORDER_NOTIFY lists exactly them
    new = [state.add_order(lines=order_lines(f"B{index}"), when=state.now(), ship_to=dict(SHIP_TO))
           for index in range(2)]
    assert client.ok("stores", "refresh", {"storeId": store.pk})["success"] is True
    (notice,) = [json.loads(r.body) for r in receiver.requests]
    assert notice["resource_type"] == "ORDER_NOTIFY" and notice["resource_url"].startswith(f"{live.url}/api/v1/orders?")
    batch = client.ok("orders", "list", params_of(notice["resource_url"]))
    assert sorted(o["orderKey"] for o in batch["orders"]) == sorted(o.order_id for o in new)

    # an order created through the API (create or update by orderKey)
    created = client.ok("orders", "createOrUpdate", {
        "orderNumber": "PHONE-1", "orderKey": "phone-1", "orderDate": "2024-05-01T10:00:00.0000000",
        "orderStatus": "awaiting_shipment", "billTo": {"name": "Ada Lovelace"},
        "shipTo": {"name": "Ada Lovelace", "street1": "1 Analytical Way", "city": "London", "postalCode": "N1 9GU",
                   "country": "GB"},
        "items": [{"sku": "TEA-001", "name": "Tea", "quantity": 2, "unitPrice": 4.5}]})
    assert created["orderNumber"] == "PHONE-1" and created["orderStatus"] == "awaiting_shipment"
    assert Order.objects.get(pk=created["orderId"]).store.connector_class.manual_entry

    # mark an imported order shipped (POST /orders/markshipped): the store is notified once
    target = Order.objects.get(store=store, external_id=new[0].order_id)
    shipped = client.ok("orders", "markShipped", {
        "orderId": target.pk, "carrierCode": "usps", "shipDate": SHIP_DAY.isoformat(),
        "trackingNumber": "9400100000000000000000", "notifyCustomer": False, "notifySalesChannel": True})
    assert shipped == {"orderId": target.pk, "orderNumber": target.order_number}
    shipment = Shipment.objects.get(order=target)
    assert len(shipnotify_requests(sandbox)) == 1
    assert shipment.notification.status == "sent"

    # SHIP_NOTIFY lists exactly that shipment
    ship_notice = json.loads(receiver.requests[-1].body)
    assert ship_notice["resource_type"] == "SHIP_NOTIFY"
    shipments = client.ok("shipments", "list", params_of(ship_notice["resource_url"]))
    assert [s["shipmentId"] for s in shipments["shipments"]] == [shipment.pk]
    assert (shipments["shipments"][0]["trackingNumber"], shipments["shipments"][0]["marketplaceNotified"]) == (
        "9400100000000000000000", True)
    assert WebhookDelivery.objects.filter(status="sent").count() == 2

    # errors come back as the client sees ShipStation's
    refused = client.call("orders", "markShipped", {"orderId": target.pk, "carrierCode": "usps",
                                                    "notifySalesChannel": True})
    assert refused["ok"] is False and refused["status"] == 400 and "already shipped" in refused["data"][
        "ExceptionMessage"]
    assert client.call("orders", "get", 10 ** 9)["status"] == 404

    client.ok("webhooks", "unsubscribe", order_hook["id"])
    assert [w["HookType"] for w in client.ok("webhooks", "list")["webhooks"]] == ["SHIP_NOTIFY"]
