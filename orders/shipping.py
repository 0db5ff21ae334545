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
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from stores.connectors.base import Connector
from stores.models import OrderStatus, Store

from . import webhooks
from .models import (NotificationStatus, Order, OrderItem, Shipment, ShipmentChange, ShipmentField, ShipmentItem,
                     StoreCorrection, StoreNotification)
from .emails import customer_email_due, shipment_email_send
from .notifying import VOID_SKIP_REASON, notification_queue, notification_requeue
from .selectors import shipped_quantities
from .values import clean_money, clean_text

SHIPPABLE_STATUSES = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD)
NO_NOTIFY = '"do not notify the store"'
# Why a store whose connector cannot receive split orders refuses one.
SPLIT_REFUSAL = "{kind} orders cannot be split: the store cannot receive shipment details for split orders."

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


def _label(item: OrderItem) -> str:
    return item.sku or item.name or item.line_item_id or f"line {item.pk}"


def _fully_shipped(items: Sequence[OrderItem], shipped: dict[int, int]) -> bool:
    goods = [i for i in items if not i.adjustment]
    return bool(goods) and all(shipped.get(i.pk, 0) >= i.quantity for i in goods)


# --- validation ----------------------------------------------------------------------------


def _clean_text(value, *, field: str, max_length: int, required: bool = False) -> str:
    text = clean_text(value, what=field, max_length=max_length, error=ShippingError)
    if required and not text:
        raise ShippingError(f"a shipment needs a {field}")
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
            raise ShipDateError(f"the ship date must be a date like 2024-05-31 (got {value!r})") from None
    if day == current:
        return day
    earliest, latest = ship_date_bounds(store)
    if day < earliest:
        raise ShipDateError(f"the ship date {day} is more than a year ago: choose a date from {earliest} to {latest}")
    if day > latest:
        raise ShipDateError(f"the ship date {day} is more than {SHIP_DATE_MAX_FUTURE_DAYS} days ahead: choose a "
                            f"date from {earliest} to {latest}")
    return day


def _clean_cost(value) -> Decimal | None:
    return clean_money(value, what="shipping cost", error=ShippingError)


def _clean_fields(*, store: Store, carrier, service, tracking_number, ship_date) -> dict:
    return {
        "carrier": _clean_text(carrier, field="carrier", max_length=100, required=True),
        "service": _clean_text(service, field="service", max_length=100),
        "tracking_number": _clean_text(tracking_number, field="tracking number", max_length=100),
        "ship_date": _clean_ship_date(ship_date, store),
    }


def _notify_choices(store: Store, notify_store: bool | None, notify_customer: bool | None) -> tuple[bool, bool]:
    """Whether to notify the store and e-mail the customer: what was asked, else the store's
    settings. A store whose connector is never notified (`notifies_store`) is not, and asking
    to notify it is refused."""
    notifies = store.connector_class.notifies_store
    if notify_store and not notifies:
        kind = store.connector_class.short_label
        raise StoreForbids(f"{kind} orders have no store to notify: ship them with {NO_NOTIFY}")
    notify_store = (store.notify_store and notifies) if notify_store is None else bool(notify_store)
    notify_customer = store.notify_customer if notify_customer is None else bool(notify_customer)
    return notify_store, notify_customer


def _check_status(order: Order, *, notify_store: bool) -> bool:
    """Raise when the order cannot be shipped now; return True for an additional shipment of
    an order already shipped."""
    number = order.order_number
    if order.status == OrderStatus.CANCELLED:
        raise ShippingError(f"order {number} is cancelled: it cannot be shipped")
    if order.status == OrderStatus.AWAITING_PAYMENT:
        raise ShippingError(f"order {number} is awaiting payment: it can be shipped once it awaits shipment")
    if order.status == OrderStatus.SHIPPED:
        if notify_store:
            raise ShippingError(
                f"order {number} is already shipped: make an additional shipment with {NO_NOTIFY} "
                "(the store already has this order's shipment)"
            )
        return True
    if order.status not in SHIPPABLE_STATUSES:
        raise ShippingError(f"order {number} is {order.get_status_display().lower()}: it cannot be shipped")
    return False


