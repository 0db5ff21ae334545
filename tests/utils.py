"""Plain helpers shared by ShipBridge's tests (fixtures live in tests/fixtures/)."""
import ast
import datetime as dt
import functools
import re
import socket
import threading
import time
from decimal import Decimal
from pathlib import Path

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


# --- English left on a page in another language ---------------------------------------------

# Words that are English only (no French word is spelled so): one of them on a French page is
# English left behind. (Not "on", "a", "an", "as", "file", "change", "correct", "notification",
# "message", "service", "pages", "date", "options", "total", "attention": French words too.)
ENGLISH_ONLY_WORDS = frozenset("""
    the and of to is are was were be been being for with this that these those from not no yet has have had will
    would can cannot could should must may it its their them they you your here there when which what who whose
    why how than then into onto over under about after before again also only each every any all some none
    nothing something more most at in by or if orders order store stores shipment shipments ship ships shipped
    shipping tracking carrier carriers refresh refreshed import imports imported notify notified customer
    customers merchant merchants item items line lines quantity upload preview print packing slip slips dashboard
    activity never today ago pending failed sent skipped attempt attempts retry resend cancel save add delete
    view home yes new last next left scan scanned
""".split())
# Names written alike in every language (products, systems, the CSV headers of carriers' exports).
NAMES = ("ShipStation for WooCommerce", "ShipStation", "ShipBridge", "UPS WorldShip", "FedEx Ship Manager",
         "Pirate Ship", "Custom Store", "QuickBooks Commerce", "TradeGecko", "Order Number", "Tracking Number",
         "Acumatica ERP")
# What a reader does not read as the page's language: code, scripts, the language switch (each
# language named in itself), form fields' contents.
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea", "template"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm", "data-wrong", "data-extra",
                    "data-done")


def page_text(html: str) -> str:
    """The text a reader of `html` meets: its text (hidden parts included: they show at some
    point), titles, placeholders, buttons' words, the scripts' messages kept in data-
    attributes; not code, scripts, form fields' contents or the language switch."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.skipping = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            skip = tag in SKIPPED_TAGS or "sb-language" in (attrs.get("class") or "").split()
            if not (self.skipping and self.skipping[-1]) and not skip:
                self.parts.extend(attrs[name] for name in SHOWN_ATTRIBUTES if attrs.get(name))
                if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
                    self.parts.append(attrs["value"])
            if tag not in VOID_TAGS:
                self.skipping.append(skip or bool(self.skipping and self.skipping[-1]))

        def handle_endtag(self, tag):
            if tag not in VOID_TAGS and self.skipping:
                self.skipping.pop()

        def handle_data(self, data):
            if not (self.skipping and self.skipping[-1]) and data.strip():
                self.parts.append(data)

    reader = Reader()
    reader.feed(html)
    return "\n".join(" ".join(part.split()) for part in reader.parts)


def catalogue_entries(language: str = "fr") -> list[tuple[str, str]]:
    """(English, translation) of every entry of ShipBridge's catalogue of `language` (each
    plural form's English with its first translation)."""
    from django.conf import settings

    text = (Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        fields, current = {}, None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        translation = fields.get("msgstr") or fields.get("msgstr[0]") or ""
        for english in (fields.get("msgid"), fields.get("msgid_plural")):
            if english:
                entries.append((english, translation))
    return entries


_PLACEHOLDER = r"%\([^)]*\)[sdr]|%%s|%%|%[sdr]|\{[^{}]*\}|<[^>]*>|&\w+;"
_EDGES = " \t\n,.;:!?·()[]—–-\"“”«»'’\u00a0…#/|×→"


def _pieces(message: str) -> list[str]:
    return [piece.strip(_EDGES) for piece in re.split(_PLACEHOLDER, message)]


@functools.lru_cache(maxsize=4)
def english_phrases(language: str = "fr") -> re.Pattern:
    """The phrases of ShipBridge's own English that its `language` catalogue writes otherwise
    (a pattern finding any of them): each piece of a message between its placeholders, unless
    the translations use that very piece too ("Notes", "Service", "Attention")."""
    entries = catalogue_entries(language)
    translated_pieces = {piece for _english, translation in entries for piece in _pieces(translation)}
    # a word the translations use ("part" in "à part", "Order" in « Order Number ») is no sign of
    # English alone (ENGLISH_ONLY_WORDS catches the words that are)
    translated_words = {word for _english, translation in entries for word in re.findall(r"\w+", translation)}
    phrases = set()
    for english, translation in entries:
        if not translation or translation == english:
            continue
        for piece in _pieces(english):
            if (len(re.findall(r"[^\W\d_]", piece)) >= 3 and piece not in translated_pieces
                    and piece not in translated_words):
                phrases.add(piece)
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def shown_data() -> list[str]:
    """What the database holds that pages show as it is (names, numbers, addresses, SKUs, the
    stores' own words): not a page's language."""
    from orders.carriers import CARRIERS
    from orders.models import ApiKey, Order, OrderItem, Product, Shipment, WebhookDelivery, WebhookSubscription
    from stores.models import Merchant, StatusMapping, Store, User

    values = {carrier.label for carrier in CARRIERS}
    for model, fields in ((Store, ("name", "brand_company_name", "brand_website", "brand_email", "brand_phone")),
                          (Merchant, ("name",)), (User, ("username", "first_name", "last_name", "email")),
                          (StatusMapping, ("store_status",)),
                          (Order, ("order_number", "external_id", "store_status", "ship_to_name", "ship_to_company",
                                   "ship_to_street1", "ship_to_street2", "ship_to_city", "ship_to_state",
                                   "ship_to_postal_code", "ship_to_country", "ship_to_phone", "customer_email",
                                   "bill_to_name", "requested_service", "customer_notes", "gift_message")),
                          (OrderItem, ("sku", "name", "location", "line_item_id")),
                          (Product, ("sku", "name", "barcode", "bin_location")),
                          (Shipment, ("carrier", "service", "tracking_number")),
                          (ApiKey, ("label", "key")), (WebhookSubscription, ("friendly_name", "target_url")),
                          (WebhookDelivery, ("resource_url",))):
        for row in model.objects.values_list(*fields):
            values.update(str(value) for value in row if value and len(str(value)) > 1)
    return sorted(values, key=len, reverse=True)


def english_on_page(html: str, *, data=(), language: str = "fr") -> list[str]:
    """The lines of a page in `language` that hold English of ShipBridge's own: a phrase its
    catalogue translates, or a word only English has. `data` (and the database's values, the
    names of NAMES) are left out first: names, numbers and the stores' own words are not the
    page's language."""
    text = page_text(html)
    for value in [*NAMES, *sorted(data, key=len, reverse=True), *shown_data()]:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ⟨…⟩ ", text)
    phrases = english_phrases(language)
    found = []
    for line in text.splitlines():
        line = re.sub(r"https?://\S+|\w*_\w*", " ", line)  # addresses, setting names, ShipStation's event names
        english = {w.lower() for w in re.findall(r"\b[^\W\d_]+\b", line)} & ENGLISH_ONLY_WORDS  # words, not codes
        phrase = phrases.search(line)
        if phrase or english:
            found.append(f"{line.strip()}   ← {phrase.group(0) if phrase else ', '.join(sorted(english))}")
    return found
