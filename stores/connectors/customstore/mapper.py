"""Custom Store XML <-> ShipBridge records. Pure: bytes in, dataclasses out (and back).

No I/O and no Django here. Every problem with the store's document is a ProtocolError whose
message is one line naming what is wrong (and, for one order, which order and which field).

Real producers stray from the protocol, and are read as they are: an XML declaration whose
encoding contradicts the bytes, a default namespace or element names in another case, no
<OrderID> (the order number is then the id), country and region names, refunded lines with
quantity 0, dates as M/d/yyyy (12- or 24-hour, with or without seconds) or ISO. What no order
can mean (a 24-digit quantity, a date in year 9999) makes that one order unreadable.

Export documents look like:

    <Orders pages="3">
      <Order>
        <OrderID><![CDATA[123]]></OrderID> <OrderNumber>1001</OrderNumber>
        <OrderDate>03/23/2024 21:09</OrderDate> <LastModified>...</LastModified>
        <OrderStatus>paid</OrderStatus> ... <Customer>...</Customer> <Items>...</Items>
      </Order>
    </Orders>
"""
from __future__ import annotations

import codecs
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import defusedxml
import defusedxml.ElementTree as SafeET
import pycountry
from django.utils.translation import gettext_noop

from ..base import (
    Address,
    OrderLine,
    OrderRecord,
    ProtocolError,
    ShipmentNotice,
    SkippedRecord,
)

UTC = dt.timezone.utc
PROTOCOL_DATETIME = "%m/%d/%Y %H:%M"  # what we send: MM/dd/yyyy HH:mm, 24-hour, UTC
PROTOCOL_DATE = "%m/%d/%Y"

# Grams per unit. Keys are lower-case, without dots or spaces.
_GRAMS_PER_UNIT = {
    **dict.fromkeys(("pounds", "pound", "lb", "lbs"), Decimal("453.59237")),
    **dict.fromkeys(("ounces", "ounce", "oz", "ozs"), Decimal("28.349523125")),
    **dict.fromkeys(("grams", "gram", "g", "gm", "gms", "gr", "grs"), Decimal("1")),
    **dict.fromkeys(("kilograms", "kilogram", "kg", "kgs", "kilo", "kilos"), Decimal("1000")),
}

_DATETIME_RE = re.compile(
    r"^(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}|\d{2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?)?$"
)
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_INT_RE = re.compile(r"^\+?\d+(?:\.0*)?$")
_TRUE = frozenset({"true", "1", "yes", "y", "t", "on"})
# What no real order carries: beyond these, the order is unreadable (and skipped with the reason).
MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("10000000000")  # money columns hold 12 digits, 2 after the point
MAX_WEIGHT_GRAMS = Decimal("1000000000")
YEARS = range(1970, 2101)
CENT = Decimal("0.01")
# Characters XML 1.0 cannot carry at all (even escaped).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- small pure helpers -------------------------------------------------------------------


def parse_store_datetime(text: str, tz: ZoneInfo | dt.tzinfo = UTC) -> dt.datetime:
    """`M/d/yyyy H:mm[:ss][ AM|PM]` (or ISO 8601) read in the store's zone -> aware UTC.
    Raises ValueError with a short reason."""
    value = " ".join((text or "").split())
    if not value:
        raise ValueError("is empty")  # (only for a value found empty: callers read empty as missing)
    match = _DATETIME_RE.match(value)
    if match:
        parts = match.groupdict()
        hour = int(parts["hour"] or 0)
        ampm = (parts["ampm"] or "").replace(".", "").upper()
        if ampm:
            if not 1 <= hour <= 12:
                raise ValueError(gettext_noop("{value} has hour {hour} with {ampm}").format(
                    value=repr(value), hour=hour, ampm=ampm))
            hour = (hour % 12) + (12 if ampm == "PM" else 0)
        year = int(parts["year"]) + (2000 if len(parts["year"]) == 2 else 0)
        try:
            naive = dt.datetime(
                year, int(parts["month"]), int(parts["day"]),
                hour, int(parts["minute"] or 0), int(parts["second"] or 0),
            )
        except ValueError:
            raise ValueError(gettext_noop("{value} is not a real date/time").format(value=repr(_clip(value)))) from None
        parsed = naive.replace(tzinfo=tz)
    else:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(gettext_noop("{value} is not a date (expected M/d/yyyy H:mm)").format(
                value=repr(_clip(value)))) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
    if parsed.year not in YEARS:
        raise ValueError(gettext_noop("{value} is not a plausible date (year {year})").format(
            value=repr(_clip(value)), year=parsed.year))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(gettext_noop("{value} is not a plausible date").format(value=repr(_clip(value)))) from None


