"""Custom Store XML connector and its QuickBooks Commerce preset.

client.py does the HTTP, mapper.py the XML; this module holds the settings schema, the
capabilities and the glue (paging, deduplication, time-zone handling of the window)."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import ClassVar

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ..base import (
    ConfigurationError,
    clean_http_url,
    Connector,
    NotifyResult,
    Page,
    Prefetch,
    ProtocolError,
    SettingField,
    ShipmentNotice,
    StoreRejected,
    Window,
)
from ..seen import SeenIds, stamp
from . import mapper
from .client import CustomStoreClient
from .platforms import DEFAULT_PLATFORM, PLATFORMS, platform_of

log = logging.getLogger("shipbridge.connectors.customstore")

UTC = dt.timezone.utc
TEST_WINDOW = dt.timedelta(minutes=5)
MAX_PAGES = 10_000  # a store announcing more is broken, not busy
EXTRA_PASSES = 2  # re-reads of the pages when orders moved during a fetch
RESPONSE_BODY_LIMIT = 4000  # characters of a shipnotify reply kept in NotifyResult


class CustomStoreConnector(Connector):
    name = "custom_store"
    label = _("Custom Store (XML)")
    short_label = gettext_noop("Custom Store")
    help_text = _("Any store exposing the Custom Store XML endpoint (export and shipnotify actions).")
    settings_schema = (
        SettingField(
            "platform", _("Platform"), required=False, choices=tuple(PLATFORMS),
            choice_labels=tuple(p.label for p in PLATFORMS.values()),
            help_text=_("The store software behind the feed: it decides the usual status mapping and how the "
                        "feed's quirks are read. Empty: other (generic)."),
        ),
        SettingField("url", _("Store URL"), help_text=_("The endpoint URL, query string included.")),
        SettingField("username", _("Username")),
        SettingField("password", _("Password"), secret=True),
    )
    address_keys = ("url",)
    default_status_mapping = PLATFORMS[DEFAULT_PLATFORM].status_mapping
    # Unit assumed for an item <Weight> that comes without <WeightUnits> (None: weight unknown).
    default_weight_units: ClassVar[str | None] = None

    # -- settings --

    @classmethod
    def clean_settings(cls, values: dict[str, str]) -> dict[str, str]:
        cleaned = super().clean_settings(values)
        if cleaned.get("url"):
            clean_http_url(cleaned["url"], "url")
        location = cleaned.get("stock_location_id", "")
        if location and not (location.isascii() and location.isdigit()):
            raise ConfigurationError(
                gettext_noop("setting 'stock_location_id' must be digits only (got {value})").format(
                    value=repr(_clip(location))), field="stock_location_id"
            )
        return cleaned

    # -- plumbing --

    def _setting(self, key: str) -> str:
        return (self.secrets.get(key) or self.settings.get(key) or "").strip()

    def extra_query(self) -> str:
        """Encoded query fragment added to every request (presets override)."""
        return ""

    def client(self) -> CustomStoreClient:
        url = self._setting("url")
        if not url:
            raise ConfigurationError(gettext_noop("setting 'url' is missing"))
        return CustomStoreClient(
            url=url,
            username=self._setting("username"),
            password=self.secrets.get("password") or self.settings.get("password") or "",
            extra_query=self.extra_query(),
        )

    # A preset of its own (QuickBooks Commerce) has no platform setting.
    @classmethod
    def default_mapping(cls, settings: dict[str, str]) -> dict[str, str]:
        if "platform" not in cls.setting_keys():
            return super().default_mapping(settings)
        return dict(platform_of(settings).status_mapping)

    @classmethod
    def presets(cls) -> list[Connector.Preset]:
        if "platform" not in cls.setting_keys():
            return super().presets()
        return [cls.Preset(label=f"{gettext(cls.short_label)}: {p.label}", help_text=p.help_text,
                           settings={"platform": key})
                for key, p in PLATFORMS.items()]

    def parse_page(self, data: bytes):
        # One unreadable order (bad date, number, quantity...) is skipped with its reason;
        # the others import. A broken document (HTML, truncated, bomb...) still fails the page.
        return mapper.parse_export(data, tz=self.timezone, default_weight_units=self.default_weight_units,
                                   skip_bad_orders=True,
                                   amp_escaped_twice=platform_of(self.settings).amp_escaped_twice)

    def read_page(self, data: bytes):
        """parse_page for importing: the page's orders read, not mapped (SourceRecord) — the
        importer maps only those that changed, and skips an unreadable one with its reason."""
        return mapper.read_export(data, tz=self.timezone, default_weight_units=self.default_weight_units,
                                  amp_escaped_twice=platform_of(self.settings).amp_escaped_twice)

    def request_bounds(self, window: Window) -> tuple[dt.datetime, dt.datetime]:
        """The export bounds to send, UTC and minute precision, both inclusive.

        The protocol's filter dates are UTC; a store whose clock runs in its own zone (the
        store's time-zone setting) may read them as local wall-clock time. The bounds sent
        cover the window under both readings, so no order on a window edge is missed; extra
        orders are harmless (imports are idempotent)."""
        start, end = _aware(window.start), _aware(window.end)
        start = min(start, self._wall_clock_as_utc(start))
        end = max(end, self._wall_clock_as_utc(end))
        start = start.replace(second=0, microsecond=0)
        if end.second or end.microsecond:
            end = end.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        return start, end

    def _wall_clock_as_utc(self, value: dt.datetime) -> dt.datetime:
        """The store's local wall-clock reading of `value`, labelled UTC."""
        return value.astimezone(self.timezone).replace(tzinfo=UTC)

    # -- I/O --

    def test_connection(self) -> str:
        end = dt.datetime.now(UTC)
        start, end = self.request_bounds(Window(end - TEST_WINDOW, end))
        data = self.client().export(start, end, 1, retries=False)
        pages, _records, _skipped = self.parse_page(data)
        return gettext_noop("ok: the store answered with {pages} order page(s)").format(pages=pages)

    def fetch_orders(self, window: Window, *, statuses: list[str] | None = None) -> Iterator[Page]:
        """Pages 1..N of the orders modified in the window (whatever their status: the
        protocol has no status filter; unmapped statuses are dropped by the importer).

        Deduplicated by OrderID within the fetch: an order already yielded is yielded again
        only if it changed since. Such a change means the store's paging moved under us
        (the changed order jumped to the end, shifting every later order back one slot, so
        an unchanged one may have slid onto a page already read and would be missed for
        good): then the pages are read once more, yielding only what is new."""
        client = self.client()
        start, end = self.request_bounds(window)
        export = Prefetch(lambda number: client.export(start, end, number))  # page N+1 comes while N is read
        try:
            with SeenIds() as seen:
                yield from self._passes(export, seen)
        finally:
            export.close()  # nothing left in flight when the fetch ends

    def _passes(self, export: Prefetch, seen: SeenIds) -> Iterator[Page]:
        for _pass in range(1 + EXTRA_PASSES):
            moved = False
            number, total = 1, 1
            while number <= total:
                data = export.get(number, then=number + 1 if number < total else None)
                pages, records, skipped = self.read_page(data)
                if number == 1 or pages > total:
                    total = pages
                elif pages < total:  # the result set shrank between requests
                    total = max(pages, number)
                if total > MAX_PAGES:
                    raise ProtocolError(gettext_noop(
                        "the store announced {pages} pages (more than {limit}): refused").format(
                        pages=total, limit=MAX_PAGES))
                fresh = []
                known = seen.lookup(record.external_id for record in records)
                for record in records:
                    previous, modified = known.get(record.external_id), stamp(record.modified_at)
                    if previous is not None:
                        if modified <= previous:
                            continue
                        moved = True
                    known[record.external_id] = modified
                    fresh.append(record)
                seen.record((record.external_id, known[record.external_id]) for record in fresh)
                if _pass == 0:
                    yield Page(number=number, total_pages=total, records=fresh, skipped=skipped)
                elif fresh:  # a re-read: only what is new (skips were reported the first time)
                    yield Page(number=number, total_pages=total, records=fresh)
                number += 1
            if not moved:
                return
            log.info("orders changed while being paged through; reading the pages again")

    def notify_shipment(self, notice: ShipmentNotice) -> NotifyResult:
        client = self.client()
        params = [
            ("order_number", notice.order_number),
            ("carrier", notice.carrier),
            ("service", notice.service or ""),
            ("tracking_number", notice.tracking_number or ""),
        ]
        body = mapper.build_ship_notice(notice)
        reply = client.shipnotify(params, body)
        items = sum(item.quantity for item in notice.items)
        summary = gettext_noop("{request} ({lines} line(s), {units} unit(s))").format(
            request=client.describe([("action", "shipnotify"), *params], "POST"), lines=len(notice.items), units=items)
        fault = mapper.shipnotify_fault(reply.text)
        if fault is not None:  # a 2xx that says no (Magento answers some faults with HTTP 200)
            raise StoreRejected(fault, status_code=reply.status_code, body=reply.text[:RESPONSE_BODY_LIMIT])
        return NotifyResult(
            request_summary=summary,
            response_code=reply.status_code,
            response_body=reply.text[:RESPONSE_BODY_LIMIT],
            warning="" if reply.text.strip() else mapper.NO_CONFIRMATION.format(status=reply.status_code),
        )


