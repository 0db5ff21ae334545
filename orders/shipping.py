"""Shipments: create (whole order or part), split, combine, void, correct.

Every service validates everything before it writes, runs in one transaction (the orders are
locked with SELECT ... FOR UPDATE, so two people shipping the same order cannot over-ship it),
and defers its side effects to the commit: the store notification task and the customer e-mail.

Rules:
- Orders awaiting shipment or on hold can be shipped; an order already shipped can get an
  additional shipment only with "do not notify the store"; cancelled orders and orders awaiting
  payment cannot be shipped.
- A shipment carries whole lines or parts of them (never more than is left to ship); adjustment
  (discount) lines are not shipped. The order becomes shipped when every line is shipped.
- Stores whose connector is never notified (`notifies_store`: manual orders) are shipped with
  "do not notify the store".
- Stores whose connector cannot receive split or combined orders (`can_split`, `can_combine`) refuse
  them: a shipment that notifies such a store must carry the whole order.
- A combined shipment is one package for several orders of one store with the same ship-to: each
  order gets its own Shipment (its own items, its own store notification), all sharing the
  tracking number and a group key.
- A ship date is at most a year before and 90 days after today in the store's zone (a shipment
  corrected keeps its own date, however old).
- Voiding puts the order back to awaiting shipment; the store is not told.
- Correcting changes a shipment's carrier, service, tracking number or ship date (with the
  other shipments of its combined package: one package, one tracking number), each change kept
  in its history. A store already notified is sent the corrected values when its connector
  takes corrections (`accepts_corrections`); otherwise it keeps the old ones, and the service
  says so, and why, before anything is saved (`dry_run`). Void shipments are not corrected.

Languages: a refusal (ShippingError) is said in the active language of whoever asked; what a
correction tells about the store (StoreOutcome.message, kept in the shipment's history) is
English, shown in the reader's language (stores.i18n.translated).
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from stores.connectors.base import Connector
from stores.models import OrderStatus, Store

from . import tasks, webhooks
from .carriers import carrier_name
from .emails import customer_email_due
from .models import (CustomerEmailStatus, NotificationStatus, Order, OrderItem, Shipment, ShipmentChange,
                     ShipmentField, ShipmentItem, StoreCorrection, StoreNotification)
from .notifying import VOID_SKIP_REASON, notification_queue, notification_requeue
from .resilience import after_commit
from .selectors import shipped_quantities
from .values import clean_money, clean_text

SHIPPABLE_STATUSES = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD)
NO_NOTIFY = _('"do not notify the store"')
# Why a store whose connector cannot receive split orders refuses one.
SPLIT_REFUSAL = _("{kind} orders cannot be split: the store cannot receive shipment details for split orders.")

# How far a ship date may be from today in the store's zone (a typo such as 2062 or 1926 is refused).
SHIP_DATE_MAX_PAST_DAYS = 365
SHIP_DATE_MAX_FUTURE_DAYS = 90

ItemsArg = Iterable[tuple[OrderItem | int, int]] | None


class ShippingError(ValueError):
    """A shipment refused; the message is one line a person can act on."""


class ShipDateError(ShippingError):
    """The ship date given is refused (malformed, or out of bounds)."""


class StoreForbids(ShippingError):
    """The store's connector cannot receive what was asked (split or combined orders)."""


class AlreadyShipped(ShippingError):
    """The order is already shipped, and only a first shipment was asked for."""


def _label(item: OrderItem) -> str:
    return item.sku or item.name or item.line_item_id or gettext("line {id}").format(id=item.pk)


def _fully_shipped(items: Sequence[OrderItem], shipped: dict[int, int]) -> bool:
    goods = [i for i in items if not i.adjustment]
    return bool(goods) and all(shipped.get(i.pk, 0) >= i.quantity for i in goods)


# --- validation ----------------------------------------------------------------------------


def _clean_text(value, *, field: str, max_length: int, required: bool = False) -> str:
    text = clean_text(value, what=field, max_length=max_length, error=ShippingError)
    if required and not text:
        raise ShippingError(gettext("a shipment needs a {field}").format(field=field))
    return text


def _store_today(store: Store) -> dt.date:
    return timezone.now().astimezone(store.tz).date()  # today where the store is


def ship_date_bounds(store: Store) -> tuple[dt.date, dt.date]:
    """The earliest and latest ship dates a shipment of `store` may be given, in its zone."""
    today = _store_today(store)
    return today - dt.timedelta(days=SHIP_DATE_MAX_PAST_DAYS), today + dt.timedelta(days=SHIP_DATE_MAX_FUTURE_DAYS)