def format_protocol_datetime(value: dt.datetime) -> str:
    """MM/dd/yyyy HH:mm in UTC (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(PROTOCOL_DATETIME)


def parse_decimal(text: str) -> Decimal:
    value = (text or "").strip()
    if not _NUMBER_RE.match(value):
        raise ValueError(gettext_noop("{value} is not a number").format(value=repr(_clip(value))))
    return Decimal(value)


def parse_amount(text: str) -> Decimal:
    """A money amount, to the cent (producers write 24, 4.5 or 102.5400)."""
    amount = parse_decimal(text)
    if abs(amount) < MAX_AMOUNT:  # (checked before rounding: a huge number cannot be rounded)
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if abs(amount) < MAX_AMOUNT:  # and after: 9999999999.995 rounds to 10000000000.00
            return amount
    raise ValueError(gettext_noop("{value} is not a plausible amount").format(value=repr(_clip(text))))


def parse_quantity(text: str) -> int:
    """A line's quantity: a whole number from 0 (a line refunded in full: kept, nothing to
    ship) to MAX_QUANTITY."""
    value = (text or "").strip()
    if not _INT_RE.match(value):
        raise ValueError(gettext_noop("{value} is not a whole number").format(value=repr(_clip(value))))
    implausible = gettext_noop("{value} is not a plausible quantity")
    if len(value.split(".")[0].lstrip("+")) > len(str(MAX_QUANTITY)):
        raise ValueError(implausible.format(value=repr(_clip(value))))
    quantity = int(Decimal(value))
    if quantity > MAX_QUANTITY:
        raise ValueError(implausible.format(value=quantity))
    return quantity


def parse_bool(text: str) -> bool:
    return (text or "").strip().lower() in _TRUE


def weight_to_grams(weight: Decimal, units: str) -> Decimal:
    """Convert a weight to grams. Raises ValueError for an unknown unit."""
    key = re.sub(r"[\s.]", "", (units or "").lower())
    try:
        factor = _GRAMS_PER_UNIT[key]
    except KeyError:
        raise ValueError(gettext_noop("unknown weight unit {unit} (expected Pounds, Ounces or Grams)").format(
            unit=repr(_clip(units)))) from None
    if abs(weight) * factor >= MAX_WEIGHT_GRAMS:  # before rounding: a huge number cannot be rounded
        raise ValueError(gettext_noop("{value} is not a plausible weight").format(
            value=f"{_clip(str(weight))} {units}"))
    return (weight * factor).quantize(Decimal("0.001"))


# Names stores write that are not ISO 3166's own (common English and CLDR short names, as
# Magento writes them), and codes in use that ISO 3166 lacks. pycountry knows every other.
_COUNTRY_ALIASES = {
    "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "us": "US", "usa": "US", "united states of america": "US", "america": "US",
    "korea": "KR", "south korea": "KR", "north korea": "KP", "russia": "RU", "turkey": "TR", "vietnam": "VN",
    "laos": "LA", "iran": "IR", "syria": "SY", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ",
    "moldova": "MD", "taiwan": "TW", "czech republic": "CZ", "ivory coast": "CI", "cote d'ivoire": "CI",
    "côte d’ivoire": "CI", "côte d'ivoire": "CI", "hong kong sar china": "HK", "macao sar china": "MO",
    "macau": "MO", "myanmar (burma)": "MM", "burma": "MM", "kosovo": "XK", "xk": "XK",
    "us virgin islands": "VI", "british virgin islands": "VG", "vatican city": "VA", "palestinian territories": "PS",
    "congo - kinshasa": "CD", "congo - brazzaville": "CG", "micronesia": "FM", "eswatini": "SZ",
}


def country_code(text: str) -> str:
    """A country as the store wrote it (ISO code, or name: "United States", "us", "USA",
    "U.K.", "Bosnia & Herzegovina") -> its ISO 3166-1 alpha-2 code; "" for none. Raises
    ValueError for an unknown country."""
    value = " ".join((text or "").split())
    if not value:
        return ""
    for candidate in (value, value.replace(".", "").replace(" & ", " and "),
                      value.replace("St. ", "Saint ").replace(" & ", " and ")):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            pass
        alias = _COUNTRY_ALIASES.get(candidate.casefold())
        if alias:
            return alias
    raise ValueError(gettext_noop("{value} is not a country ShipBridge knows").format(value=repr(_clip(value))))


def region_code(text: str, country: str) -> str:
    """A state or province as written ("Michigan", "MI", "US-MI") -> its ISO 3166-2 code
    without the country prefix ("MI"), in the countries whose addresses need one (the US,
    Canada, Australia, Brazil, Mexico: their labels print these codes); anything else as written."""
    value = " ".join((text or "").split())
    if not value or country not in Address.STATE_REQUIRED:
        return value
    wanted = value.casefold()
    for subdivision in pycountry.subdivisions.get(country_code=country) or ():
        code = subdivision.code.split("-", 1)[1]
        if wanted in (code.casefold(), subdivision.code.casefold(), subdivision.name.casefold()):
            return code
    return value


def _clip(value: str, limit: int = 40) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


EMPTY_PAGE = gettext_noop("the store answered an empty page, not XML: check the URL")


def sniff_reply(body: bytes, content_type: str = "") -> None:
    """Refuse a reply that is plainly not an XML document (empty, HTML, plain text).
    The Custom Store protocol's classic misconfiguration symptom."""
    for bom, encoding in _UNICODE_BOMS:
        if body.startswith(bom):
            body = body[len(bom):len(bom) + 2048].decode(encoding, errors="ignore").encode("utf-8")
            break
    head = body.lstrip(b" \t\r\n")[:512]
    if not head:
        raise ProtocolError(EMPTY_PAGE)
    lowered = head.lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (
        "html" in (content_type or "").lower() and not lowered.startswith((b"<?xml", b"<orders"))
    ):
        raise ProtocolError(gettext_noop("the store answered HTML, not XML: check the URL"))
    if not head.startswith(b"<"):
        text = head[:80].decode("utf-8", errors="replace")
        raise ProtocolError(gettext_noop("the store answered text, not XML ({text}): check the URL").format(
            text=repr(_clip(text, 80))))


