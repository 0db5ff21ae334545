"""Acumatica ERP connector (schema; I/O comes with the Acumatica issue)."""
from ..base import Connector, SettingField

RELEASES = ("2018 R2", "2019 R1", "2019 R2", "2020 R1", "2020 R2", "2021 R1", "2021 R2")


class AcumaticaConnector(Connector):
    name = "acumatica"
    label = "Acumatica ERP"
    help_text = (
        "The ShipStation customization package must be imported and published on your Acumatica "
        "instance; installing it is your job or your Acumatica partner's, not ShipBridge's."
    )
    tracking_needs_package = True
    settings_schema = (
        SettingField("base_url", "Base URL", help_text="e.g. https://mycompany.acumatica.com"),
        SettingField("username", "Username"),
        SettingField("password", "Password", secret=True),
        SettingField("company", "Company (tenant) name"),
        SettingField("branch", "Company / branch ID"),
        SettingField("version", "Acumatica release", choices=RELEASES),
    )
    known_statuses = (
        "Open", "On Hold", "Confirmed", "Completed", "Canceled", "Invoiced",
        "Partially Invoiced", "Receipted", "Auto-Generated",
    )
    default_status_mapping = {
        "Open": "awaiting_shipment",
        "Confirmed": "shipped",
        "Completed": "shipped",
        "Canceled": "cancelled",
        "On Hold": "on_hold",
    }
