"""Recovery, service by service (the same faults on real processes: tests/test_faults.py): the
broker down while shipping, abandoned imports, a lease lost mid-page, a database blip while
recording, capped skip reasons, the bounded "already seen" store of a fetch."""
import datetime as dt
import io
import json
import logging
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.utils import timezone

from orders import emails, importing, tasks
from orders.importing import ABANDONED_RUN_ERROR, stores_close_abandoned, stores_refresh_due, store_refresh
from orders.models import ImportRun, Order, Shipment
from orders.resilience import after_commit, on_fresh_connection
from orders.shipping import shipment_create
from stores.connectors.seen import SeenIds, stamp
from stores.models import RefreshStatus, Store
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory
from tests.utils import expected_orders, sandbox_store

pytestmark = pytest.mark.django_db


class BrokerDown(OSError):
    pass


@pytest.fixture
def broker_down(monkeypatch):
    """Every task publish fails, as with Redis unreachable."""
    def refuse(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.notify_store, "apply_async", refuse)
    monkeypatch.setattr(tasks.send_customer_email, "apply_async", refuse)
    monkeypatch.setattr(tasks.refresh_store, "apply_async", refuse)


def order_to_ship(**store_fields):
    store = StoreFactory(notify_customer=True, **store_fields)
    order = OrderFactory(store=store, customer_email="ada@example.test")
    OrderItemFactory(order=order, quantity=1, unit_price=Decimal("9.99"))
    return order


# --- side effects never break a saved action -----------------------------------------------


def test_after_commit_logs_a_failed_side_effect_and_the_transaction_stands(caplog, django_capture_on_commit_callbacks):
    def effect():
        raise BrokerDown("Connection refused")

    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.WARNING):
        with transaction.atomic():
            store = StoreFactory()
            after_commit(effect, what="the thing")
    assert Store.objects.filter(pk=store.pk).exists()
    assert "the thing could not be queued now (BrokerDown: Connection refused)" in caplog.text