# --- export -------------------------------------------------------------------------------


# Byte-order marks, longest first (UTF-32's little-endian mark begins like UTF-16's).
_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION_RE = re.compile(r"^\s*<\?xml\b[^>]*?\?>")
_DECLARED_ENCODING_RE = re.compile(rb"^\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")


def decode_document(data: bytes) -> str:
    """The document's text, read the way real producers mean it: a byte-order mark decides;
    else a declared single-byte encoding (ISO-8859-1, windows-1252...) is honoured; else the
    bytes are UTF-8, whatever the declaration claims (a feed declaring utf-16 over UTF-8
    bytes). The XML declaration is dropped: the text is parsed as what it is."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            text = data[len(bom):].decode(encoding, errors="replace")
            break
    else:
        declared = _DECLARED_ENCODING_RE.match(data)
        encoding = "utf-8"
        if data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):  # UTF-16 without a mark: the bytes say so
            encoding = "utf-16-le" if data[:1] == b"<" else "utf-16-be"
        elif declared:
            try:
                codec = codecs.lookup(declared.group(1).decode("ascii"))
            except LookupError:
                raise ProtocolError(gettext_noop("the store's XML declares an unknown encoding ({encoding})").format(
                    encoding=_clip(declared.group(1).decode("ascii")))) from None
            if _single_byte(codec.name):
                encoding = codec.name
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ProtocolError(gettext_noop("the store's XML is not valid {encoding} (byte {position})").format(
                encoding=encoding.upper(), position=exc.start)) from None
    return _DECLARATION_RE.sub("", text, count=1).strip()


def _single_byte(codec_name: str) -> bool:
    try:
        return len("é".encode(codec_name)) == 1 and len("a".encode(codec_name)) == 1
    except (UnicodeError, ValueError, LookupError):  # no "é" (ascii), or no codec at all ("undefined")
        return codec_name in ("ascii", "us-ascii")


def parse_document(data: bytes) -> ET.Element:
    """Parse the store's bytes safely. Entities, DTD tricks and external references refused.
    Element names lose their namespace and take the protocol's spelling whatever their case."""
    text = decode_document(data)
    if not text:
        raise ProtocolError(EMPTY_PAGE)
    try:
        root = SafeET.fromstring(text.encode("utf-8"), forbid_dtd=False, forbid_entities=True,
                                 forbid_external=True)
    except defusedxml.EntitiesForbidden:
        raise ProtocolError(gettext_noop("the store's XML declares entities (a possible XML bomb): refused")) from None
    except defusedxml.ExternalReferenceForbidden:
        raise ProtocolError(gettext_noop("the store's XML refers to an external resource: refused")) from None
    except defusedxml.DefusedXmlException as exc:
        raise ProtocolError(gettext_noop("the store's XML uses a forbidden construct ({construct}): refused").format(
            construct=type(exc).__name__)) from None
    except ET.ParseError as exc:
        raise ProtocolError(gettext_noop("the store's XML is truncated or invalid ({words})").format(
            words=_clip(str(exc), 120))) from None
    except (ValueError, LookupError) as exc:
        raise ProtocolError(gettext_noop("the store's XML cannot be read ({words})").format(
            words=_clip(str(exc), 120))) from None
    for element in root.iter():
        local = _local(element.tag)
        element.tag = _CANONICAL_TAGS.get(local.casefold(), local)
    return root


