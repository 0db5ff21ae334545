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
import functools
import hashlib
import json
import marshal
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import pycountry
from django.utils.translation import gettext_noop

from ..base import (
    Address,
    OrderLine,
    OrderRecord,
    ProtocolError,
    ShipmentNotice,
    SkippedRecord,
    SourceRecord,
    gc_paused,
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


@functools.lru_cache(maxsize=4096)
def parse_decimal(text: str) -> Decimal:
    value = (text or "").strip()
    if not _NUMBER_RE.match(value):
        raise ValueError(gettext_noop("{value} is not a number").format(value=repr(_clip(value))))
    return Decimal(value)


@functools.lru_cache(maxsize=4096)  # pure; a feed repeats its prices, quantities and weights
def parse_amount(text: str) -> Decimal:
    """A money amount, to the cent (producers write 24, 4.5 or 102.5400)."""
    amount = parse_decimal(text)
    if abs(amount) < MAX_AMOUNT:  # (checked before rounding: a huge number cannot be rounded)
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        if abs(amount) < MAX_AMOUNT:  # and after: 9999999999.995 rounds to 10000000000.00
            return amount
    raise ValueError(gettext_noop("{value} is not a plausible amount").format(value=repr(_clip(text))))


@functools.lru_cache(maxsize=4096)
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


@functools.lru_cache(maxsize=4096)
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


@functools.lru_cache(maxsize=4096)  # pure, and the same few countries come back on every order
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


@functools.lru_cache(maxsize=4096)
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
NOT_VALID_ENCODING = gettext_noop("the store's XML is not valid {encoding} (byte {position})")


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
_DECLARATION_BYTES_RE = re.compile(rb"^\s*<\?xml\b[^>]*?\?>")
_DECLARED_ENCODING_RE = re.compile(rb"^\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")


def decode_document(data: bytes) -> str:
    """The document's text, read the way real producers mean it: a byte-order mark decides;
    else a declared single-byte encoding (ISO-8859-1, windows-1252...) is honoured; else the
    bytes are UTF-8, whatever the declaration claims (a feed declaring utf-16 over UTF-8
    bytes). The XML declaration is dropped: the text is parsed as what it is."""
    encoding, skip, errors = _encoding(data)
    try:
        text = data[skip:].decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise ProtocolError(NOT_VALID_ENCODING.format(encoding=encoding.upper(), position=exc.start)) from None
    declaration = _DECLARATION_RE.match(text)
    return (text[declaration.end():] if declaration else text).strip()


def document_bytes(data: bytes) -> bytes:
    """decode_document's text as UTF-8 bytes — what the parser reads. A document that already
    is UTF-8 (no byte-order mark, no single-byte encoding declared) is checked, not decoded and
    encoded again: its declaration is cut off its bytes."""
    encoding, skip, _errors = _encoding(data)
    if encoding == "utf-8" and not skip:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(NOT_VALID_ENCODING.format(encoding="UTF-8", position=exc.start)) from None
        declaration = _DECLARATION_BYTES_RE.match(data)
        raw = (data[declaration.end():] if declaration else data).strip()
        if raw[:1] == b"<" and raw[-1:] == b">":  # else white space only Unicode knows may need stripping
            return raw
    return decode_document(data).encode("utf-8")


def _encoding(data: bytes) -> tuple[str, int, str]:
    """How to decode the document: (encoding, length of its byte-order mark, errors)."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            return encoding, len(bom), "replace"
    if data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):  # UTF-16 without a mark: the bytes say so
        return ("utf-16-le" if data[:1] == b"<" else "utf-16-be"), 0, "strict"
    declared = _DECLARED_ENCODING_RE.match(data)
    if declared:
        try:
            codec = codecs.lookup(declared.group(1).decode("ascii"))
        except LookupError:
            raise ProtocolError(gettext_noop("the store's XML declares an unknown encoding ({encoding})").format(
                encoding=_clip(declared.group(1).decode("ascii")))) from None
        if _single_byte(codec.name):
            return codec.name, 0, "strict"
    return "utf-8", 0, "strict"


def _single_byte(codec_name: str) -> bool:
    try:
        return len("é".encode(codec_name)) == 1 and len("a".encode(codec_name)) == 1
    except (UnicodeError, ValueError, LookupError):  # no "é" (ascii), or no codec at all ("undefined")
        return codec_name in ("ascii", "us-ascii")


class _Refused(Exception):
    """Raised from the prolog check's handlers: the one-line reason."""


class _RootReached(Exception):
    """The prolog check reached the root element: nothing was declared there."""


def _refuse_declarations(raw: bytes) -> None:
    """Refuse, before the document is parsed, what defusedxml refuses: entity declarations (XML
    bombs, external entities) and references to external resources. Expat reads the prolog only —
    up to the root element's start tag — with handlers that refuse them, then stops. A document
    whose prolog declares no entity cannot expand one: ElementTree's parser then refuses every
    entity reference but the five predefined ones, and it never fetches an external DTD."""
    checker = expat.ParserCreate()

    def entity_declared(*_args):
        raise _Refused(gettext_noop("the store's XML declares entities (a possible XML bomb): refused"))

    def external_reference(*_args):
        raise _Refused(gettext_noop("the store's XML refers to an external resource: refused"))

    def root_reached(*_args):
        raise _RootReached

    checker.EntityDeclHandler = entity_declared
    checker.UnparsedEntityDeclHandler = entity_declared
    checker.ExternalEntityRefHandler = external_reference
    checker.StartElementHandler = root_reached
    try:
        checker.Parse(raw, True)
    except _RootReached:
        return
    except _Refused as exc:
        raise ProtocolError(str(exc)) from None
    except expat.ExpatError:
        return  # malformed: the parser proper says where


def _parse_root(data: bytes) -> ET.Element:
    """The document's root element, its tags as written (namespaces included). Decoded the way
    real producers mean it (decode_document), entity declarations refused first
    (_refuse_declarations), then parsed by ElementTree's C parser."""
    raw = document_bytes(data)
    if not raw:
        raise ProtocolError(EMPTY_PAGE)
    _refuse_declarations(raw)
    try:
        parser = ET.XMLParser()
        parser.feed(raw)
        return parser.close()
    except ET.ParseError as exc:
        raise ProtocolError(gettext_noop("the store's XML is truncated or invalid ({words})").format(
            words=_clip(str(exc), 120))) from None
    except (ValueError, LookupError) as exc:
        raise ProtocolError(gettext_noop("the store's XML cannot be read ({words})").format(
            words=_clip(str(exc), 120))) from None


def parse_document(data: bytes) -> ET.Element:
    """Parse the store's bytes safely. Entities, DTD tricks and external references refused.
    Element names lose their namespace and take the protocol's spelling whatever their case."""
    root = _parse_root(data)
    tags = _TagNames()
    for element in root.iter():
        element.tag = tags[element.tag]
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


class _TagNames(dict):
    """Element names as written -> the protocol's spelling (namespace dropped, any case), worked
    out once per name and document."""

    def __missing__(self, tag):
        local = _local(tag)
        name = self[tag] = _CANONICAL_TAGS.get(local.casefold(), local)
        return name


# How an order's elements become its fields: these hold elements (a dict of their children's
# fields), these a list of one kind of element; every other element is text.
_GROUPS = frozenset({"Customer", "BillTo", "ShipTo"})
_LISTS = {"Items": "Item", "Options": "Option"}


def order_fields(element: ET.Element, tags: dict | None = None, amp_escaped_twice: bool = False) -> dict:
    """One <Order> as one dict, read in one pass: element name -> its text (stripped; the first
    element of a name counts, as `find` would), <Customer>, <BillTo>, <ShipTo> -> their own dict,
    <Items> -> a list of item dicts (each with its <Options> list). What the mapping reads, and
    what an order's fingerprint is made of."""
    return _fields(element, _TagNames() if tags is None else tags, amp_escaped_twice)


def _fields(element: ET.Element, tags: dict, amp: bool) -> dict:
    fields: dict = {}
    for child in element:
        tag = tags[child.tag]
        if tag in _LISTS:
            kind = _LISTS[tag]
            rows = fields.setdefault(tag, [])
            if isinstance(rows, list):
                rows.extend(_fields(entry, tags, amp) for entry in child if tags[entry.tag] == kind)
        elif tag in fields:
            continue
        elif tag in _GROUPS:
            fields[tag] = _fields(child, tags, amp)
        else:
            text = ("".join(child.itertext()) if len(child) else child.text or "").strip()
            fields[tag] = text.replace("&amp;", "&") if amp else text
    return fields


def _export_orders(data: bytes) -> tuple[int, list[ET.Element], _TagNames]:
    """(pages_total, the <Order> elements, the document's tag names) of one export page."""
    root = _parse_root(data)
    tags = _TagNames()
    tag = tags[root.tag]
    if tag.lower() != "orders":
        raise ProtocolError(gettext_noop("the store's XML starts with <{tag}>, not <Orders>: check the URL").format(
            tag=_clip(tag, 30)))
    orders = [child for child in root if tags[child.tag] == "Order"]
    pages_attr = next((value for name, value in root.attrib.items() if name.casefold() == "pages"), "").strip()
    if pages_attr:
        if not pages_attr.isdigit():
            raise ProtocolError(gettext_noop("the store's <Orders pages={value}> is not a page count").format(
                value=repr(_clip(pages_attr))))
        pages = int(pages_attr)
    else:
        pages = 1 if orders else 0
    return pages, orders, tags


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
    with gc_paused():  # the document's tree lives only in here
        pages, orders, tags = _export_orders(data)
        page_fields = [_fields(element, tags, amp_escaped_twice) for element in orders]
        del orders
    records: dict[str, OrderRecord] = {}
    skipped: list[SkippedRecord] = []
    for fields in page_fields:
        try:
            record = map_order(fields, tz=tz, default_weight_units=default_weight_units)
        except ProtocolError as exc:
            number = _str(fields, "OrderNumber")
            if not (skip_bad_orders or not number):
                raise
            skipped.append(SkippedRecord(external_id=_str(fields, "OrderID") or number, order_number=number,
                                         reason=str(exc)))
            continue
        previous = records.get(record.external_id)
        if previous is None or record.modified_at >= previous.modified_at:
            records[record.external_id] = record
    return pages, list(records.values()), skipped


# Bumped whenever the same document would map to different records: every order's fingerprint
# changes with it, so the next import writes every order again rather than keep stale values.
# (The fingerprint hashes an order's fields in marshal's version 2 format: the same bytes for
# the same fields, whatever else refers to them — the later versions write back-references.)
MAPPING_VERSION = "1"


def read_export(
    data: bytes,
    *,
    tz: ZoneInfo | dt.tzinfo = UTC,
    default_weight_units: str | None = None,
    amp_escaped_twice: bool = False,
) -> tuple[int, list[SourceRecord], list[SkippedRecord]]:
    """One export page -> (pages_total, orders read but not mapped, skipped), for importing: an
    order's fields are read into one dict, its dates parsed (an order is identified by its id
    and the time it was last modified), its fingerprint taken; the rest of the mapping waits
    until the importer asks for it (`SourceRecord.mapped()`, raising ProtocolError for an
    unreadable order), which it does only for orders that changed. Unidentifiable orders (no
    OrderNumber) and unreadable dates are in `skipped`. Repeated OrderIDs on the page: the most
    recently modified wins. A broken document raises ProtocolError, as parse_export does."""
    with gc_paused():  # the document's tree lives only in here
        pages, orders, tags = _export_orders(data)
        page_fields = [_fields(element, tags, amp_escaped_twice) for element in orders]
        del orders
    reading = f"{MAPPING_VERSION}|{getattr(tz, 'key', tz)}|{default_weight_units}|".encode()
    sources: dict[str, SourceRecord] = {}
    skipped: list[SkippedRecord] = []
    for fields in page_fields:
        number = _str(fields, "OrderNumber")
        order_id = _str(fields, "OrderID") or number
        try:
            if not number:
                raise _missing(fields, "OrderNumber")
            dates = _order_dates(fields, tz)
        except ProtocolError as exc:
            skipped.append(SkippedRecord(external_id=order_id, order_number=number, reason=str(exc)))
            continue
        source = SourceRecord(
            external_id=order_id, order_number=number, modified_at=dates[1], store_status=_str(fields, "OrderStatus"),
            fingerprint=hashlib.sha256(reading + marshal.dumps(fields, 2)).hexdigest(),
            map=functools.partial(map_order, fields, tz=tz, default_weight_units=default_weight_units, dates=dates),
        )
        previous = sources.get(order_id)
        if previous is None or source.modified_at >= previous.modified_at:
            sources[order_id] = source
    return pages, list(sources.values()), skipped


def _str(fields: dict, name: str) -> str:
    value = fields.get(name, "")
    return value if isinstance(value, str) else ""


def _group(fields: dict, name: str) -> dict | None:
    value = fields.get(name)
    return value if isinstance(value, dict) else None


def _ref(fields: dict) -> str:
    number = _str(fields, "OrderNumber")
    order_id = _str(fields, "OrderID") or number
    return (gettext_noop("order {number} (OrderID {id})") if order_id != number else gettext_noop("order {number}")
            ).format(number=number or "?", id=order_id)


def _fail(fields: dict, field: str, reason: str) -> ProtocolError:
    # "order 1001: OrderDate '13/45/2024' is not a real date/time" (each part shown translated)
    return ProtocolError(f"{_ref(fields)}: {field} {reason}")


def _missing(fields: dict, field: str, template: str = gettext_noop("{field} is missing")) -> ProtocolError:
    return ProtocolError(f"{_ref(fields)}: " + template.format(field=field))


def _order_dates(fields: dict, tz) -> tuple[dt.datetime, dt.datetime]:
    """(order date, last modified), each standing in for the other when missing."""

    def date(field: str) -> dt.datetime | None:
        value = _str(fields, field)
        if not value:
            return None
        try:
            return parse_store_datetime(value, tz)
        except ValueError as exc:
            raise _fail(fields, field, str(exc)) from None

    order_date, modified_at = date("OrderDate"), date("LastModified")
    if order_date is None and modified_at is None:
        raise _missing(fields, "OrderDate", gettext_noop("{field} is missing (and so is LastModified)"))
    return order_date or modified_at, modified_at or order_date


def map_order(
    fields: dict,
    *,
    tz: ZoneInfo | dt.tzinfo = UTC,
    default_weight_units: str | None = None,
    dates: tuple[dt.datetime, dt.datetime] | None = None,
) -> OrderRecord:
    """One order's fields (order_fields) -> OrderRecord. Raises ProtocolError naming the order
    and the field. `dates`: its (order date, last modified) when already parsed."""
    # Every name read with .get(name, "") below is a text element's: order_fields makes only
    # _GROUPS and _LISTS anything but text.
    get = fields.get
    number = get("OrderNumber", "")
    order_id = get("OrderID", "") or number

    def fail(field: str, reason: str) -> ProtocolError:
        return _fail(fields, field, reason)

    if not number:
        raise _missing(fields, "OrderNumber")

    def amount(value: str, name: str, line: _LineRef | None = None, parse=parse_amount) -> Decimal | None:
        if not value:
            return None
        try:
            return parse(value)
        except (ValueError, InvalidOperation) as exc:
            raise fail(f"{line} {name}" if line else name, str(exc)) from None

    order_date, modified_at = dates or _order_dates(fields, tz)

    customer = _group(fields, "Customer") or {}
    customer_code = customer.get("CustomerCode", "")
    bill = _group(customer, "BillTo")
    ship = _group(customer, "ShipTo")
    bill_to = None
    if bill is not None:
        bill_to = Address(name=bill.get("Name", ""), company=bill.get("Company", ""), phone=bill.get("Phone", ""),
                          email=bill.get("Email", ""))
    ship_to = None
    if ship is not None:
        ship_get = ship.get
        try:
            country = country_code(ship_get("Country", ""))
        except ValueError as exc:
            raise fail("ShipTo Country", str(exc)) from None
        ship_to = Address(
            name=ship_get("Name", ""),
            company=ship_get("Company", ""),
            street1=ship_get("Address1", ""),
            street2=ship_get("Address2", ""),
            city=ship_get("City", ""),
            state=region_code(ship_get("State", ""), country),
            postal_code=ship_get("PostalCode", ""),
            country=country,
            phone=ship_get("Phone", ""),
        )
    email = bill_to.email if bill_to and bill_to.email else (customer_code if "@" in customer_code else "")

    lines = []
    items = fields.get("Items", ())
    for position, item in enumerate(items if isinstance(items, list) else (), start=1):
        item_get = item.get
        sku = item_get("SKU", "")
        line_ref = _LineRef(position, sku)  # words only when a value is wrong
        try:
            quantity = parse_quantity(item_get("Quantity", ""))
        except ValueError as exc:
            raise fail(f"{line_ref} Quantity", str(exc)) from None
        weight = amount(item_get("Weight", ""), "Weight", line_ref, parse=parse_decimal)
        weight_grams = None
        if weight is not None:
            units = item_get("WeightUnits", "") or default_weight_units
            if units:
                try:
                    weight_grams = weight_to_grams(weight, units)
                except ValueError as exc:
                    raise fail(f"{line_ref} WeightUnits", str(exc)) from None
        options = item_get("Options", ())
        lines.append(OrderLine(
            line_item_id=item_get("LineItemID", ""),
            sku=sku,
            name=item_get("Name", ""),
            quantity=quantity,
            unit_price=amount(item_get("UnitPrice", ""), "UnitPrice", line_ref) or Decimal("0"),
            weight_grams=weight_grams,
            image_url=item_get("ImageUrl", ""),
            location=item_get("Location", ""),
            adjustment=parse_bool(item_get("Adjustment", "")),
            options=tuple((option.get("Name", ""), option.get("Value", ""))
                          for option in (options if isinstance(options, list) else ())),
        ))

    custom_fields = {
        name: value for name in ("CustomField1", "CustomField2", "CustomField3")
        if (value := get(name, ""))
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
        store_status=get("OrderStatus", ""),
        ship_to=ship_to,
        lines=tuple(lines),
        bill_to=bill_to,
        customer_code=customer_code,
        customer_email=email,
        currency=get("CurrencyCode", "").upper(),
        order_total=amount(get("OrderTotal", ""), "OrderTotal"),
        tax_amount=amount(get("TaxAmount", ""), "TaxAmount"),
        shipping_amount=amount(get("ShippingAmount", ""), "ShippingAmount"),
        requested_service=get("ShippingMethod", ""),
        payment_method=get("PaymentMethod", ""),
        customer_notes=get("CustomerNotes", ""),
        internal_notes=get("InternalNotes", ""),
        gift=parse_bool(get("Gift", "")),
        gift_message=get("GiftMessage", ""),
        raw=raw,
    )


class _LineRef:
    """How an error names an order's line ("Item 2 (SKU TEA-001)"), put in words only when needed."""

    __slots__ = ("position", "sku")

    def __init__(self, position: int, sku: str):
        self.position, self.sku = position, sku

    def __str__(self) -> str:
        return f"Item {self.position}" + (f" (SKU {_clip(self.sku, 30)})" if self.sku else "")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


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
