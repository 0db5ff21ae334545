"""Connector name -> class. Adding a store type: a package under stores/connectors/ and a line here."""
from collections.abc import Callable
from importlib import import_module

from .base import Connector

_PATHS = {
    "acumatica": "stores.connectors.acumatica.connector.AcumaticaConnector",
    "quickbooks_commerce": "stores.connectors.customstore.connector.QuickBooksCommerceConnector",
    "custom_store": "stores.connectors.customstore.connector.CustomStoreConnector",
    "manual": "stores.connectors.manual.connector.ManualConnector",
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


def connector_names_where(capability: Callable[[type[Connector]], bool]) -> tuple[str, ...]:
    """The names of the connectors whose class has `capability`, e.g.
    `connector_names_where(lambda cls: cls.imports_orders)`."""
    return tuple(name for name in CONNECTOR_NAMES if capability(get_connector_class(name)))


def addable_connector_names() -> tuple[str, ...]:
    """The store types a person adds (the add-store page, `add_store`): those with presets."""
    return connector_names_where(lambda cls: bool(cls.presets()))
