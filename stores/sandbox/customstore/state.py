"""The sandbox Custom Store's state: its orders and settings (endpoint path, credentials, page
size, time zone, date style), the fault switches the tests arm, the records of the requests and
shipment notices it received, and what an accepted notice does to an order. Thread-safe: the
request threads share one CustomStoreState."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import render
from .data import PRESETS, UTC, SandboxLine, SandboxOrder, _aware, _minute, generate_orders

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
        # after a notice is taken, before the answer is sent (a slow store, a fault meanwhile)
        self.on_shipnotify: Callable[[CustomStoreState], None] | None = None
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
        """A timestamp as this store writes it (its zone and date style)."""
        return render.format_date(value, self.tz, self.date_style)

    def parse_filter_date(self, text: str) -> dt.datetime:
        match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", text or "")
        if not match:
            raise ValueError(text)
        month, day, year, hour, minute, second = (int(g or 0) for g in match.groups())
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=self.tz).astimezone(UTC)

    def export_document(self, start: dt.datetime, end: dt.datetime, page: int,
                        locations: set[str] | None = None, corrupt: tuple[str, str] | None = None) -> bytes:
        """Export page `page` of the orders modified in [start, end]; `corrupt`: (element, value)
        for the page's first order (the "invalid values" fault)."""
        return render.export_document(self.orders_in(start, end, locations), page, page_size=self.page_size,
                                      page_overlap=self.page_overlap, write_date=self.format_date, corrupt=corrupt)

    # -- shipnotify --
    def receive_notice(self, params: dict[str, str], body: bytes, fields: dict[str, str], recipient: dict[str, str],
                       items: list[dict[str, str]], error: str | None = None) -> tuple[int, str]:
        """Record a shipment notice as the handler read it (`error`: why its body could not be
        read), apply it, return (status, body) to answer."""
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
