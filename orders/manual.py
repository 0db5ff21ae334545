"""Orders entered by hand (phone orders, replacement shipments), in each merchant's own
manual-orders store: the store type whose connector declares `manual_entry`.

Services: keyword-only, everything checked before anything is written, one transaction. Once
written a manual order is an order like any other: it awaits shipment, ships from its order page
(its store is never notified: the connector says so) and is listed by `list_orders`. It may be
deleted while it has no shipment; imported orders never are."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.connectors.base import Address
from stores.connectors.registry import connector_names_where, get_connector_class
from stores.models import Merchant, OrderStatus, Store
from stores.services import StoreInputError, store_create

from .models import Order, OrderItem, Product
from .selectors import order_deletable
from .values import clean_money, clean_text


class ManualOrderError(ValueError):
    """A manual order refused; the message is one line a person can act on (active language)."""


# Numbers given to orders entered without one: M-000001, M-000002... (per store)
NUMBER_FORMAT = "M-{:06d}"
GENERATED_NUMBER = re.compile(r"M-([0-9]+)")
NUMBER_ATTEMPTS = 5  # a number taken meanwhile by another order: the next one is tried
SHIP_TO_KEYS = ("name", "company", "street1", "street2", "street3", "city", "state", "postal_code", "country",
                "phone")
LINE_KEYS = ("product", "sku", "name", "quantity", "unit_price",
             # orders made through the API also say these
             "line_item_id", "adjustment", "image_url", "location", "weight_grams", "options")
# Statuses an order entered here may be given, and those in which it may still be changed.
ENTRY_STATUSES = (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD,
                  OrderStatus.CANCELLED)
OPEN_STATUSES = (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD)
# An order's other details (`details`), each checked like its column: text, amount, day, moment or flag.
DETAIL_TEXT = ("bill_to_name", "bill_to_company", "bill_to_phone", "bill_to_email", "customer_code",
               "customer_notes", "gift_message", "payment_method", "requested_service", "currency")
DETAIL_MONEY = ("order_total", "tax_amount", "shipping_amount")
MAX_QUANTITY = 2_147_483_647  # the column's limit


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def _text(value, what: str, max_length: int | None = None) -> str:
    return clean_text(value, what=what, max_length=max_length, error=ManualOrderError)


# --- the store -----------------------------------------------------------------------------


def _manual_connector() -> str:
    return connector_names_where(lambda cls: cls.manual_entry)[0]


def manual_store_of(*, merchant: Merchant) -> Store | None:
    """The merchant's manual-orders store, if it has one yet."""
    return Store.objects.filter(merchant=merchant, connector=_manual_connector()).order_by("pk").first()


def manual_store_get_or_create(*, merchant: Merchant) -> Store:
    """The merchant's manual-orders store, made through store_create the first time (named
    after the store type, or "<name> 2"... when the merchant already uses the name)."""
    with transaction.atomic():
        store = manual_store_of(merchant=merchant)
        if store is not None:
            return store
        # one creator at a time per merchant (then look again: another may just have made it)
        list(Merchant.objects.select_for_update().filter(pk=merchant.pk).values_list("pk"))
        store = manual_store_of(merchant=merchant)
        if store is not None:
            return store
        label = str(get_connector_class(_manual_connector()).label)  # the store's name: in the active language
        taken = set(Store.objects.filter(merchant=merchant).values_list("name", flat=True))
        name = next(n for n in (label, *(f"{label} {i}" for i in range(2, len(taken) + 3))) if n not in taken)
        try:
            return store_create(connector=_manual_connector(), name=name, merchant=merchant, settings={},
                                notify_store=False)
        except StoreInputError as exc:
            raise ManualOrderError(gettext("the {label} store cannot be made: {error}").format(
                label=label, error=exc)) from None


# --- checks --------------------------------------------------------------------------------


def _clean_country(value) -> str:
    country = _text(value, gettext("ship-to country")).upper()
    if country and (len(country) != 2 or pycountry.countries.get(alpha_2=country) is None):
        raise ManualOrderError(
            gettext("the ship-to country must be a 2-letter ISO code such as US, GB or DE (got {value})").format(
                value=repr(country)))
    return country