def _resolve_lines(
    order: Order, order_items: list[OrderItem], items: ItemsArg, shipped: dict[int, int], *, additional: bool
) -> list[tuple[OrderItem, int]]:
    number = order.order_number
    goods = [i for i in order_items if not i.adjustment]
    if not goods:
        raise ShippingError(f"order {number} has no items to ship")
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
                raise ShippingError("items must be (order item, quantity) pairs") from None
            item_id = item_ref.pk if isinstance(item_ref, OrderItem) else item_ref
            item = by_id.get(item_id) if isinstance(item_id, int) else None
            if item is None:
                raise ShippingError(f"item {item_ref} is not a line of order {number}")
            if isinstance(quantity, bool) or not isinstance(quantity, int):
                try:
                    quantity = int(str(quantity).strip())
                except ValueError:
                    raise ShippingError(f"the quantity of {_label(item)} must be a whole number (got {quantity!r})") from None
            if quantity < 0:
                raise ShippingError(f"the quantity of {_label(item)} cannot be negative")
            if quantity == 0:
                continue
            if item.adjustment:
                raise ShippingError(
                    f"{_label(item)} on order {number} is an adjustment (a discount), not a product to ship"
                )
            wanted[item.pk] = wanted.get(item.pk, 0) + quantity
        lines = []
        for item_id, quantity in wanted.items():
            item = by_id[item_id]
            if quantity > limit(item):
                left = limit(item)
                what = "ordered" if additional else "left to ship"
                raise ShippingError(
                    f"cannot ship {quantity} × {_label(item)} on order {number}: {left} {what}"
                )
            lines.append((item, quantity))
        lines.sort(key=lambda line: line[0].pk)
    if not lines:
        if items is not None:
            raise ShippingError(f"nothing to ship: choose at least one item of order {number}")
        raise ShippingError(f"nothing to ship: every item of order {number} is already shipped")
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
    prefix = SPLIT_REFUSAL.format(kind=store.connector_class.short_label)
    if any(shipped.values()):
        raise StoreForbids(
            f"{prefix} Order {order.order_number} already has a shipment: ship the rest with {NO_NOTIFY}."
        )
    raise StoreForbids(f"{prefix} Ship the whole order, or ship this part with {NO_NOTIFY}.")


# --- writes --------------------------------------------------------------------------------


def _lock_orders(order_ids: Iterable[int]) -> list[Order]:
    """Lock the orders (always in id order, so two combines cannot deadlock)."""
    ids = sorted(set(order_ids))
    locked = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = [i for i in ids if i not in locked]
    if missing:
        raise ShippingError(f"no order with id {missing[0]}")
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
            transaction.on_commit(partial(notification_queue, notification_id=notification.pk, attempt=0),
                                  robust=True)
    after = dict(shipped)
    for item, quantity in lines:
        after[item.pk] = after.get(item.pk, 0) + quantity
    if order.status != OrderStatus.SHIPPED and _fully_shipped(order_items, after):
        order.status = OrderStatus.SHIPPED
        order.save(update_fields=["status", "updated_at"])
    if customer_email_due(shipment):
        transaction.on_commit(partial(shipment_email_send, shipment_id=shipment.pk), robust=True)
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
) -> Shipment:
    """Ship an order, whole (items=None: everything not yet shipped) or in part (items: pairs of
    (order item or its id, quantity)). notify_store / notify_customer default to the store's
    settings. With queue_notification=False the caller delivers the notification itself
    (`ship_order --wait`)."""
    with transaction.atomic():
        (order,) = _lock_orders([order.pk])
        store = order.store
        notify_store, notify_customer = _notify_choices(store, notify_store, notify_customer)
        fields = _clean_fields(store=store, carrier=carrier, service=service, tracking_number=tracking_number,
                               ship_date=ship_date)
        cost = _clean_cost(cost)
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
        raise ShippingError("a split needs at least two parts")
    if tracking_numbers is not None and len(tracking_numbers) != len(parts):
        raise ShippingError(f"give one tracking number per part ({len(parts)} parts, {len(tracking_numbers)} numbers)")
    if any(part is None for part in parts[:-1]):
        raise ShippingError("only the last part of a split can be \"everything left\"")
    costs = _share(_clean_cost(cost), len(parts))
    with transaction.atomic():
        (locked,) = _lock_orders([order.pk])
        if not locked.store.connector_class.can_split:
            kind = locked.store.connector_class.short_label
            raise StoreForbids(f"{SPLIT_REFUSAL.format(kind=kind)} Ship the whole order, or update {kind} by hand.")
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
                raise type(exc)(f"part {index + 1} of the split: {exc}") from None
            locked.refresh_from_db(fields=["status"])
        return shipments


def _same_ship_to_key(order: Order) -> tuple:
    fields = ("ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_street3",
              "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country")
    return tuple(" ".join((getattr(order, f) or "").split()).casefold() for f in fields)