def _clean_ship_date(value, store: Store, *, current: dt.date | None = None) -> dt.date:
    """The ship date given (empty: today in the store's zone), within `ship_date_bounds`;
    `current`, a shipment's own date, is kept whatever its age."""
    if value in (None, ""):
        return _store_today(store)
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ShipDateError(gettext("the ship date must be a date like 2024-05-31 (got {value})").format(
                value=repr(value))) from None
    if day == current:
        return day
    earliest, latest = ship_date_bounds(store)
    if day < earliest:
        raise ShipDateError(gettext("the ship date {day} is more than a year ago: choose a date from {earliest} to "
                                    "{latest}").format(day=day, earliest=earliest, latest=latest))
    if day > latest:
        raise ShipDateError(gettext("the ship date {day} is more than {days} days ahead: choose a date from "
                                    "{earliest} to {latest}").format(day=day, days=SHIP_DATE_MAX_FUTURE_DAYS,
                                                                     earliest=earliest, latest=latest))
    return day


def _clean_cost(value) -> Decimal | None:
    return clean_money(value, what=gettext("shipping cost"), error=ShippingError)


def _clean_fields(*, store: Store, carrier, service, tracking_number, ship_date) -> dict:
    return {
        "carrier": carrier_name(_clean_text(carrier, field=gettext("carrier"), max_length=100, required=True)),
        "service": _clean_text(service, field=gettext("service"), max_length=100),
        "tracking_number": _clean_text(tracking_number, field=gettext("tracking number"), max_length=100),
        "ship_date": _clean_ship_date(ship_date, store),
    }


def _notify_choices(store: Store, notify_store: bool | None, notify_customer: bool | None) -> tuple[bool, bool]:
    """Whether to notify the store and e-mail the customer: what was asked, else the store's
    settings. A store whose connector is never notified (`notifies_store`) is not, and asking
    to notify it is refused."""
    notifies = store.connector_class.notifies_store
    if notify_store and not notifies:
        raise StoreForbids(gettext("{kind} orders have no store to notify: ship them with {no_notify}").format(
            kind=gettext(store.connector_class.short_label), no_notify=NO_NOTIFY))
    notify_store = (store.notify_store and notifies) if notify_store is None else bool(notify_store)
    notify_customer = store.notify_customer if notify_customer is None else bool(notify_customer)
    return notify_store, notify_customer


def _check_status(order: Order, *, notify_store: bool) -> bool:
    """Raise when the order cannot be shipped now; return True for an additional shipment of
    an order already shipped."""
    number = order.order_number
    if order.status == OrderStatus.CANCELLED:
        raise ShippingError(gettext("order {number} is cancelled: it cannot be shipped").format(number=number))
    if order.status == OrderStatus.AWAITING_PAYMENT:
        raise ShippingError(gettext("order {number} is awaiting payment: it can be shipped once it awaits "
                                    "shipment").format(number=number))
    if order.status == OrderStatus.SHIPPED:
        if notify_store:
            raise ShippingError(
                gettext("order {number} is already shipped: make an additional shipment with {no_notify} (the store "
                        "already has this order's shipment)").format(number=number, no_notify=NO_NOTIFY)
            )
        return True
    if order.status not in SHIPPABLE_STATUSES:
        raise ShippingError(gettext("order {number} is {status}: it cannot be shipped").format(
            number=number, status=order.get_status_display().lower()))
    return False