def test_with_the_broker_down_ship_order_exits_0_and_leaves_both_side_effects_pending(
        broker_down, django_capture_on_commit_callbacks):
    order = order_to_ship()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("ship_order", str(order.store_id), order.order_number, "--carrier", "UPS", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["notification"] == {"status": "pending", "error": None}
    shipment = Shipment.objects.get(pk=line["shipment"])
    assert shipment.customer_email_status == "pending" and mail.outbox == []


def test_the_stale_sweep_sends_a_pending_email_once_and_a_duplicate_task_does_nothing(
        broker_down, django_capture_on_commit_callbacks, settings):
    order = order_to_ship()
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", notify_store=False)
    # not before the grace period
    assert emails.shipment_emails_pending() == []
    later = timezone.now() + dt.timedelta(seconds=settings.SHIPBRIDGE_SWEEP_GRACE_SECONDS + 1)
    assert emails.shipment_emails_pending(now=later) == [shipment.pk]
    assert emails.shipment_email_deliver(shipment_id=shipment.pk) == "sent"
    assert emails.shipment_email_deliver(shipment_id=shipment.pk) == ""  # the duplicate
    assert len(mail.outbox) == 1 and emails.shipment_emails_pending(now=later) == []


def test_a_mail_server_failure_is_retried_then_marked_failed(monkeypatch, settings, django_capture_on_commit_callbacks,
                                                              broker_down):
    settings.SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS = 2
    order = order_to_ship()
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", notify_store=False)

    def smtp_down(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", smtp_down)
    assert emails.shipment_email_deliver(shipment_id=shipment.pk) == "pending"
    shipment.refresh_from_db()
    assert "mail server down" in shipment.customer_email_error and shipment.customer_email_claimed_until
    Shipment.objects.filter(pk=shipment.pk).update(customer_email_claimed_until=None)  # back-off over
    assert emails.shipment_email_deliver(shipment_id=shipment.pk) == "failed"
    shipment.refresh_from_db()
    assert "gave up after 2 attempts" in shipment.customer_email_error


def test_a_voided_shipment_sends_no_email(broker_down, django_capture_on_commit_callbacks):
    from orders.shipping import shipment_void

    order = order_to_ship()
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", notify_store=False)
    shipment_void(shipment=shipment)
    assert emails.shipment_email_deliver(shipment_id=shipment.pk) == "skipped" and mail.outbox == []


# --- a database blip while recording --------------------------------------------------------


def test_on_fresh_connection_retries_once_outside_a_transaction(transactional_db):
    calls = []

    def write():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return "written"

    assert on_fresh_connection(write, what="test") == "written" and len(calls) == 2


def test_on_fresh_connection_does_not_retry_inside_a_transaction():
    def write():
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError), transaction.atomic():
        on_fresh_connection(write, what="test")


# --- leases ---------------------------------------------------------------------------------


def running_store(lease_expires_at):
    store = StoreFactory(last_refresh_status=RefreshStatus.RUNNING, lease_token="dead",
                         lease_expires_at=lease_expires_at, next_refresh_at=timezone.now() + dt.timedelta(hours=1))
    run = ImportRun.objects.create(store=store, trigger="schedule", started_at=timezone.now())
    return store, run


def test_an_expired_lease_of_a_running_import_closes_the_run_and_makes_the_store_due():
    now = timezone.now()
    dead, dead_run = running_store(now - dt.timedelta(seconds=1))
    alive, alive_run = running_store(now + dt.timedelta(seconds=30))
    assert stores_close_abandoned(now=now) == [dead.pk]
    dead.refresh_from_db(), dead_run.refresh_from_db(), alive_run.refresh_from_db()
    assert dead_run.status == "failed" and dead_run.error == ABANDONED_RUN_ERROR
    assert dead.last_refresh_status == "failed" and dead.last_refresh_error == ABANDONED_RUN_ERROR
    assert dead.next_refresh_at == now
    assert alive_run.status == "running"


def test_the_beat_tick_queues_an_abandoned_store_again(eager_celery, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.refresh_store, "delay", lambda store_id, **kw: queued.append(store_id))
    dead, _ = running_store(timezone.now() - dt.timedelta(seconds=1))
    with transaction.atomic():
        due = stores_refresh_due()
    assert dead.pk in due


def test_a_page_is_not_written_once_the_lease_is_lost(sandboxes, monkeypatch):
    sandbox = sandboxes("custom_store", orders=30, page_size=10)
    store = sandbox_store(sandbox, name="Lost lease")
    original = importing.apply_page
    pages = []

    def take_the_store_after_the_first_page(**kwargs):
        if pages:  # another run took the store meanwhile
            Store.objects.filter(pk=store.pk).update(lease_token="someone-else")
        original(**kwargs)
        pages.append(1)

    monkeypatch.setattr(importing, "apply_page", take_the_store_after_the_first_page)
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed" and "SHIPBRIDGE_IMPORT_LEASE_SECONDS" in run.error
    assert run.pages == 1  # the second page was rolled back with the lease check
    assert Order.objects.filter(store=store).count() == run.imported <= 10
    store.refresh_from_db()
    assert store.next_refresh_at <= timezone.now()  # due again at once


# --- bounded memory -------------------------------------------------------------------------


def test_skip_reasons_are_capped_and_the_warning_still_counts_every_order(sandboxes, settings):
    settings.SHIPBRIDGE_SKIP_REASONS_KEPT = 3
    sandbox = sandboxes("custom_store", orders=40)
    mapping = {"paid": "awaiting_shipment"}
    store = sandbox_store(sandbox, name="Capped", status_mapping=mapping)
    run = store_refresh(store_id=store.pk)
    assert run.status == "succeeded"
    assert len(run.skip_reasons) == 3 and run.skip_reasons_omitted == run.skipped - 3 > 0
    unmapped = [o for o in sandbox.state.orders.values() if o.status not in mapping]
    assert f"{len(unmapped)} orders skipped" in run.warning
    assert sorted(Order.objects.filter(store=store).values_list("external_id", flat=True)) == \
        sorted(expected_orders(sandbox.state, mapping))
    store.refresh_from_db()
    assert store.recover_from == min(o.last_modified for o in unmapped).replace(second=0)


def test_seen_ids_keep_the_newest_stamp_outside_python_memory():
    with SeenIds() as seen:
        seen.record([("A", 5), ("B", 7)])
        seen.record([("A", 3), ("C", 1)])
        assert seen.lookup(["A", "B", "C", "D", ""]) == {"A": 5, "B": 7, "C": 1}
        seen.record((f"id-{n}", n) for n in range(2000))
        assert len(seen) == 2003 and seen.lookup([f"id-{n}" for n in range(1990, 2010)]) == \
            {f"id-{n}": n for n in range(1990, 2000)}
    assert stamp(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)) == 1_000_000 and stamp(None) == 0


