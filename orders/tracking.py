"""Tracking numbers from a file: a CSV exported by a carrier portal, a label printer or a
shipping tool (one row per package: order number, tracking number, and where the file has them
carrier, service and ship date) ships each order it names.

Shared by the admin's "Tracking from a file" page (preview, then confirm) and `manage.py
import_tracking`: `tracking_file_read` parses (a file that is not a CSV is one TrackingFileError,
nothing read), `tracking_plan` says what each row would do (a read), `tracking_apply` ships the
rows that can ship (each through the shipping service, in its own transaction: a bad row never
stops the good ones). Re-running a file ships nothing twice: an order that already has a
shipment with the row's tracking number, or is shipped, is skipped.

Header names are matched case-insensitively, ignoring spaces and punctuation, so the exports of
the usual tools are read as they come: ShipStation's shipment export ("Order - Number",
"Shipment - Tracking Number", "Carrier", "Service", "Ship Date"), UPS WorldShip ("Package
Reference No. 1" / "Package Ref No.1", "Tracking No."), FedEx Ship Manager ("Reference",
"Tracking Number", "Ship Date"), USPS Click-N-Ship and Pirate Ship ("Reference Number",
"Tracking #", "Mail Class"), eBay and marketplace upload files ("Order Number", "Shipping Carrier
Used", "Tracking Number"). A file without a carrier column is read when the tracking number says
its carrier (UPS 1Z…, USPS 92/93/94/95… with 22 digits, FedEx 12 or 15 digits)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field, replace

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from stores.models import OrderStatus

from .carriers import carrier_name
from .models import Order, Shipment
from .shipping import SHIPPABLE_STATUSES, order_ship_whole

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000


class TrackingFileError(ValueError):
    """The file cannot be read as a tracking CSV; one line a person can act on. Nothing is read."""


# --- columns -----------------------------------------------------------------------------------

def _key(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", (header or "").casefold())


COLUMNS: dict[str, tuple[str, ...]] = {
    "order_number": ("order number", "order no", "order #", "order", "order id", "order - number", "ordernumber",
                     "order_number", "sales order", "sales order number", "shipment - order number",
                     "package reference no. 1", "package ref no.1", "package reference 1", "reference no. 1",
                     "reference 1", "reference1", "reference", "reference number", "ref", "ref 1",
                     "customer reference", "your reference"),
    "tracking_number": ("tracking number", "tracking no", "tracking no.", "tracking #", "tracking", "tracking code",
                        "tracking id", "tracking_number", "trackingnumber", "shipment - tracking number",
                        "package tracking number", "tracking number(s)", "master tracking number"),
    "carrier": ("carrier", "carrier name", "carrier code", "shipping carrier", "shipping carrier used", "courier",
                "provider", "shipping provider", "shipment - carrier", "carrier used"),
    "service": ("service", "service name", "service type", "service code", "shipping service", "carrier service",
                "mail class", "shipping method", "shipment - service", "requested service"),
    "ship_date": ("ship date", "shipped date", "date shipped", "ship_date", "shipdate", "shipment date",
                  "shipping date", "shipment - ship date", "label date", "label created", "date"),
}
_BY_HEADER = {_key(name): column for column, names in COLUMNS.items() for name in names}
REQUIRED = ("order_number", "tracking_number")
# The columns in words (a row's problem names them)
COLUMN_NAMES = {"order_number": gettext_noop("order number"), "tracking_number": gettext_noop("tracking number"),
                "carrier": gettext_noop("carrier"), "service": gettext_noop("service")}


def _infer_carrier(tracking: str) -> str:
    compact = re.sub(r"\s", "", tracking).upper()
    if re.fullmatch(r"1Z[0-9A-Z]{16}", compact):
        return "UPS"
    if re.fullmatch(r"9[2-5]\d{20}", compact):
        return "USPS"
    if re.fullmatch(r"\d{12}|\d{15}", compact):
        return "FedEx"
    return ""


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y%m%d", "%Y/%m/%d", "%d.%m.%Y")


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    head = re.split(r"[ T]", text, maxsplit=1)[0]  # "2024-05-31 14:02:00", "05/31/2024 2:02 PM"
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(head, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrackingRow:
    """One row as read: its line number in the file (the header is line 1), its values, and
    what is wrong with it (empty: nothing)."""

    line: int
    order_number: str = ""
    tracking_number: str = ""
    carrier: str = ""
    service: str = ""
    ship_date: dt.date | None = None
    problem: str = ""


def tracking_file_text(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise TrackingFileError(_("the file is not a CSV file (it holds binary data: a spreadsheet or a PDF?). "
                                  "Save it as CSV and upload it again."))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TrackingFileError(_("the file is not a CSV file: its text cannot be read"))  # pragma: no cover


def tracking_file_read(data: bytes) -> list[TrackingRow]:
    """The rows of a tracking CSV (bytes as uploaded). Raises TrackingFileError, with nothing
    read, when the file is not a CSV, is too large, or has no order number or tracking number
    column; a row with a bad value is returned with its problem."""
    if len(data) > MAX_FILE_BYTES:
        raise TrackingFileError(_("the file is larger than %(mb)d MB: split it") % {"mb": MAX_FILE_BYTES // 2 ** 20})
    text = tracking_file_text(data)
    if not text.strip():
        raise TrackingFileError(_("the file is empty"))
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        header = next(reader)
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            column = _BY_HEADER.get(_key(name))
            if column and column not in columns:
                columns[column] = index
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            wanted = _(" and ").join({"order_number": _("an order number column (e.g. “Order Number”)"),
                                   "tracking_number": _("a tracking number column (e.g. “Tracking Number”)")}[c]
                                  for c in missing)
            raise TrackingFileError(_("the file is not a tracking CSV: it needs %(wanted)s; its first line is "
                                      "%(header)s") % {"wanted": wanted, "header": ", ".join(header)[:200] or _("empty")})
        rows = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise TrackingFileError(_("the file has more than %(max)d rows: split it") % {"max": MAX_ROWS})
            rows.append(_row(reader.line_num, record, columns))
    except csv.Error as exc:
        raise TrackingFileError(_("the file is not a CSV file: %(error)s (line %(line)d)")
                                % {"error": exc, "line": reader.line_num}) from None
    return rows


def _row(line: int, record: list[str], columns: dict[str, int]) -> TrackingRow:
    def cell(column: str) -> str:
        index = columns.get(column)
        return " ".join(record[index].split()) if index is not None and index < len(record) else ""

    values = {c: cell(c) for c in ("order_number", "tracking_number", "carrier", "service")}
    problems = []
    if not values["order_number"]:
        problems.append(_("no order number"))
    if not values["tracking_number"]:
        problems.append(_("no tracking number"))
    for column, limit in (("order_number", 100), ("tracking_number", 100), ("carrier", 100), ("service", 100)):
        if len(values[column]) > limit:
            problems.append(_("the %(column)s is longer than %(limit)d characters")
                            % {"column": _(COLUMN_NAMES[column]), "limit": limit})
            values[column] = values[column][:limit]
    carrier = carrier_name(values["carrier"]) or _infer_carrier(values["tracking_number"])
    if not carrier and values["tracking_number"]:
        problems.append(_("no carrier: add a Carrier column (the tracking number does not say which)"))
    ship_date = None
    if cell("ship_date"):
        try:
            ship_date = _parse_date(cell("ship_date"))
        except ValueError:
            problems.append(_("the ship date %(date)r is not a date like 2024-05-31 or 05/31/2024")
                            % {"date": cell("ship_date")})
    return TrackingRow(line=line, order_number=values["order_number"], tracking_number=values["tracking_number"],
                       carrier=carrier, service=values["service"], ship_date=ship_date, problem=_("; ").join(problems))


# --- what each row would do ---------------------------------------------------------------------

class RowResult:
    SHIP = "ship"
    SHIPPED = "shipped"
    ALREADY_SHIPPED = "already_shipped"
    UNKNOWN_ORDER = "unknown_order"
    AMBIGUOUS = "ambiguous"
    INVALID = "invalid"
    REFUSED = "refused"  # the shipping service said no when it was applied

    LABELS = {SHIP: gettext_noop("Ships"), SHIPPED: gettext_noop("Shipped"),
              ALREADY_SHIPPED: gettext_noop("Already shipped"), UNKNOWN_ORDER: gettext_noop("Unknown order"),
              AMBIGUOUS: gettext_noop("Ambiguous (several stores)"), INVALID: gettext_noop("Invalid"),
              REFUSED: gettext_noop("Not shipped")}
    SKIPPED = (ALREADY_SHIPPED,)
    ERRORS = (UNKNOWN_ORDER, AMBIGUOUS, INVALID, REFUSED)


@dataclass(frozen=True)
class PlannedRow:
    row: TrackingRow
    result: str
    order: Order | None = None
    message: str = ""
    shipment: Shipment | None = None

    @property
    def label(self) -> str:
        return _(RowResult.LABELS[self.result])

    def as_dict(self, *, dry_run: bool = False) -> dict:
        result = "would_ship" if dry_run and self.result == RowResult.SHIP else self.result
        return {"line": self.row.line, "order_number": self.row.order_number,
                "store": self.order.store_id if self.order else None,
                "tracking_number": self.row.tracking_number, "carrier": self.row.carrier,
                "result": result, "shipment": self.shipment.pk if self.shipment else None,
                "error": self.message or None}


@dataclass
class TrackingSummary:
    rows: list[PlannedRow] = field(default_factory=list)

    def count(self, *results: str) -> int:
        return sum(1 for r in self.rows if r.result in results)

    def as_dict(self) -> dict:
        return {"shipped": self.count(RowResult.SHIPPED, RowResult.SHIP),
                "skipped": self.count(*RowResult.SKIPPED), "errors": self.count(*RowResult.ERRORS)}


def tracking_plan(*, rows: list[TrackingRow], orders: QuerySet[Order]) -> TrackingSummary:
    """What each row would do among `orders` (what the user may see, or one store's): ship, or
    why not. A constant number of queries, whatever the number of rows."""
    numbers = {r.order_number for r in rows if not r.problem}
    found: dict[str, list[Order]] = {}
    for order in orders.filter(order_number__in=numbers).select_related("store").order_by("pk"):
        found.setdefault(order.order_number, []).append(order)
    single = [matches[0].pk for matches in found.values() if len(matches) == 1]
    tracked: dict[int, set[str]] = {}
    for order_id, number in (Shipment.objects.filter(order_id__in=single, voided_at__isnull=True)
                             .values_list("order_id", "tracking_number")):
        tracked.setdefault(order_id, set()).add(number)
    first_line: dict[int, int] = {}
    planned = []
    for row in rows:
        if row.problem:
            planned.append(PlannedRow(row, RowResult.INVALID, message=row.problem))
            continue
        matches = found.get(row.order_number, [])
        if not matches:
            planned.append(PlannedRow(row, RowResult.UNKNOWN_ORDER,
                                      message=_("no order number %(number)s") % {"number": row.order_number}))
            continue
        if len(matches) > 1:
            stores = ", ".join(sorted(str(o.store) for o in matches))
            planned.append(PlannedRow(row, RowResult.AMBIGUOUS, message=_(
                "order number %(number)s is in several stores (%(stores)s): choose the store")
                % {"number": row.order_number, "stores": stores}))
            continue
        order = matches[0]
        if row.tracking_number in tracked.get(order.pk, set()):
            planned.append(PlannedRow(row, RowResult.ALREADY_SHIPPED, order, _(
                "already shipped with tracking number %(tracking)s") % {"tracking": row.tracking_number}))
        elif order.pk in first_line:
            planned.append(PlannedRow(row, RowResult.ALREADY_SHIPPED, order, _(
                "line %(line)d of this file already ships this order") % {"line": first_line[order.pk]}))
        elif order.status == OrderStatus.SHIPPED:
            planned.append(PlannedRow(row, RowResult.ALREADY_SHIPPED, order, _("the order is already shipped")))
        elif order.status not in SHIPPABLE_STATUSES:
            planned.append(PlannedRow(row, RowResult.INVALID, order, _("the order is %(status)s: it cannot be shipped")
                                      % {"status": order.get_status_display().lower()}))
        else:
            first_line[order.pk] = row.line
            planned.append(PlannedRow(row, RowResult.SHIP, order))
    return TrackingSummary(rows=planned)


def tracking_apply(*, plan: TrackingSummary, notify_store: bool | None = None, user=None) -> TrackingSummary:
    """Ship every row of `plan` that can ship, each through the shipping service in its own
    transaction (`notify_store`: None, the store's setting; False, "do not notify the store").
    A refusal is that row's error; the other rows go on."""
    done = []
    for planned in plan.rows:
        if planned.result != RowResult.SHIP:
            done.append(planned)
            continue
        row = planned.row
        outcome = order_ship_whole(order=planned.order, carrier=row.carrier, service=row.service,
                                   tracking_number=row.tracking_number, ship_date=row.ship_date,
                                   notify_store=notify_store, user=user)
        if outcome.shipped:
            done.append(replace(planned, result=RowResult.SHIPPED, shipment=outcome.shipment))
        elif outcome.already_shipped:
            done.append(replace(planned, result=RowResult.ALREADY_SHIPPED, message=outcome.error))
        else:
            done.append(replace(planned, result=RowResult.REFUSED, message=outcome.error))
    return TrackingSummary(rows=done)