# The protocol's element names; a document's names are read whatever their case.
_CANONICAL_TAGS = {name.casefold(): name for name in (
    "Orders", "Order", "OrderID", "OrderNumber", "OrderDate", "LastModified", "OrderStatus", "Customer",
    "CustomerCode", "BillTo", "ShipTo", "Name", "Company", "Phone", "Email", "Address1", "Address2", "City",
    "State", "PostalCode", "Country", "Items", "Item", "SKU", "Quantity", "Weight", "WeightUnits", "Options",
    "Option", "Value", "LineItemID", "UnitPrice", "ImageUrl", "Location", "Adjustment", "CustomField1",
    "CustomField2", "CustomField3", "CurrencyCode", "OrderTotal", "TaxAmount", "ShippingAmount",
    "ShippingMethod", "PaymentMethod", "CustomerNotes", "InternalNotes", "Gift", "GiftMessage",
)}


def parse_export(
    data: bytes,
    *,
    tz: ZoneInfo | dt.tzinfo = UTC,
    default_weight_units: str | None = None,
    skip_bad_orders: bool = False,
    amp_escaped_twice: bool = False,
) -> tuple[int, list[OrderRecord], list[SkippedRecord]]:
    """One export page -> (pages_total, records, skipped).

    Any problem raises ProtocolError with a one-line message: the document's (bomb,
    truncation, not <Orders>...) or one order's (invalid date, number, quantity, weight unit:
    the message names the order and the field). An order that cannot even be identified (no
    OrderNumber) is reported in `skipped` instead; with `skip_bad_orders` every unreadable
    order is. Repeated OrderIDs on the page: the most recently modified wins.
    `amp_escaped_twice`: the producer writes "&amp;" inside CDATA for "&" (read back as "&")."""
    root = parse_document(data)
    tag = _local(root.tag)
    if tag.lower() != "orders":
        raise ProtocolError(gettext_noop("the store's XML starts with <{tag}>, not <Orders>: check the URL").format(
            tag=_clip(tag, 30)))
    orders = [child for child in root if _local(child.tag) == "Order"]
    pages_attr = next((value for name, value in root.attrib.items() if name.casefold() == "pages"), "").strip()
    if pages_attr:
        if not pages_attr.isdigit():
            raise ProtocolError(gettext_noop("the store's <Orders pages={value}> is not a page count").format(
                value=repr(_clip(pages_attr))))
        pages = int(pages_attr)
    else:
        pages = 1 if orders else 0
    records: dict[str, OrderRecord] = {}
    skipped: list[SkippedRecord] = []
    for element in orders:
        number = _text(element, "OrderNumber")
        external_id = _text(element, "OrderID") or number
        try:
            record = parse_order(element, tz=tz, default_weight_units=default_weight_units,
                                 amp_escaped_twice=amp_escaped_twice)
        except ProtocolError as exc:
            if not (skip_bad_orders or not number):
                raise
            skipped.append(SkippedRecord(external_id=external_id, order_number=number, reason=str(exc)))
            continue
        previous = records.get(record.external_id)
        if previous is None or record.modified_at >= previous.modified_at:
            records[record.external_id] = record
    return pages, list(records.values()), skipped


