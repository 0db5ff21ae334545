"""Correcting a shipment (orders.shipping.shipment_update, `manage.py update_shipment`, the
shipment's Correct page) over the sandbox stores, and shipping again after a void.

Orders come from the real import engine reading a sandbox; shipments are made and corrected
with the services; the notify task runs eagerly once the transaction commits, as the worker
would. A Custom Store takes a corrected shipment notice; QuickBooks Commerce and Acumatica do not
(the store keeps the old values, and ShipBridge says why before and after saving)."""
import datetime as dt
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils.html import escape
from django.utils import timezone

from orders import tasks
from orders.admin import EDITABLE_SHIP_TO
from orders.models import NotificationStatus, Order, Shipment, ShipmentChange, StoreCorrection, StoreNotification
from orders.notifying import notification_resend
from orders.shipping import ShippingError, StoreForbids, orders_combine, shipment_create, shipment_update, shipment_void
from stores.connectors.acumatica.connector import REPEAT_ADVICE
from stores.connectors.base import StoreRejected
from stores.connectors.customstore.connector import QBC_ADVICE
from stores.connectors.registry import CONNECTOR_NAMES, get_connector_class
from stores.sandbox.customstore import store_settings
from tests.factories import UserFactory
from tests.utils import SHIP_DAY, import_acumatica, import_orders, order_lines, shipnotify_requests

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries", "eager_celery"),
              pytest.mark.retries(attempts=2, notify_attempts=3)]
