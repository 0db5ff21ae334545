"""Store notifications (orders/notifying.py, orders.tasks.notify_store) over loopback HTTP
against the sandbox stores: Custom Store, QuickBooks Commerce and Acumatica (2018 R2, 2021 R2).

Orders come from the real import engine (store_refresh) reading the sandbox; shipments are made
with the shipping services; the notify task runs eagerly after the commit, as the worker would."""
import datetime as dt
import threading

import pytest
from django.db import connection

from orders import tasks
from orders.models import NotificationAttempt, NotificationStatus, Order, StoreNotification
from orders.notifying import (NotificationError, notification_attempt, notification_deliver,
                              notification_deliver_now, notification_resend, notifications_requeue_stale)
from orders.selectors import order_as_dict, order_list
from orders.shipping import orders_combine, shipment_create, shipment_void
from stores.connectors.customstore.connector import QBC_ADVICE
from stores.models import OrderStatus
from stores.sandbox.customstore import QBC_FULFILLED_ERROR
from tests.utils import SHIP_DAY, import_acumatica, import_orders, shipnotify_requests

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries"),
              pytest.mark.retries(attempts=2, notify_attempts=3)]
QBC = pytest.mark.shop("quickbooks_commerce")  # the shop's sandbox is QuickBooks Commerce (default: Custom Store)


# --- custom store / QuickBooks Commerce ----------------------------------------------------