# How a message names each ship-to field.
SHIP_TO_WORDS = {
    "name": _("ship-to name"), "company": _("ship-to company"), "street1": _("ship-to street1"),
    "street2": _("ship-to street2"), "street3": _("ship-to street3"), "city": _("ship-to city"),
    "state": _("ship-to state"), "postal_code": _("ship-to postal code"), "phone": _("ship-to phone"),
}


def _clean_ship_to(ship_to) -> dict[str, str]:
    if not isinstance(ship_to, Mapping):
        raise ManualOrderError(gettext("the ship-to address must be given as its fields (name, street1, city...)"))
    unknown = sorted(set(ship_to) - set(SHIP_TO_KEYS))
    if unknown:
        raise ManualOrderError(gettext("unknown ship-to field {field} (known: {known})").format(
            field=repr(unknown[0]), known=", ".join(SHIP_TO_KEYS)))
    cleaned = {key: _text(ship_to.get(key), SHIP_TO_WORDS[key], _max_length(Order, f"ship_to_{key}"))
               for key in SHIP_TO_KEYS if key != "country"}
    cleaned["country"] = _clean_country(ship_to.get("country"))
    missing = Address(**cleaned).missing_fields()
    if missing:
        raise ManualOrderError(gettext("the ship-to address is incomplete (missing: {fields})").format(
            fields=", ".join(gettext(m) for m in missing)))
    return cleaned


def _clean_email(value) -> str:
    email = _text(value, gettext("customer e-mail"), _max_length(Order, "customer_email"))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ManualOrderError(gettext("the customer e-mail {email} is not an e-mail address").format(
                email=repr(email))) from None
    return email


def _clean_quantity(value, line: int) -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise ManualOrderError(gettext("line {line} needs a quantity (a whole number, 1 or more)").format(line=line))
    try:
        quantity = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise ManualOrderError(gettext("line {line}: the quantity must be a whole number (got {value})").format(
            line=line, value=repr(value))) from None
    if quantity < 1:
        raise ManualOrderError(gettext("line {line}: the quantity must be at least 1 (got {value})").format(
            line=line, value=quantity))
    if quantity > MAX_QUANTITY:
        raise ManualOrderError(gettext("line {line}: the quantity is too large ({value})").format(
            line=line, value=quantity))
    return quantity


def _product_ref(value, line: int) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, Product):
        return value.pk
    try:
        return int(str(value).strip())
    except ValueError:
        raise ManualOrderError(gettext("line {line}: {value} is not a product").format(
            line=line, value=repr(value))) from None


def _clean_price(value, line: int, *, adjustment: bool) -> Decimal | None:
    """A line's unit price: zero or more; a discount (adjustment) line's may be below zero."""
    what = gettext("unit price of line {line}").format(line=line)
    if adjustment and value not in (None, "") and str(value).strip().startswith("-"):
        amount = clean_money(str(value).strip()[1:], what=what, error=ManualOrderError)
        return -amount if amount is not None else None
    return clean_money(value, what=what, error=ManualOrderError)


def _clean_options(value, line: int) -> list[list[str]]:
    """A line's options as [name, value] pairs (from pairs or {"name", "value"} entries)."""
    if value in (None, ""):
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ManualOrderError(gettext("line {line}: the options must be a list of name and value pairs").format(
            line=line))
    pairs = []
    for option in value:
        if isinstance(option, Mapping):
            name, text = option.get("name"), option.get("value")
        elif isinstance(option, (list, tuple)) and len(option) == 2:
            name, text = option
        else:
            raise ManualOrderError(gettext("line {line}: an option must be a name and a value").format(line=line))
        pairs.append([_text(name, gettext("option name of line {line}").format(line=line), 200),
                      _text(text, gettext("option of line {line}").format(line=line), 500)])
    return pairs