def _resolve_lines(
    order: Order, order_items: list[OrderItem], items: ItemsArg, shipped: dict[int, int], *, additional: bool
) -> list[tuple[OrderItem, int]]:
    number = order.order_number
    goods = [i for i in order_items if not i.adjustment]
    if not goods:
        raise ShippingError(gettext("order {number} has no items to ship").format(number=number))
    by_id = {i.pk: i for i in order_items}

    def limit(item: OrderItem) -> int:
        return item.quantity if additional else max(0, item.quantity - shipped.get(item.pk, 0))

    if items is None:
        lines = [(item, limit(item)) for item in goods if limit(item) > 0]
    else:
        wanted: dict[int, int] = {}
        for entry in items:
            try:
                item_ref, quantity = entry
            except (TypeError, ValueError):
                raise ShippingError(gettext("items must be (order item, quantity) pairs")) from None
            item_id = item_ref.pk if isinstance(item_ref, OrderItem) else item_ref
            item = by_id.get(item_id) if isinstance(item_id, int) else None
            if item is None:
                raise ShippingError(gettext("item {item} is not a line of order {number}").format(
                    item=item_ref, number=number))
            if isinstance(quantity, bool) or not isinstance(quantity, int):
                try:
                    quantity = int(str(quantity).strip())
                except ValueError:
                    raise ShippingError(gettext("the quantity of {item} must be a whole number (got {value})").format(
                        item=_label(item), value=repr(quantity))) from None
            if quantity < 0:
                raise ShippingError(gettext("the quantity of {item} cannot be negative").format(item=_label(item)))
            if quantity == 0:
                continue
            if item.adjustment:
                raise ShippingError(
                    gettext("{item} on order {number} is an adjustment (a discount), not a product to ship").format(
                        item=_label(item), number=number)
                )
            wanted[item.pk] = wanted.get(item.pk, 0) + quantity
        lines = []
        for item_id, quantity in wanted.items():
            item = by_id[item_id]
            if quantity > limit(item):
                template = (gettext("cannot ship {quantity} × {item} on order {number}: {left} ordered") if additional
                            else gettext("cannot ship {quantity} × {item} on order {number}: {left} left to ship"))
                raise ShippingError(template.format(quantity=quantity, item=_label(item), number=number,
                                                    left=limit(item)))
            lines.append((item, quantity))
        lines.sort(key=lambda line: line[0].pk)
    if not lines:
        if items is not None:
            raise ShippingError(gettext("nothing to ship: choose at least one item of order {number}").format(
                number=number))
        raise ShippingError(gettext("nothing to ship: every item of order {number} is already shipped").format(
            number=number))
    return lines


def _check_split(
    store: Store, order: Order, order_items: list[OrderItem], lines, shipped: dict[int, int], *, notify_store: bool
) -> None:
    """A store that cannot receive split orders is only told about whole orders."""
    if store.connector_class.can_split or not notify_store:
        return
    whole = not any(shipped.values()) and _fully_shipped(order_items, {i.pk: q for i, q in lines})
    if whole:
        return
    prefix = SPLIT_REFUSAL.format(kind=gettext(store.connector_class.short_label))
    if any(shipped.values()):
        raise StoreForbids(prefix + " " + gettext(
            "Order {number} already has a shipment: ship the rest with {no_notify}.").format(
            number=order.order_number, no_notify=NO_NOTIFY))
    raise StoreForbids(prefix + " " + gettext("Ship the whole order, or ship this part with {no_notify}.").format(
        no_notify=NO_NOTIFY))


# --- writes --------------------------------------------------------------------------------


def _lock_orders(order_ids: Iterable[int]) -> list[Order]:
    """Lock the orders (always in id order, so two combines cannot deadlock)."""
    ids = sorted(set(order_ids))
    locked = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = [i for i in ids if i not in locked]
    if missing:
        raise ShippingError(gettext("no order with id {id}").format(id=missing[0]))
    stores = {s.pk: s for s in Store.objects.filter(pk__in={o.store_id for o in locked.values()})}
    for order in locked.values():
        order.store = stores[order.store_id]
    return [locked[i] for i in ids]


def _write_shipment(
    *,
    order: Order,
    order_items: list[OrderItem],
    lines: list[tuple[OrderItem, int]],
    shipped: dict[int, int],
    fields: dict,
    cost: Decimal | None,
    notify_store: bool,
    notify_customer: bool,
    user,
    group_key: str,
    queue_notification: bool,
) -> Shipment:
    shipment = Shipment.objects.create(
        order=order, cost=cost, notify_store=notify_store, notify_customer=notify_customer,
        created_by=user if getattr(user, "pk", None) else None, group_key=group_key, **fields,
    )
    ShipmentItem.objects.bulk_create(
        [ShipmentItem(shipment=shipment, order_item=item, quantity=quantity) for item, quantity in lines]
    )
    if notify_store:
        notification = StoreNotification.objects.create(shipment=shipment, status=NotificationStatus.PENDING)
        if queue_notification:
            after_commit(lambda: notification_queue(notification_id=notification.pk, attempt=0),
                         what=f"the store notification of shipment {shipment.pk}")
    after = dict(shipped)
    for item, quantity in lines:
        after[item.pk] = after.get(item.pk, 0) + quantity
    if order.status != OrderStatus.SHIPPED and _fully_shipped(order_items, after):
        order.status = OrderStatus.SHIPPED
        order.save(update_fields=["status", "updated_at"])
    if customer_email_due(shipment):
        shipment.customer_email_status = CustomerEmailStatus.PENDING
        shipment.save(update_fields=["customer_email_status"])
        if queue_notification:
            after_commit(lambda: tasks.send_customer_email.delay(shipment.pk),
                         what=f"the customer e-mail of shipment {shipment.pk}")
    webhooks.shipment_created(shipment=shipment)  # SHIP_NOTIFY
    return shipment


