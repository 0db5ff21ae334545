"""Acumatica contract-based REST API ⇄ ShipBridge records. PURE: no I/O, no Django models.

What lives here:
  - the release → Default endpoint version table;
  - the OData `$filter` for an import window (wall-clock time in the store's zone) and statuses;
  - Shipment JSON → OrderRecord (one shipment = one order);
  - the write-back payloads (tracking on an existing package, ConfirmShipment);
  - the store's own words out of an error reply;
  - a check that flags timestamps lying in the future (a wrong store time zone, most likely).

Acumatica writes timestamps as the server's wall-clock time. The store's time-zone setting says
which zone that clock is in: every timestamp is read as wall time in that zone (any offset the
server appends is ignored) and every filter literal is written as wall time in that zone.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_noop

from ..base import Address, ConfigurationError, OrderLine, OrderRecord, ProtocolError

UTC = dt.timezone.utc

# --- endpoint versions ----------------------------------------------------------------------

# Default endpoint versions each release has.
RELEASE_ENDPOINT_VERSIONS: dict[str, tuple[str, ...]] = {
    "2018 R2": ("17.200.001", "18.200.001"),
    "2019 R1": ("18.200.001",),
    "2019 R2": ("18.200.001",),
    "2020 R1": ("18.200.001",),
    "2020 R2": ("18.200.001", "20.200.001"),
    "2021 R1": ("18.200.001", "20.200.001"),
    "2021 R2": ("18.200.001", "20.200.001"),
}

# The version ShipBridge uses for each release (the newest one it has).
ENDPOINT_VERSION_BY_RELEASE: dict[str, str] = {
    "2018 R2": "18.200.001",
    "2019 R1": "18.200.001",
    "2019 R2": "18.200.001",
    "2020 R1": "18.200.001",
    "2020 R2": "20.200.001",
    "2021 R1": "20.200.001",
    "2021 R2": "20.200.001",
}

ENDPOINT_NAME = "Default"

# What a shipment list or GET asks to be expanded.
SHIPMENT_EXPAND = "Details,Packages,ShippingSettings/ShipToAddress,ShippingSettings/ShipToContact"

# Statuses after which Acumatica no longer accepts a confirmation (the shipment is confirmed).
CONFIRMED_STATUSES = frozenset({"Confirmed", "Completed", "Invoiced", "Partially Invoiced"})

NO_PACKAGE_WARNING = gettext_noop("the shipment has no package in Acumatica: status updated, no tracking number "
                                  "written")


# How protocol errors say where in a reply the problem is (kept inside errors: English).
SHIPMENT = gettext_noop("shipment {number}")
LIST_ITEM = gettext_noop("Shipment list item {index}")
PACKAGE = gettext_noop("{where}: package {index}")
LINE = gettext_noop("{where}: line {index}")


def endpoint_version(release: str) -> str:
    """The Default endpoint version ShipBridge calls for an Acumatica release."""
    try:
        return ENDPOINT_VERSION_BY_RELEASE[release]
    except KeyError:
        raise ConfigurationError(gettext_noop("unknown Acumatica release {release} (known: {known})").format(
            release=repr(release), known=", ".join(ENDPOINT_VERSION_BY_RELEASE))) from None


# --- time -----------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def _parse_wall(value: str, what: str) -> dt.datetime:
    """'2021-07-15T17:45:12.13[+00:00]' → naive wall-clock datetime (offset dropped)."""
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if not match:
        raise ProtocolError(gettext_noop("{where} is not a timestamp: {value}").format(
            where=what, value=_clip(repr(value))))
    year, month, day, hour, minute, second, fraction, _offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    except ValueError as exc:
        raise ProtocolError(gettext_noop("{where} is not a valid timestamp ({words}): {value}").format(
            where=what, words=exc, value=_clip(repr(value)))) from None


def wall_to_utc(value: str, tz: ZoneInfo, *, what: str = gettext_noop("timestamp")) -> dt.datetime:
    """Read an Acumatica timestamp as wall-clock time in `tz` (ignoring any offset it carries);
    return it as an aware UTC datetime."""
    return _parse_wall(value, what).replace(tzinfo=tz).astimezone(UTC)


def date_part(value: str, *, what: str = gettext_noop("date")) -> dt.date:
    """The calendar date an Acumatica date field names, never shifted across zones."""
    return _parse_wall(value, what).date()


def wall_literal(moment: dt.datetime, tz: ZoneInfo, *, round_up: bool = False) -> str:
    """An instant as the wall-clock time `tz` shows then: 'YYYY-MM-DDTHH:MM:SS' (no offset).
    A naive `moment` is taken as UTC (import windows are UTC). Whole seconds: rounded down, or
    up with `round_up` (so an end bound keeps its last second)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(tz).replace(tzinfo=None)
    if round_up and local.microsecond:
        local = local.replace(microsecond=0) + dt.timedelta(seconds=1)
    return local.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


