"""`manage.py ship_order` (the README's contract) against the sandbox Custom Store:
the last line is JSON {"shipment": id, "notification": {"status", "error"}}; errors exit
non-zero with one line and save nothing."""
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders.models import Order, Shipment, StoreNotification
from stores.connectors.customstore.connector import QBC_ADVICE
from stores.models import OrderStatus
from stores.sandbox.customstore import QBC_FULFILLED_ERROR
from tests.utils import SHIP_DAY

# The shop: a sandbox QuickBooks Commerce store, one order awaiting shipment imported.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries"), pytest.mark.retries(notify_attempts=3),
              pytest.mark.shop("quickbooks_commerce")]


def ship_order(*args):
    out = io.StringIO()
    call_command("ship_order", *[str(a) for a in args], stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_wait_delivers_the_notification_here_and_prints_json(shop):
    sandbox, store, order = shop
    result = ship_order(store.pk, order.order_number, "--carrier", "UPS", "--service", "Ground",
                        "--tracking", "1Z999", "--ship-date", SHIP_DAY.isoformat(), "--wait")
    shipment = Shipment.objects.get()
    assert result == {"shipment": shipment.pk, "notification": {"status": "sent", "error": None}}
    assert (shipment.carrier, shipment.service, shipment.tracking_number, shipment.ship_date) == (
        "UPS", "Ground", "1Z999", SHIP_DAY)
    [notice] = sandbox.state.notices
    assert sorted(i["LineItemID"] for i in notice.items) == ["L0-1", "L0-2"]
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_wait_includes_retries(shop):
    sandbox, store, order = shop
    sandbox.state.fail_shipnotify(2, status=502)
    result = ship_order(store.pk, order.order_number, "--carrier", "UPS", "--wait")
    assert result["notification"] == {"status": "sent", "error": None}
    assert StoreNotification.objects.get().attempts == 3


def test_wait_reports_the_store_refusal_verbatim(shop):
    sandbox, store, order = shop
    sandbox.state.reject_shipnotify_422()
    result = ship_order(store.pk, order.order_number, "--carrier", "UPS", "--wait")
    assert result["notification"] == {"status": "failed", "error": QBC_FULFILLED_ERROR}
    assert StoreNotification.objects.get().advice == QBC_ADVICE


def test_no_notify_sends_nothing(shop):
    sandbox, store, order = shop
    result = ship_order(store.pk, order.order_number, "--carrier", "UPS", "--no-notify", "--wait")
    assert result == {"shipment": Shipment.objects.get().pk, "notification": {"status": "not_requested",
                                                                                "error": None}}
    assert sandbox.state.notices == [] and StoreNotification.objects.count() == 0


def test_without_wait_the_worker_delivers_it(shop, eager_celery, django_capture_on_commit_callbacks):
    sandbox, store, order = shop
    with django_capture_on_commit_callbacks() as queued:
        result = ship_order(store.pk, order.order_number, "--carrier", "UPS")
    assert result["notification"] == {"status": "pending", "error": None}
    assert sandbox.state.notices == []
    for callback in queued:  # the commit queues the task; the (eager) worker runs it
        callback()
    assert StoreNotification.objects.get().status == "sent" and len(sandbox.state.notices) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["999999", "X", "--carrier", "UPS"], "no store with id '999999'"),
        (["{store}", "NOPE", "--carrier", "UPS"], "has no order number 'NOPE'"),
        (["{store}", "{order}", "--carrier", "UPS", "--ship-date", "31/05/2024"], "--ship-date expects YYYY-MM-DD"),
        (["{store}", "{order}", "--carrier", " "], "a shipment needs a carrier"),
        (["{store}", "{order}"], "the following arguments are required: --carrier"),
    ],
)
def test_errors_exit_with_one_line_and_save_nothing(shop, args, message):
    sandbox, store, order = shop
    args = [a.format(store=store.pk, order=order.order_number) for a in args]
    with pytest.raises(CommandError) as exc:
        ship_order(*args)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert Shipment.objects.count() == 0 and sandbox.state.notices == []


def test_refusals_of_the_shipping_rules_are_one_line(shop):
    sandbox, store, order = shop
    ship_order(store.pk, order.order_number, "--carrier", "UPS", "--wait")
    with pytest.raises(CommandError) as exc:
        ship_order(store.pk, order.order_number, "--carrier", "UPS", "--wait")
    assert 'is already shipped: make an additional shipment with "do not notify the store"' in str(exc.value)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    with pytest.raises(CommandError, match="is cancelled: it cannot be shipped"):
        ship_order(store.pk, order.order_number, "--carrier", "UPS", "--no-notify")
    assert Shipment.objects.count() == 1 and len(sandbox.state.notices) == 1


def test_exit_status_and_no_traceback_from_the_shell(tmp_path):
    env = {**os.environ, "SHIPBRIDGE_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "ship_order", "1", "1001", "--carrier", "UPS", "--ship-date", "tomorrow"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["CommandError: --ship-date expects YYYY-MM-DD, got 'tomorrow'"]


def test_without_no_notify_the_stores_setting_decides(shop):
    # Given a store set not to be notified of shipments ("notify the store" off)
    sandbox, store, order = shop
    store.notify_store = False
    store.save(update_fields=["notify_store"])
    # When an order is shipped without --no-notify
    result = ship_order(store.pk, order.order_number, "--carrier", "UPS", "--wait")
    # Then the store is not notified, as its setting says
    shipment = Shipment.objects.get()
    assert result == {"shipment": shipment.pk, "notification": {"status": "not_requested", "error": None}}
    assert not shipment.notify_store and StoreNotification.objects.count() == 0
    assert sandbox.state.notices == []


def test_with_the_store_setting_on_the_store_is_notified(shop):
    # Given a store set to be notified (the default): shipping without --no-notify notifies it
    sandbox, store, order = shop
    assert store.notify_store
    result = ship_order(store.pk, order.order_number, "--carrier", "UPS", "--wait")
    assert result["notification"] == {"status": "sent", "error": None} and len(sandbox.state.notices) == 1