def test_with_the_broker_down_the_admin_ship_form_saves_and_says_so(broker_down, admin_client_su,
                                                                     django_capture_on_commit_callbacks):
    from django.urls import reverse

    from tests.utils import SHIP_DAY

    order = order_to_ship()
    (item,) = order.items.all()
    url = reverse("admin:orders_order_ship", args=[order.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(url, {
            "carrier": "UPS", "tracking_number": "1Z9", "ship_date": SHIP_DAY.isoformat(), "notify_store": "on",
            "notify_customer": "on", f"qty_{item.pk}": "1"}, follow=True)
    assert response.status_code == 200
    shipment = Shipment.objects.get(order=order)
    text = response.content.decode()
    assert f"Shipment {shipment.pk} of order {order.order_number} created" in text and "Traceback" not in text
    assert shipment.notification.status == "pending" and shipment.customer_email_status == "pending"


def test_an_import_past_its_time_limit_ends_failed_and_says_so(sandboxes, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    sandbox = sandboxes("custom_store", orders=20, page_size=10)
    store = sandbox_store(sandbox, name="Slow")
    original = importing.apply_page

    def second_page_too_late(**kwargs):
        if kwargs["page"].number == 2:
            raise SoftTimeLimitExceeded()
        original(**kwargs)

    monkeypatch.setattr(importing, "apply_page", second_page_too_late)
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed" and "SHIPBRIDGE_IMPORT_TIME_LIMIT_SECONDS" in run.error and run.pages == 1
    store.refresh_from_db()
    assert store.lease_token == "" and store.last_refresh_status == "failed"


def test_the_order_page_shows_the_customer_emails_state(broker_down, admin_client_su, monkeypatch, settings,
                                                         django_capture_on_commit_callbacks):
    from django.urls import reverse

    settings.SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS = 1
    order = order_to_ship()
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order=order, carrier="UPS", notify_store=False)
    page = admin_client_su.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Pending" in page

    def smtp_down(self, *args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", smtp_down)
    assert emails.shipment_email_deliver(shipment_id=shipment.pk) == "failed"
    page = admin_client_su.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Failed: ConnectionRefusedError: mail server down (gave up after 1 attempts)" in page


def test_a_sweep_queues_until_the_broker_refuses_and_leaves_the_rest(caplog):
    from orders.resilience import queue_each

    queued = []

    def queue(item):
        if item == 3:
            raise ConnectionError("broker down")
        queued.append(item)

    with caplog.at_level("ERROR", logger="shipbridge.resilience"):
        assert queue_each([1, 2, 3, 4], queue, what=lambda item: f"item {item}") == 2
    assert queued == [1, 2]  # 4 waits for the next sweep
    assert "cannot queue item 3; the next sweep tries again" in caplog.text