def _clean_details(details) -> dict:
    """The order's other columns from `details` (bill-to name, notes, amounts, dates...)."""
    if details in (None, {}):
        return {}
    if not isinstance(details, Mapping):
        raise ManualOrderError(gettext("the order's details must be given as their fields"))
    known = (*DETAIL_TEXT, *DETAIL_MONEY, "order_date", "ship_date", "gift")
    unknown = sorted(set(details) - set(known))
    if unknown:
        raise ManualOrderError(gettext("unknown order field {field} (known: {known})").format(
            field=repr(unknown[0]), known=", ".join(known)))
    cleaned = {}
    for key, value in details.items():
        what = str(Order._meta.get_field(key).verbose_name)
        if key in DETAIL_TEXT:
            limit = _max_length(Order, key) if key not in ("customer_notes", "gift_message") else 10_000
            cleaned[key] = _text(value, what, limit)
        elif key in DETAIL_MONEY:
            cleaned[key] = clean_money(value, what=what, error=ManualOrderError)
        elif key == "gift":
            cleaned[key] = bool(value)
        elif key == "order_date":
            if not isinstance(value, dt.datetime) or timezone.is_naive(value):
                raise ManualOrderError(gettext("the order date must be a moment with its time zone"))
            cleaned[key] = value
        elif key == "ship_date":
            if value is not None and not isinstance(value, dt.date):
                raise ManualOrderError(gettext("the ship-by date must be a date"))
            cleaned[key] = value
    if cleaned.get("bill_to_email"):
        cleaned["bill_to_email"] = _clean_email(cleaned["bill_to_email"])
    return cleaned


def _clean_status(status) -> str:
    if status not in ENTRY_STATUSES:
        allowed = ", ".join(str(s) for s in ENTRY_STATUSES)
        raise ManualOrderError(gettext("an order entered in ShipBridge gets one of the statuses {allowed} (got "
                                       "{status}); it becomes shipped by shipping it").format(allowed=allowed,
                                                                                             status=repr(status)))
    return str(status)


def _clean_lines(merchant: Merchant, lines) -> list[dict]:
    """The lines as OrderItem values. A line names one of the merchant's products (its SKU and,
    unless typed, its name) or a typed SKU; a typed SKU of a catalogue product gets the product's
    details too (name unless typed, weight, image, bin location)."""
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, Iterable):
        raise ManualOrderError(gettext("the lines must be a list, one entry per line"))
    lines = list(lines)
    if not lines:
        raise ManualOrderError(gettext("a manual order needs at least one line"))
    refs = []
    for number, line in enumerate(lines, 1):
        if not isinstance(line, Mapping):
            raise ManualOrderError(gettext("line {line} must be given as its fields ({known})").format(
                line=number, known=", ".join(LINE_KEYS)))
        unknown = sorted(set(line) - set(LINE_KEYS))
        if unknown:
            raise ManualOrderError(gettext("line {line}: unknown field {field} (known: {known})").format(
                line=number, field=repr(unknown[0]), known=", ".join(LINE_KEYS)))
        refs.append(_product_ref(line.get("product"), number))
    products = Product.objects.filter(merchant=merchant)
    chosen = products.in_bulk([ref for ref in refs if ref is not None])
    typed = {str(line.get("sku") or "").strip() for line, ref in zip(lines, refs) if ref is None}
    catalogue = {p.sku: p for p in products.filter(sku__in=typed - {""})}
    cleaned = []
    for number, (line, ref) in enumerate(zip(lines, refs), 1):
        product = chosen.get(ref) if ref is not None else None
        if ref is not None and product is None:
            raise ManualOrderError(gettext("line {line}: product {product} is not one of {merchant}'s products").format(
                line=number, product=ref, merchant=merchant.name))
        sku = product.sku if product else _text(line.get("sku"), gettext("SKU of line {line}").format(line=number),
                                                _max_length(OrderItem, "sku"))
        if not sku:
            raise ManualOrderError(gettext("line {line} needs a product or a SKU").format(line=number))
        known = product or catalogue.get(sku)
        name = _text(line.get("name"), gettext("name of line {line}").format(line=number),
                     _max_length(OrderItem, "name"))
        adjustment = bool(line.get("adjustment"))
        price = _clean_price(line.get("unit_price"), number, adjustment=adjustment)
        line_id = _text(line.get("line_item_id"), gettext("line id of line {line}").format(line=number),
                        _max_length(OrderItem, "line_item_id"))
        weight = clean_money(line.get("weight_grams"), what=gettext("weight of line {line}").format(line=number),
                             error=ManualOrderError)
        cleaned.append({
            "line_item_id": line_id or str(number), "sku": sku, "name": name or (known.name if known else ""),
            "quantity": _clean_quantity(line.get("quantity"), number),
            "unit_price": price if price is not None else Decimal("0.00"),
            "weight_grams": weight if weight is not None else (known.weight_grams if known else None),
            "image_url": _text(line.get("image_url"), gettext("image URL of line {line}").format(line=number),
                               _max_length(OrderItem, "image_url")) or (known.image_url if known else ""),
            "location": _text(line.get("location"), gettext("bin location of line {line}").format(line=number),
                              _max_length(OrderItem, "location")) or (known.bin_location if known else ""),
            "adjustment": adjustment, "options": _clean_options(line.get("options"), number),
        })
    return cleaned