# QuickBooks Commerce's validation errors when it already has the items of a notice.
QBC_REFUSAL_MARKERS = ("fulfilled state", "unpacked quantity")
QBC_ADVICE = gettext_noop(
    "QuickBooks Commerce cannot receive shipping information when every product of the order is "
    "already packed or already has tracking. Tick \"do not notify the store\" before making "
    "additional shipments of an order, and don't split QuickBooks Commerce orders."
)


class QuickBooksCommerceConnector(CustomStoreConnector):
    name = "quickbooks_commerce"
    label = _("QuickBooks Commerce (TradeGecko)")
    short_label = gettext_noop("QuickBooks Commerce")
    help_text = _(
        "Use the username, password and custom page URL Intuit gives "
        "(e.g. https://shipstation.tradegecko.com/fulfillments/99999.xml)."
    )
    notice = _(
        "Intuit shut QuickBooks Commerce down on 31 August 2023. This connector still works with "
        "self-hosted feeds and archives that speak the same protocol."
    )
    can_combine = False
    can_split = False
    accepts_repeat_notification = False
    repeat_notification_advice = QBC_ADVICE
    accepts_corrections = False
    correction_refusal_reason = gettext_noop("it refuses a second fulfilment of the same items")
    settings_schema = (
        SettingField("url", _("Custom page URL")),
        SettingField("username", _("Username")),
        SettingField("password", _("Password"), secret=True),
        SettingField(
            "stock_location_id",
            _("Stock location id"),
            required=False,
            help_text=_("Only orders from this stock location are received."),
        ),
    )
    default_status_mapping = {
        "finalized": "awaiting_shipment",
        "fulfilled": "shipped",
        "void": "cancelled",
        "deleted": "cancelled",
    }
    known_statuses = ("finalized", "fulfilled", "void", "deleted")
    default_weight_units = "grams"  # QuickBooks Commerce weights are grams

    def extra_query(self) -> str:
        location = self._setting("stock_location_id")
        return f"stock_location_id%5B%5D={location}" if location else ""

    @classmethod
    def refusal_advice(cls, exc: StoreRejected) -> str:
        text = exc.body or exc.message
        return QBC_ADVICE if any(marker in text for marker in QBC_REFUSAL_MARKERS) else ""


def _aware(value: dt.datetime) -> dt.datetime:
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)


def _clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
