"""Manual orders: orders entered by hand in ShipBridge (phone orders, replacement shipments).

There is no store behind them, so no client and no mapper: nothing is fetched, nobody is told.
The capabilities below keep the rest of ShipBridge away from the I/O methods (the beat schedule
and "Refresh now" skip the store, shipments are made with "do not notify the store"); the
methods answer anyway, without I/O, should anything call them."""
from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ..base import ConfigurationError, Connector, NotifyResult, Page, ShipmentNotice, Window


class ManualConnector(Connector):
    name = "manual"
    label = _("Manual orders")
    short_label = gettext_noop("Manual")
    help_text = _(
        "Orders entered by hand on the orders desk (Add order): phone orders, replacement shipments. "
        "Each merchant gets one such store with its first manual order; nothing is imported and the "
        "store is never notified of shipments."
    )
    settings_schema = ()
    status_mapping_style = "per_status"  # no store statuses: the mapping stays empty
    imports_orders = False
    notifies_store = False
    manual_entry = True

    @classmethod
    def presets(cls) -> list[Connector.Preset]:
        return []  # made by ShipBridge with the merchant's first manual order, never added by hand

    def test_connection(self) -> str:
        return gettext_noop("ok: manual orders are entered in ShipBridge; there is no store to reach")

    def fetch_orders(self, window: Window, *, statuses: list[str] | None = None) -> Iterator[Page]:
        return iter(())

    def notify_shipment(self, notice: ShipmentNotice) -> NotifyResult:
        raise ConfigurationError(gettext_noop("manual orders have no store to notify"))