def shipment_create(
    *,
    order: Order,
    carrier: str,
    service: str = "",
    tracking_number: str = "",
    ship_date: dt.date | str | None = None,
    cost: Decimal | str | None = None,
    items: ItemsArg = None,
    notify_store: bool | None = None,
    notify_customer: bool | None = None,
    user=None,
    queue_notification: bool = True,
    additional: bool = True,
) -> Shipment:
    """Ship an order, whole (items=None: everything not yet shipped) or in part (items: pairs of
    (order item or its id, quantity)). notify_store / notify_customer default to the store's
    settings. With queue_notification=False the caller delivers the notification and the
    customer e-mail itself (`ship_order --wait`). The side effects are queued after the commit;
    a broker that cannot be reached leaves them pending for the stale sweep, the shipment stands.
    With additional=False an order already shipped is refused (the desk's bulk pages ship orders
    once, whatever "notify the store" says)."""
    with transaction.atomic():
        (order,) = _lock_orders([order.pk])
        store = order.store
        notify_store, notify_customer = _notify_choices(store, notify_store, notify_customer)
        fields = _clean_fields(store=store, carrier=carrier, service=service, tracking_number=tracking_number,
                               ship_date=ship_date)
        cost = _clean_cost(cost)
        if order.status == OrderStatus.SHIPPED and not additional:
            raise AlreadyShipped(gettext("order {number} is already shipped").format(number=order.order_number))
        additional = _check_status(order, notify_store=notify_store)
        order_items = list(order.items.all().order_by("id"))
        shipped = shipped_quantities(order=order)
        lines = _resolve_lines(order, order_items, items, shipped, additional=additional)
        _check_split(store, order, order_items, lines, shipped, notify_store=notify_store)
        return _write_shipment(
            order=order, order_items=order_items, lines=lines, shipped=shipped, fields=fields, cost=cost,
            notify_store=notify_store, notify_customer=notify_customer, user=user, group_key="",
            queue_notification=queue_notification,
        )


def _share(cost: Decimal | None, parts: int) -> list[Decimal | None]:
    """Split a cost into `parts` shares to the cent; the first share takes the remainder."""
    if cost is None:
        return [None] * parts
    cents = int(cost * 100)
    each, rest = divmod(cents, parts)
    return [Decimal(each + (rest if i == 0 else 0)) / 100 for i in range(parts)]


def order_split(
    *,
    order: Order,
    parts: Sequence[ItemsArg],
    carrier: str,
    service: str = "",
    tracking_numbers: Sequence[str] | None = None,
    ship_date: dt.date | str | None = None,
    cost: Decimal | str | None = None,
    notify_store: bool | None = None,
    notify_customer: bool | None = None,
    user=None,
    queue_notification: bool = True,
) -> list[Shipment]:
    """Split an order into several shipments at once, one per part (each part: (item,
    quantity) pairs; the last part may be None for "everything left"). Each shipment notifies
    the store with its own items only. `cost` is the total, shared between the parts."""
    if not parts or len(parts) < 2:
        raise ShippingError(gettext("a split needs at least two parts"))
    if tracking_numbers is not None and len(tracking_numbers) != len(parts):
        raise ShippingError(gettext("give one tracking number per part ({parts} parts, {numbers} numbers)").format(
            parts=len(parts), numbers=len(tracking_numbers)))
    if any(part is None for part in parts[:-1]):
        raise ShippingError(gettext("only the last part of a split can be \"everything left\""))
    costs = _share(_clean_cost(cost), len(parts))
    with transaction.atomic():
        (locked,) = _lock_orders([order.pk])
        if not locked.store.connector_class.can_split:
            kind = gettext(locked.store.connector_class.short_label)
            raise StoreForbids(SPLIT_REFUSAL.format(kind=kind) + " " + gettext(
                "Ship the whole order, or update {kind} by hand.").format(kind=kind))
        shipments = []
        for index, part in enumerate(parts):
            try:
                shipments.append(shipment_create(
                    order=locked, carrier=carrier, service=service,
                    tracking_number=tracking_numbers[index] if tracking_numbers else "",
                    ship_date=ship_date, cost=costs[index], items=part, notify_store=notify_store,
                    notify_customer=notify_customer, user=user, queue_notification=queue_notification,
                ))
            except ShippingError as exc:
                raise type(exc)(gettext("part {number} of the split: {error}").format(number=index + 1,
                                                                                      error=exc)) from None
            locked.refresh_from_db(fields=["status"])
        return shipments


