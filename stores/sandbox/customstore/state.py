"""A sandbox Custom Store: a loopback HTTP server speaking the Custom Store XML protocol, with
realistic generated orders, a QuickBooks Commerce preset and fault switches for the tests.

Endpoint: `<sandbox url>/shipstation.xml` (SANDBOX_PATH); `/` answers the shop's HTML home
page (what a merchant who pasted the wrong URL gets). Credentials: SANDBOX_USERNAME /
SANDBOX_PASSWORD, as HTTP Basic auth or `SS-UserName` / `SS-Password` query parameters.

    GET  /shipstation.xml?action=export&start_date=MM/dd/yyyy HH:mm&end_date=...&page=N
         orders whose LastModified (minute precision, the sandbox's zone, default UTC) lies
         in [start_date, end_date], oldest first, `page_size` per page, `<Orders pages="N">`;
         `stock_location_id[]=ID` (repeatable) restricts to those stock locations.
    POST /shipstation.xml?action=shipnotify&order_number=...&carrier=...&service=...&tracking_number=...
         with a <ShipNotice> body: recorded in `state.notices`; the order's lines are marked
         shipped and, once everything is shipped, the order takes the preset's shipped status.
         The QuickBooks Commerce preset validates like the real feed did (422 + JSON errors).

Start one (tests, demo, `run_sandboxes`):

    sandbox = start_custom_store_sandbox(port=0, preset="quickbooks_commerce", orders=60)
    sandbox.endpoint  # http://127.0.0.1:PORT/shipstation.xml
    sandbox.state.fail_next(1, status=503, page=2)
    sandbox.stop()

or `python -m stores.sandbox.customstore --port 8071 --preset custom_store`.

No Django here: the sandbox runs without settings.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qs, unquote_plus, urlsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import defusedxml
import defusedxml.ElementTree as SafeET

from ..server import RunningSandbox, SandboxHandler

UTC = dt.timezone.utc
SANDBOX_PATH = "/shipstation.xml"
CUSTOM_STORE_PATH = SANDBOX_PATH  # older name
SANDBOX_USERNAME = "sandbox"
SANDBOX_PASSWORD = "sandbox-pass"
DEFAULT_PAGE_SIZE = 100

# What QuickBooks Commerce answered to a shipment notice for an order already fulfilled.
QBC_FULFILLED_ERROR = json.dumps({
    "fulfilment_line_items.quantity": [
        "must be less than or equal to the unpacked quantity of the order line item"
    ],
    "base": ["Cannot create fulfilment on an order in the fulfilled state"],
}, separators=(",", ":"))

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sandbox Shop</title></head>"
    "<body><h1>Welcome to the Sandbox Shop</h1><p>Nothing to see here.</p></body></html>\n"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    ' <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n'
    ' <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">\n'
    ' <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">\n'
    ' <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">\n'
    ' <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">\n'
    ' <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">\n'
    ']>\n<Orders pages="1"><Order><OrderID>&lol9;</OrderID></Order></Orders>\n'
)

EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE Orders [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    '<Orders pages="1"><Order><OrderID>&xxe;</OrderID></Order></Orders>\n'
)

# Values served by the "invalid values" fault, per element.
INVALID_VALUES = {
    "OrderDate": "13/45/2024 25:99",
    "LastModified": "yesterday-ish",
    "OrderTotal": "12,34.5x",
    "TaxAmount": "NaN",
    "Quantity": "two",
    "UnitPrice": "$9.99",
    "Weight": "heavy",
}


# --- presets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    name: str
    statuses: tuple[tuple[str, int], ...]  # (status, relative frequency) for generated orders
    open_status: str  # status of new orders (paid / finalized)
    shipped_status: str  # status once everything shipped
    void_statuses: tuple[str, ...]  # no shipment accepted in these (QuickBooks Commerce rules)
    weight_units: tuple[str, ...]
    stock_locations: tuple[str, ...]
    currency: str
    strict_fulfilment: bool  # QuickBooks Commerce's 422 validation on shipnotify
    id_base: int
    number_format: str

    @property
    def status_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.statuses)


PRESETS = {
    "quickbooks_commerce": Preset(
        name="quickbooks_commerce",
        statuses=(("finalized", 60), ("fulfilled", 20), ("void", 10), ("deleted", 10)),
        open_status="finalized",
        shipped_status="fulfilled",
        void_statuses=("void", "deleted"),
        weight_units=("Grams",),
        stock_locations=("4101", "4102", "4103"),
        currency="USD",
        strict_fulfilment=True,
        id_base=23_000_000,
        number_format="SO{n:05d}",
    ),
    "custom_store": Preset(
        name="custom_store",
        statuses=(("paid", 45), ("unpaid", 15), ("on-hold", 10), ("shipped", 20), ("cancelled", 10)),
        open_status="paid",
        shipped_status="shipped",
        void_statuses=(),
        weight_units=("Grams", "g", "gm"),  # grams, spelt the ways real stores do
        stock_locations=("1", "2"),
        currency="EUR",
        strict_fulfilment=False,
        id_base=500,
        number_format="{n}",
    ),
}


# --- orders -------------------------------------------------------------------------------


@dataclass
class SandboxLine:
    line_item_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    weight: Decimal | None = None  # per unit, in weight_units
    weight_units: str = "Grams"
    location: str = ""
    adjustment: bool = False
    image_url: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    shipped: int = 0  # units already covered by accepted shipment notices

    @property
    def unshipped(self) -> int:
        return max(0, self.quantity - self.shipped)


@dataclass
class SandboxOrder:
    order_id: str
    order_number: str
    order_date: dt.datetime  # aware UTC
    last_modified: dt.datetime  # aware UTC
    status: str
    stock_location_id: str
    lines: list[SandboxLine]
    customer_code: str
    bill_to: dict[str, str]
    ship_to: dict[str, str] | None  # None: no <ShipTo> element at all
    currency: str = "USD"
    payment_method: str = "Credit Card"
    shipping_method: str = "Standard"
    tax_amount: Decimal = Decimal("0.00")
    shipping_amount: Decimal = Decimal("0.00")
    customer_notes: str = ""
    internal_notes: str = ""
    gift: bool = False
    gift_message: str = ""
    po_number: str = ""  # sent like the real feed did; ShipBridge must not import it

    @property
    def order_total(self) -> Decimal:
        goods = sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))
        return (goods + self.tax_amount + self.shipping_amount).quantize(Decimal("0.01"))

    def line(self, line_item_id: str) -> SandboxLine | None:
        return next((line for line in self.lines if line.line_item_id == line_item_id), None)


FIRST_NAMES = ("Zoë", "José", "Łukasz", "Søren", "Ana", "Björn", "Chloé", "Oluwaseun", "Mei", "Ahmed",
               "Nguyễn", "Σοφία", "Дмитрий", "太郎", "Priya", "Seán", "Ines", "Mark")
LAST_NAMES = ("Ångström", "Müller", "Żółć", "Kierkegaard", "O'Brien", "García", "Dvořák", "山田",
              "Иванова", "Παπαδόπουλος", "Smith & Sons", "Nakamura", "van der Berg", "Ng")
COMPANIES = ("", "", "", "Müller & Söhne GmbH", "Acme <Wholesale> Ltd", "Café ]]> Bar", "株式会社サンプル",
             "O'Reilly & Co", "")
PLACES = (
    ("US", "NY", "New York", "10001", "350 5th Ave"),
    ("US", "CA", "San Francisco", "94103", "1 Market St"),
    ("US", "TX", "Austin", "73301", "500 Congress Ave"),
    ("CA", "QC", "Montréal", "H2X 1Y4", "1234 Rue Saint-Denis"),
    ("GB", "", "London", "SW1A 1AA", "10 Downing Street"),
    ("DE", "", "München", "80331", "Marienplatz 8"),
    ("FR", "", "Paris", "75004", "4 Place de l'Hôtel de Ville"),
    ("JP", "", "東京都", "100-0001", "千代田1-1"),
    ("AU", "NSW", "Sydney", "2000", "1 Macquarie St"),
)
CATALOGUE = (
    ("TEA-001", "Tea & Biscuits gift box", "19.90", 850),
    ("CBL-USBC", "Cable <USB-C> 2 m", "9.99", 60),
    ("PST-CDATA", "Poster ]]> limited edition", "24.00", 300),
    ("KTL-RU", "Электрический чайник", "49.50", 1400),
    ("MTC-100", "抹茶 Matcha 100 g", "18.00", 120),
    ("CRM-KIT", "Crème brûlée kit", "32.00", 950),
    ("MUG-BLU", "Mug, blue \"Classic\"", "12.50", 350),
    ("SOCK-3", "Socks (3 pairs)", "14.00", 180),
    ("BTL-750", "Steel bottle 750 ml", "27.90", 410),
    ("NBK-A5", "Notebook A5 — dotted", "8.40", 220),
)
SERVICES = ("Standard", "Express", "Next Day", "Economy (5–7 days)", "")
NOTES = ("", "", "", "Leave at the door & ring twice", "Please use <fragile> tape", "Gift ]]> wrap please",
         "Ne pas plier — merci !", "請小心輕放")


def generate_orders(
    count: int,
    now: dt.datetime | None = None,
    seed: int = 1,
    *,
    preset: str = "quickbooks_commerce",
    first_number: int = 1,
    spread: dt.timedelta = dt.timedelta(days=10),
    status: str | None = None,
) -> list[SandboxOrder]:
    """`count` realistic orders, deterministic for a given (seed, now, first_number): modified
    during `spread` before `now`, statuses drawn from the preset (or all `status`).
    Every 11th has no ShipTo, every 13th no city, every 17th no postal code; one in 7 has a
    discount (adjustment) line; names carry unicode, `&`, `<` and `]]>`."""
    p = PRESETS[preset]
    now = _minute(now or dt.datetime.now(UTC))
    rng = random.Random(f"{seed}:{first_number}")
    names, weights = zip(*p.statuses)
    orders = []
    for i in range(count):
        n = first_number + i
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        full_name = f"{first} {last}"
        email = f"customer{n}@example.test"
        country, state, city, postal, street = rng.choice(PLACES)
        company = rng.choice(COMPANIES)
        ship_to = None
        if n % 11 != 3:
            ship_to = {
                "Name": full_name, "Company": company, "Address1": street,
                "Address2": rng.choice(("", "", "Apt 4B", "2nd floor")), "City": city, "State": state,
                "PostalCode": postal, "Country": country, "Phone": f"+1 555 01{n % 100:02d}",
            }
            if n % 13 == 5:
                ship_to["City"] = ""
            if n % 17 == 7:
                ship_to["PostalCode"] = ""
        lines = []
        for index, (sku, name, price, grams) in enumerate(rng.sample(CATALOGUE, rng.randint(1, 4)), start=1):
            units = rng.choice(p.weight_units)
            lines.append(SandboxLine(
                line_item_id=f"{p.id_base + n}-{index}",
                sku=sku, name=name, quantity=rng.randint(1, 3), unit_price=Decimal(price),
                weight=_from_grams(grams, units), weight_units=units,
                location=_bin_location(sku),
                image_url=f"https://images.example.test/{sku.lower()}.jpg",
                options=[("Colour", rng.choice(("Blue", "Rouge", "緑")))] if rng.random() < 0.3 else [],
            ))
        if n % 7 == 2:
            lines.append(SandboxLine(
                line_item_id=f"{p.id_base + n}-adj", sku="", name="Discount 10% & free <gift>", quantity=1,
                unit_price=Decimal("-5.00"), weight=None, adjustment=True,
            ))
        order_date = now - dt.timedelta(minutes=rng.randint(1, max(2, int(spread.total_seconds() // 60))))
        modified = min(now, order_date + dt.timedelta(minutes=rng.randint(0, 180)))
        order_status = status or rng.choices(names, weights)[0]
        if order_status == p.shipped_status:
            for line in lines:
                line.shipped = line.quantity
        orders.append(SandboxOrder(
            order_id=str(p.id_base + n),
            order_number=p.number_format.format(n=n),
            order_date=order_date,
            last_modified=modified,
            status=order_status,
            stock_location_id=rng.choice(p.stock_locations),
            lines=lines,
            customer_code=email,
            bill_to={"Name": full_name, "Company": company, "Phone": f"+1 555 02{n % 100:02d}", "Email": email},
            ship_to=ship_to,
            currency=p.currency,
            payment_method=rng.choice(("Credit Card", "PayPal", "Bank transfer")),
            shipping_method=rng.choice(SERVICES),
            tax_amount=Decimal(rng.randint(0, 900)) / 100,
            shipping_amount=Decimal(rng.choice((0, 495, 995))) / 100,
            customer_notes=rng.choice(NOTES),
            internal_notes=rng.choice(("", "", "VIP customer", "Check stock <A-03> first")),
            gift=n % 9 == 4,
            gift_message="Happy birthday, Zoë! ]]> 🎉" if n % 9 == 4 else "",
            po_number=f"PO-{70000 + n}" if p.strict_fulfilment else "",
        ))
    return orders


def _bin_location(sku: str) -> str:
    """A SKU lives in one bin, like in a real warehouse (stable across orders and runs)."""
    code = sum(ord(ch) * (i + 1) for i, ch in enumerate(sku))
    return f"{'ABC'[code % 3]}-{code % 12 + 1:02d}-{code % 6 + 1:02d}"


def _from_grams(grams: int, units: str) -> Decimal:
    key = units.lower()
    if key in ("pounds", "lb"):
        return (Decimal(grams) / Decimal("453.59237")).quantize(Decimal("0.01"))
    if key in ("ounces", "oz"):
        return (Decimal(grams) / Decimal("28.349523125")).quantize(Decimal("0.1"))
    return Decimal(grams)


# --- faults and records -------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # status | html | empty | truncated | bomb | external_entity | oversized | invalid | qbc_422 | echo
    action: str = "export"  # export | shipnotify | any
    page: int | None = None  # export page it applies to (None: any)
    remaining: int | None = 1  # None: until clear_faults()
    status: int = 503
    body: str = ""
    retry_after: str | None = None
    size: int = 0
    field: str = ""

    def matches(self, action: str, page: int | None) -> bool:
        return self.action in ("any", action) and (self.page is None or self.page == page)


@dataclass
class RequestLog:
    method: str
    path: str
    action: str  # as received (case kept)
    params: dict[str, list[str]]
    basic_user: str | None  # user sent in the Authorization header, if any
    query_user: str | None  # SS-UserName, if any
    status: int = 0


@dataclass
class ReceivedNotice:
    """A shipnotify request as the store saw it (accepted or not)."""

    params: dict[str, str]  # query parameters, credentials removed
    body: bytes
    fields: dict[str, str]  # top-level <ShipNotice> elements
    recipient: dict[str, str]
    items: list[dict[str, str]]  # [{SKU, Name, Quantity, LineItemID}]
    status_code: int = 0
    response_body: str = ""
    received_at: dt.datetime | None = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status_code < 300


# --- state --------------------------------------------------------------------------------


class CustomStoreState:
    """The sandbox store's data, behaviour switches and fault switches (thread-safe)."""

    def __init__(
        self,
        *,
        preset: str = "quickbooks_commerce",
        orders: int = 0,
        seed: int = 1,
        now: dt.datetime | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        username: str = SANDBOX_USERNAME,
        password: str = SANDBOX_PASSWORD,
        timezone: str = "UTC",
        live_every: float | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        date_style: str = "24h",
        path: str = SANDBOX_PATH,
        verbose: bool = False,
    ):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
        self.preset = PRESETS[preset]
        self.seed = seed
        self.page_size = page_size
        self.username, self.password = username, password
        self.tz = ZoneInfo(timezone)
        self.clock = clock or (lambda: dt.datetime.now(UTC))
        self.date_style = date_style  # "24h": 03/05/2024 14:07 · "ampm": 3/5/2024 2:07:09 PM
        self.path = path
        self.verbose = verbose
        self.accept_basic = True  # accept credentials from the Authorization header
        self.accept_query_auth = True  # accept SS-UserName / SS-Password
        self.page_overlap = 0  # unstable paging: page N repeats the last K orders of page N-1
        self.on_export: Callable[[CustomStoreState, int], None] | None = None  # before each export page
        self.lock = threading.RLock()
        self.orders: dict[str, SandboxOrder] = {}
        self.notices: list[ReceivedNotice] = []
        self.requests: list[RequestLog] = []
        self.faults: list[Fault] = []
        self._next_number = 1
        self.live_every = live_every
        self._live_last = _aware(self.clock()).replace(microsecond=0)
        if orders:
            self.extend(generate_orders(orders, now or self.clock(), seed, preset=preset))

    # -- time --
    def now(self) -> dt.datetime:
        """The store's clock, minute precision (what the protocol's dates carry)."""
        return _minute(self.clock())

    # -- orders --
    def extend(self, orders: list[SandboxOrder]) -> None:
        with self.lock:
            for order in orders:
                self.orders[order.order_id] = order
                digits = re.sub(r"\D", "", order.order_number)
                if digits:
                    self._next_number = max(self._next_number, int(digits) + 1)

    def add_order(self, *, status: str | None = None, when: dt.datetime | None = None, **fields) -> SandboxOrder:
        """A new generated order (created and modified `when`, default now), with `fields`
        overriding any SandboxOrder attribute (ship_to=None, lines=[...], stock_location_id=...)."""
        with self.lock:
            when = _minute(when or self.now())
            order = generate_orders(1, when, self.seed, preset=self.preset.name,
                                    first_number=self._next_number, status=status or self.preset.open_status)[0]
            order.order_date = order.last_modified = when
            for key, value in fields.items():
                if not hasattr(order, key):
                    raise AttributeError(f"SandboxOrder has no field {key!r}")
                setattr(order, key, value)
            self.extend([order])
            return order

    def get(self, order_id: str) -> SandboxOrder:
        with self.lock:
            return self.orders[str(order_id)]

    def by_number(self, order_number: str) -> SandboxOrder | None:
        with self.lock:
            return next((o for o in self.orders.values() if o.order_number == order_number), None)

    def touch(self, order_id: str, when: dt.datetime | None = None) -> SandboxOrder:
        with self.lock:
            order = self.get(order_id)
            order.last_modified = _minute(when or self.now())
            return order

    def set_status(self, order_id: str, status: str, when: dt.datetime | None = None) -> SandboxOrder:
        with self.lock:
            order = self.get(order_id)
            order.status = status
            return self.touch(order_id, when)

    def update_order(self, order_id: str, when: dt.datetime | None = None, **changes) -> SandboxOrder:
        with self.lock:
            order = self.get(order_id)
            for key, value in changes.items():
                if not hasattr(order, key):
                    raise AttributeError(f"SandboxOrder has no field {key!r}")
                setattr(order, key, value)
            return self.touch(order_id, when)

    def orders_in(self, start: dt.datetime, end: dt.datetime, locations: set[str] | None = None) -> list[SandboxOrder]:
        """Orders modified in [start, end] at minute precision, oldest first."""
        with self.lock:
            chosen = [
                o for o in self.orders.values()
                if start <= o.last_modified.replace(second=0, microsecond=0) <= end
                and (not locations or o.stock_location_id in locations)
            ]
        return sorted(chosen, key=lambda o: (o.last_modified, o.order_id))

    def tick(self) -> int:
        """Live mode: add the orders due since the last tick (one every `live_every` s; at
        most 50 at once). Called on every request; returns how many were added."""
        if not self.live_every:
            return 0
        added = 0
        with self.lock:
            now = _aware(self.clock())
            step = dt.timedelta(seconds=self.live_every)
            while self._live_last + step <= now and added < 50:
                self._live_last += step
                self.add_order(when=self._live_last)
                added += 1
            if self._live_last + step <= now:
                self._live_last = now
        return added

    # -- fault switches --
    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def fail_next(self, count: int | None = 1, status: int = 503, *, action: str = "export",
                  page: int | None = None, body: str = "", retry_after: str | None = None) -> Fault:
        """Answer the next `count` matching requests with HTTP `status` (None: until cleared)."""
        return self.add_fault(Fault("status", action, page, count, status=status,
                                    body=body or f"Service unavailable (HTTP {status})", retry_after=retry_after))

    def serve_html(self, count: int | None = 1, *, action: str = "export", page: int | None = None) -> Fault:
        return self.add_fault(Fault("html", action, page, count))

    def serve_empty(self, count: int | None = 1, *, page: int | None = None) -> Fault:
        return self.add_fault(Fault("empty", "export", page, count))

    def serve_truncated_xml(self, count: int | None = 1, *, page: int | None = None) -> Fault:
        return self.add_fault(Fault("truncated", "export", page, count))

    def serve_xml_bomb(self, count: int | None = 1, *, page: int | None = None) -> Fault:
        return self.add_fault(Fault("bomb", "export", page, count))

    def serve_external_entity(self, count: int | None = 1, *, page: int | None = None) -> Fault:
        return self.add_fault(Fault("external_entity", "export", page, count))

    def serve_oversized(self, size: int = 30 * 1024 * 1024, count: int | None = 1, *, page: int | None = None) -> Fault:
        """A well-formed but `size`-byte export page."""
        return self.add_fault(Fault("oversized", "export", page, count, size=size))

    def serve_invalid_values(self, field: str = "OrderDate", count: int | None = 1, *, page: int | None = None,
                             value: str | None = None) -> Fault:
        """The first order of the page carries an invalid `field` (see INVALID_VALUES)."""
        if field not in INVALID_VALUES and value is None:
            raise ValueError(f"no invalid value known for {field!r} (known: {', '.join(INVALID_VALUES)})")
        return self.add_fault(Fault("invalid", "export", page, count, field=field,
                                    body=value if value is not None else INVALID_VALUES[field]))

    def reject_shipnotify_422(self, count: int | None = 1, body: str = QBC_FULFILLED_ERROR) -> Fault:
        """Answer shipnotify with QuickBooks Commerce's 422 validation error (JSON body)."""
        return self.add_fault(Fault("qbc_422", "shipnotify", None, count, status=422, body=body))

    def fail_shipnotify(self, count: int | None = 1, status: int = 502) -> Fault:
        """Answer the next `count` shipnotify with `status` (e.g. 502), then behave normally."""
        return self.fail_next(count, status, action="shipnotify", body=f"Bad gateway (HTTP {status})")

    def echo_request(self, count: int | None = 1, status: int = 400, *, action: str = "any",
                     page: int | None = None) -> Fault:
        """Answer with HTTP `status` and a body quoting the request back, like a debugging
        error page: the request line (URL as sent, query string included), the decoded query
        and the Authorization header. What a store must never get back into ShipBridge's
        records: the SS-Password it was sent."""
        return self.add_fault(Fault("echo", action, page, count, status=status))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, action: str, page: int | None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(action, page):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    # -- inspection helpers for tests --
    def export_requests(self) -> list[RequestLog]:
        with self.lock:
            return [r for r in self.requests if r.action.lower() == "export"]

    def log_request(self, entry: RequestLog) -> None:
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-1000]

    # -- documents --
    def format_date(self, value: dt.datetime) -> str:
        local = value.astimezone(self.tz)
        if self.date_style == "ampm":
            hour = local.hour % 12 or 12
            return (f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d}:{local.second:02d} "
                    f"{'PM' if local.hour >= 12 else 'AM'}")
        return local.strftime("%m/%d/%Y %H:%M")

    def parse_filter_date(self, text: str) -> dt.datetime:
        match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", text or "")
        if not match:
            raise ValueError(text)
        month, day, year, hour, minute, second = (int(g or 0) for g in match.groups())
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=self.tz).astimezone(UTC)

    def export_document(self, start: dt.datetime, end: dt.datetime, page: int,
                        locations: set[str] | None = None, corrupt: tuple[str, str] | None = None) -> bytes:
        chosen = self.orders_in(start, end, locations)
        size = max(1, self.page_size)
        pages = math.ceil(len(chosen) / size)
        first = max(0, (page - 1) * size - (self.page_overlap if page > 1 else 0))
        slice_ = chosen[first: page * size] if page >= 1 else []
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n', f'<Orders pages="{pages}">\n']
        for position, order in enumerate(slice_):
            parts.append(self.order_xml(order, corrupt if position == 0 else None))
        parts.append("</Orders>\n")
        return "".join(parts).encode("utf-8")

    def order_xml(self, order: SandboxOrder, corrupt: tuple[str, str] | None = None) -> str:
        bad_field, bad_value = corrupt or ("", "")

        def val(tag: str, value) -> str:
            return bad_value if tag == bad_field else value

        out = ["  <Order>\n"]
        add = lambda tag, value, text=False, indent=4: out.append(_element(tag, val(tag, value), text, indent))  # noqa: E731
        add("OrderID", order.order_id, True)
        add("OrderNumber", order.order_number, True)
        add("OrderDate", self.format_date(order.order_date))
        add("OrderStatus", order.status, True)
        add("LastModified", self.format_date(order.last_modified))
        add("ShippingMethod", order.shipping_method, True)
        add("PaymentMethod", order.payment_method, True)
        add("CurrencyCode", order.currency)
        add("OrderTotal", f"{order.order_total:.2f}")
        add("TaxAmount", f"{order.tax_amount:.2f}")
        add("ShippingAmount", f"{order.shipping_amount:.2f}")
        add("CustomerNotes", order.customer_notes, True)
        add("InternalNotes", order.internal_notes, True)
        add("Gift", "true" if order.gift else "false")
        add("GiftMessage", order.gift_message, True)
        if order.po_number:
            add("PONumber", order.po_number, True)
        add("StockLocationID", order.stock_location_id)
        out.append("    <Customer>\n")
        add("CustomerCode", order.customer_code, True, 6)
        out.append("      <BillTo>\n")
        for tag in ("Name", "Company", "Phone", "Email"):
            add(tag, order.bill_to.get(tag, ""), True, 8)
        out.append("      </BillTo>\n")
        if order.ship_to is not None:
            out.append("      <ShipTo>\n")
            for tag in ("Name", "Company", "Address1", "Address2", "City", "State", "PostalCode", "Country", "Phone"):
                add(tag, order.ship_to.get(tag, ""), True, 8)
            out.append("      </ShipTo>\n")
        out.append("    </Customer>\n    <Items>\n")
        for line in order.lines:
            out.append("      <Item>\n")
            add("LineItemID", line.line_item_id, True, 8)
            add("SKU", line.sku, True, 8)
            add("Name", line.name, True, 8)
            add("ImageUrl", line.image_url, True, 8)
            if line.weight is not None:
                add("Weight", str(line.weight), False, 8)
                add("WeightUnits", line.weight_units, False, 8)
            add("Quantity", str(line.quantity), False, 8)
            add("UnitPrice", f"{line.unit_price:.2f}", False, 8)
            add("Location", line.location, True, 8)
            if line.adjustment:
                add("Adjustment", "true", False, 8)
            if line.options:
                out.append("        <Options>\n")
                for name, value in line.options:
                    out.append("          <Option>\n")
                    add("Name", name, True, 12)
                    add("Value", value, True, 12)
                    out.append("          </Option>\n")
                out.append("        </Options>\n")
            out.append("      </Item>\n")
        out.append("    </Items>\n  </Order>\n")
        return "".join(out)

    # -- shipnotify --
    def receive_notice(self, params: dict[str, str], body: bytes) -> tuple[int, str]:
        """Record a shipment notice, apply it, return (status, body) to answer."""
        fields: dict[str, str] = {}
        recipient: dict[str, str] = {}
        items: list[dict[str, str]] = []
        error = None
        try:
            if not body.strip():
                error = "Empty body: a <ShipNotice> document is expected"
            else:
                fields, recipient, items = _parse_notice(body)
        except (ParseError, defusedxml.DefusedXmlException) as exc:
            error = f"Invalid XML: {exc}"
        notice = ReceivedNotice(params=params, body=body, fields=fields, recipient=recipient, items=items,
                                received_at=self.now())
        with self.lock:
            self.notices.append(notice)
            if error:
                status, answer = 400, error
            else:
                status, answer = self._apply_notice(params, fields, items)
            notice.status_code, notice.response_body = status, answer
        return status, answer

    def _apply_notice(self, params: dict[str, str], fields: dict[str, str], items: list[dict[str, str]]) -> tuple[int, str]:
        number = params.get("order_number") or fields.get("OrderNumber", "")
        order = self.by_number(number)
        if order is None:
            return 404, f"Order {number!r} not found"
        p = self.preset
        if p.strict_fulfilment:
            if order.status == p.shipped_status:
                return 422, json.dumps({"base": ["Cannot create fulfilment on an order in the fulfilled state"]},
                                       separators=(",", ":"))
            if order.status in p.void_statuses:
                return 422, json.dumps({"base": [f"Cannot create fulfilment on an order in the {order.status} state"]},
                                       separators=(",", ":"))
        wanted: list[tuple[SandboxLine, int]] = []
        for item in items:
            line = order.line(item.get("LineItemID", "")) or next(
                (x for x in order.lines if x.sku and x.sku == item.get("SKU")), None)
            try:
                quantity = int(item.get("Quantity", ""))
            except ValueError:
                return 400, f"Invalid quantity {item.get('Quantity')!r}"
            if line is None:
                if p.strict_fulfilment:
                    return 422, json.dumps({"fulfilment_line_items.order_line_item_id": ["is invalid"]},
                                           separators=(",", ":"))
                continue
            if p.strict_fulfilment and quantity > line.unshipped:
                return 422, json.dumps({"fulfilment_line_items.quantity": [
                    "must be less than or equal to the unpacked quantity of the order line item"]},
                    separators=(",", ":"))
            wanted.append((line, quantity))
        if not items:  # a notice without items ships the whole order
            wanted = [(line, line.unshipped) for line in order.lines]
        for line, quantity in wanted:
            line.shipped = min(line.quantity, line.shipped + quantity)
        if all(line.unshipped == 0 for line in order.lines if not line.adjustment):
            order.status = p.shipped_status
        order.last_modified = self.now()
        return 200, "OK"