# --- writes --------------------------------------------------------------------------------


def _next_number(store: Store) -> str:
    used = Order.objects.filter(store=store, external_id__regex=r"^M-[0-9]+$").values_list("external_id", flat=True)
    last = max((int(GENERATED_NUMBER.fullmatch(n).group(1)) for n in used.iterator()), default=0)
    return NUMBER_FORMAT.format(last + 1)


def _insert_order(store: Store, number: str, values: dict, key: str = "") -> Order | None:
    """The order with this number (and key: its external id, the number when not given), or None
    when the store already has one (the unique store and external id; in a savepoint, so the
    caller's transaction goes on)."""
    try:
        with transaction.atomic():
            return Order.objects.create(store=store, external_id=key or number, order_number=number, **values)
    except IntegrityError:
        return None


def manual_order_create(
    *,
    merchant: Merchant,
    order_number: str = "",
    ship_to: Mapping[str, str],
    lines: Iterable[Mapping],
    customer_email: str = "",
    notes: str = "",
    user=None,
    order_key: str = "",
    store: Store | None = None,
    status: str = OrderStatus.AWAITING_SHIPMENT,
    details: Mapping | None = None,
) -> Order:
    """Enter an order by hand in the merchant's manual-orders store (made on first use), or in
    `store`, another of the merchant's stores whose connector takes orders entered here.

    The API also gives `order_key` (the order's id in its store, unique there: the order number
    when not given), `status` (ENTRY_STATUSES), `details` (bill-to name, notes, amounts, order
    and ship-by dates...: DETAIL_TEXT, DETAIL_MONEY, order_date, ship_date, gift), and lines
    with their own id, options, image, bin location, weight, and discount (adjustment) lines.

    `ship_to`: name, company, street1-3, city, state, postal_code, country (ISO 3166 alpha-2),
    phone. `lines`: each {"product": a Product of the merchant (or its id)} or {"sku", "name"},
    with "quantity" (1 or more) and "unit_price" (optional). `order_number` empty: the store's
    next number (M-000001...). `notes` become the order's internal notes. The order awaits
    shipment. Raises ManualOrderError, with nothing written, on any bad input."""
    if not isinstance(merchant, Merchant) or merchant.pk is None:
        raise ManualOrderError(gettext("a manual order needs a merchant"))
    number = _text(order_number, gettext("order number"), _max_length(Order, "external_id"))
    key = _text(order_key, "order key", _max_length(Order, "external_id"))
    address = _clean_ship_to(ship_to)
    email = _clean_email(customer_email)
    items = _clean_lines(merchant, lines)
    details = _clean_details(details)
    now = timezone.now()
    values = {
        "order_date": now, "modified_at": now, "status": _clean_status(status), "store_status": "",
        **{f"ship_to_{key}": value for key, value in address.items()},
        "customer_email": email, "internal_notes": str(notes or "").strip(),
        "raw": {"entered_by": user.get_username()} if getattr(user, "pk", None) else {},
        **details,
    }
    if store is not None:
        _check_entry_store(store, merchant)
    with transaction.atomic():
        store = store or manual_store_get_or_create(merchant=merchant)
        # numbers are given one order at a time per store
        list(Store.objects.select_for_update().filter(pk=store.pk).values_list("pk"))
        order = None
        for _attempt in range(1 if number else NUMBER_ATTEMPTS):
            order = _insert_order(store, number or _next_number(store), values, key)
            if order is not None:
                break
        if order is None:
            if key:
                raise ManualOrderError(gettext("{store} already has an order with the key {key}").format(
                    store=store.name, key=repr(key)))
            if number:
                raise ManualOrderError(gettext("{store} already has an order number {number}").format(
                    store=store.name, number=repr(number)))
            raise ManualOrderError(gettext("no free order number was found; try again"))
        OrderItem.objects.bulk_create([OrderItem(order=order, **item) for item in items])
    return order