def _check_combinable(orders: list[Order]) -> None:
    if len(orders) < 2:
        raise ShippingError("choose at least two orders to combine")
    stores = {o.store_id: o.store for o in orders}
    if len(stores) > 1:
        names = ", ".join(sorted(s.name for s in stores.values()))
        raise ShippingError(f"only orders of one store can be combined (these come from {names})")
    store = orders[0].store
    if not store.connector_class.can_combine:
        kind = store.connector_class.short_label
        raise StoreForbids(
            f"{kind} orders cannot be combined: the store cannot receive shipment details for combined "
            "orders. Ship each order on its own."
        )
    for order in orders:
        if order.status != OrderStatus.AWAITING_SHIPMENT:
            raise ShippingError(
                f"order {order.order_number} is {order.get_status_display().lower()}: "
                "only orders awaiting shipment can be combined"
            )
    first = orders[0]
    for order in orders[1:]:
        if _same_ship_to_key(order) != _same_ship_to_key(first):
            raise ShippingError(
                f"order {order.order_number} ships to another address than order {first.order_number}: "
                "only orders with the same ship-to can be combined"
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
            raise ShippingError(f"no shipment with id {shipment.pk}") from None
        if current.voided_at is not None:
            raise ShippingError(f"shipment {current.pk} is already void")
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
    what the store is told, or why it is not and what to do instead."""

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
    return value or "(none)"


def _clean_corrections(*, store: Store, carrier, service, tracking_number, ship_date,
                       current_ship_date: dt.date | None = None) -> dict:
    """The corrected values given (None: left as it is), cleaned like a new shipment's (the
    shipment's own ship date is kept, however old)."""
    values = {}
    if carrier is not None:
        values[ShipmentField.CARRIER.value] = _clean_text(carrier, field="carrier", max_length=100, required=True)
    if service is not None:
        values[ShipmentField.SERVICE.value] = _clean_text(service, field="service", max_length=100)
    if tracking_number is not None:
        values[ShipmentField.TRACKING_NUMBER.value] = _clean_text(tracking_number, field="tracking number",
                                                                   max_length=100)
    if ship_date is not None:
        if not str(ship_date).strip():
            raise ShipDateError("the ship date must be a date like 2024-05-31 (got an empty value)")
        values[ShipmentField.SHIP_DATE.value] = _clean_ship_date(ship_date, store, current=current_ship_date)
    return values


def _kept(shipment: Shipment, fields: list[str]) -> str:
    """What a store that is not sent the correction keeps, in words."""
    if fields:
        return "the old " + " and ".join(
            f"{ShipmentField(f).label} {_shown(_as_text(getattr(shipment, f)))}" for f in fields)
    sent = ", ".join(f"{f.label} {_as_text(getattr(shipment, f.value))}" for f in ShipmentField
                     if getattr(shipment, f.value))
    return f"what it was sent ({sent})"


def _store_outcome(*, shipment: Shipment, notification: StoreNotification | None, notify_store: bool | None,
                   fields: list[str], connector: type[Connector]) -> StoreOutcome:
    """What correcting `fields` of the shipment does for its store; raises when the correction
    cannot be made now, or `notify_store=True` asks what the store cannot take."""
    kind = connector.short_label
    if notification is None:
        if notify_store:
            raise ShippingError(f"shipment {shipment.pk} was made with {NO_NOTIFY}: there is no store "
                                "notification to correct")
        if not connector.notifies_store:
            return StoreOutcome(StoreCorrection.NOT_REQUESTED,
                                f"No store is told about shipment {shipment.pk}: it ships an order entered by hand.")
        return StoreOutcome(StoreCorrection.NOT_REQUESTED,
                            f"Shipment {shipment.pk} was made with {NO_NOTIFY}: {kind} is not told.")
    if notification.status == NotificationStatus.PENDING:
        if notification.claimed_until and notification.claimed_until > timezone.now():
            raise ShippingError(f"{kind} is being notified of shipment {shipment.pk} right now: correct it once "
                                "the notification's outcome is known")
        return StoreOutcome(StoreCorrection.INCLUDED, f"{kind} is not notified of shipment {shipment.pk} yet: its "
                                                      "notification will carry the corrected values.")
    if notification.status != NotificationStatus.SENT:
        what = "failed" if notification.status == NotificationStatus.FAILED else "was skipped"
        return StoreOutcome(StoreCorrection.LEFT_AS_IS, f"The store notification of shipment {shipment.pk} {what}: "
                                                        f"it is left as is; resend it to send {kind} the corrected "
                                                        "values.")
    if not connector.accepts_corrections:
        reason = connector.correction_refusal_reason
        if notify_store:
            raise StoreForbids(f"{kind} cannot take a correction of a shipment it was notified of: {reason}. "
                               f"Correct it in {kind} by hand, and save the correction here without notifying the store.")
        return StoreOutcome(StoreCorrection.NOT_SENT, f"{kind} will keep {_kept(shipment, fields)}: {reason}. "
                                                      f"Correct it in {kind} by hand.")
    if notify_store is False:
        return StoreOutcome(StoreCorrection.NOT_SENT, f"{kind} is not sent this correction (as asked) and will keep "
                                                      f"{_kept(shipment, fields)}: correct it in {kind} by hand if "
                                                      "it matters.")
    return StoreOutcome(StoreCorrection.QUEUED, f"{kind} was notified of shipment {shipment.pk}: it is sent a new "
                                                "shipment notice with the corrected values.")


def _lock_package(shipment: Shipment) -> tuple[Shipment, list[Shipment]]:
    """Lock the shipment with the other shipments of its package (in id order, as a void does)."""
    found = Shipment.objects.filter(pk=shipment.pk).values_list("group_key", flat=True)
    if not found:
        raise ShippingError(f"no shipment with id {shipment.pk}")
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
            raise ShippingError(f"shipment {current.pk} is void: it cannot be corrected")
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