def timestamps_in_future(record: OrderRecord, now: dt.datetime, *,
                         tolerance: dt.timedelta = dt.timedelta(minutes=5)) -> bool:
    """True when the record's dates (already read in the store's zone) lie after `now` by more
    than `tolerance`: the server's clock zone is then most probably not the store's setting
    (a server ahead of the configured zone). The admin uses it to warn."""
    if now.tzinfo is None:
        raise ValueError("timestamps_in_future needs an aware `now`")
    limit = now + tolerance
    return any(moment is not None and moment > limit for moment in (record.order_date, record.modified_at))


# --- $filter --------------------------------------------------------------------------------


def quote_literal(text: str) -> str:
    """An OData string literal: single quotes, inner quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def build_filter(*, start: dt.datetime | None, end: dt.datetime | None, tz: ZoneInfo,
                 statuses: Iterable[str] = (), start_inclusive: bool = True) -> str:
    """The `$filter` of a shipment list: LastModifiedDateTime within [start, end] written as
    wall-clock time in the store's zone, and the statuses (none given: no status condition).
    The result is not URL-encoded: the client does that (a '+' must travel as %2B)."""
    parts = []
    if start is not None:
        op = "ge" if start_inclusive else "gt"
        parts.append(f"LastModifiedDateTime {op} datetimeoffset'{wall_literal(start, tz)}'")
    if end is not None:
        parts.append(f"LastModifiedDateTime le datetimeoffset'{wall_literal(end, tz, round_up=True)}'")
    unique = list(dict.fromkeys(s for s in statuses if s and s.strip()))
    if unique:
        parts.append("(" + " or ".join(f"Status eq {quote_literal(s)}" for s in unique) + ")")
    return " and ".join(parts)


# --- JSON helpers ---------------------------------------------------------------------------


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_json(body: bytes | str, *, what: str = gettext_noop("Acumatica's reply")) -> Any:
    """Decode a JSON reply; ProtocolError with a one-line reason otherwise."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ProtocolError(gettext_noop("{what} is not UTF-8 text").format(what=what)) from None
    if not body.strip():
        raise ProtocolError(gettext_noop("{what} is empty where JSON was expected").format(what=what))
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        start = body.lstrip()[:1]
        template = (gettext_noop("{what} is not JSON (an HTML page): {words} at line {line} column {column}")
                    if start == "<" else gettext_noop("{what} is not JSON: {words} at line {line} column {column}"))
        raise ProtocolError(template.format(what=what, words=exc.msg, line=exc.lineno, column=exc.colno)) from None


def _field(entity: Mapping, name: str, where: str) -> Any:
    """The value of a wrapped field {"value": …}; None when absent or empty ({})."""
    wrapped = entity.get(name)
    if wrapped is None:
        return None
    if not isinstance(wrapped, dict):
        raise ProtocolError(gettext_noop("{where}: field {name} is not a {{\"value\": …}} object but {value}").format(
            where=where, name=name, value=_clip(repr(wrapped), 60)))
    return wrapped.get("value")


_NUMBERS = (int, float, Decimal)


def _text(entity: Mapping, name: str, where: str) -> str:
    wrapped = entity.get(name)
    if type(wrapped) is dict:  # the common case first: {"value": "text"}, or {} for an empty field
        value = wrapped.get("value")
        if type(value) is str:
            return value.strip()
        if value is None:
            return ""
    value = _field(entity, name, where)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _NUMBERS):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    if not isinstance(value, str):
        raise ProtocolError(gettext_noop("{where}: field {name} should be text, got {value}").format(
            where=where, name=name, value=_clip(repr(value), 60)))
    return value.strip()


