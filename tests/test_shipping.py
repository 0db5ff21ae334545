"""Shipping rules (orders/shipping.py): whole and partial shipments, split, combine, void.

Local rules only: orders are built with the factories; nothing here talks to a store (the
store notification task is not run: on-commit callbacks are captured, not executed). The
sandbox-backed write-back tests are in test_notifying.py."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import NotificationStatus, Order, Shipment, ShipmentItem, StoreNotification
from orders.selectors import order_as_dict, order_list
from orders.selectors import order_shipping_lines
from orders.shipping import (ShipDateError, ShippingError, StoreForbids, order_split, orders_combine,
                             shipment_create, shipment_void)
from stores.models import OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory
from tests.utils import SHIP_DAY

pytestmark = pytest.mark.django_db

QBC_SETTINGS = {"url": "http://127.0.0.1:9/fulfillments/99999.xml", "username": "shop"}


def make_order(store=None, lines=((2, False), (1, False)), **kwargs):
    """An order awaiting shipment with the given (quantity, adjustment) lines."""
    order = OrderFactory(store=store or StoreFactory(), **kwargs)
    for quantity, adjustment in lines:
        OrderItemFactory(order=order, quantity=quantity, adjustment=adjustment,
                         unit_price=Decimal("-5.00") if adjustment else Decimal("9.99"))
    return order


def items_of(order):
    return list(order.items.order_by("id"))


def shipped_lines(shipment):
    return sorted((si.order_item.line_item_id, si.quantity) for si in shipment.items.select_related("order_item"))


# --- whole and partial shipments -----------------------------------------------------------


def test_whole_order_shipment_ships_every_line_and_queues_one_notification(django_capture_on_commit_callbacks):
    # Given an order of two lines plus a discount line
    order = make_order(lines=((2, False), (1, False), (1, True)))
    first, second, discount = items_of(order)
    # When it is shipped whole
    with django_capture_on_commit_callbacks() as callbacks:
        shipment = shipment_create(order=order, carrier="UPS", service="Ground", tracking_number="1Z999",
                                   ship_date=SHIP_DAY, cost="7.5")
    # Then the shipment carries every product line (not the discount), the order is shipped,
    # one pending notification exists and its delivery is queued for after the commit
    assert shipped_lines(shipment) == sorted([(first.line_item_id, 2), (second.line_item_id, 1)])
    assert shipment.cost == Decimal("7.50") and shipment.ship_date == SHIP_DAY
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert StoreNotification.objects.get(shipment=shipment).status == NotificationStatus.PENDING
    assert len(callbacks) == 1


def test_partial_shipments_ship_the_rest_and_only_then_the_order_is_shipped(django_capture_on_commit_callbacks):
    # Given an order of 2 + 1 units on a custom store (splits allowed)
    order = make_order()
    first, second = items_of(order)
    # When one unit of the first line ships
    shipment1 = shipment_create(order=order, carrier="USPS", items=[(first, 1)])
    order.refresh_from_db()
    # Then the order still awaits shipment and shows what is left
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert [(line["shipped"], line["remaining"]) for line in order_shipping_lines(order=order)] == [(1, 1), (0, 1)]
    # When the rest ships (items=None: everything not yet shipped)
    shipment2 = shipment_create(order=order, carrier="USPS")
    # Then the second shipment carries only the rest and the order is shipped
    assert shipped_lines(shipment1) == [(first.line_item_id, 1)]
    assert shipped_lines(shipment2) == sorted([(first.line_item_id, 1), (second.line_item_id, 1)])
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


@pytest.mark.parametrize(
    "status, message",
    [
        (OrderStatus.CANCELLED, "is cancelled: it cannot be shipped"),
        (OrderStatus.AWAITING_PAYMENT, "is awaiting payment"),
        (OrderStatus.SHIPPED, 'make an additional shipment with "do not notify the store"'),
    ],
)
def test_orders_that_cannot_be_shipped_are_refused_and_nothing_is_written(status, message):
    order = make_order(status=status)
    with pytest.raises(ShippingError) as exc:
        shipment_create(order=order, carrier="UPS", notify_store=True)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert Shipment.objects.count() == 0 and StoreNotification.objects.count() == 0


def test_on_hold_orders_can_be_shipped():
    order = make_order(status=OrderStatus.ON_HOLD)
    shipment_create(order=order, carrier="UPS")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_additional_shipment_of_a_shipped_order_needs_do_not_notify():
    # Given a shipped order
    order = make_order()
    shipment_create(order=order, carrier="UPS")
    # When an additional shipment notifying the store is asked, then it is refused
    with pytest.raises(ShippingError, match="already shipped"):
        shipment_create(order=order, carrier="UPS", notify_store=True)
    # When it is made with "do not notify the store", then it is saved without a notification
    extra = shipment_create(order=order, carrier="UPS", tracking_number="REPLACEMENT", notify_store=False)
    assert not extra.notify_store and not StoreNotification.objects.filter(shipment=extra).exists()
    assert order_as_dict(order_list().get(pk=order.pk))["shipments"][-1]["notification"] == {
        "status": "not_requested", "error": None}


@pytest.mark.parametrize(
    "items, message",
    [
        (lambda a, b, d: [(a, 3)], "cannot ship 3 × "),
        (lambda a, b, d: [(a, -1)], "cannot be negative"),
        (lambda a, b, d: [(d, 1)], "is an adjustment (a discount), not a product to ship"),
        (lambda a, b, d: [(a, 0)], "nothing to ship: choose at least one item"),
        (lambda a, b, d: [(OrderItemFactory(), 1)], "is not a line of order"),
    ],
)
def test_bad_items_are_refused(items, message):
    order = make_order(lines=((2, False), (1, False), (1, True)))
    with pytest.raises(ShippingError) as exc:
        shipment_create(order=order, carrier="UPS", items=items(*items_of(order)))
    assert message in str(exc.value)
    assert Shipment.objects.count() == 0


def test_bad_shipment_details_are_refused():
    order = make_order()
    for kwargs, message in [
        ({"carrier": "  "}, "a shipment needs a carrier"),
        ({"carrier": "UPS", "cost": "-1"}, "must be zero or more"),
        ({"carrier": "UPS", "cost": "abc"}, "must be a number"),
        ({"carrier": "UPS", "ship_date": "31/05/2024"}, "must be a date like"),
        ({"carrier": "UPS", "tracking_number": "X" * 101}, "tracking number is too long"),
    ]:
        with pytest.raises(ShippingError, match=message):
            shipment_create(order=order, **kwargs)
    assert Shipment.objects.count() == 0


def test_everything_shipped_leaves_nothing_to_ship():
    order = make_order(lines=((1, False),))
    shipment_create(order=order, carrier="UPS")
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.AWAITING_SHIPMENT)  # the store said so
    with pytest.raises(ShippingError, match="every item of order .* is already shipped"):
        shipment_create(order=order, carrier="UPS")


def test_notify_defaults_come_from_the_store_and_do_not_notify_writes_no_notification(
        django_capture_on_commit_callbacks):
    # Given a store that is not notified by default
    store = StoreFactory(notify_store=False)
    order = make_order(store=store)
    # When an order ships with the defaults
    with django_capture_on_commit_callbacks() as callbacks:
        shipment = shipment_create(order=order, carrier="UPS")
    # Then nothing is queued for the store and list_orders says not_requested
    assert shipment.notify_store is False and callbacks == []
    assert StoreNotification.objects.count() == 0
    assert order_as_dict(order_list().get(pk=order.pk))["shipments"][0]["notification"]["status"] == "not_requested"


def store_today(store):
    from django.utils import timezone

    return timezone.now().astimezone(store.tz).date()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])  # UTC+14 and UTC-11
def test_ship_dates_are_bounded_around_today_in_the_store_zone(zone):
    store = StoreFactory(timezone=zone)
    today = store_today(store)
    earliest, latest = today - dt.timedelta(days=365), today + dt.timedelta(days=90)
    for day in (earliest, latest, today):
        assert shipment_create(order=make_order(store=store), carrier="UPS", ship_date=day).ship_date == day
    for day, words in [
        (earliest - dt.timedelta(days=1), f"the ship date {earliest - dt.timedelta(days=1)} is more than a year ago"),
        (latest + dt.timedelta(days=1), f"the ship date {latest + dt.timedelta(days=1)} is more than 90 days ahead"),
        (dt.date(1926, 5, 31), "the ship date 1926-05-31 is more than a year ago"),
        ("2062-05-31", "the ship date 2062-05-31 is more than 90 days ahead"),
    ]:
        order = make_order(store=store)
        with pytest.raises(ShipDateError) as err:
            shipment_create(order=order, carrier="UPS", ship_date=day)
        assert str(err.value) == f"{words}: choose a date from {earliest} to {latest}"
        assert not order.shipments.exists()


def test_a_combined_or_split_shipment_is_bounded_too():
    store = StoreFactory()
    far = store_today(store) + dt.timedelta(days=91)
    first, second = make_order(store=store), make_order(store=store)
    with pytest.raises(ShipDateError, match="more than 90 days ahead"):
        orders_combine(orders=[first, second], carrier="UPS", ship_date=far)
    item = items_of(first)[0]
    with pytest.raises(ShipDateError, match="more than 90 days ahead"):
        order_split(order=first, parts=[[(item, 1)], [(item, 1)]], carrier="UPS", ship_date=far)
    assert Shipment.objects.count() == 0


def test_the_ship_form_shows_a_ship_date_out_of_bounds_on_its_field(admin_client_su):
    order = make_order()
    first, second = items_of(order)
    far = store_today(order.store) + dt.timedelta(days=400)
    response = admin_client_su.post(reverse("admin:orders_order_ship", args=[order.pk]), {
        "carrier": "UPS", "ship_date": far.isoformat(), "notify_store": "on",
        f"qty_{first.pk}": "2", f"qty_{second.pk}": "1",
    })
    html = response.content.decode()
    assert response.status_code == 200
    message = f"The ship date {far} is more than 90 days ahead: choose a date from"
    assert message in html and html.index(message) < html.index('name="ship_date"')
    assert "At most a year ago or 90 days ahead." in html
    assert Shipment.objects.count() == 0


def test_ship_order_refuses_a_ship_date_out_of_bounds_in_one_line():
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    order = make_order()
    with pytest.raises(CommandError, match=r"^the ship date 2020-01-31 is more than a year ago: choose a date from "):
        call_command("ship_order", str(order.store_id), order.order_number, "--carrier", "UPS",
                     "--ship-date", "2020-01-31", "--no-notify", stdout=io.StringIO())
    assert Shipment.objects.count() == 0


def test_ship_date_defaults_to_today_in_the_store_zone():
    store = StoreFactory(timezone="Pacific/Kiritimati")  # UTC+14: often already tomorrow there
    shipment = shipment_create(order=make_order(store=store), carrier="UPS")
    from django.utils import timezone
    assert shipment.ship_date == timezone.now().astimezone(store.tz).date()


# --- QuickBooks Commerce: no split, no combine ---------------------------------------------


def qbc_store(**kwargs):
    return StoreFactory(connector="quickbooks_commerce", settings=QBC_SETTINGS, **kwargs)


def test_quickbooks_commerce_refuses_a_partial_shipment_that_notifies_the_store():
    order = make_order(store=qbc_store())
    first, _ = items_of(order)
    with pytest.raises(StoreForbids) as exc:
        shipment_create(order=order, carrier="UPS", items=[(first, 1)], notify_store=True)
    assert str(exc.value) == (
        "QuickBooks Commerce orders cannot be split: the store cannot receive shipment details for split "
        'orders. Ship the whole order, or ship this part with "do not notify the store".'
    )
    assert Shipment.objects.count() == 0


def test_quickbooks_commerce_part_with_do_not_notify_then_the_rest_must_not_notify_either():
    order = make_order(store=qbc_store())
    first, _ = items_of(order)
    shipment_create(order=order, carrier="UPS", items=[(first, 2)], notify_store=False)
    with pytest.raises(StoreForbids, match='already has a shipment: ship the rest with "do not notify the store"'):
        shipment_create(order=order, carrier="UPS", notify_store=True)
    shipment_create(order=order, carrier="UPS", notify_store=False)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and StoreNotification.objects.count() == 0


def test_quickbooks_commerce_refuses_split_and_combine():
    store = qbc_store()
    order, other = make_order(store=store), make_order(store=store)
    first, second = items_of(order)
    with pytest.raises(StoreForbids, match="QuickBooks Commerce orders cannot be split"):
        order_split(order=order, parts=[[(first, 2)], None], carrier="UPS")
    with pytest.raises(StoreForbids) as exc:
        orders_combine(orders=[order, other], carrier="UPS", tracking_number="1Z")
    assert str(exc.value) == (
        "QuickBooks Commerce orders cannot be combined: the store cannot receive shipment details for combined "
        "orders. Ship each order on its own."
    )
    assert Shipment.objects.count() == 0


def test_quickbooks_commerce_whole_order_ships():
    order = make_order(store=qbc_store())
    shipment = shipment_create(order=order, carrier="UPS", notify_store=True)
    assert shipment.notification.status == NotificationStatus.PENDING


# --- split and combine on a custom store ---------------------------------------------------


def test_split_makes_one_shipment_per_part_with_its_own_items(django_capture_on_commit_callbacks):
    order = make_order()
    first, second = items_of(order)
    with django_capture_on_commit_callbacks() as callbacks:
        one, two = order_split(order=order, parts=[[(first, 1)], None], carrier="FedEx",
                               tracking_numbers=["T1", "T2"], cost="10.01")
    assert shipped_lines(one) == [(first.line_item_id, 1)]
    assert shipped_lines(two) == sorted([(first.line_item_id, 1), (second.line_item_id, 1)])
    assert (one.tracking_number, two.tracking_number) == ("T1", "T2")
    assert (one.cost, two.cost) == (Decimal("5.01"), Decimal("5.00"))
    assert len(callbacks) == 2  # one notification each
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_a_bad_split_part_writes_nothing():
    order = make_order()
    first, second = items_of(order)
    with pytest.raises(ShippingError, match="part 2 of the split: cannot ship 2 × "):
        order_split(order=order, parts=[[(first, 1)], [(first, 2)]], carrier="FedEx")
    assert Shipment.objects.count() == 0 and ShipmentItem.objects.count() == 0


def test_combine_ships_each_order_in_its_own_shipment_sharing_the_package():
    store = StoreFactory()
    a, b = make_order(store=store), make_order(store=store, lines=((3, False),))
    shipments = orders_combine(orders=[a, b], carrier="UPS", tracking_number="1ZCOMBINED", cost="9.99")
    assert [s.order_id for s in shipments] == [a.pk, b.pk]
    assert {s.tracking_number for s in shipments} == {"1ZCOMBINED"}
    assert len({s.group_key for s in shipments}) == 1 and shipments[0].group_key
    assert sum(s.cost for s in shipments) == Decimal("9.99")
    assert shipped_lines(shipments[1]) == [(items_of(b)[0].line_item_id, 3)]
    assert StoreNotification.objects.filter(shipment__in=shipments).count() == 2
    assert set(Order.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {OrderStatus.SHIPPED}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"ship_to_street1": "2 Other Road"}, "ships to another address"),
        ({"status": OrderStatus.ON_HOLD}, "only orders awaiting shipment can be combined"),
        ({"store": "other"}, "only orders of one store can be combined"),
    ],
)
def test_combine_refusals(change, message):
    store = StoreFactory()
    a = make_order(store=store)
    if change.get("store") == "other":
        change = {"store": StoreFactory(merchant=store.merchant)}
    b = make_order(**{"store": store, **change})
    with pytest.raises(ShippingError, match=message):
        orders_combine(orders=[a, b], carrier="UPS")
    with pytest.raises(ShippingError, match="at least two orders"):
        orders_combine(orders=[a], carrier="UPS")
    assert Shipment.objects.count() == 0


def test_combine_compares_addresses_ignoring_case_and_spaces():
    store = StoreFactory()
    a = make_order(store=store)
    b = make_order(store=store, ship_to_name="ADA  LOVELACE", ship_to_city=" london")
    assert len(orders_combine(orders=[a, b], carrier="UPS")) == 2


# --- void ----------------------------------------------------------------------------------


def test_void_puts_the_order_back_and_an_unsent_notification_is_skipped():
    order = make_order()
    shipment = shipment_create(order=order, carrier="UPS")
    voided = shipment_void(shipment=shipment)
    order.refresh_from_db()
    assert voided.voided_at is not None and order.status == OrderStatus.AWAITING_SHIPMENT
    notification = StoreNotification.objects.get(shipment=shipment)
    assert notification.status == NotificationStatus.SKIPPED and "voided" in notification.warning
    # the order can be shipped again, whole
    again = shipment_create(order=order, carrier="UPS")
    assert len(shipped_lines(again)) == 2
    with pytest.raises(ShippingError, match="already void"):
        shipment_void(shipment=shipment)


def test_void_of_a_combined_shipment_voids_the_package():
    store = StoreFactory()
    a, b = make_order(store=store), make_order(store=store)
    first, second = orders_combine(orders=[a, b], carrier="UPS", notify_store=False)
    shipment_void(shipment=second)
    assert Shipment.objects.filter(pk__in=[first.pk, second.pk], voided_at__isnull=False).count() == 2
    assert set(Order.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {
        OrderStatus.AWAITING_SHIPMENT}
    assert list(order_list().get(pk=a.pk).shipments.all()) == []  # void shipments are not listed


def test_void_records_who_voided_the_whole_package():
    from tests.factories import UserFactory

    # Given a combined package of two orders and a staff user
    store = StoreFactory()
    a, b = make_order(store=store), make_order(store=store)
    first, second = orders_combine(orders=[a, b], carrier="UPS", notify_store=False)
    clerk = UserFactory(merchant=store.merchant, username="voiding-clerk")
    # When the user voids one of its shipments
    voided = shipment_void(shipment=second, user=clerk)
    # Then both shipments of the package record who voided them
    assert voided.voided_by == clerk
    assert set(Shipment.objects.filter(pk__in=[first.pk, second.pk]).values_list("voided_by", flat=True)) == {
        clerk.pk}
    # and a void by a command (no user) records nobody
    other = shipment_create(order=make_order(store=store), carrier="UPS", notify_store=False)
    assert shipment_void(shipment=other).voided_by is None


def test_the_void_and_split_refusals_are_said_the_same_way_everywhere():
    from orders.notifying import VOID_SKIP_REASON
    from orders.shipping import SPLIT_REFUSAL

    order = make_order()
    shipment = shipment_create(order=order, carrier="UPS")
    shipment_void(shipment=shipment)
    assert StoreNotification.objects.get(shipment=shipment).warning == VOID_SKIP_REASON
    qbc = qbc_store()
    expected = SPLIT_REFUSAL.format(kind="QuickBooks Commerce")
    whole = make_order(store=qbc)
    first, _second = items_of(whole)
    with pytest.raises(StoreForbids) as part:
        shipment_create(order=whole, carrier="UPS", items=[(first, 1)])
    with pytest.raises(StoreForbids) as split:
        order_split(order=whole, parts=[[(first, 1)], None], carrier="UPS")
    assert str(part.value).startswith(expected) and str(split.value).startswith(expected)


def test_void_of_an_additional_shipment_keeps_the_order_shipped():
    order = make_order()
    shipment_create(order=order, carrier="UPS")
    extra = shipment_create(order=order, carrier="UPS", notify_store=False)
    shipment_void(shipment=extra)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


# --- customer e-mail -----------------------------------------------------------------------


def test_customer_email_with_branding_and_tracking_is_sent_after_commit(django_capture_on_commit_callbacks,
                                                                        eager_celery):
    store = StoreFactory(notify_customer=True, brand_company_name="Acme Goods", brand_phone="+1 555 0100",
                         brand_email="help@acme.test", brand_website="https://acme.test",
                         brand_return_address="Acme Returns, 1 Dock St")
    order = make_order(store=store, customer_email="ada@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order, carrier="UPS", tracking_number="1Z999AA10123456784", notify_store=False)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.test"] and message.reply_to == ["help@acme.test"]
    assert order.order_number in message.subject and "Acme Goods" in message.subject
    html = message.alternatives[0][0]
    for text in ("1Z999AA10123456784", "+1 555 0100", "https://acme.test", "Acme Returns, 1 Dock St"):
        assert text in message.body and text in html
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in html


@pytest.mark.parametrize("store_on, shipment_on, email", [(False, True, "a@x.test"), (True, False, "a@x.test"),
                                                          (True, True, "")])
def test_no_customer_email_unless_store_shipment_and_address_all_allow(
        django_capture_on_commit_callbacks, eager_celery, store_on, shipment_on, email):
    order = make_order(store=StoreFactory(notify_customer=store_on), customer_email=email)
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", notify_store=False, notify_customer=shipment_on)
    assert mail.outbox == []
    shipment.refresh_from_db()
    assert shipment.customer_email_status == ""


# --- admin: ship form, inline, resend, void, combine ---------------------------------------


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_order_page_links_the_ship_form_and_lists_shipments_with_their_notification(admin_client_su):
    order = make_order(store=qbc_store())
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1ZINLINE")
    StoreNotification.objects.filter(shipment=shipment).update(
        status=NotificationStatus.FAILED, error='{"base":["Cannot create fulfilment"]}', advice="Tick it.")
    page = admin_client_su.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("admin:orders_order_ship", args=[order.pk]) in html
    for text in ("1ZINLINE", "Failed", "Cannot create fulfilment", "Tick it."):
        assert text in html


def test_admin_ship_form_makes_a_partial_shipment(admin_client_su, django_capture_on_commit_callbacks):
    order = make_order()
    first, second = items_of(order)
    url = reverse("admin:orders_order_ship", args=[order.pk])
    form = admin_client_su.get(url)
    assert form.status_code == 200 and f'name="qty_{first.pk}"' in form.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client_su.post(url, {
            "carrier": "USPS", "service": "Priority", "tracking_number": "9400", "ship_date": SHIP_DAY.isoformat(),
            "cost": "4.20", "notify_store": "on", f"qty_{first.pk}": "1", f"qty_{second.pk}": "0",
        }, follow=True)
    shipment = Shipment.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:orders_order_change", args=[order.pk])
    assert f"Shipment {shipment.pk} of order {order.order_number} created; the store will be notified." in \
        messages_of(response)
    assert shipped_lines(shipment) == [(first.line_item_id, 1)] and shipment.cost == Decimal("4.20")
    assert shipment.created_by is not None and len(queued) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT


def test_admin_ship_form_shows_refusals_as_messages(admin_client_su):
    order = make_order(store=qbc_store())
    first, second = items_of(order)
    url = reverse("admin:orders_order_ship", args=[order.pk])
    response = admin_client_su.post(url, {"carrier": "UPS", "notify_store": "on", f"qty_{first.pk}": "1",
                                          f"qty_{second.pk}": "0"})
    assert response.status_code == 200
    assert any(m.startswith("QuickBooks Commerce orders cannot be split") for m in messages_of(response))
    assert Shipment.objects.count() == 0
    # a form error (no carrier) re-shows the form
    response = admin_client_su.post(url, {"carrier": "", f"qty_{first.pk}": "2", f"qty_{second.pk}": "1"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Shipment.objects.count() == 0


def test_admin_ship_form_for_an_order_of_another_merchant_is_not_found(client):
    from tests.factories import UserFactory

    order = make_order()
    user = UserFactory()  # staff of another merchant
    client.force_login(user)
    url = reverse("admin:orders_order_ship", args=[order.pk])
    first, second = items_of(order)
    for response in (client.get(url, follow=True),
                     client.post(url, {"carrier": "UPS", f"qty_{first.pk}": "2", f"qty_{second.pk}": "1"},
                                 follow=True)):
        assert response.status_code in (200, 404)  # not found: 404, or the admin index saying so
        assert "Ship order" not in response.content.decode()
    assert Shipment.objects.count() == 0


def test_admin_resend_and_void_actions(admin_client_su, django_capture_on_commit_callbacks):
    order = make_order()
    shipment = shipment_create(order=order, carrier="UPS")
    notification = StoreNotification.objects.get(shipment=shipment)
    StoreNotification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED, error="HTTP 422")
    # resend from the notifications list
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client_su.post(reverse("admin:orders_storenotification_changelist"), {
            "action": "resend", "_selected_action": [notification.pk]}, follow=True)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING and notification.error == "" and len(queued) == 1
    assert "1 store notification(s) queued again." in messages_of(response)
    # resend from the shipments list: a pending one not being delivered is queued again
    with django_capture_on_commit_callbacks() as queued:
        admin_client_su.post(reverse("admin:orders_shipment_changelist"), {
            "action": "resend_notification", "_selected_action": [shipment.pk]}, follow=True)
    assert len(queued) == 1
    # void
    response = admin_client_su.post(reverse("admin:orders_shipment_changelist"), {
        "action": "void_shipments", "_selected_action": [shipment.pk]}, follow=True)
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.voided_at is not None and order.status == OrderStatus.AWAITING_SHIPMENT
    assert any("Voided shipment(s)" in m for m in messages_of(response))
    # who voided it is recorded and shown
    assert shipment.voided_by.username == "root"
    page = admin_client_su.get(reverse("admin:orders_shipment_change", args=[shipment.pk])).content.decode()
    assert "Voided by" in page and "root" in page
    page = admin_client_su.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Voided by" in page
    # refusals are messages, not tracebacks
    response = admin_client_su.post(reverse("admin:orders_shipment_changelist"), {
        "action": "void_shipments", "_selected_action": [shipment.pk]}, follow=True)
    assert f"shipment {shipment.pk} is already void" in messages_of(response)
    no_notify = shipment_create(order=order, carrier="UPS", notify_store=False)
    response = admin_client_su.post(reverse("admin:orders_shipment_changelist"), {
        "action": "resend_notification", "_selected_action": [no_notify.pk]}, follow=True)
    assert any('"do not notify the store"' in m for m in messages_of(response))
    assert admin_client_su.get(reverse("admin:orders_shipment_change", args=[no_notify.pk])).status_code == 200


def test_admin_combine_action_asks_for_the_package_then_ships(admin_client_su, django_capture_on_commit_callbacks):
    store = StoreFactory()
    a, b = make_order(store=store), make_order(store=store)
    url = reverse("admin:orders_order_changelist")
    page = admin_client_su.post(url, {"action": "combine_orders", "_selected_action": [a.pk, b.pk]})
    assert page.status_code == 200 and "Combine orders into one shipment" in page.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client_su.post(url, {
            "action": "combine_orders", "_selected_action": [a.pk, b.pk], "apply": "1", "carrier": "UPS",
            "tracking_number": "1ZBOTH", "notify_store": "on"}, follow=True)
    assert any("shipped together (2 shipments" in m for m in messages_of(response))
    assert sorted(Shipment.objects.values_list("order_id", "tracking_number")) == [(a.pk, "1ZBOTH"), (b.pk, "1ZBOTH")]
    assert len(queued) == 2


def test_admin_combine_is_refused_for_quickbooks_commerce(admin_client_su):
    store = qbc_store()
    a, b = make_order(store=store), make_order(store=store)
    response = admin_client_su.post(reverse("admin:orders_order_changelist"), {
        "action": "combine_orders", "_selected_action": [a.pk, b.pk]}, follow=True)
    assert any(m.startswith("QuickBooks Commerce orders cannot be combined") for m in messages_of(response))
    assert Shipment.objects.count() == 0
