"""Custom Store XML connector and its QuickBooks Commerce preset (schema; I/O comes with the import issue)."""
from ..base import Connector, SettingField


class CustomStoreConnector(Connector):
    name = "custom_store"
    label = "Custom Store (XML)"
    help_text = "Any store exposing the Custom Store XML endpoint (export and shipnotify actions)."
    settings_schema = (
        SettingField("url", "Store URL", help_text="The endpoint URL, query string included."),
        SettingField("username", "Username"),
        SettingField("password", "Password", secret=True),
    )
    default_status_mapping = {
        "unpaid": "awaiting_payment",
        "paid": "awaiting_shipment",
        "shipped": "shipped",
        "cancelled": "cancelled",
        "on-hold": "on_hold",
    }


class QuickBooksCommerceConnector(CustomStoreConnector):
    name = "quickbooks_commerce"
    label = "QuickBooks Commerce (TradeGecko)"
    help_text = (
        "Use the username, password and custom page URL Intuit gives "
        "(e.g. https://shipstation.tradegecko.com/fulfillments/99999.xml)."
    )
    notice = (
        "Intuit shut QuickBooks Commerce down on 31 August 2023. This connector still works with "
        "self-hosted feeds and archives that speak the same protocol."
    )
    can_combine = False
    can_split = False
    settings_schema = (
        SettingField("url", "Custom page URL"),
        SettingField("username", "Username"),
        SettingField("password", "Password", secret=True),
        SettingField(
            "stock_location_id",
            "Stock location id",
            required=False,
            help_text="Only orders from this stock location are received.",
        ),
    )
    default_status_mapping = {
        "finalized": "awaiting_shipment",
        "fulfilled": "shipped",
        "void": "cancelled",
        "deleted": "cancelled",
    }
