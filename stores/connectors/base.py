"""What every connector is made of: plain records, typed errors, the settings schema and the
Connector base class.

A connector package (`stores/connectors/<name>/`) has three pieces:
  client.py     the only code doing I/O; raises the typed errors below
  mapper.py     pure parsing: bytes/JSON in, the dataclasses below out
  connector.py  a Connector subclass: settings schema, capabilities, glue
A store type with nothing behind it (manual orders) is its connector.py alone.

Languages: what a connector says that is kept — its errors, skip reasons, warnings, refusal
advice, connection-test outcomes — is English, its template marked with `gettext_noop` and
filled with `.format()`; the pages show it in the reader's language (stores/i18n.py). What is
only shown — labels, help texts, notices — is marked with `gettext_lazy`.
"""
from __future__ import annotations

import datetime as dt
import gc
import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_noop

# --- errors -------------------------------------------------------------------------------


class ConnectorError(Exception):
    """Base of every error a connector raises. `str(err)` is one line a person can read."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AuthError(ConnectorError):
    """The store refused our credentials (wrong user/password/tenant)."""


class TransientError(ConnectorError):
    """Worth retrying later: timeouts, connection refused, 5xx, 429."""

    def __init__(self, message: str, *, retry_after: float | None = None, status_code: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status_code = status_code


class StoreRejected(ConnectorError):
    """The store answered and said no (4xx and the like). `body` is its reply, verbatim."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class ProtocolError(ConnectorError):
    """The store's reply is not what the protocol says: HTML, truncated XML, bad numbers..."""


class ConfigurationError(ConnectorError):
    """The store's settings cannot work (unknown version, malformed URL...). `field` is the
    settings key at fault (None when no one setting is)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class EgressRefused(ConfigurationError):
    """ShipBridge refused to call an address: the egress policy lets connectors call public
    addresses only, unless SHIPBRIDGE_EGRESS_ALLOW lists the host or its network. Raised before
    any connection is made; permanent (never retried)."""


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    street3: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""

    # Countries whose addresses are not deliverable without a state / province code.
    STATE_REQUIRED: ClassVar[frozenset[str]] = frozenset({"US", "CA", "AU", "BR", "MX"})

    def missing_fields(self) -> list[str]:
        """Names of the fields a shipping label needs and this address lacks."""
        missing = [
            label
            for label, value in (
                (gettext_noop("street"), self.street1),
                (gettext_noop("city"), self.city),
                (gettext_noop("postal code"), self.postal_code),
                (gettext_noop("country"), self.country),
            )
            if not value.strip()
        ]
        if self.country.strip().upper() in self.STATE_REQUIRED and not self.state.strip():
            missing.append(gettext_noop("state"))
        return missing


@dataclass(frozen=True)
class OrderLine:
    line_item_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    weight_grams: Decimal | None = None  # per unit
    image_url: str = ""
    location: str = ""  # bin location
    adjustment: bool = False  # a discount line, not a product to ship
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OrderRecord:
    """One order as the store describes it, already in ShipBridge's terms.

    Timestamps are timezone-aware UTC: the connector applies the store's zone."""

    external_id: str
    order_number: str
    order_date: dt.datetime
    modified_at: dt.datetime
    store_status: str
    ship_to: Address | None
    lines: tuple[OrderLine, ...] = ()
    bill_to: Address | None = None
    customer_code: str = ""
    customer_email: str = ""
    currency: str = ""
    order_total: Decimal | None = None
    tax_amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    requested_service: str = ""
    payment_method: str = ""
    customer_notes: str = ""
    internal_notes: str = ""
    gift: bool = False
    gift_message: str = ""
    ship_date: dt.date | None = None  # the store's planned ship date, a calendar date
    raw: dict[str, Any] = field(default_factory=dict)  # JSON-safe store payload (write-back needs)

    # A record mapped as it was read has no fingerprint of its source (see SourceRecord).
    fingerprint: ClassVar[str] = ""

    def mapped(self) -> OrderRecord:
        return self