def parse_order(
    element: ET.Element,
    *,
    tz: ZoneInfo | dt.tzinfo = UTC,
    default_weight_units: str | None = None,
    amp_escaped_twice: bool = False,
) -> OrderRecord:
    """One <Order> -> OrderRecord. Raises ProtocolError naming the order and the field.
    Without <OrderID> the order number is the order's id (and what shipnotify sends back)."""
    _text = _text_reader(amp_escaped_twice)
    number = _text(element, "OrderNumber")
    order_id = _text(element, "OrderID") or number
    ref = (gettext_noop("order {number} (OrderID {id})") if order_id != number else gettext_noop("order {number}")
           ).format(number=number or "?", id=order_id)

    def fail(field: str, reason: str) -> ProtocolError:
        # "order 1001: OrderDate '13/45/2024' is not a real date/time" (each part shown translated)
        return ProtocolError(f"{ref}: {field} {reason}")

    if not number:
        raise ProtocolError(f"{ref}: " + gettext_noop("{field} is missing").format(field="OrderNumber"))

    def date(field: str) -> dt.datetime | None:
        value = _text(element, field)
        if not value:
            return None
        try:
            return parse_store_datetime(value, tz)
        except ValueError as exc:
            raise fail(field, str(exc)) from None

    def number_field(path: str, node: ET.Element = element, label: str | None = None,
                     parse=parse_amount) -> Decimal | None:
        value = _text(node, path)
        if not value:
            return None
        try:
            return parse(value)
        except (ValueError, InvalidOperation) as exc:
            raise fail(label or path, str(exc)) from None

    order_date, modified_at = date("OrderDate"), date("LastModified")
    if order_date is None and modified_at is None:
        raise ProtocolError(f"{ref}: " + gettext_noop("{field} is missing (and so is LastModified)").format(
            field="OrderDate"))
    order_date = order_date or modified_at
    modified_at = modified_at or order_date

    customer = element.find("Customer")
    customer_code = _text(customer, "CustomerCode")
    bill = customer.find("BillTo") if customer is not None else None
    ship = customer.find("ShipTo") if customer is not None else None
    bill_to = None
    if bill is not None:
        bill_to = Address(
            name=_text(bill, "Name"), company=_text(bill, "Company"),
            phone=_text(bill, "Phone"), email=_text(bill, "Email"),
        )
    ship_to = None
    if ship is not None:
        try:
            country = country_code(_text(ship, "Country"))
        except ValueError as exc:
            raise fail("ShipTo Country", str(exc)) from None
        ship_to = Address(
            name=_text(ship, "Name"),
            company=_text(ship, "Company"),
            street1=_text(ship, "Address1"),
            street2=_text(ship, "Address2"),
            city=_text(ship, "City"),
            state=region_code(_text(ship, "State"), country),
            postal_code=_text(ship, "PostalCode"),
            country=country,
            phone=_text(ship, "Phone"),
        )
    email = bill_to.email if bill_to and bill_to.email else (customer_code if "@" in customer_code else "")

    lines = []
    for position, item in enumerate(element.findall("Items/Item"), start=1):
        line_ref = f"Item {position}" + (f" (SKU {_clip(_text(item, 'SKU'), 30)})" if _text(item, "SKU") else "")
        try:
            quantity = parse_quantity(_text(item, "Quantity"))
        except ValueError as exc:
            raise fail(f"{line_ref} Quantity", str(exc)) from None
        weight = number_field("Weight", item, f"{line_ref} Weight", parse=parse_decimal)
        weight_grams = None
        if weight is not None:
            units = _text(item, "WeightUnits") or default_weight_units
            if units:
                try:
                    weight_grams = weight_to_grams(weight, units)
                except ValueError as exc:
                    raise fail(f"{line_ref} WeightUnits", str(exc)) from None
        options = tuple(
            (_text(option, "Name"), _text(option, "Value")) for option in item.findall("Options/Option")
        )
        lines.append(OrderLine(
            line_item_id=_text(item, "LineItemID"),
            sku=_text(item, "SKU"),
            name=_text(item, "Name"),
            quantity=quantity,
            unit_price=number_field("UnitPrice", item, f"{line_ref} UnitPrice") or Decimal("0"),
            weight_grams=weight_grams,
            image_url=_text(item, "ImageUrl"),
            location=_text(item, "Location"),
            adjustment=parse_bool(_text(item, "Adjustment")),
            options=options,
        ))

    custom_fields = {
        name: value for name in ("CustomField1", "CustomField2", "CustomField3")
        if (value := _text(element, name))
    }
    raw = {
        "order_id": order_id,
        "order_number": number,
        "customer_code": customer_code,
        "line_item_ids": [line.line_item_id for line in lines if line.line_item_id],
    }
    if custom_fields:
        raw["custom_fields"] = custom_fields
    return OrderRecord(
        external_id=order_id,
        order_number=number,
        order_date=order_date,
        modified_at=modified_at,
        store_status=_text(element, "OrderStatus"),
        ship_to=ship_to,
        lines=tuple(lines),
        bill_to=bill_to,
        customer_code=customer_code,
        customer_email=email,
        currency=_text(element, "CurrencyCode").upper(),
        order_total=number_field("OrderTotal"),
        tax_amount=number_field("TaxAmount"),
        shipping_amount=number_field("ShippingAmount"),
        requested_service=_text(element, "ShippingMethod"),
        payment_method=_text(element, "PaymentMethod"),
        customer_notes=_text(element, "CustomerNotes"),
        internal_notes=_text(element, "InternalNotes"),
        gift=parse_bool(_text(element, "Gift")),
        gift_message=_text(element, "GiftMessage"),
        raw=raw,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: ET.Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    if found is None:
        return ""
    return "".join(found.itertext()).strip()


def _text_reader(amp_escaped_twice: bool):
    if not amp_escaped_twice:
        return _text
    return lambda element, path: _text(element, path).replace("&amp;", "&")


# --- shipnotify ---------------------------------------------------------------------------

NO_CONFIRMATION = gettext_noop(
    "the store answered HTTP {status} with an empty reply: it confirms nothing (some stores answer the same "
    "for an order they do not know). Check the order in the store if the tracking number does not show there."
)
_FAULT_ROOTS = frozenset({"fault", "error", "errors"})


def shipnotify_fault(body: str) -> str | None:
    """The store's refusal when a 2xx shipnotify reply is really a fault or error document
    (Magento's <fault><faultstring>…</faultstring></fault>, a JSON {"success": false, ...} or
    {"error": ...}): its own words, else the body. None for a reply that is not one."""
    text = (body or "").strip()
    if text.startswith("<"):
        try:
            root = parse_document(text.encode("utf-8"))
        except ProtocolError:
            return None
        if _local(root.tag).casefold() not in _FAULT_ROOTS:
            return None
        words = [" ".join("".join(el.itertext()).split()) for el in root.iter()
                 if _local(el.tag).casefold() in ("faultstring", "message", "error") and el is not root]
        whole = " ".join("".join(root.itertext()).split())
        if whole.casefold() in ("", "0", "false", "none", "null"):  # <errors/>, <Error>0</Error>: no error
            return None
        return next((w for w in words if w), whole)
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        failed = data.get("success") is False or (
            data.get("success") is not True and bool(data.get("error") or data.get("errors")))
        if failed:
            words = data.get("data") or data.get("message") or data.get("error") or data.get("errors")
            return words if isinstance(words, str) and words.strip() else text
    return None


def build_ship_notice(notice: ShipmentNotice) -> bytes:
    """The <ShipNotice> XML body for one shipment (only this shipment's items), UTF-8."""
    raw = notice.order_raw or {}
    root = ET.Element("ShipNotice")

    def add(parent: ET.Element, tag: str, value) -> None:
        ET.SubElement(parent, tag).text = _xml_safe("" if value is None else str(value))

    label_at = notice.label_created_at
    add(root, "OrderNumber", notice.order_number)
    add(root, "OrderID", notice.order_external_id or raw.get("order_id", ""))
    add(root, "CustomerCode", notice.customer_code or raw.get("customer_code", ""))
    add(root, "CustomerNotes", notice.customer_notes)
    add(root, "InternalNotes", notice.internal_notes)
    add(root, "NotesToCustomer", raw.get("notes_to_customer", ""))
    add(root, "NotifyCustomer", "true" if notice.notify_customer else "false")
    add(root, "LabelCreateDate", format_protocol_datetime(label_at) if label_at else "")
    add(root, "ShipDate", notice.ship_date.strftime(PROTOCOL_DATE) if notice.ship_date else "")
    add(root, "Carrier", notice.carrier)
    add(root, "Service", notice.service)
    add(root, "TrackingNumber", notice.tracking_number)
    add(root, "ShippingCost", f"{notice.shipping_cost:.2f}" if notice.shipping_cost is not None else "")
    recipient = ET.SubElement(root, "Recipient")
    r = notice.recipient
    street2 = ", ".join(part for part in (r.street2.strip(), r.street3.strip()) if part)
    for tag, value in (
        ("Name", r.name), ("Company", r.company), ("Address1", r.street1), ("Address2", street2),
        ("City", r.city), ("State", r.state), ("PostalCode", r.postal_code), ("Country", r.country),
    ):
        add(recipient, tag, value)
    items = ET.SubElement(root, "Items")
    for notice_item in notice.items:
        item = ET.SubElement(items, "Item")
        add(item, "SKU", notice_item.sku)
        add(item, "Name", notice_item.name)
        add(item, "Quantity", int(notice_item.quantity))
        add(item, "LineItemID", notice_item.line_item_id)
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _xml_safe(value: str) -> str:
    return _XML_INVALID.sub("", value)
