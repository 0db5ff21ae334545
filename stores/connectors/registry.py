"""Connector name -> class. Adding a store type: a package under stores/connectors/ and a line here."""
from importlib import import_module

from .base import Connector

_PATHS = {
    "acumatica": "stores.connectors.acumatica.connector.AcumaticaConnector",
    "quickbooks_commerce": "stores.connectors.customstore.connector.QuickBooksCommerceConnector",
    "custom_store": "stores.connectors.customstore.connector.CustomStoreConnector",
}

CONNECTOR_NAMES = tuple(_PATHS)


class UnknownConnector(LookupError):
    pass


def get_connector_class(name: str) -> type[Connector]:
    try:
        path = _PATHS[name]
    except KeyError:
        raise UnknownConnector(
            f"unknown connector {name!r} (known: {', '.join(CONNECTOR_NAMES)})"
        ) from None
    module, _, attr = path.rpartition(".")
    return getattr(import_module(module), attr)


def connector_choices() -> list[tuple[str, str]]:
    return [(name, get_connector_class(name).label) for name in CONNECTOR_NAMES]