def _number(entity: Mapping, name: str, where: str) -> Decimal | None:
    value = _field(entity, name, where)
    if value is None or value == "":
        return None
    not_a_number = gettext_noop("{where}: field {name} should be a number, got {value}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProtocolError(not_a_number.format(where=where, name=name, value=_clip(repr(value), 60)))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ProtocolError(not_a_number.format(where=where, name=name, value=_clip(repr(value), 60))) from None
    if not number.is_finite():
        raise ProtocolError(gettext_noop("{where}: field {name} is not a finite number ({value})").format(
            where=where, name=name, value=repr(value)))
    return number


def _entity(value: Any, where: str, *, optional: bool = True) -> Mapping:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(gettext_noop("{where} should be a JSON object, got {kind}").format(
            where=where, kind=type(value).__name__))
    return value


def _rows(value: Any, where: str) -> list[Mapping]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise ProtocolError(gettext_noop("{where} should be a list of JSON objects").format(where=where))
    return value


# --- lists and keys -------------------------------------------------------------------------


def shipment_list(data: Any) -> list[dict]:
    """A Shipment list reply: a JSON array of entities."""
    if not isinstance(data, list):
        raise ProtocolError(gettext_noop("a Shipment list reply should be a JSON array, got {type}").format(
            type=type(data).__name__))
    for index, entity in enumerate(data):
        if not isinstance(entity, dict):
            raise ProtocolError(gettext_noop("Shipment list item {index} is a {type}, not an object").format(
                index=index + 1, type=type(entity).__name__))
    return data


def shipment_number(entity: Mapping) -> str:
    """The ShipmentNbr of a Shipment entity ('' when missing or malformed)."""
    try:
        return _text(entity, "ShipmentNbr", "shipment")
    except ProtocolError:
        return ""


def shipment_numbers(data: Any) -> list[str]:
    """ShipmentNbr of every entity of a `$select=ShipmentNbr` list reply, in order."""
    numbers = []
    for index, entity in enumerate(shipment_list(data)):
        nbr = _text(entity, "ShipmentNbr", LIST_ITEM.format(index=index + 1))
        if not nbr:
            raise ProtocolError(gettext_noop("Shipment list item {index} has no ShipmentNbr").format(index=index + 1))
        numbers.append(nbr)
    return numbers


def shipment_status(entity: Mapping) -> str:
    return _text(entity, "Status", SHIPMENT.format(number=shipment_number(entity) or "?"))


def skip_reason(entity: Mapping) -> str | None:
    """Why a shipment is not a customer order to ship (a transfer or a receipt), else None."""
    where = SHIPMENT.format(number=shipment_number(entity) or "?")
    kind = _text(entity, "Type", where)
    operation = _text(entity, "Operation", where)
    if kind.lower() == "transfer":
        return gettext_noop("a transfer between warehouses, not a shipment to a customer")
    if operation.lower() == "receipt":
        return gettext_noop("a receipt (goods coming back), not a shipment to a customer")
    return None


# --- Shipment → OrderRecord -----------------------------------------------------------------


def packages(entity: Mapping) -> list[dict[str, str]]:
    """The shipment's packages as [{id, BoxID, TrackingNbr}] (JSON-safe, in Acumatica's order)."""
    where = SHIPMENT.format(number=shipment_number(entity) or "?")
    out = []
    for index, row in enumerate(_rows(entity.get("Packages"), f"{where}: Packages")):
        package_id = row.get("id")
        at = PACKAGE.format(where=where, index=index + 1)
        if package_id is not None and not isinstance(package_id, str):
            raise ProtocolError(gettext_noop("{where} has a non-text id").format(where=at))
        out.append({
            "id": package_id or "",
            "BoxID": _text(row, "BoxID", at),
            "TrackingNbr": _text(row, "TrackingNbr", at),
        })
    return out


def _ship_to(entity: Mapping, where: str) -> Address:
    settings = _entity(entity.get("ShippingSettings"), f"{where}: ShippingSettings")
    address = _entity(settings.get("ShipToAddress"), f"{where}: ShipToAddress")
    contact = _entity(settings.get("ShipToContact"), f"{where}: ShipToContact")
    wa, wc = f"{where}: ShipToAddress", f"{where}: ShipToContact"
    business = _text(contact, "BusinessName", wc)
    return Address(
        name=_text(contact, "Attention", wc) or business,
        company=business,
        street1=_text(address, "AddressLine1", wa),
        street2=_text(address, "AddressLine2", wa),
        city=_text(address, "City", wa),
        state=_text(address, "State", wa),
        postal_code=_text(address, "PostalCode", wa),
        country=_text(address, "Country", wa).upper(),
        phone=_text(contact, "Phone1", wc),
        email=_text(contact, "Email", wc),
    )


def _lines(entity: Mapping, where: str) -> tuple[list[OrderLine], list[dict], list[str]]:
    # The notes become the order's internal notes: the order's own data, in English, not translated.
    lines, raw_lines, notes = [], [], []
    for index, row in enumerate(_rows(entity.get("Details"), f"{where}: Details")):
        at = LINE.format(where=where, index=index + 1)
        line_nbr = _text(row, "LineNbr", at) or str(index + 1)
        sku = _text(row, "InventoryID", at)
        quantity = _number(row, "ShippedQty", at)
        raw_lines.append({
            "LineNbr": line_nbr,
            "InventoryID": sku,
            "OrderType": _text(row, "OrderType", at),
            "OrderNbr": _text(row, "OrderNbr", at),
            "UOM": _text(row, "UOM", at),
        })
        if quantity is None or quantity <= 0:
            notes.append(f"line {line_nbr} ({sku or 'no SKU'}) dropped: shipped quantity {quantity or 0}")
            continue
        whole = int(math.ceil(quantity))
        if whole != quantity:
            notes.append(f"line {line_nbr} ({sku or 'no SKU'}): quantity {quantity.normalize()} rounded up to {whole}")
        lines.append(OrderLine(line_item_id=line_nbr, sku=sku, name=_text(row, "Description", at), quantity=whole))
    return lines, raw_lines, notes


def shipment_to_record(entity: Mapping, *, tz: ZoneInfo) -> OrderRecord:
    """One Shipment entity → one OrderRecord (external id = order number = ShipmentNbr).

    CreatedDateTime / LastModifiedDateTime are read as wall time in `tz`; ShipmentDate keeps its
    date part. Raises ProtocolError (one line) when the entity is malformed."""
    if not isinstance(entity, dict):
        raise ProtocolError(gettext_noop("a shipment should be a JSON object, got {type}").format(
            type=type(entity).__name__))
    nbr = _text(entity, "ShipmentNbr", gettext_noop("shipment"))
    if not nbr:
        raise ProtocolError(gettext_noop("a shipment without ShipmentNbr"))
    where = SHIPMENT.format(number=nbr)
    shipment_id = entity.get("id")
    if shipment_id is not None and not isinstance(shipment_id, str):
        raise ProtocolError(gettext_noop("{where}: id should be text").format(where=where))

    created_text = _text(entity, "CreatedDateTime", where)
    modified_text = _text(entity, "LastModifiedDateTime", where)
    if not created_text and not modified_text:
        raise ProtocolError(gettext_noop("{where} has neither CreatedDateTime nor LastModifiedDateTime").format(
            where=where))
    created = wall_to_utc(created_text or modified_text, tz, what=f"{where}: CreatedDateTime")
    modified = wall_to_utc(modified_text or created_text, tz, what=f"{where}: LastModifiedDateTime")
    ship_date_text = _text(entity, "ShipmentDate", where)
    ship_date = date_part(ship_date_text, what=f"{where}: ShipmentDate") if ship_date_text else None

    ship_to = _ship_to(entity, where)
    lines, raw_lines, notes = _lines(entity, where)
    raw = {
        "id": shipment_id or "",
        "ShipmentNbr": nbr,
        "Type": _text(entity, "Type", where),
        "Operation": _text(entity, "Operation", where),
        "CustomerID": _text(entity, "CustomerID", where),
        "packages": packages(entity),
        "lines": raw_lines,
    }
    if notes:
        raw["notes"] = notes
    return OrderRecord(
        external_id=nbr,
        order_number=nbr,
        order_date=created,
        modified_at=modified,
        store_status=_text(entity, "Status", where),
        ship_to=ship_to,
        lines=tuple(lines),
        customer_code=_text(entity, "CustomerID", where),
        customer_email=ship_to.email,
        requested_service=_text(entity, "ShipVia", where),
        internal_notes="; ".join(notes),
        ship_date=ship_date,
        raw=raw,
    )


# --- write-back -----------------------------------------------------------------------------


def choose_package(current: list[dict[str, str]], tracking: str) -> tuple[dict[str, str] | None, bool]:
    """The package to write `tracking` on: (package, already_written).

    A package already holding this number means it was written before (already_written=True).
    Otherwise the first package without a tracking number, else the first package; None when
    the shipment has no package."""
    if not current:
        return None, False
    for package in current:
        if package.get("TrackingNbr") and package["TrackingNbr"] == tracking:
            return package, True
    for package in current:
        if not package.get("TrackingNbr"):
            return package, False
    return current[0], False


def tracking_payload(*, shipment_id: str, shipment_nbr: str, package_id: str, tracking: str) -> dict:
    """PUT body writing a tracking number on an EXISTING package (a row without id would insert one)."""
    if not package_id:
        raise ValueError("a package row without id would insert a new package")
    body: dict[str, Any] = {"id": shipment_id} if shipment_id else {"ShipmentNbr": {"value": shipment_nbr}}
    body["Packages"] = [{"id": package_id, "TrackingNbr": {"value": tracking}}]
    return body


def confirm_payload(shipment_nbr: str) -> dict:
    return {"entity": {"ShipmentNbr": {"value": shipment_nbr}}, "parameters": {}}


_LOCKED = re.compile(r"The Packages grid cannot be changed because the shipment has the ([A-Za-z][A-Za-z -]*?) status")


def locked_packages_status(text: str) -> str:
    """The shipment status named by Acumatica's refusal to change the packages of a shipment
    it no longer lets anyone edit ("The Packages grid cannot be changed because the shipment
    has the Confirmed status."), or "" when `text` is another reply."""
    match = _LOCKED.search(text or "")
    return match.group(1).strip() if match else ""


# --- errors ---------------------------------------------------------------------------------


def _entity_errors(value: Any, path: str, out: list[str]) -> None:
    if isinstance(value, dict):
        error = value.get("error")
        if isinstance(error, str) and error.strip():
            out.append(f"{path}: {error.strip()}" if path else error.strip())
        for key, child in value.items():
            if key in ("error", "value"):
                continue
            _entity_errors(child, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _entity_errors(child, f"{path}[{index + 1}]", out)


def error_words(body: bytes | str, *, limit: int = 400) -> str:
    """The store's own words out of an Acumatica error reply, on one line: `exceptionMessage`,
    else `message` with the `modelState` details, and every per-field `error` of a 422 entity."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else (body or "")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    parts: list[str] = []
    if isinstance(data, dict):
        for key in ("exceptionMessage", "message"):
            if isinstance(data.get(key), str) and data[key].strip():
                parts.append(data[key].strip())
                break
        state = data.get("modelState")
        if isinstance(state, dict):
            for key, messages in state.items():
                messages = messages if isinstance(messages, list) else [messages]
                for message in messages:
                    parts.append(f"{key}: {message}" if key else str(message))
        _entity_errors({k: v for k, v in data.items() if k not in ("modelState",)}, "", parts)
    elif isinstance(data, str):
        parts.append(data)
    if not parts:
        stripped = text.strip()
        if stripped.startswith("<"):
            title = re.search(r"<title>(.*?)</title>", stripped, re.I | re.S)
            if title:
                return gettext_noop("an HTML page ({title})").format(title=_clip(title.group(1), 80))
            return gettext_noop("an HTML page")
        parts.append(stripped)
    unique = list(dict.fromkeys(p for p in parts if p))
    return _clip("; ".join(unique), limit)


_EMBEDDED = re.compile(r'"(exceptionMessage|message)"\s*:\s*"((?:[^"\\]|\\.)*)("|…|$)')


def embedded_error_words(text: str) -> str:
    """The store's words from a (possibly truncated) JSON body quoted inside a message, e.g.
    'Acumatica answered HTTP 500: {"message":"…","exceptionMessage":"…'."""
    found = {}
    for match in _EMBEDDED.finditer(text or ""):
        raw = match.group(2).rstrip("\\")
        try:
            value = json.loads(f'"{raw}"')
        except ValueError:
            value = raw
        found.setdefault(match.group(1), value)
    words = found.get("exceptionMessage") or found.get("message")
    return _clip(words, 400) if words else ""