def _element(tag: str, value: str, text: bool, indent: int) -> str:
    value = "" if value is None else str(value)
    body = _cdata(value) if text and value else escape(value)
    return f"{' ' * indent}<{tag}>{body}</{tag}>\n"


def _cdata(value: str) -> str:
    """CDATA section(s); a `]]>` inside is split across two sections, as real stores do."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _aware(value: dt.datetime) -> dt.datetime:
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)


def _minute(value: dt.datetime) -> dt.datetime:
    """Sandbox timestamps are whole minutes: what the store holds is what it exports."""
    return _aware(value).replace(second=0, microsecond=0)


# --- HTTP ---------------------------------------------------------------------------------


class CustomStoreHandler(SandboxHandler):
    state: CustomStoreState

    def do_GET(self):
        self._handle(b"")

    def do_POST(self):
        self._handle(self.read_body())  # read first, whatever the answer, to keep the connection sane

    def _handle(self, body: bytes) -> None:
        state = self.state
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        first = {key: values[0] for key, values in params.items()}
        action = first.get("action", "")
        basic_user, basic_password = self._basic_credentials()
        entry = RequestLog(self.command, parts.path, action, params, basic_user, first.get("SS-UserName"))
        state.log_request(entry)
        state.tick()
        if parts.path != state.path:
            if parts.path in ("", "/"):
                return self._answer(entry, 200, HTML_PAGE, "text/html; charset=utf-8")
            return self._answer(entry, 404, HTML_PAGE.replace("Welcome to", "Page not found -"),
                                "text/html; charset=utf-8")
        if not self._authorised(basic_user, basic_password, first):
            return self._answer(entry, 401, "Unauthorized", headers={"WWW-Authenticate": 'Basic realm="Sandbox Shop"'})
        verb = action.lower()
        if verb == "export" and self.command == "GET":
            return self._export(entry, params, first)
        if verb == "shipnotify" and self.command == "POST":
            return self._shipnotify(entry, first, body)
        return self._answer(entry, 400, f"Unknown action {action!r} for {self.command}")

    def _export(self, entry: RequestLog, params: dict[str, list[str]], first: dict[str, str]) -> None:
        state = self.state
        try:
            start = state.parse_filter_date(first.get("start_date", ""))
            end = state.parse_filter_date(first.get("end_date", ""))
        except ValueError:
            return self._answer(entry, 400, "start_date and end_date must be MM/dd/yyyy HH:mm")
        page_text = first.get("page", "1") or "1"
        if not page_text.isdigit():
            return self._answer(entry, 400, f"invalid page {page_text!r}")
        page = int(page_text)
        locations = {v for key in ("stock_location_id[]", "stock_location_id") for v in params.get(key, []) if v}
        if state.on_export:
            state.on_export(state, page)
        fault = state.take_fault("export", page)
        corrupt = None
        if fault:
            if fault.kind == "echo":
                return self._answer(entry, fault.status, self._echo())
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                return self._answer(entry, fault.status, fault.body, headers=headers)
            if fault.kind == "html":
                return self._answer(entry, 200, HTML_PAGE, "text/html; charset=utf-8")
            if fault.kind == "empty":
                return self._answer(entry, 200, b"", "text/xml; charset=utf-8")
            if fault.kind == "bomb":
                return self._answer(entry, 200, BILLION_LAUGHS, "text/xml; charset=utf-8")
            if fault.kind == "external_entity":
                return self._answer(entry, 200, EXTERNAL_ENTITY, "text/xml; charset=utf-8")
            if fault.kind == "oversized":
                filler = b"<!-- " + b"x" * max(0, fault.size) + b" -->"
                body = b'<?xml version="1.0"?>\n<Orders pages="1">' + filler + b"</Orders>\n"
                return self._answer(entry, 200, body, "text/xml; charset=utf-8")
            if fault.kind == "invalid":
                corrupt = (fault.field, fault.body)
        document = state.export_document(start, end, page, locations, corrupt)
        if fault and fault.kind == "truncated":
            document = document[: max(40, len(document) * 3 // 5)]
        return self._answer(entry, 200, document, "text/xml; charset=utf-8")

    def _shipnotify(self, entry: RequestLog, first: dict[str, str], body: bytes) -> None:
        state = self.state
        params = {k: v for k, v in first.items() if k.lower() not in ("ss-username", "ss-password")}
        fault = state.take_fault("shipnotify", None)
        if fault and fault.kind in ("status", "qbc_422", "html", "echo"):
            notice = ReceivedNotice(params=params, body=body, fields={}, recipient={}, items=[],
                                    received_at=state.now())
            status = 200 if fault.kind == "html" else fault.status
            answer = HTML_PAGE if fault.kind == "html" else self._echo() if fault.kind == "echo" else fault.body
            try:
                notice.fields, notice.recipient, notice.items = _parse_notice(body)
            except (ParseError, defusedxml.DefusedXmlException):
                pass
            notice.status_code, notice.response_body = status, answer
            with state.lock:
                state.notices.append(notice)
            content_type = ("application/json; charset=utf-8" if fault.kind == "qbc_422"
                            else "text/html; charset=utf-8" if fault.kind == "html" else "text/plain; charset=utf-8")
            return self._answer(entry, status, answer, content_type)
        status, answer = state.receive_notice(params, body)
        content_type = "application/json; charset=utf-8" if answer.startswith("{") else "text/plain; charset=utf-8"
        return self._answer(entry, status, answer, content_type)

    # -- helpers --
    def _echo(self) -> str:
        """The request quoted back (the "echo" fault): URL as sent, decoded query, auth header."""
        query = urlsplit(self.path).query
        return (
            f"Bad request: {self.command} {self.path}\n"
            f"Parameters: {unquote_plus(query)}\n"
            f"Authorization: {self.headers.get('Authorization', '')}\n"
        )

    def _basic_credentials(self) -> tuple[str | None, str | None]:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, _, password = decoded.partition(":")
        return user, password

    def _authorised(self, basic_user, basic_password, first: dict[str, str]) -> bool:
        state = self.state
        if state.accept_basic and basic_user == state.username and basic_password == state.password:
            return True
        return bool(
            state.accept_query_auth
            and first.get("SS-UserName") == state.username
            and first.get("SS-Password") == state.password
        )

    def _answer(self, entry: RequestLog, status: int, body, content_type: str = "text/plain; charset=utf-8",
                headers: dict[str, str] | None = None) -> None:
        entry.status = status
        self.reply(status, body, content_type, headers)


def _parse_notice(body: bytes) -> tuple[dict, dict, list]:
    root: Element = SafeET.fromstring(body)
    if root.tag != "ShipNotice":
        raise ParseError(f"expected <ShipNotice>, got <{root.tag}>")
    fields, recipient, items = {}, {}, []
    for child in root:
        if child.tag == "Recipient":
            recipient = {c.tag: (c.text or "") for c in child}
        elif child.tag == "Items":
            items = [{c.tag: (c.text or "") for c in item} for item in child.findall("Item")]
        else:
            fields[child.tag] = child.text or ""
    return fields, recipient, items


# --- entry points -------------------------------------------------------------------------


def start_custom_store_sandbox(
    port: int = 0,
    preset: str = "quickbooks_commerce",
    orders: int = 60,
    live_every: float | None = 20,
    *,
    host: str = "127.0.0.1",
    seed: int = 7,
    page_size: int = DEFAULT_PAGE_SIZE,
    now: dt.datetime | None = None,
    timezone: str = "UTC",
    verbose: bool = False,
    **state_options,
) -> RunningSandbox:
    """Start a sandbox Custom Store on host:port (0: a free port) in a thread. The returned
    RunningSandbox has `.url`, `.endpoint` (the URL to configure a store with), `.state`
    (a CustomStoreState) and `.stop()`. `live_every`: a new order every N seconds (None: off)."""
    state = CustomStoreState(preset=preset, orders=orders, seed=seed, now=now, page_size=page_size,
                             timezone=timezone, live_every=live_every, verbose=verbose, **state_options)
    sandbox = RunningSandbox(CustomStoreHandler, state, host=host, port=port)
    sandbox.endpoint = sandbox.url + state.path
    return sandbox


def store_settings(sandbox: RunningSandbox, **extra: str) -> dict[str, str]:
    """Connection settings (password included) for a store pointing at this sandbox."""
    return {"url": sandbox.url + sandbox.state.path, "username": sandbox.state.username,
            "password": sandbox.state.password, **extra}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a sandbox Custom Store (XML) on a loopback port.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quickbooks_commerce")
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--live-every", type=float, default=20, help="seconds between new orders (0: off)")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    sandbox = start_custom_store_sandbox(
        args.port, args.preset, args.orders, args.live_every or None, host=args.host,
        page_size=args.page_size, timezone=args.timezone, verbose=args.verbose,
    )
    print(f"{args.preset} sandbox: {sandbox.endpoint}  user={SANDBOX_USERNAME} password={SANDBOX_PASSWORD}",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