QBC = pytest.mark.shop("quickbooks_commerce")
ACUMATICA_KEEPS = "a confirmed shipment's packages are locked"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and then what it deferred to the commit (the notify task, run eagerly)."""

    def run(action, /, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


@pytest.fixture
def clerk(shop):
    return UserFactory(merchant=shop[1].merchant, username="clerk")


@pytest.fixture
def acumatica(sandboxes, committed):
    """An Acumatica store with one order shipped and notified (tracking 1ZOLD written, the
    shipment confirmed in Acumatica): (sandbox, nbr, shipment)."""
    sandbox = sandboxes("acumatica", shipments=0)
    nbr, order = import_acumatica(sandbox, packages=1)
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    assert StoreNotification.objects.get(shipment=shipment).status == NotificationStatus.SENT
    assert sandbox.state.status(nbr) == "Confirmed"
    return sandbox, nbr, shipment


def tracking_numbers(sandbox):
    return [notice.params["tracking_number"] for notice in sandbox.state.notices]


def history(shipment):
    return [(c.field, c.old_value, c.new_value, c.store_correction)
            for c in ShipmentChange.objects.filter(shipment=shipment).order_by("id")]


def attempt_log(notification):
    return [(a.number, a.outcome) for a in notification.attempt_log.order_by("number")]


# --- a store that takes corrections: Custom Store --------------------------------------------


def test_a_notified_custom_store_is_sent_exactly_one_new_shipnotify_with_the_new_number(shop, committed, clerk):
    # Given an order shipped with a wrong tracking number, the store notified
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    assert tracking_numbers(sandbox) == ["1ZOLD"]
    # When the tracking number is corrected
    before = timezone.now()
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW", user=clerk)
    # Then the store received one new shipment notice with the new number, and the same notification
    # (its attempt log kept) is sent again
    assert result.saved and result.store.state == StoreCorrection.QUEUED
    assert "new shipment notice" in result.store.message
    assert tracking_numbers(sandbox) == ["1ZOLD", "1ZNEW"] and len(shipnotify_requests(sandbox)) == 2
    notification = StoreNotification.objects.get(shipment=shipment)
    assert notification.status == NotificationStatus.SENT and attempt_log(notification) == [(1, "sent"), (2, "sent")]
    # and the change is in the shipment's history: who, when, old → new, what the store was told
    [change] = ShipmentChange.objects.filter(shipment=shipment)
    assert (change.field, change.old_value, change.new_value) == ("tracking_number", "1ZOLD", "1ZNEW")
    assert change.changed_by == clerk and before <= change.changed_at <= timezone.now()
    assert change.store_correction == StoreCorrection.QUEUED and change.store_note == result.store.message
    shipment.refresh_from_db()
    assert shipment.tracking_number == "1ZNEW"
    # and a late duplicate of either task sends nothing more: exactly once still holds
    assert tasks.notify_store(notification.pk, attempt=0) == "nothing to do"
    assert tasks.notify_store(notification.pk, attempt=1) == "nothing to do"
    assert len(sandbox.state.notices) == 2


def test_every_detail_is_corrected_and_kept_in_the_history(shop, committed, clerk):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", service="Ground", tracking_number="1ZOLD",
                         ship_date=SHIP_DAY - dt.timedelta(days=1))
    committed(shipment_update, shipment=shipment, carrier="FedEx", service="", tracking_number="7489",
              ship_date=SHIP_DAY.isoformat(), user=clerk)
    assert history(shipment) == [
        ("carrier", "UPS", "FedEx", "queued"), ("service", "Ground", "", "queued"),
        ("tracking_number", "1ZOLD", "7489", "queued"), ("ship_date", str(SHIP_DAY - dt.timedelta(days=1)), str(SHIP_DAY), "queued")]
    [_, notice] = sandbox.state.notices
    assert (notice.params["carrier"], notice.params["service"], notice.params["tracking_number"]) == (
        "FedEx", "", "7489")
    assert notice.fields["ShipDate"] == f"{SHIP_DAY:%m/%d/%Y}"


def test_unchanged_values_change_nothing(shop, committed):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    result = committed(shipment_update, shipment=shipment, carrier=" UPS ", tracking_number="1ZOLD")
    assert not result.changed and not result.saved
    assert history(shipment) == [] and len(sandbox.state.notices) == 1
    assert StoreNotification.objects.get(shipment=shipment).status == NotificationStatus.SENT


def test_a_notification_not_sent_yet_simply_sends_the_corrected_values(shop, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks() as queued:  # the notify task not run yet
        shipment = shipment_create(order=order, carrier="UPS", tracking_number="1ZOLD")
    result = shipment_update(shipment=shipment, tracking_number="1ZNEW")
    assert result.store.state == StoreCorrection.INCLUDED
    for callback in queued:
        callback()
    assert tracking_numbers(sandbox) == ["1ZNEW"]


def test_a_failed_notification_is_left_as_is_and_a_resend_carries_the_corrected_values(shop, committed):
    sandbox, store, order = shop
    sandbox.state.reject_shipnotify_422(body="Order is locked")
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    notification = StoreNotification.objects.get(shipment=shipment)
    assert notification.status == NotificationStatus.FAILED
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW")
    assert result.store.state == StoreCorrection.LEFT_AS_IS and "resend it" in result.store.message
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED and tracking_numbers(sandbox) == ["1ZOLD"]
    committed(notification_resend, notification=notification)
    assert tracking_numbers(sandbox) == ["1ZOLD", "1ZNEW"]


def test_not_notifying_the_store_of_a_correction_says_it_keeps_the_old_number(shop, committed):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW", notify_store=False)
    assert result.store.state == StoreCorrection.NOT_SENT
    assert "will keep the old tracking number 1ZOLD" in result.store.message
    assert len(sandbox.state.notices) == 1 and history(shipment)[0][3] == "not_sent"


def test_a_combined_package_is_corrected_together(sandboxes, committed):
    # Given two orders shipped in one package, both stores' notifications sent
    sandbox = sandboxes("custom_store", orders=0)
    store, (a, b) = import_orders(sandbox, count=2)
    Order.objects.filter(pk=b.pk).update(**{f: getattr(a, f) for f in EDITABLE_SHIP_TO})
    first, second = committed(orders_combine, orders=[a, b], carrier="UPS", tracking_number="1ZOLD")
    # When one of them is corrected
    result = committed(shipment_update, shipment=second, tracking_number="1ZNEW")
    # Then both carry the new number (one package), each order's store notice is sent again
    assert [item.shipment.pk for item in result.corrected] == [second.pk, first.pk]
    assert set(Shipment.objects.values_list("tracking_number", flat=True)) == {"1ZNEW"}
    assert tracking_numbers(sandbox) == ["1ZOLD", "1ZOLD", "1ZNEW", "1ZNEW"]
    assert history(first) == history(second) == [("tracking_number", "1ZOLD", "1ZNEW", "queued")]


# --- refusals: nothing changed ---------------------------------------------------------------


def test_void_shipments_cannot_be_corrected(shop, committed):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    shipment_void(shipment=shipment)
    with pytest.raises(ShippingError, match=f"shipment {shipment.pk} is void: it cannot be corrected"):
        shipment_update(shipment=shipment, tracking_number="1ZNEW")
    shipment.refresh_from_db()
    assert shipment.tracking_number == "1ZOLD" and history(shipment) == []


def test_a_shipment_older_than_the_bounds_keeps_its_date_and_takes_no_date_out_of_them(shop, committed,
                                                                                       admin_client_su):
    # Given a shipment made two years ago (before the bounds)
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD", notify_store=False)
    old_day = timezone.localdate() - dt.timedelta(days=730)
    Shipment.objects.filter(pk=shipment.pk).update(ship_date=old_day)
    shipment.refresh_from_db()
    # When its tracking number is corrected, its own date given back as it is (as the Correct page does)
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW", ship_date=old_day.isoformat())
    # Then the correction is saved with the date kept
    shipment.refresh_from_db()
    assert result.saved and (shipment.tracking_number, shipment.ship_date) == ("1ZNEW", old_day)
    # but another date out of the bounds is refused, here and on the Correct page (on its field)
    with pytest.raises(ShippingError, match=r"is more than a year ago: choose a date from"):
        committed(shipment_update, shipment=shipment, ship_date=old_day + dt.timedelta(days=1))
    far = timezone.localdate() + dt.timedelta(days=120)
    response = admin_client_su.post(reverse("admin:orders_shipment_correct", args=[shipment.pk]), {
        "carrier": "UPS", "tracking_number": "1ZNEW", "ship_date": far.isoformat()})
    html = response.content.decode()
    message = f"The ship date {far} is more than 90 days ahead: choose a date from"
    assert response.status_code == 200 and message in html and html.index(message) < html.index('name="ship_date"')
    shipment.refresh_from_db()
    assert shipment.ship_date == old_day and [c.field for c in ShipmentChange.objects.all()] == ["tracking_number"]
    # and update_shipment says so in one line
    with pytest.raises(CommandError, match=r"^the ship date .* is more than 90 days ahead"):
        update_shipment(shipment.pk, "--ship-date", far.isoformat())


@pytest.mark.parametrize("values, message", [
    ({"carrier": ""}, "a shipment needs a carrier"),
    ({"carrier": "   ", "tracking_number": "1ZNEW"}, "a shipment needs a carrier"),
    ({"ship_date": "2024-13-45"}, "the ship date must be a date like 2024-05-31 (got '2024-13-45')"),
    ({"ship_date": " ", "tracking_number": "1ZNEW"}, "the ship date must be a date like 2024-05-31"),
    ({"tracking_number": "9" * 101}, "the tracking number is too long (101 characters, at most 100)"),
])
def test_bad_input_is_refused_with_nothing_changed(shop, committed, values, message):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    with pytest.raises(ShippingError) as refused:
        committed(shipment_update, shipment=shipment, **values)
    assert message in str(refused.value)
    shipment.refresh_from_db()
    assert (shipment.carrier, shipment.tracking_number) == ("UPS", "1ZOLD") and history(shipment) == []
    assert len(sandbox.state.notices) == 1


def test_a_notification_being_delivered_right_now_is_not_corrected_under_it(shop, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks():
        shipment = shipment_create(order=order, carrier="UPS", tracking_number="1ZOLD")
    StoreNotification.objects.filter(shipment=shipment).update(
        claim_token="x", claimed_until=timezone.now() + dt.timedelta(minutes=5))
    with pytest.raises(ShippingError, match="right now: correct it once the notification's outcome is known"):
        shipment_update(shipment=shipment, tracking_number="1ZNEW")
    assert history(shipment) == []


def test_a_shipment_made_without_notifying_the_store_is_corrected_here_only(shop, committed):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", notify_store=False)
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW")
    assert result.store.state == StoreCorrection.NOT_REQUESTED and sandbox.state.notices == []
    with pytest.raises(ShippingError, match="there is no store notification to correct"):
        shipment_update(shipment=shipment, tracking_number="1ZOTHER", notify_store=True)


# --- stores that take no correction: QuickBooks Commerce, Acumatica --------------------------


def test_every_connector_says_whether_it_takes_corrections_and_why_not():
    for name in CONNECTOR_NAMES:
        cls = get_connector_class(name)
        assert cls.accepts_corrections or cls.correction_refusal_reason, name
    assert get_connector_class("custom_store").accepts_corrections
    assert not get_connector_class("quickbooks_commerce").accepts_corrections
    assert get_connector_class("acumatica").correction_refusal_reason == ACUMATICA_KEEPS


@QBC
def test_quickbooks_commerce_keeps_the_old_number_and_is_sent_nothing(shop, committed):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW")
    assert result.store.state == StoreCorrection.NOT_SENT
    assert result.store.message == (
        "QuickBooks Commerce will keep the old tracking number 1ZOLD: it refuses a second fulfilment of the same "
        "items. Correct it in QuickBooks Commerce by hand.")
    assert tracking_numbers(sandbox) == ["1ZOLD"]


def test_acumatica_is_sent_nothing_and_the_service_says_why_before_and_after(acumatica, committed):
    sandbox, nbr, shipment = acumatica
    requests_before = len(sandbox.state.requests)
    expected = (f"Acumatica will keep the old tracking number 1ZOLD: {ACUMATICA_KEEPS}. "
                "Correct it in Acumatica by hand.")
    # Before saving: a dry run says the store keeps the old number and why; nothing is written
    preview = shipment_update(shipment=shipment, tracking_number="1ZNEW", dry_run=True)
    assert not preview.saved and preview.store.state == StoreCorrection.NOT_SENT
    assert preview.store.message == expected and history(shipment) == []
    # Asking to notify it anyway is refused, nothing changed
    with pytest.raises(StoreForbids, match="Acumatica cannot take a correction"):
        shipment_update(shipment=shipment, tracking_number="1ZNEW", notify_store=True)
    # After saving: the same words, kept in the history; Acumatica is not called
    result = committed(shipment_update, shipment=shipment, tracking_number="1ZNEW")
    assert result.saved and result.store.message == expected
    assert history(shipment) == [("tracking_number", "1ZOLD", "1ZNEW", "not_sent")]
    assert ShipmentChange.objects.get(shipment=shipment).store_note == expected
    assert len(sandbox.state.requests) == requests_before
    assert [p["TrackingNbr"] for p in sandbox.state.packages(nbr)] == ["1ZOLD"]
    notification = StoreNotification.objects.get(shipment=shipment)
    assert notification.status == NotificationStatus.SENT and notification.attempts == 1


# --- manage.py update_shipment ---------------------------------------------------------------


def update_shipment(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("update_shipment", *[str(a) for a in args], stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_update_shipment_prints_the_shipment_with_its_notification_state(shop, committed,
                                                                         django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    with django_capture_on_commit_callbacks() as queued:
        result, warnings = update_shipment(shipment.pk, "--tracking", "1ZNEW", "--ship-date", SHIP_DAY.isoformat())
    assert warnings == "" and len(queued) == 1
    assert result["shipment"]["id"] == shipment.pk and result["shipment"]["tracking_number"] == "1ZNEW"
    assert result["shipment"]["ship_date"] == SHIP_DAY.isoformat()
    assert result["shipment"]["notification"] == {"status": "pending", "error": None}
    assert result["changes"][0] == {"field": "tracking_number", "old": "1ZOLD", "new": "1ZNEW"}
    assert result["store_correction"] == "queued" and result["package"] == []
    for callback in queued:  # the (eager) worker delivers it
        callback()
    assert tracking_numbers(sandbox) == ["1ZOLD", "1ZNEW"]
    # the same values again: nothing changed
    result, _ = update_shipment(shipment.pk, "--tracking", "1ZNEW")
    assert result["changes"] == [] and result["store_correction"] == "unchanged"


def test_update_shipment_on_acumatica_says_why_before_and_after(acumatica):
    sandbox, nbr, shipment = acumatica
    result, warnings = update_shipment(shipment.pk, "--tracking", "1ZNEW")
    assert warnings.startswith(f"warning: shipment {shipment.pk}: Acumatica will keep the old tracking number 1ZOLD")
    assert result["store_correction"] == "not_sent"
    assert ACUMATICA_KEEPS in result["store_correction_reason"]
    assert "Correct it in Acumatica by hand" in result["store_correction_reason"]
    assert result["shipment"]["notification"] == {"status": "sent", "error": None}


def test_update_shipment_no_notify_sends_nothing(shop, committed):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    result, warnings = update_shipment(shipment.pk, "--carrier", "DHL", "--no-notify")
    assert result["store_correction"] == "not_sent" and "(as asked)" in warnings
    assert len(sandbox.state.notices) == 1


@pytest.mark.parametrize("args, message", [
    (["{id}", "--ship-date", "31/05/2024"], "--ship-date expects YYYY-MM-DD, got '31/05/2024'"),
    (["{id}", "--carrier", ""], "a shipment needs a carrier"),
    (["{id}"], "nothing to correct: give --carrier, --service, --tracking or --ship-date"),
    (["999999", "--tracking", "X"], "no shipment with id '999999'"),
    (["{void}", "--tracking", "X"], "is void: it cannot be corrected"),
])
def test_update_shipment_errors_are_one_line_with_nothing_changed(shop, committed, args, message):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    void = shipment_void(shipment=shipment_create(order=order, carrier="UPS", notify_store=False))
    with pytest.raises(CommandError) as refused:
        update_shipment(*[a.format(id=shipment.pk, void=void.pk) for a in args])
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not ShipmentChange.objects.exists()
    assert set(Shipment.objects.values_list("tracking_number", flat=True)) == {"1ZOLD", ""}


def test_update_shipment_from_the_shell(sandboxes, tmp_path):
    # Given a ShipBridge of its own (a SQLite database in tmp_path) that imported and shipped an
    # order of a sandbox Custom Store, each step a real manage.py process
    sandbox = sandboxes("custom_store", orders=0)
    order = sandbox.state.add_order(lines=order_lines("L0"), when=sandbox.state.now() - dt.timedelta(minutes=5))
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["SHIPBRIDGE_VAR_DIR"] = str(tmp_path)

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *map(str, args)], capture_output=True, text=True,
                              env=env, timeout=120)

    def last_line(result):
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    assert manage("migrate", "-v0").returncode == 0
    settings = [arg for key, value in store_settings(sandbox).items() for arg in ("--set", f"{key}={value}")]
    store_id = last_line(manage("add_store", "--connector", "custom_store", "--name", "Shell shop", *settings))
    last_line(manage("refresh_store", store_id, "--wait"))
    shipped = json.loads(last_line(manage("ship_order", store_id, order.order_number, "--carrier", "UPS",
                                          "--tracking", "1ZOLD", "--wait")))
    assert shipped["notification"]["status"] == "sent" and tracking_numbers(sandbox) == ["1ZOLD"]
    # When the tracking number is corrected: exit 0, the JSON last, the notice queued for the worker
    corrected = manage("update_shipment", shipped["shipment"], "--tracking", "1ZNEW")
    result = json.loads(last_line(corrected))
    assert result["shipment"]["tracking_number"] == "1ZNEW" and result["store_correction"] == "queued"
    assert result["shipment"]["notification"] == {"status": "pending", "error": None}
    queued = [p.read_text() for p in (tmp_path / "broker" / "out").iterdir()]
    assert len(queued) == 1 and "orders.tasks.notify_store" in queued[0]
    # And bad input: a non-zero exit, one line, no traceback, nothing changed
    refused = manage("update_shipment", shipped["shipment"], "--ship-date", "tomorrow")
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == ["CommandError: --ship-date expects YYYY-MM-DD, got 'tomorrow'"]


# --- the admin: the Correct page -------------------------------------------------------------


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_correct_page_warns_before_and_after_that_acumatica_keeps_the_old_number(acumatica, admin_client_su):
    sandbox, nbr, shipment = acumatica
    url = reverse("admin:orders_shipment_correct", args=[shipment.pk])
    # The shipment page and the order's shipments link to the Correct page
    for page in (reverse("admin:orders_shipment_change", args=[shipment.pk]),
                 reverse("admin:orders_order_change", args=[shipment.order_id])):
        assert url in admin_client_su.get(page).content.decode()
    # GET: the warning, before the user confirms; no "send the correction" choice
    html = admin_client_su.get(url).content.decode()
    assert 'id="store-correction-warning"' in html and escape(ACUMATICA_KEEPS) in html
    assert "Correct it in Acumatica by hand" in html and "1ZOLD" in html
    assert 'name="notify_store"' not in html and 'value="1ZOLD"' in html
    # POST: saved, and the page says the same after
    response = admin_client_su.post(url, {"carrier": "UPS", "service": "", "tracking_number": "1ZNEW",
                                          "ship_date": shipment.ship_date.isoformat()}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:orders_shipment_change", args=[shipment.pk])
    [message] = messages_of(response)
    assert message.startswith(f"Shipment {shipment.pk} corrected (tracking number 1ZOLD → 1ZNEW).")
    assert f"Acumatica will keep the old tracking number 1ZOLD: {ACUMATICA_KEEPS}" in message
    # and the history shows on the shipment page: who, old → new
    html = response.content.decode()
    assert "history (corrections)" in html.lower() and "1ZNEW" in html and "root" in html
    assert [(c.changed_by.username, c.old_value, c.new_value) for c in ShipmentChange.objects.all()] == [
        ("root", "1ZOLD", "1ZNEW")]
    assert [p["TrackingNbr"] for p in sandbox.state.packages(nbr)] == ["1ZOLD"]


def test_the_correct_page_offers_to_send_the_correction_to_a_custom_store(shop, committed, admin_client_su,
                                                                         django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZOLD")
    url = reverse("admin:orders_shipment_correct", args=[shipment.pk])
    html = admin_client_su.get(url).content.decode()
    assert 'id="store-correction"' in html and 'name="notify_store"' in html and "checked" in html
    form = {"carrier": "UPS", "tracking_number": "1ZNEW", "ship_date": shipment.ship_date.isoformat()}
    # a bad value re-shows the form, nothing changed
    response = admin_client_su.post(url, {**form, "carrier": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert history(shipment) == []
    # ticked: sent to the store after the commit
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(url, {**form, "notify_store": "on"}, follow=True)
    assert any("new shipment notice" in m for m in messages_of(response))
    assert tracking_numbers(sandbox) == ["1ZOLD", "1ZNEW"]
    # unticked: corrected here only, and the page says the store keeps the old number
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(url, {**form, "tracking_number": "1ZTHIRD"}, follow=True)
    assert any("will keep the old tracking number 1ZNEW" in m for m in messages_of(response))
    assert tracking_numbers(sandbox) == ["1ZOLD", "1ZNEW"]


def test_the_correct_page_of_a_void_shipment_says_it_cannot_be_corrected(shop, admin_client_su):
    sandbox, store, order = shop
    shipment = shipment_void(shipment=shipment_create(order=order, carrier="UPS", notify_store=False))
    response = admin_client_su.get(reverse("admin:orders_shipment_correct", args=[shipment.pk]), follow=True)
    assert messages_of(response) == [f"Shipment {shipment.pk} is void: it cannot be corrected."]
    assert reverse("admin:orders_shipment_correct", args=[shipment.pk]) not in response.content.decode()


# --- shipping again after a void --------------------------------------------------------------


def ship_page(client, order):
    return client.get(reverse("admin:orders_order_ship", args=[order.pk])).content.decode()


def notify_box_ticked(html):
    box = html[html.index('name="notify_store"'):]
    return "checked" in box[:box.index(">")]


def test_after_a_void_acumatica_ship_form_leaves_notify_unticked_with_the_advice(acumatica, committed,
                                                                                 admin_client_su):
    # Given an Acumatica order notified, then voided (Acumatica is not told: it stays confirmed)
    sandbox, nbr, shipment = acumatica
    shipment_void(shipment=shipment)
    # When the Ship form is opened again: "notify the store" is unticked, the advice said
    html = ship_page(admin_client_su, shipment.order)
    assert not notify_box_ticked(html)
    assert 'id="repeat-notification-advice"' in html and f"shipment #{shipment.pk}" in html
    assert "correct the tracking number in Acumatica by hand" in html
    # and shipping it again with "notify the store" anyway is skipped with that advice, never a raw 422
    again = committed(shipment_create, order=shipment.order, carrier="UPS", tracking_number="1ZNEW")
    notification = StoreNotification.objects.get(shipment=again)
    assert notification.status == NotificationStatus.SKIPPED and notification.advice == REPEAT_ADVICE
    assert [p["TrackingNbr"] for p in sandbox.state.packages(nbr)] == ["1ZOLD"]


@QBC
def test_after_a_void_quickbooks_commerce_ship_form_gives_its_advice(shop, committed, admin_client_su):
    sandbox, store, order = shop
    shipment_void(shipment=committed(shipment_create, order=order, carrier="UPS"))
    html = ship_page(admin_client_su, order)
    assert not notify_box_ticked(html) and 'id="repeat-notification-advice"' in html
    assert escape(QBC_ADVICE) in html


def test_after_a_void_a_custom_store_ship_form_still_notifies(shop, committed, admin_client_su):
    sandbox, store, order = shop
    shipment_void(shipment=committed(shipment_create, order=order, carrier="UPS"))
    html = ship_page(admin_client_su, order)
    assert notify_box_ticked(html) and 'id="repeat-notification-advice"' not in html


# --- Acumatica's refusal of a confirmed shipment, in words ----------------------------------


def test_acumatica_refusing_a_confirmed_shipment_is_shown_with_its_advice(sandboxes, committed, admin_client_su):
    # Given a shipment confirmed in Acumatica by someone else after the import
    sandbox = sandboxes("acumatica", shipments=0)
    nbr, order = import_acumatica(sandbox, packages=1)
    sandbox.state.modify_shipment(nbr, Status="Confirmed")
    # When it is shipped here and Acumatica refuses the tracking number with a 422
    shipment = committed(shipment_create, order=order, carrier="UPS", tracking_number="1ZLATE")
    notification = StoreNotification.objects.get(shipment=shipment)
    assert notification.status == NotificationStatus.FAILED
    assert "The Packages grid cannot be changed because the shipment has the Confirmed status" in notification.error
    # Then the advice says what it means and what to do, on the order page too
    assert notification.advice == (
        "The shipment is already confirmed in Acumatica, so its packages are locked: correct the tracking number "
        "there by hand, or ship without notifying the store.")
    html = admin_client_su.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "already confirmed in Acumatica" in html


def test_acumatica_recognises_only_its_locked_packages_refusal():
    cls = get_connector_class("acumatica")
    canceled = StoreRejected("Acumatica refused the request (HTTP 422): …", status_code=422, body=json.dumps(
        {"Packages": [{"error": "The Packages grid cannot be changed because the shipment has the Canceled status."}]}))
    assert cls.refusal_advice(canceled).startswith("The shipment is already canceled in Acumatica")
    other = StoreRejected("Acumatica refused the request (HTTP 422): The package cannot be found.", status_code=422,
                          body='{"error": "The package x cannot be found in the shipment."}')
    assert cls.refusal_advice(other) == ""
