"""How the sandbox Custom Store writes its export pages: `<Orders pages="N">` with one `<Order>`
per order, text in CDATA sections and dates in the store's zone and style, and the canned
bodies its fault switches serve in their place (an HTML page, an entity bomb, an external
entity)."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from xml.sax.saxutils import escape

from .data import SandboxOrder

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sandbox Shop</title></head>"
    "<body><h1>Welcome to the Sandbox Shop</h1><p>Nothing to see here.</p></body></html>\n"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    ' <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n'
    ' <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">\n'
    ' <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">\n'
    ' <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">\n'
    ' <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">\n'
    ' <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">\n'
    ']>\n<Orders pages="1"><Order><OrderID>&lol9;</OrderID></Order></Orders>\n'
)

EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE Orders [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    '<Orders pages="1"><Order><OrderID>&xxe;</OrderID></Order></Orders>\n'
)


def format_date(value: dt.datetime, tz: dt.tzinfo, date_style: str) -> str:
    """`value` as the store writes it: wall time in `tz`, in `date_style` ("24h" or "ampm")."""
    local = value.astimezone(tz)
    if date_style == "ampm":
        hour = local.hour % 12 or 12
        return (f"{local.month}/{local.day}/{local.year} {hour}:{local.minute:02d}:{local.second:02d} "
                f"{'PM' if local.hour >= 12 else 'AM'}")
    return local.strftime("%m/%d/%Y %H:%M")


def export_document(chosen: list[SandboxOrder], page: int, *, page_size: int, page_overlap: int,
                    write_date: Callable[[dt.datetime], str], corrupt: tuple[str, str] | None = None) -> bytes:
    """Page `page` of `chosen` (oldest first), `page_size` orders a page; with `page_overlap`,
    page N repeats the last orders of page N-1 (unstable paging). `corrupt`: (element, value)
    written into the page's first order."""
    size = max(1, page_size)
    pages = math.ceil(len(chosen) / size)
    first = max(0, (page - 1) * size - (page_overlap if page > 1 else 0))
    slice_ = chosen[first: page * size] if page >= 1 else []
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n', f'<Orders pages="{pages}">\n']
    for position, order in enumerate(slice_):
        parts.append(order_xml(order, write_date, corrupt if position == 0 else None))
    parts.append("</Orders>\n")
    return "".join(parts).encode("utf-8")


def order_xml(order: SandboxOrder, write_date: Callable[[dt.datetime], str],
              corrupt: tuple[str, str] | None = None) -> str:
    """One `<Order>` element; `corrupt`: (element, value) to write in place of that element's value."""
    bad_field, bad_value = corrupt or ("", "")

    def val(tag: str, value) -> str:
        return bad_value if tag == bad_field else value

    out = ["  <Order>\n"]
    add = lambda tag, value, text=False, indent=4: out.append(_element(tag, val(tag, value), text, indent))  # noqa: E731
    add("OrderID", order.order_id, True)
    add("OrderNumber", order.order_number, True)
    add("OrderDate", write_date(order.order_date))
    add("OrderStatus", order.status, True)
    add("LastModified", write_date(order.last_modified))
    add("ShippingMethod", order.shipping_method, True)
    add("PaymentMethod", order.payment_method, True)
    add("CurrencyCode", order.currency)
    add("OrderTotal", f"{order.order_total:.2f}")
    add("TaxAmount", f"{order.tax_amount:.2f}")
    add("ShippingAmount", f"{order.shipping_amount:.2f}")
    add("CustomerNotes", order.customer_notes, True)
    add("InternalNotes", order.internal_notes, True)
    add("Gift", "true" if order.gift else "false")
    add("GiftMessage", order.gift_message, True)
    if order.po_number:
        add("PONumber", order.po_number, True)
    add("StockLocationID", order.stock_location_id)
    out.append("    <Customer>\n")
    add("CustomerCode", order.customer_code, True, 6)
    out.append("      <BillTo>\n")
    for tag in ("Name", "Company", "Phone", "Email"):
        add(tag, order.bill_to.get(tag, ""), True, 8)
    out.append("      </BillTo>\n")
    if order.ship_to is not None:
        out.append("      <ShipTo>\n")
        for tag in ("Name", "Company", "Address1", "Address2", "City", "State", "PostalCode", "Country", "Phone"):
            add(tag, order.ship_to.get(tag, ""), True, 8)
        out.append("      </ShipTo>\n")
    out.append("    </Customer>\n    <Items>\n")
    for line in order.lines:
        out.append("      <Item>\n")
        add("LineItemID", line.line_item_id, True, 8)
        add("SKU", line.sku, True, 8)
        add("Name", line.name, True, 8)
        add("ImageUrl", line.image_url, True, 8)
        if line.weight is not None:
            add("Weight", str(line.weight), False, 8)
            add("WeightUnits", line.weight_units, False, 8)
        add("Quantity", str(line.quantity), False, 8)
        add("UnitPrice", f"{line.unit_price:.2f}", False, 8)
        add("Location", line.location, True, 8)
        if line.adjustment:
            add("Adjustment", "true", False, 8)
        if line.options:
            out.append("        <Options>\n")
            for name, value in line.options:
                out.append("          <Option>\n")
                add("Name", name, True, 12)
                add("Value", value, True, 12)
                out.append("          </Option>\n")
            out.append("        </Options>\n")
        out.append("      </Item>\n")
    out.append("    </Items>\n  </Order>\n")
    return "".join(out)



def _element(tag: str, value: str, text: bool, indent: int) -> str:
    value = "" if value is None else str(value)
    body = _cdata(value) if text and value else escape(value)
    return f"{' ' * indent}<{tag}>{body}</{tag}>\n"


def _cdata(value: str) -> str:
    """CDATA section(s); a `]]>` inside is split across two sections, as real stores do."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