def _same_ship_to_key(order: Order) -> tuple:
    fields = ("ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_street3",
              "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country")
    return tuple(" ".join((getattr(order, f) or "").split()).casefold() for f in fields)


def _check_combinable(orders: list[Order]) -> None:
    if len(orders) < 2:
        raise ShippingError(gettext("choose at least two orders to combine"))
    stores = {o.store_id: o.store for o in orders}
    if len(stores) > 1:
        names = ", ".join(sorted(s.name for s in stores.values()))
        raise ShippingError(gettext("only orders of one store can be combined (these come from {stores})").format(
            stores=names))
    store = orders[0].store
    if not store.connector_class.can_combine:
        raise StoreForbids(
            gettext("{kind} orders cannot be combined: the store cannot receive shipment details for combined "
                    "orders. Ship each order on its own.").format(kind=gettext(store.connector_class.short_label))
        )
    for order in orders:
        if order.status != OrderStatus.AWAITING_SHIPMENT:
            raise ShippingError(
                gettext("order {number} is {status}: only orders awaiting shipment can be combined").format(
                    number=order.order_number, status=order.get_status_display().lower())
            )
    first = orders[0]
    for order in orders[1:]:
        if _same_ship_to_key(order) != _same_ship_to_key(first):
            raise ShippingError(
                gettext("order {number} ships to another address than order {first}: only orders with the same "
                        "ship-to can be combined").format(number=order.order_number, first=first.order_number)
            )


def orders_combine_check(*, orders: Iterable[Order]) -> None:
    """Raise the ShippingError orders_combine would raise for these orders, before asking for
    the shipment's details (read only; orders_combine checks again under lock)."""
    loaded = list(Order.objects.select_related("store").filter(pk__in={o.pk for o in orders}).order_by("pk"))
    _check_combinable(loaded)


def orders_combine(
    *,
    orders: Iterable[Order],
    carrier: str,
    service: str = "",
    tracking_number: str = "",
    ship_date: dt.date | str | None = None,
    cost: Decimal | str | None = None,
    notify_store: bool | None = None,
    notify_customer: bool | None = None,
    user=None,
    queue_notification: bool = True,
) -> list[Shipment]:
    """Ship several orders of one store with the same ship-to in one package: one Shipment per
    order (everything the order has left to ship), sharing the tracking number and a group
    key, so each order's store notification carries only its own items. `cost` is the
    package's, shared between the orders."""
    order_ids = {o.pk for o in orders}
    with transaction.atomic():
        locked = _lock_orders(order_ids)
        _check_combinable(locked)
        store = locked[0].store
        notify_store, notify_customer = _notify_choices(store, notify_store, notify_customer)
        fields = _clean_fields(store=store, carrier=carrier, service=service, tracking_number=tracking_number,
                               ship_date=ship_date)
        costs = _share(_clean_cost(cost), len(locked))
        plans = []
        for order in locked:
            order_items = list(order.items.all().order_by("id"))
            shipped = shipped_quantities(order=order)
            lines = _resolve_lines(order, order_items, None, shipped, additional=False)
            plans.append((order, order_items, shipped, lines))
        group_key = uuid.uuid4().hex
        return [
            _write_shipment(
                order=order, order_items=order_items, lines=lines, shipped=shipped, fields=fields,
                cost=costs[index], notify_store=notify_store, notify_customer=notify_customer, user=user,
                group_key=group_key, queue_notification=queue_notification,
            )
            for index, (order, order_items, shipped, lines) in enumerate(plans)
        ]