class SourceRecord:
    """One order as the store sent it, read but not mapped yet: what the importer needs to
    deduplicate it, check its status and tell whether it changed since it was last imported —
    `fingerprint`, a hash of everything the store sent for it and of how it is read (the store's
    zone...) — without mapping it. `mapped()` maps it once: the OrderRecord, or a ProtocolError
    naming the order and the field (the order is then skipped with that reason).

    A connector whose mapping costs more than reading may put these in its pages instead of
    OrderRecords; both answer `external_id`, `order_number`, `modified_at`, `store_status`,
    `fingerprint` and `mapped()`."""

    __slots__ = ("external_id", "order_number", "modified_at", "store_status", "fingerprint", "_map", "_mapped")

    def __init__(self, *, external_id: str, order_number: str, modified_at: dt.datetime, store_status: str,
                 fingerprint: str, map: Callable[[], OrderRecord]):
        self.external_id = external_id
        self.order_number = order_number
        self.modified_at = modified_at
        self.store_status = store_status
        if not fingerprint:  # without one, nothing would tell a changed order from an unchanged one
            raise ValueError("a SourceRecord needs the fingerprint of what the store sent")
        self.fingerprint = fingerprint
        self._map = map
        self._mapped: OrderRecord | None = None

    def mapped(self) -> OrderRecord:
        if self._mapped is None:
            self._mapped = self._map()
            self._map = None  # what it was read from is no longer needed
        return self._mapped

    def __repr__(self) -> str:
        return f"SourceRecord(external_id={self.external_id!r}, modified_at={self.modified_at!r})"


@dataclass(frozen=True)
class SkippedRecord:
    """An order the connector saw but could not turn into a record."""

    external_id: str
    order_number: str
    reason: str


@dataclass
class Page:
    number: int
    total_pages: int | None
    records: list[OrderRecord | SourceRecord]
    skipped: list[SkippedRecord] = field(default_factory=list)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused():
    """Pause automatic garbage collection while a store's page is parsed and read into plain
    values. Its tens of thousands of short-lived objects form no reference cycles (reference
    counting frees them), but each young-generation collection run while they are alive would
    walk them and promote them, and the promotions would trigger full collections walking the
    whole process. Collection resumes when the last thread pausing it is done (as it was)."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


class Prefetch:
    """Fetch the next page while this one is read. `get(key)` returns fetch(key) — already
    under way if `ahead(key)` (or the `then` of the previous get) asked for it — and
    `ahead(next_key)` starts fetch(next_key) in a helper thread, so the store prepares and
    sends the next page while this one is parsed. An error surfaces when its page is asked
    for, as if it were fetched then; a page fetched ahead and never asked for is dropped
    (`close()` waits for it). One fetch at a time."""

    def __init__(self, fetch: Callable[[Any], Any]):
        self.fetch = fetch
        self._ahead: tuple[Any, threading.Thread, list] | None = None

    def get(self, key, *, then=None):
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead[1].join()
        if ahead is not None and ahead[0] == key:
            ok, value = ahead[2][0]
            if not ok:
                raise value
        else:
            value = self.fetch(key)
        if then is not None:
            self.ahead(then)
        return value

    def ahead(self, key) -> None:
        self.close()
        box: list = []
        worker = threading.Thread(target=self._run, args=(key, box), name="shipbridge-prefetch", daemon=True)
        self._ahead = (key, worker, box)
        worker.start()

    def close(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead[1].join()

    def _run(self, key, box: list) -> None:
        try:
            box.append((True, self.fetch(key)))
        except BaseException as exc:  # noqa: BLE001 - raised by get(), in the caller's thread
            box.append((False, exc))


@dataclass(frozen=True)
class Window:
    """Import window, UTC, both bounds inclusive."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class NoticeItem:
    line_item_id: str
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class ShipmentNotice:
    """What a store is told about one shipment of one of its orders."""

    order_external_id: str
    order_number: str
    carrier: str
    service: str
    tracking_number: str
    ship_date: dt.date
    label_created_at: dt.datetime  # UTC
    items: tuple[NoticeItem, ...]
    recipient: Address
    shipping_cost: Decimal | None = None
    customer_code: str = ""
    customer_notes: str = ""
    internal_notes: str = ""
    notify_customer: bool = False
    order_raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotifyResult:
    """A delivered notification. `warning` is set when it went through only in part."""

    request_summary: str
    response_code: int | None = None
    response_body: str = ""
    warning: str = ""


# --- settings schema ----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingField:
    key: str
    label: str  # marked with gettext_lazy (so is help_text)
    required: bool = True
    secret: bool = False
    help_text: str = ""
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # how each choice is shown (default: the choice itself)