@pytest.fixture
def ship(eager_celery, django_capture_on_commit_callbacks):
    """Ship through the service; the notification task runs (eagerly) once the transaction commits."""

    def ship(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            shipment = shipment_create(**{"carrier": "UPS", **kwargs})
        shipment.refresh_from_db()
        return shipment

    return ship


def notification_of(shipment):
    return StoreNotification.objects.get(shipment=shipment)


def attempt_log(notification):
    return [(a.number, a.outcome, a.response_code) for a in notification.attempt_log.order_by("number")]


def test_one_shipnotify_per_shipment_with_the_exported_line_item_ids(shop, ship):
    sandbox, store, order = shop
    # When the order is shipped whole
    shipment = ship(order=order, carrier="UPS", service="Ground", tracking_number="1Z999AA10123456784",
                    ship_date=SHIP_DAY, cost="7.25")
    # Then the store received one notice with this shipment's details and the exported line ids
    [notice] = sandbox.state.notices
    assert notice.accepted
    assert notice.params["order_number"] == order.order_number
    assert (notice.params["carrier"], notice.params["service"], notice.params["tracking_number"]) == (
        "UPS", "Ground", "1Z999AA10123456784")
    assert notice.fields["OrderID"] == order.external_id
    assert notice.fields["ShipDate"] == f"{SHIP_DAY:%m/%d/%Y}" and notice.fields["ShippingCost"] == "7.25"
    assert notice.recipient["Name"] == order.ship_to_name and notice.recipient["City"] == order.ship_to_city
    assert sorted((i["LineItemID"], i["Quantity"]) for i in notice.items) == [("L0-1", "2"), ("L0-2", "1")]
    # and the notification is sent after one attempt, recorded with the store's answer
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.SENT and notification.sent_at is not None
    assert attempt_log(notification) == [(1, "sent", 200)]
    attempt = notification.attempt_log.get()
    assert "shipnotify" in attempt.request_summary and "sandbox-pass" not in attempt.request_summary
    assert order_as_dict(order_list().get(pk=order.pk))["shipments"][0]["notification"] == {
        "status": "sent", "error": None}
    # and the store now says the order is shipped
    assert sandbox.state.get(order.external_id).status == "shipped"


def test_a_partial_shipment_notifies_only_its_own_items(shop, ship):
    sandbox, store, order = shop
    tea, mug = order.items.filter(adjustment=False).order_by("line_item_id")
    first = ship(order=order, items=[(tea, 1)], tracking_number="T1")
    second = ship(order=order, tracking_number="T2")  # the rest
    assert [n.params["tracking_number"] for n in sandbox.state.notices] == ["T1", "T2"]
    assert [[(i["LineItemID"], i["Quantity"]) for i in n.items] for n in sandbox.state.notices] == [
        [("L0-1", "1")], [("L0-1", "1"), ("L0-2", "1")]]
    assert {notification_of(first).status, notification_of(second).status} == {NotificationStatus.SENT}
    assert sandbox.state.get(order.external_id).status == "shipped"


def test_combined_orders_each_notify_their_own_items(sandboxes, eager_celery,
                                                     django_capture_on_commit_callbacks):
    sandbox = sandboxes("custom_store", orders=0)
    store, (a, b) = import_orders(sandbox, count=2)
    Order.objects.filter(pk=b.pk).update(**{f: getattr(a, f) for f in (
        "ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_city", "ship_to_state",
        "ship_to_postal_code", "ship_to_country")})
    with django_capture_on_commit_callbacks(execute=True):
        orders_combine(orders=[a, b], carrier="UPS", tracking_number="1ZCOMBINED")
    notices = {n.params["order_number"]: n for n in sandbox.state.notices}
    assert set(notices) == {a.order_number, b.order_number}
    assert {n.params["tracking_number"] for n in notices.values()} == {"1ZCOMBINED"}
    assert [i["LineItemID"] for i in notices[b.order_number].items] == ["L1-1", "L1-2"]


@QBC
def test_do_not_notify_sends_nothing(shop, ship):
    sandbox, store, order = shop
    shipment = ship(order=order, notify_store=False)
    assert shipnotify_requests(sandbox) == [] and sandbox.state.notices == []
    assert not StoreNotification.objects.filter(shipment=shipment).exists()
    assert order_as_dict(order_list().get(pk=order.pk))["shipments"][0]["notification"]["status"] == "not_requested"


def test_a_502_then_200_ends_sent_after_one_retry(shop, ship):
    sandbox, store, order = shop
    sandbox.state.fail_shipnotify(1, status=502)
    shipment = ship(order=order, tracking_number="1Z1")
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.SENT and notification.error == ""
    assert attempt_log(notification) == [(1, "retry", 502), (2, "sent", 200)]
    assert [n.status_code for n in sandbox.state.notices] == [502, 200]


def test_transient_failures_give_up_at_the_limit(shop, ship):
    sandbox, store, order = shop
    sandbox.state.fail_shipnotify(None, status=503)  # until cleared
    shipment = ship(order=order)
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.FAILED
    assert "HTTP 503" in notification.error and "gave up after 3 attempts" in notification.error
    assert [outcome for _, outcome, _ in attempt_log(notification)] == ["retry", "retry", "failed"]
    assert len(shipnotify_requests(sandbox)) == 3
    # a manual resend once the store is back delivers it
    sandbox.state.clear_faults()
    resend(notification)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT and attempt_log(notification)[-1] == (4, "sent", 200)


def resend(notification):
    from django.db import transaction

    with transaction.atomic():
        notification_resend(notification=notification)
    # the resend queued the task on commit: deliver it as the worker would
    return notification_deliver(notification_id=notification.pk, expected_attempts=notification.attempts)


@QBC
def test_a_422_ends_failed_with_the_store_message_verbatim_and_the_advice(shop, ship):
    sandbox, store, order = shop
    sandbox.state.reject_shipnotify_422()
    shipment = ship(order=order)
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.FAILED
    assert notification.error == QBC_FULFILLED_ERROR  # the store's words, verbatim
    assert notification.advice == QBC_ADVICE
    assert 'do not notify the store' in notification.advice and "don't split" in notification.advice
    assert attempt_log(notification) == [(1, "failed", 422)]  # not retried
    assert len(shipnotify_requests(sandbox)) == 1
    assert order_as_dict(order_list().get(pk=order.pk))["shipments"][0]["notification"] == {
        "status": "failed", "error": QBC_FULFILLED_ERROR}


@QBC
def test_quickbooks_commerce_refuses_an_order_it_already_fulfilled(shop, ship):
    # Given an order fulfilled in QuickBooks Commerce after the import
    sandbox, store, order = shop
    sandbox.state.set_status(order.external_id, "fulfilled")
    # When it is shipped here, then the store's own refusal is kept verbatim, with the advice
    notification = notification_of(ship(order=order))
    assert notification.status == NotificationStatus.FAILED
    assert "Cannot create fulfilment on an order in the fulfilled state" in notification.error
    assert notification.advice == QBC_ADVICE


@QBC
def test_quickbooks_commerce_is_not_sent_items_it_already_has(shop, ship):
    # Given an order shipped and notified, then voided (the store is not told about voids)
    sandbox, store, order = shop
    first = ship(order=order, tracking_number="FIRST")
    shipment_void(shipment=first)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    # When it is shipped again with "notify the store"
    second = ship(order=order, tracking_number="SECOND")
    # Then nothing more is sent: skipped, with the reason and the advice
    notification = notification_of(second)
    assert notification.status == NotificationStatus.SKIPPED
    assert f"#{first.pk}" in notification.warning and "already has every item" in notification.warning
    assert notification.advice == QBC_ADVICE
    assert [n.params["tracking_number"] for n in sandbox.state.notices] == ["FIRST"]
    assert attempt_log(notification) == [(1, "skipped", None)]


def test_a_duplicated_task_delivery_sends_once(shop, eager_celery, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks() as queued:
        shipment = shipment_create(order=order, carrier="UPS")
    notification_id = notification_of(shipment).pk
    # When the broker delivers the task twice (and the service is called once more)
    assert tasks.notify_store(notification_id, attempt=0) == "sent"
    assert tasks.notify_store(notification_id, attempt=0) == "nothing to do"
    for callback in queued:  # the on-commit queueing, run late
        callback()
    notification_deliver(notification_id=notification_id)
    # Then the store was told once
    assert len(sandbox.state.notices) == 1 and len(shipnotify_requests(sandbox)) == 1
    assert attempt_log(notification_of(shipment)) == [(1, "sent", 200)]


def test_a_duplicate_of_the_first_delivery_during_the_retry_wait_does_nothing(shop,
                                                                               django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():
        shipment = shipment_create(order=order, carrier="UPS")
    notification_id = notification_of(shipment).pk
    sandbox.state.fail_shipnotify(1, status=502)
    first = notification_attempt(notification_id=notification_id, expected_attempts=0)
    assert first.outcome == "retry" and first.attempts == 1 and 0 < first.retry_in <= 0.05
    assert notification_of(shipment).next_attempt_at is not None
    # the original task delivered again while the retry waits: nothing happens
    assert notification_attempt(notification_id=notification_id, expected_attempts=0) is None
    # the scheduled retry sends it
    assert notification_attempt(notification_id=notification_id, expected_attempts=1).outcome == "sent"
    assert [n.status_code for n in sandbox.state.notices] == [502, 200]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_deliveries_send_once(sandboxes):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (scripts/test); SQLite is covered sequentially above")
    sandbox = sandboxes("custom_store", orders=0)
    store, (order,) = import_orders(sandbox)
    shipment = shipment_create(order=order, carrier="UPS", queue_notification=False)
    notification_id = notification_of(shipment).pk
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(tasks.notify_store(notification_id, attempt=0))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == ["nothing to do"] * 3 + ["sent"]
    assert len(sandbox.state.notices) == 1
    assert attempt_log(notification_of(shipment)) == [(1, "sent", 200)]


def test_void_after_the_notice_sends_nothing_more(shop, ship):
    sandbox, store, order = shop
    shipment = ship(order=order)
    requests_before = len(sandbox.state.requests)
    shipment_void(shipment=shipment)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert len(sandbox.state.requests) == requests_before and len(sandbox.state.notices) == 1
    with pytest.raises(NotificationError, match="already notified"):
        notification_resend(notification=notification_of(shipment))


def test_void_before_delivery_sends_nothing(shop, eager_celery, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks() as queued:
        shipment = shipment_create(order=order, carrier="UPS")
    shipment_void(shipment=shipment)
    for callback in queued:  # the task arrives after the void
        callback()
    assert sandbox.state.notices == [] and notification_of(shipment).status == NotificationStatus.SKIPPED
    with pytest.raises(NotificationError, match="is void"):
        notification_resend(notification=notification_of(shipment))


def test_wrong_credentials_fail_without_retry(shop, ship):
    sandbox, store, order = shop
    store.set_secrets({"password": "wrong"})
    store.save()
    notification = notification_of(ship(order=order))
    assert notification.status == NotificationStatus.FAILED
    assert "refused the credentials" in notification.error and "wrong" not in notification.error
    assert len(shipnotify_requests(sandbox)) == 1


def test_deliver_now_sleeps_the_back_off_between_tries(shop, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    shipment = shipment_create(order=order, carrier="UPS", queue_notification=False)
    sandbox.state.fail_shipnotify(2, status=503)
    slept = []
    notification = notification_deliver_now(notification_id=notification_of(shipment).pk, sleep=slept.append)
    assert notification.status == NotificationStatus.SENT and notification.attempts == 3
    assert len(slept) == 2 and all(0 < s <= 0.05 for s in slept)


def test_lost_tasks_are_queued_again(shop, eager_celery, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():  # the queueing is lost (broker down)
        shipment = shipment_create(order=order, carrier="UPS")
    assert notifications_requeue_stale() == 0  # not stale yet
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    assert notifications_requeue_stale(now=later) == 1
    assert notification_of(shipment).status == NotificationStatus.SENT and len(sandbox.state.notices) == 1


# --- the outcome cannot be recorded after the store answered --------------------------------


def test_a_lost_outcome_is_never_sent_again_by_itself(shop, eager_celery, django_capture_on_commit_callbacks,
                                                     monkeypatch):
    from django.db import DatabaseError
    from django.utils import timezone

    import orders.notifying as notifying

    # Given a shipment whose notification the store accepts, but whose outcome ShipBridge fails
    # to write (the database goes away right after the store answered)
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():
        shipment = shipment_create(order=order, carrier="UPS")
    notification_id = notification_of(shipment).pk
    real_finish = notifying._finish
    failures = []

    def finish_failing_once(**kwargs):
        if not failures:
            failures.append(kwargs["outcome"])
            raise DatabaseError("server closed the connection unexpectedly")
        return real_finish(**kwargs)

    monkeypatch.setattr(notifying, "_finish", finish_failing_once)
    # When the task delivers it
    with pytest.raises(DatabaseError):
        tasks.notify_store(notification_id, attempt=0)
    # Then the store has it once; here it stays pending, still claimed, its attempt in flight
    assert failures == ["sent"] and len(sandbox.state.notices) == 1 and sandbox.state.notices[0].accepted
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.PENDING and notification.claimed_until > timezone.now()
    assert attempt_log(notification) == [(1, "in_flight", None)]
    assert notification.attempt_log.get().request_summary.startswith(
        f"custom_store shipment notice for order {order.order_number}")

    # When the broker redelivers the task (acks_late) and the sweeper runs while the claim lasts
    assert tasks.notify_store(notification_id, attempt=0) == "nothing to do"
    soon = timezone.now() + dt.timedelta(minutes=3)
    assert notifications_requeue_stale(now=soon) == 0
    # Then nothing more is sent
    assert len(sandbox.state.notices) == 1

    # When the sweeper runs once the claim has expired
    later = notification.claimed_until + dt.timedelta(minutes=10)
    assert notifications_requeue_stale(now=later) == 0  # not queued again...
    # Then it is failed, saying why, and still sent once
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.FAILED
    assert notification.error == notifying.LOST_TRACK_ERROR
    assert notification.error.startswith("ShipBridge lost track of this notification while the store was answering")
    assert "check the store before resending" in notification.error
    assert notification.claim_token == "" and notification.attempts == 1
    assert attempt_log(notification) == [(1, "unknown", None)]
    assert tasks.notify_store(notification_id, attempt=1) == "nothing to do"
    assert len(sandbox.state.notices) == 1

    # And a person who checked the store may still resend it by hand
    resend(notification)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert attempt_log(notification) == [(1, "unknown", None), (2, "sent", 200)]
    assert len(sandbox.state.notices) == 2


def test_a_redelivered_task_after_the_claim_expired_does_not_resend_a_lost_outcome(shop, monkeypatch,
                                                                                   django_capture_on_commit_callbacks):
    from django.db import DatabaseError
    from django.utils import timezone

    import orders.notifying as notifying

    # Given a delivery whose outcome could not be written, and whose claim has since expired
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():
        shipment = shipment_create(order=order, carrier="UPS")
    notification_id = notification_of(shipment).pk

    def finish_failing(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(notifying, "_finish", finish_failing)
    with pytest.raises(DatabaseError):
        notification_attempt(notification_id=notification_id, expected_attempts=0)
    monkeypatch.undo()
    StoreNotification.objects.filter(pk=notification_id).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1))
    # When the task is delivered again (the worker died; the broker redelivers it)
    assert tasks.notify_store(notification_id, attempt=0) == "failed"
    # Then the store is not told twice: failed, with the reason
    assert len(sandbox.state.notices) == 1
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.FAILED and notification.error == notifying.LOST_TRACK_ERROR
    assert attempt_log(notification) == [(1, "unknown", None)]


def test_a_failure_before_the_store_is_called_releases_the_claim(shop, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    import orders.notifying as notifying

    # Given a delivery that fails before it talks to the store
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():
        shipment = shipment_create(order=order, carrier="UPS")
    notification_id = notification_of(shipment).pk

    def no_in_flight_row(*args, **kwargs):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(notifying, "_mark_in_flight", no_in_flight_row)
    with pytest.raises(RuntimeError):
        notification_attempt(notification_id=notification_id, expected_attempts=0)
    monkeypatch.undo()
    # Then nothing reached the store, the claim is released, and the next delivery sends it
    notification = notification_of(shipment)
    assert sandbox.state.notices == [] and notification.claim_token == "" and notification.claimed_until is None
    assert notification_attempt(notification_id=notification_id, expected_attempts=0).outcome == "sent"
    assert attempt_log(notification_of(shipment)) == [(1, "sent", 200)] and len(sandbox.state.notices) == 1


def test_an_attempt_is_recorded_in_flight_while_the_store_is_called(shop, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    from stores.connectors.customstore.connector import CustomStoreConnector

    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():
        shipment = shipment_create(order=order, carrier="UPS")
    seen = []
    real_notify = CustomStoreConnector.notify_shipment

    def notify_and_look(self, notice):
        seen.append(attempt_log(notification_of(shipment)))
        return real_notify(self, notice)

    monkeypatch.setattr(CustomStoreConnector, "notify_shipment", notify_and_look)
    notification_attempt(notification_id=notification_of(shipment).pk, expected_attempts=0)
    assert seen == [[(1, "in_flight", None)]]
    assert attempt_log(notification_of(shipment)) == [(1, "sent", 200)]


# --- Acumatica -----------------------------------------------------------------------------


@pytest.mark.parametrize("release", ["2018 R2", "2021 R2"])
def test_acumatica_tracking_on_the_existing_package_then_confirmed(sandboxes, ship, release):
    sandbox = sandboxes("acumatica", release=release, shipments=0)
    nbr, order = import_acumatica(sandbox, packages=1)
    [package] = sandbox.state.packages(nbr)
    shipment = ship(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    notification = notification_of(shipment)
    assert notification.status == NotificationStatus.SENT and notification.warning == ""
    # tracking written on the existing package first, then the shipment confirmed
    assert sandbox.state.operations == [("tracking", nbr, package["id"], "1Z999AA10123456784"), ("confirm", nbr)]
    [after] = sandbox.state.packages(nbr)
    assert after["id"] == package["id"] and after["TrackingNbr"] == "1Z999AA10123456784"
    assert sandbox.state.status(nbr) == "Confirmed"
    assert sandbox.state.open_sessions == 0 and sandbox.state.logins == sandbox.state.logouts
    assert "ConfirmShipment" in notification.attempt_log.get().request_summary


def test_acumatica_without_a_package_is_confirmed_with_a_warning(sandboxes, ship):
    sandbox = sandboxes("acumatica", shipments=0)
    nbr, order = import_acumatica(sandbox, packages=0)
    notification = notification_of(ship(order=order, tracking_number="1ZNOPACKAGE"))
    assert notification.status == NotificationStatus.SENT
    assert "no package" in notification.warning
    assert sandbox.state.operations == [("confirm", nbr)]  # no package inserted
    assert sandbox.state.packages(nbr) == [] and sandbox.state.status(nbr) == "Confirmed"
    assert sandbox.state.open_sessions == 0


def test_acumatica_server_error_on_confirm_is_retried_without_writing_twice(sandboxes, ship):
    sandbox = sandboxes("acumatica", shipments=0)
    nbr, order = import_acumatica(sandbox, packages=1)
    sandbox.state.fail_next(1, 503, path_contains="ConfirmShipment")
    notification = notification_of(ship(order=order, tracking_number="1ZRETRY"))
    assert notification.status == NotificationStatus.SENT
    assert [outcome for _, outcome, _ in attempt_log(notification)] == ["retry", "sent"]
    assert [op[0] for op in sandbox.state.operations] == ["tracking", "confirm"]
    assert sandbox.state.open_sessions == 0


def test_acumatica_refusal_is_kept_and_not_retried(sandboxes, ship):
    sandbox = sandboxes("acumatica", shipments=0)
    nbr, order = import_acumatica(sandbox, packages=1)
    sandbox.state.modify_shipment(nbr, Status="Canceled")  # cancelled in Acumatica after the import
    notification = notification_of(ship(order=order, tracking_number="1ZLATE"))
    assert notification.status == NotificationStatus.FAILED
    assert "The Packages grid cannot be changed because the shipment has the Canceled status" in notification.error
    assert attempt_log(notification) == [(1, "failed", 422)]
    assert sandbox.state.open_sessions == 0
    assert NotificationAttempt.objects.filter(notification=notification, outcome="failed").exists()