def shipment_void(*, shipment: Shipment, user=None) -> Shipment:
    """Void a shipment (with the other shipments of its combined package: one label). The order
    goes back to awaiting shipment when it no longer has everything shipped; the store is not
    told. A notification not yet delivered is skipped. `user` is recorded as who voided it."""
    with transaction.atomic():
        try:
            current = Shipment.objects.select_for_update().get(pk=shipment.pk)
        except Shipment.DoesNotExist:
            raise ShippingError(gettext("no shipment with id {id}").format(id=shipment.pk)) from None
        if current.voided_at is not None:
            raise ShippingError(gettext("shipment {id} is already void").format(id=current.pk))
        group = [current]
        if current.group_key:
            group = list(
                Shipment.objects.select_for_update()
                .filter(group_key=current.group_key, voided_at__isnull=True)
                .order_by("pk")
            )
        orders = _lock_orders(s.order_id for s in group)
        now = timezone.now()
        Shipment.objects.filter(pk__in=[s.pk for s in group]).update(
            voided_at=now, voided_by=user if getattr(user, "pk", None) else None)
        # Not delivered yet (and nobody delivering it right now): it never will be.
        StoreNotification.objects.filter(
            shipment_id__in=[s.pk for s in group], status=NotificationStatus.PENDING, claim_token="",
        ).update(
            status=NotificationStatus.SKIPPED, warning=VOID_SKIP_REASON,
            next_attempt_at=None, updated_at=now,
        )
        for order in orders:
            if order.status == OrderStatus.SHIPPED:
                items = list(order.items.all())
                if not _fully_shipped(items, shipped_quantities(order=order)):
                    order.status = OrderStatus.AWAITING_SHIPMENT
                    order.save(update_fields=["status", "updated_at"])
        current.refresh_from_db()
        return current


# --- corrections ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreOutcome:
    """What a correction does for the shipment's store: a StoreCorrection value, and in words
    what the store is told, or why it is not and what to do instead (English, kept in the
    shipment's history: shown with stores.i18n.translated)."""

    state: str
    message: str


@dataclass(frozen=True)
class CorrectedShipment:
    """One shipment of a correction: its changes (ShipmentChange rows, unsaved with dry_run) and
    what its store is told."""

    shipment: Shipment
    changes: tuple[ShipmentChange, ...]
    store: StoreOutcome


@dataclass(frozen=True)
class ShipmentUpdate:
    """What shipment_update did (saved) or would do (dry_run): the shipment asked for first,
    then the other shipments of its combined package."""

    corrected: tuple[CorrectedShipment, ...]
    saved: bool = False

    @property
    def shipment(self) -> Shipment:
        return self.corrected[0].shipment

    @property
    def store(self) -> StoreOutcome:
        return self.corrected[0].store

    @property
    def changed(self) -> bool:
        return any(item.changes for item in self.corrected)