def clean_http_url(url: str, key: str, *, example: str = "", allow_query: bool = True) -> str:
    """A store address given in settings: http(s), a valid host, a valid port, no spaces or
    control characters (and no query string where the connector builds its own). Raise
    ConfigurationError naming `key` — never anything else, whatever the text."""
    shown = repr(url if len(url) <= 60 else url[:59] + "…")
    if example:
        not_http = ConfigurationError(gettext_noop(
            "setting {key} must be an http:// or https:// address with a host, e.g. {example} (got {value})"
        ).format(key=repr(key), example=example, value=shown), field=key)
    else:
        not_http = ConfigurationError(gettext_noop(
            "setting {key} must be an http:// or https:// address with a host (got {value})"
        ).format(key=repr(key), value=shown), field=key)
    invalid_host = gettext_noop("setting {key} has an invalid host (got {value})")
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in ("http", "https"):
        raise not_http
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ConfigurationError(gettext_noop("setting {key} must not contain spaces or control characters").format(
            key=repr(key)), field=key)
    try:  # an unclosed "[" or a bracketed non-address is a ValueError of urlsplit / hostname
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError(invalid_host.format(key=repr(key), value=shown), field=key) from None
    if not host:
        raise not_http
    if not _valid_host(host):
        raise ConfigurationError(invalid_host.format(key=repr(key), value=shown), field=key)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):  # out of range, not digits, 0, or ":" with nothing after
        raise ConfigurationError(gettext_noop("setting {key} has an invalid port (got {value})").format(
            key=repr(key), value=shown), field=key)
    if not allow_query and (parts.query or parts.fragment):
        raise ConfigurationError(gettext_noop("setting {key} must not carry a query or fragment (got {value})").format(
            key=repr(key), value=shown), field=key)
    return url