def _check_entry_store(store: Store, merchant: Merchant) -> None:
    if store.merchant_id != merchant.pk:
        raise ManualOrderError(gettext("store {id} is not one of {merchant}'s stores").format(
            id=store.pk, merchant=merchant.name))
    if not store.connector_class.manual_entry:
        raise ManualOrderError(gettext("{store} takes its orders from {connector}: orders entered in ShipBridge go "
                                       "to a Manual orders store").format(store=store.name,
                                                                          connector=store.connector_class.label))


def manual_order_update(
    *,
    order: Order,
    order_number: str,
    ship_to: Mapping[str, str],
    lines: Iterable[Mapping],
    customer_email: str = "",
    notes: str = "",
    status: str = OrderStatus.AWAITING_SHIPMENT,
    details: Mapping | None = None,
) -> Order:
    """Change an order entered in ShipBridge (the API's create-or-update by orderKey): its
    number, address, lines, status and details, as manual_order_create takes them. Only an open
    order (awaiting payment or shipment, on hold) changes; its lines only while it has no
    shipment. Raises ManualOrderError, with nothing written, on any bad input."""
    number = _text(order_number, gettext("order number"), _max_length(Order, "order_number"))
    if not number:
        raise ManualOrderError(gettext("an order needs an order number"))
    address = _clean_ship_to(ship_to)
    email = _clean_email(customer_email)
    details = _clean_details(details)
    new_status = _clean_status(status)
    with transaction.atomic():
        current = Order.objects.select_for_update().select_related("store", "store__merchant").filter(
            pk=order.pk).first()
        if current is None:
            raise ManualOrderError(gettext("no order with id {id}").format(id=order.pk))
        if not current.store.connector_class.manual_entry:
            raise ManualOrderError(gettext("order {number} comes from {store}: only orders entered in ShipBridge are "
                                           "changed here").format(number=current.order_number,
                                                                  store=current.store.name))
        if current.status not in OPEN_STATUSES:
            raise ManualOrderError(gettext("order {number} is {status}: only orders awaiting payment, awaiting "
                                           "shipment or on hold can be changed").format(
                number=current.order_number, status=current.get_status_display().lower()))
        items = _clean_lines(current.store.merchant, lines)
        existing = list(current.items.order_by("pk"))
        fields = ("line_item_id", "sku", "name", "quantity", "unit_price", "adjustment")
        same_lines = [tuple(getattr(i, f) for f in fields) for i in existing] == [
            tuple(item[f] for f in fields) for item in items]
        if not same_lines:
            if current.shipments.exists():
                raise ManualOrderError(gettext("order {number} has a shipment: its lines can no longer change").format(
                    number=current.order_number))
            OrderItem.objects.filter(order=current).delete()
            OrderItem.objects.bulk_create([OrderItem(order=current, **item) for item in items])
        values = {"order_number": number, "status": new_status, "modified_at": timezone.now(),
                  **{f"ship_to_{key}": value for key, value in address.items()},
                  "customer_email": email, "internal_notes": str(notes or "").strip(), **details}
        for name, value in values.items():
            setattr(current, name, value)
        current.save(update_fields=[*values, "updated_at"])
    return current


def manual_order_delete(*, order: Order) -> None:
    """Delete an order entered by hand that has no shipment (a void one included: it records
    what was shipped). Imported orders are never deleted (the next import would bring them back)."""
    with transaction.atomic():
        current = Order.objects.select_for_update().select_related("store").filter(pk=order.pk).first()
        if current is None:
            raise ManualOrderError(gettext("no order with id {id}").format(id=order.pk))
        if current.store.connector_class.imports_orders:
            raise ManualOrderError(gettext("order {number} comes from {store}: imported orders are not deleted").format(
                number=current.order_number, store=current.store.name))
        if not order_deletable(order=current):
            raise ManualOrderError(gettext("order {number} has a shipment: it can no longer be deleted").format(
                number=current.order_number))
        current.delete()
