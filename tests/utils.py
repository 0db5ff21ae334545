"""Plain helpers shared by ShipBridge's tests (fixtures live in tests/fixtures/)."""
import datetime as dt
import socket
import threading
import time
from decimal import Decimal

from stores.connectors.base import Address
from stores.sandbox.acumatica import SANDBOX_BRANCH, SANDBOX_PASSWORD, SANDBOX_TENANT, SANDBOX_USERNAME
from stores.sandbox.customstore import SandboxLine, store_settings

# A ship date within the bounds the shipping services keep (a year back, 90 days ahead).
SHIP_DAY = dt.date.today() - dt.timedelta(days=10)

# --- waiting ------------------------------------------------------------------------------------


def wait_for(predicate, *, timeout, interval=0.3):
    """Poll `predicate` until it is true (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# --- sandboxes ------------------------------------------------------------------------------


def stop_quickly(sandbox):
    """Stop a sandbox without waiting for its accept loop's next poll: wake it up."""
    stopper = threading.Thread(target=sandbox.httpd.shutdown, daemon=True)
    stopper.start()
    while stopper.is_alive():
        try:
            socket.create_connection((sandbox.host, sandbox.port), timeout=0.2).close()
        except OSError:
            pass
        stopper.join(0.02)
    sandbox.stop()


def acumatica_settings(sandbox, **overrides):
    """Store settings (password included) for a store pointing at a sandbox Acumatica."""
    return {"base_url": sandbox.url, "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD,
            "company": SANDBOX_TENANT, "branch": SANDBOX_BRANCH, "version": sandbox.state.release, **overrides}


# --- requests a sandbox received --------------------------------------------------------------


def login_requests(state):
    """The login calls a sandbox Acumatica received."""
    return [r for r in state.requests if r[1] == "/entity/auth/login"]


def shipment_requests(state, method="GET"):
    """The Shipment entity calls a sandbox Acumatica received, as (method, path, query)."""
    return [(m, p, q) for m, p, q in state.requests if m == method and "/Shipment" in p]


def shipnotify_requests(sandbox):
    """The shipment notices (action=shipnotify) a sandbox Custom Store received."""
    return [r for r in sandbox.state.requests if r.action.lower() == "shipnotify"]


# --- stores and orders from a sandbox Custom Store ------------------------------------------


def order_lines(prefix):
    """Two product lines and a discount line, their line item ids starting with `prefix`."""
    return [
        SandboxLine(line_item_id=f"{prefix}-1", sku="TEA-001", name="Tea & Biscuits gift box", quantity=2,
                    unit_price=Decimal("19.90")),
        SandboxLine(line_item_id=f"{prefix}-2", sku="MUG-BLU", name='Mug, blue "Classic"', quantity=1,
                    unit_price=Decimal("12.50")),
        SandboxLine(line_item_id=f"{prefix}-adj", sku="", name="Discount", quantity=1, unit_price=Decimal("-5.00"),
                    adjustment=True),
    ]


def sandbox_store(sandbox, *, name="Sandbox shop", **fields):
    """A store of the sandbox's connector (custom_store or quickbooks_commerce) pointing at it."""
    from stores.services import store_create

    return store_create(connector=sandbox.state.preset.name, name=name, settings=store_settings(sandbox), **fields)


# A complete ship-to address, as a sandbox Custom Store order carries it.
SANDBOX_SHIP_TO = {"Name": "Ada Lovelace", "Company": "", "Address1": "350 5th Ave", "Address2": "",
                   "City": "New York", "State": "NY", "PostalCode": "10001", "Country": "US", "Phone": ""}


def import_orders(sandbox, count=1, **store_fields):
    """`count` orders added to a sandbox Custom Store, each with a complete ship-to address, then
    imported through the import engine into a new store. Returns (store, [Order...]) in creation order."""
    from orders.importing import store_refresh
    from orders.models import Order

    state = sandbox.state
    created = [state.add_order(lines=order_lines(f"L{i}"), when=state.now() - dt.timedelta(minutes=5),
                               **({"ship_to": dict(SANDBOX_SHIP_TO)} if i else {}))
               for i in range(count)]
    store = sandbox_store(sandbox, **store_fields)
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded" and run.imported == count, run.error
    return store, [Order.objects.get(store=store, external_id=o.order_id) for o in created]


def import_acumatica(sandbox, **shipment):
    """A shipment added to a sandbox Acumatica (`shipment`: add_shipment's options), then imported
    into a new store. Returns (ShipmentNbr, Order)."""
    from orders.importing import store_refresh
    from orders.models import Order
    from stores.services import store_create

    nbr = sandbox.state.add_shipment(**shipment)
    store = store_create(connector="acumatica", name=f"Acumatica {sandbox.state.release}",
                         settings=acumatica_settings(sandbox))
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded" and run.imported == 1, run.error
    return nbr, Order.objects.get(store=store, external_id=nbr)


# --- the browser ------------------------------------------------------------------------------


def log_in(browser, live_server, username, password):
    """A new browser page logged in to the admin as `username`, on the dashboard."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/dashboard/")
    page.click("#toggle-nav-sidebar")  # more room for the pages (remembered by the browser)
    return page


# --- what a sandbox holds -----------------------------------------------------------------


def order_address(order) -> Address | None:
    """The sandbox order's ship-to address, field by field as the Custom Store mapper reads it."""
    ship = order.ship_to
    if ship is None:
        return None
    return Address(street1=ship.get("Address1") or "", city=ship.get("City") or "", state=ship.get("State") or "",
                   postal_code=ship.get("PostalCode") or "", country=(ship.get("Country") or "").upper())


def expected_orders(state, mapping):
    """What the sandbox holds that must be imported: a mapped status and a ship-to address that
    ShipBridge's own rule (Address.missing_fields) finds complete."""
    wanted = {}
    for order in state.orders.values():
        address = order_address(order)
        if order.status in mapping and address is not None and not address.missing_fields():
            wanted[order.order_id] = order
    return wanted