def ip_spelling(host: str) -> bool:
    """Whether `host` is an IP address in some spelling (127.0.0.1, 2130706433, 0x7f.1, ::1)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        return False


def _valid_host(host: str) -> bool:
    """An IP address (in any spelling), or a DNS name (letters, digits, "-" and "_" in labels
    of 1 to 63 characters; international names in their IDNA form)."""
    if ip_spelling(host):
        return True
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_origin(url: str) -> tuple[str, str, int] | None:
    """Where an address sends requests: (scheme, host, port), normalised (lower case, the
    scheme's default port filled in, no trailing dot); None when it names no host."""
    try:
        parts = urlsplit((url or "").strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not host:
        return None
    host = host.rstrip(".").lower()
    try:  # an international name and its IDNA form are the same host
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme, 0)


# --- the connector ------------------------------------------------------------------------


class Connector:
    """Base class. Subclasses set the class attributes and implement the three I/O methods.

    Everything ShipBridge needs to know about a store type is asked of its connector class:
    services, forms and pages never branch on a connector's name."""

    name: ClassVar[str]
    label: ClassVar[str]  # "QuickBooks Commerce (TradeGecko)": lists, choosers (gettext_lazy)
    # "QuickBooks Commerce": how people name the store type in a sentence. Kept inside messages:
    # English (gettext_noop); a sentence made for a reader takes gettext(short_label).
    short_label: ClassVar[str]
    settings_schema: ClassVar[tuple[SettingField, ...]]
    help_text: ClassVar[str] = ""  # gettext_lazy
    notice: ClassVar[str] = ""  # shown on the store's admin page (e.g. a service shutdown); gettext_lazy
    can_combine: ClassVar[bool] = True  # one package for several orders, each order notified
    can_split: ClassVar[bool] = True  # an order shipped in several notified shipments
    # Whether the store takes a notification for items it was already told were shipped (a
    # shipment made again after a void, an additional shipment). When False, such a
    # notification is skipped with `repeat_notification_advice` instead of being refused (kept
    # with the notification: English, gettext_noop).
    accepts_repeat_notification: ClassVar[bool] = True
    repeat_notification_advice: ClassVar[str] = ""
    # The store is asked for mapped statuses only (unmapped orders are never seen, so never
    # skipped): a newly mapped status then needs a refresh reaching back to the first import's.
    filters_statuses: ClassVar[bool] = False
    # Whether there is a store to import from: when False, the beat schedule and "Refresh now"
    # leave stores of this type alone (fetch_orders is never called) and they need no status mapping.
    imports_orders: ClassVar[bool] = True
    # Whether the store is told about shipments: when False, its shipments are made with "do not
    # notify the store" (asking to notify it is refused) and notify_shipment is never called.
    notifies_store: ClassVar[bool] = True
    # Whether orders of this store type are entered by hand in ShipBridge (the admin's "Add order"
    # page, orders.manual): each merchant gets one such store when it enters its first order.
    manual_entry: ClassVar[bool] = False
    # Whether the store takes a corrected shipment notice (new carrier, service, tracking number
    # or ship date) for a shipment it was already notified of. When False, a correction stays in
    # ShipBridge and `correction_refusal_reason` says why the store keeps what it was sent (kept
    # in the shipment's history: English, gettext_noop).
    accepts_corrections: ClassVar[bool] = True
    correction_refusal_reason: ClassVar[str] = ""
    # The settings holding the store's address (URLs): the stored secrets are sent only there.
    # When a change of settings moves one to another scheme, host or port (`address()`), the
    # stored secrets are dropped and must be entered again.
    address_keys: ClassVar[tuple[str, ...]] = ()
    # How the admin edits the status mapping: "lists" (five comma-separated lists of the
    # store's statuses, for stores with open-ended statuses) or "per_status" (one choice per
    # known store status, for a fixed set).
    status_mapping_style: ClassVar[str] = "lists"
    # Store statuses the store is known to use (admin hints, Acumatica filter).
    known_statuses: ClassVar[tuple[str, ...]] = ()
    # Mapping suggested for a new store: store status -> internal status value.
    default_status_mapping: ClassVar[dict[str, str]] = {}

    @dataclass(frozen=True)
    class Preset:
        """One way to add a store of this type, as the add-store page offers it: some settings
        chosen in advance (e.g. the platform behind a Custom Store feed)."""

        label: str
        help_text: str
        settings: dict[str, str]

    def __init__(self, *, settings: dict[str, str], secrets: dict[str, str], timezone: ZoneInfo):
        self.settings = settings
        self.secrets = secrets
        self.timezone = timezone

    # -- settings --
    @classmethod
    def setting_keys(cls) -> set[str]:
        return {f.key for f in cls.settings_schema}

    @classmethod
    def secret_keys(cls) -> set[str]:
        return {f.key for f in cls.settings_schema if f.secret}

    @classmethod
    def address(cls, settings: dict[str, str]) -> tuple[tuple[str, str, int] | None, ...]:
        """Where stores with these settings are reached: the origin (scheme, host, port) of
        each of `address_keys`, normalised; two settings with the same address reach the same
        server, so the same stored secrets may go there."""
        return tuple(url_origin(settings.get(key) or "") for key in cls.address_keys)

    @classmethod
    def clean_settings(cls, values: dict[str, str]) -> dict[str, str]:
        """Validate a full set of settings (secrets included); return them normalised.
        Raise ConfigurationError naming the problem. Subclasses extend for value checks."""
        unknown = sorted(set(values) - cls.setting_keys())
        if unknown:
            raise ConfigurationError(
                gettext_noop("unknown setting {key} for {connector} (known: {known})").format(
                    key=repr(unknown[0]), connector=cls.name, known=", ".join(sorted(cls.setting_keys()))),
                field=unknown[0],
            )
        cleaned = {k: (v or "").strip() for k, v in values.items()}
        for f in cls.settings_schema:
            if f.required and not cleaned.get(f.key):
                raise ConfigurationError(gettext_noop("missing required setting {key} ({label})").format(
                    key=repr(f.key), label=f.label), field=f.key)
            if f.choices and cleaned.get(f.key) and cleaned[f.key] not in f.choices:
                raise ConfigurationError(
                    gettext_noop("setting {key} must be one of: {choices} (got {value})").format(
                        key=repr(f.key), choices=", ".join(f.choices), value=repr(cleaned[f.key])), field=f.key
                )
        return {k: v for k, v in cleaned.items() if v}

    @classmethod
    def default_mapping(cls, settings: dict[str, str]) -> dict[str, str]:
        """The status mapping suggested for a new store with these settings."""
        return dict(cls.default_status_mapping)

    @classmethod
    def presets(cls) -> list[Connector.Preset]:
        """The add-store page's choices for this store type (one by default; none: stores of this
        type are not added by hand, on the add-store page or with `add_store`)."""
        return [cls.Preset(label=cls.label, help_text=cls.help_text, settings={})]

    # -- what the store says --
    @classmethod
    def refusal_advice(cls, exc: StoreRejected) -> str:
        """Advice for a refusal of a shipment notification this store type is known to give
        (what to do instead), or "" when the refusal is not one it recognises."""
        return ""

    # -- I/O, implemented by each connector --
    def test_connection(self) -> str:
        """Check the store answers with these settings; return a one-line success message.
        Raise a ConnectorError whose message says what is wrong."""
        raise NotImplementedError

    def fetch_orders(self, window: Window, *, statuses: list[str]) -> Iterator[Page]:
        """Yield pages of orders modified in the window. `statuses` are the mapped store
        statuses (connectors that filter server-side use them)."""
        raise NotImplementedError

    def notify_shipment(self, notice: ShipmentNotice) -> NotifyResult:
        """Tell the store about one shipment. Raise StoreRejected / TransientError / ..."""
        raise NotImplementedError