def _as_text(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _shown(value: str) -> str:
    return value or gettext_noop("(none)")


# A corrected detail and its value, in the words kept in a shipment's history (English).
FIELD_AND_VALUE = {
    ShipmentField.CARRIER.value: gettext_noop("carrier {value}"),
    ShipmentField.SERVICE.value: gettext_noop("service {value}"),
    ShipmentField.TRACKING_NUMBER.value: gettext_noop("tracking number {value}"),
    ShipmentField.SHIP_DATE.value: gettext_noop("ship date {value}"),
}
AND = gettext_noop(" and ")


def _clean_corrections(*, store: Store, carrier, service, tracking_number, ship_date,
                       current_ship_date: dt.date | None = None) -> dict:
    """The corrected values given (None: left as it is), cleaned like a new shipment's (the
    shipment's own ship date is kept, however old)."""
    values = {}
    if carrier is not None:
        values[ShipmentField.CARRIER.value] = carrier_name(_clean_text(carrier, field=gettext("carrier"),
                                                                       max_length=100, required=True))
    if service is not None:
        values[ShipmentField.SERVICE.value] = _clean_text(service, field=gettext("service"), max_length=100)
    if tracking_number is not None:
        values[ShipmentField.TRACKING_NUMBER.value] = _clean_text(tracking_number, field=gettext("tracking number"),
                                                                   max_length=100)
    if ship_date is not None:
        if not str(ship_date).strip():
            raise ShipDateError(gettext("the ship date must be a date like 2024-05-31 (got an empty value)"))
        values[ShipmentField.SHIP_DATE.value] = _clean_ship_date(ship_date, store, current=current_ship_date)
    return values


def _kept(shipment: Shipment, fields: list[str]) -> str:
    """What a store that is not sent the correction keeps, in words (English, kept)."""
    if fields:
        return gettext_noop("the old {values}").format(values=AND.join(
            FIELD_AND_VALUE[f].format(value=_shown(_as_text(getattr(shipment, f)))) for f in fields))
    sent = ", ".join(FIELD_AND_VALUE[f.value].format(value=_as_text(getattr(shipment, f.value))) for f in ShipmentField
                     if getattr(shipment, f.value))
    return gettext_noop("what it was sent ({sent})").format(sent=sent)


def _store_outcome(*, shipment: Shipment, notification: StoreNotification | None, notify_store: bool | None,
                   fields: list[str], connector: type[Connector]) -> StoreOutcome:
    """What correcting `fields` of the shipment does for its store; raises when the correction
    cannot be made now, or `notify_store=True` asks what the store cannot take."""
    kind = connector.short_label  # English in the kept messages; gettext(kind) in the refusals
    if notification is None:
        if notify_store:
            raise ShippingError(gettext("shipment {id} was made with {no_notify}: there is no store notification to "
                                        "correct").format(id=shipment.pk, no_notify=NO_NOTIFY))
        if not connector.notifies_store:
            return StoreOutcome(StoreCorrection.NOT_REQUESTED, gettext_noop(
                "No store is told about shipment {id}: it ships an order entered by hand.").format(id=shipment.pk))
        return StoreOutcome(StoreCorrection.NOT_REQUESTED, gettext_noop(
            'Shipment {id} was made with "do not notify the store": {kind} is not told.').format(
            id=shipment.pk, kind=kind))
    if notification.status == NotificationStatus.PENDING:
        if notification.claimed_until and notification.claimed_until > timezone.now():
            raise ShippingError(gettext("{kind} is being notified of shipment {id} right now: correct it once the "
                                        "notification's outcome is known").format(kind=gettext(kind), id=shipment.pk))
        return StoreOutcome(StoreCorrection.INCLUDED, gettext_noop(
            "{kind} is not notified of shipment {id} yet: its notification will carry the corrected values.").format(
            kind=kind, id=shipment.pk))
    if notification.status != NotificationStatus.SENT:
        template = (gettext_noop("The store notification of shipment {id} failed: it is left as is; resend it to "
                                 "send {kind} the corrected values.")
                    if notification.status == NotificationStatus.FAILED else
                    gettext_noop("The store notification of shipment {id} was skipped: it is left as is; resend it to "
                                 "send {kind} the corrected values."))
        return StoreOutcome(StoreCorrection.LEFT_AS_IS, template.format(id=shipment.pk, kind=kind))
    if not connector.accepts_corrections:
        reason = connector.correction_refusal_reason
        if notify_store:
            raise StoreForbids(gettext(
                "{kind} cannot take a correction of a shipment it was notified of: {reason}. Correct it in {kind} by "
                "hand, and save the correction here without notifying the store.").format(
                kind=gettext(kind), reason=gettext(reason)))
        return StoreOutcome(StoreCorrection.NOT_SENT, gettext_noop(
            "{kind} will keep {kept}: {reason}. Correct it in {kind} by hand.").format(
            kind=kind, kept=_kept(shipment, fields), reason=reason))
    if notify_store is False:
        return StoreOutcome(StoreCorrection.NOT_SENT, gettext_noop(
            "{kind} is not sent this correction (as asked) and will keep {kept}: correct it in {kind} by hand if it "
            "matters.").format(kind=kind, kept=_kept(shipment, fields)))
    return StoreOutcome(StoreCorrection.QUEUED, gettext_noop(
        "{kind} was notified of shipment {id}: it is sent a new shipment notice with the corrected values.").format(
        kind=kind, id=shipment.pk))


def _lock_package(shipment: Shipment) -> tuple[Shipment, list[Shipment]]:
    """Lock the shipment with the other shipments of its package (in id order, as a void does)."""
    found = Shipment.objects.filter(pk=shipment.pk).values_list("group_key", flat=True)
    if not found:
        raise ShippingError(gettext("no shipment with id {id}").format(id=shipment.pk))
    group_key = found[0]
    locking = Shipment.objects.select_for_update().order_by("pk")
    locked = list(locking.filter(group_key=group_key) if group_key else locking.filter(pk=shipment.pk))
    current = next(s for s in locked if s.pk == shipment.pk)
    return current, [s for s in locked if s.pk != current.pk and s.voided_at is None]


def shipment_update(
    *,
    shipment: Shipment,
    carrier: str | None = None,
    service: str | None = None,
    tracking_number: str | None = None,
    ship_date: dt.date | str | None = None,
    notify_store: bool | None = None,
    user=None,
    dry_run: bool = False,
) -> ShipmentUpdate:
    """Correct a shipment's carrier, service, tracking number or ship date (None: left as it is;
    a value equal to the current one changes nothing), with the other shipments of its combined
    package. Each change is a ShipmentChange row (who, when, old → new, what the store was
    told), written in the same transaction.

    A store already notified of the shipment is sent the corrected values when its connector
    takes corrections (its notification back to pending, queued again after the commit), unless
    `notify_store=False`; when it cannot take them it keeps the old values (`notify_store=True`
    then refuses). A notification not sent yet simply carries the corrected values; a failed or
    skipped one is left as is (resend it). With `dry_run` nothing is written: the result says
    what would change and what the store would be told (call it without values for what a
    correction would do for the store)."""
    with transaction.atomic():
        current, others = _lock_package(shipment)
        if current.voided_at is not None:
            raise ShippingError(gettext("shipment {id} is void: it cannot be corrected").format(id=current.pk))
        package = [current, *others]
        store = Store.objects.get(orders__shipments=current.pk)
        values = _clean_corrections(store=store, carrier=carrier, service=service, tracking_number=tracking_number,
                                    ship_date=ship_date, current_ship_date=current.ship_date)
        notifications = {n.shipment_id: n for n in StoreNotification.objects.select_for_update()
                         .filter(shipment_id__in=[s.pk for s in package if s.notify_store]).order_by("pk")}
        now = timezone.now()
        actor = user if getattr(user, "pk", None) else None
        corrected = []
        for item in package:
            fields = [f for f, value in values.items() if getattr(item, f) != value]
            outcome = _store_outcome(shipment=item, notification=notifications.get(item.pk),
                                     notify_store=notify_store, fields=fields, connector=store.connector_class)
            changes = tuple(
                ShipmentChange(shipment=item, changed_at=now, changed_by=actor, field=f,
                               old_value=_as_text(getattr(item, f)), new_value=_as_text(values[f]),
                               store_correction=outcome.state, store_note=outcome.message)
                for f in fields
            )
            corrected.append(CorrectedShipment(shipment=item, changes=changes, store=outcome))
        result = ShipmentUpdate(corrected=tuple(corrected))
        if dry_run or not result.changed:
            return result
        for item in result.corrected:
            if not item.changes:
                continue
            fields = [change.field for change in item.changes]
            for field in fields:
                setattr(item.shipment, field, values[field])
            item.shipment.save(update_fields=fields)
            ShipmentChange.objects.bulk_create(item.changes)
            if item.store.state == StoreCorrection.QUEUED:
                notification_requeue(notification=notifications[item.shipment.pk])
        return replace(result, saved=True)


# --- the desk: many orders, each shipped on its own -------------------------------------------


@dataclass(frozen=True)
class ShipOutcome:
    """What shipping one order of a batch came to: its shipment, or the refusal in words."""

    order: Order
    shipment: Shipment | None = None
    error: str = ""
    already_shipped: bool = False

    @property
    def shipped(self) -> bool:
        return self.shipment is not None


def order_ship_whole(
    *,
    order: Order,
    carrier: str,
    service: str = "",
    tracking_number: str = "",
    ship_date: dt.date | str | None = None,
    notify_store: bool | None = None,
    notify_customer: bool | None = None,
    user=None,
) -> ShipOutcome:
    """Ship everything the order has left, once (an order already shipped is refused), in a
    transaction of its own: one order's refusal never undoes another's shipment. Asking to
    notify a store that is never notified (manual orders) ships without notifying it. The
    refusal is returned in words, never raised."""
    if notify_store and not order.store.connector_class.notifies_store:
        notify_store = False
    try:
        shipment = shipment_create(order=order, carrier=carrier, service=service, tracking_number=tracking_number,
                                   ship_date=ship_date, notify_store=notify_store, notify_customer=notify_customer,
                                   user=user, additional=False)
    except AlreadyShipped as exc:
        return ShipOutcome(order=order, error=str(exc), already_shipped=True)
    except ShippingError as exc:
        return ShipOutcome(order=order, error=str(exc))
    return ShipOutcome(order=order, shipment=shipment)


def orders_ship_each(
    *,
    orders: Sequence[Order],
    carrier: str,
    service: str = "",
    tracking_numbers: dict[int, str] | None = None,
    ship_date: dt.date | str | None = None,
    notify_store: bool | None = None,
    notify_customer: bool | None = None,
    user=None,
) -> list[ShipOutcome]:
    """Bulk ship: each order shipped whole on its own (its own shipment, its own store
    notification, its own tracking number from `tracking_numbers` by order id), in the order
    given; a refusal is reported for that order and the others go on."""
    tracking_numbers = tracking_numbers or {}
    return [
        order_ship_whole(order=order, carrier=carrier, service=service,
                         tracking_number=tracking_numbers.get(order.pk, ""), ship_date=ship_date,
                         notify_store=notify_store, notify_customer=notify_customer, user=user)
        for order in orders
    ]
