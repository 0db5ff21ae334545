"""Never lose an order: orders skipped for a reason the merchant can fix come back by themselves
once it is fixed; `set_store` changes a store like `add_store` creates one; "Re-import from a
date" on the store page; schedules that keep time."""
import datetime as dt
import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from orders.importing import store_refresh, stores_refresh_due
from orders.models import ImportRun, Order
from stores.models import Store
from tests.utils import expected_orders, sandbox_store

pytestmark = pytest.mark.django_db

WRONG = {"Paid": "awaiting_shipment"}  # the store writes "paid": nothing matches
RIGHT = {"unpaid": "awaiting_payment", "paid": "awaiting_shipment", "shipped": "shipped", "cancelled": "cancelled",
         "on-hold": "on_hold"}


def refresh(store, **kwargs) -> ImportRun:
    run = store_refresh(store_id=store.pk, trigger="command", **kwargs)
    assert run.status == "succeeded", run.error
    return run


def imported_ids(store) -> list[str]:
    return sorted(Order.objects.filter(store=store).values_list("external_id", flat=True))


def test_a_fixed_mapping_brings_every_skipped_order_in_at_the_next_plain_refresh(sandboxes):
    # Given a store added with the wrong mapping: its first refresh imports nothing
    sandbox = sandboxes("custom_store", orders=80)
    store = sandbox_store(sandbox, status_mapping=WRONG)
    first = refresh(store)
    assert first.imported == 0 and first.skipped == 80 and first.warning.startswith("Attention: 80 orders skipped")
    store.refresh_from_db()
    oldest = min(o.last_modified for o in sandbox.state.orders.values())
    assert dt.timedelta(0) <= oldest - store.recover_from < dt.timedelta(minutes=1)  # the feed has minutes
    # and a refresh later, still wrong, does not reach back (nothing was fixed)
    assert refresh(store).window_start > oldest

    # When the mapping is fixed from the command line
    out = io.StringIO()
    call_command("set_store", str(store.pk), "--map-status", "paid=awaiting_shipment", "--unmap-status", "Paid",
                 *[f"--map-status={k}={v}" for k, v in RIGHT.items() if k != "paid"], stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == str(store.pk)

    # Then the next plain refresh imports every order skipped for that status, exactly once
    fixed = refresh(store)
    wanted = expected_orders(sandbox.state, RIGHT)
    assert imported_ids(store) == sorted(wanted) and fixed.imported == len(wanted) > 0
    store.refresh_from_db()
    assert store.recover_requested_at is None and store.last_refresh_warning.startswith("Attention: ")  # address skips remain
    again = refresh(store)
    assert again.imported == 0 and again.window_start > oldest  # done: later refreshes start from the cursor


def test_fixing_the_mapping_in_the_admin_does_the_same(sandboxes, admin_client_su):
    sandbox = sandboxes("custom_store", orders=30)
    store = sandbox_store(sandbox, status_mapping=WRONG)
    refresh(store)
    refresh(store)
    response = admin_client_su.post(reverse("admin:stores_store_change", args=[store.pk]), {
        "merchant": store.merchant_id, "name": store.name, "active": "on", "refresh_interval_minutes": "15",
        "timezone": "UTC",
        "notify_store": "on", "conn_platform": "", "conn_url": store.settings["url"],
        "conn_username": store.settings["username"],
        **{f"map_list_{status}": ", ".join(k for k, v in RIGHT.items() if v == status) for status in set(RIGHT.values())},
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    refresh(store)
    assert imported_ids(store) == sorted(expected_orders(sandbox.state, RIGHT))


def test_reach_back_is_bounded_by_the_first_refresh_reach(sandboxes, settings):
    settings.SHIPBRIDGE_FIRST_IMPORT_DAYS = 3
    sandbox = sandboxes("custom_store", orders=40)
    store = sandbox_store(sandbox, status_mapping=WRONG)
    refresh(store)
    call_command("set_store", str(store.pk), *[f"--map-status={k}={v}" for k, v in RIGHT.items()],
                 "--unmap-status", "Paid", stdout=io.StringIO())
    run = refresh(store)
    assert run.window_start >= timezone.now() - dt.timedelta(days=3, minutes=1)
    # the recovery is done even though older skips lie beyond the reach: no endless reaching back
    store.refresh_from_db()
    assert store.recover_requested_at is None
    assert refresh(store).window_start > timezone.now() - dt.timedelta(hours=1)


def test_a_mapping_change_during_a_refresh_is_not_lost(sandboxes, monkeypatch):
    sandbox = sandboxes("custom_store", orders=30)
    store = sandbox_store(sandbox, status_mapping=WRONG)
    refresh(store)
    store.refresh_from_db()
    from orders import importing

    original = importing.apply_page

    def change_mapping_meanwhile(**kwargs):
        original(**kwargs)
        call_command("set_store", str(store.pk), *[f"--map-status={k}={v}" for k, v in RIGHT.items()],
                     "--unmap-status", "Paid", stdout=io.StringIO())

    monkeypatch.setattr(importing, "apply_page", change_mapping_meanwhile)
    refresh(store)  # ran with the old mapping: the change it did not see still asks for a recovery
    monkeypatch.undo()
    store.refresh_from_db()
    assert store.recover_requested_at is not None
    refresh(store)
    assert imported_ids(store) == sorted(expected_orders(sandbox.state, RIGHT))


# --- set_store ------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--timezone", "Mars/Olympus"], "is not an IANA time zone name"),
    (["--set", "url=ftp://nowhere"], "setting 'url' must be an http:// or https:// address"),
    (["--set", "colour=blue"], "unknown setting 'colour'"),
    (["--map-status", "paid=sent"], "unknown internal status 'sent'"),
    (["--unmap-status", "paid"], "map at least one store status"),
    (["--unmap-status", "nope"], "store status 'nope' is not mapped"),
    (["--active", "maybe"], "--active expects true or false"),
    (["--name", "Other"], "already has a store named 'Other'"),
])
def test_set_store_refuses_bad_input_and_changes_nothing(sandboxes, args, message):
    sandbox = sandboxes("custom_store")
    store = sandbox_store(sandbox, status_mapping={"paid": "awaiting_shipment"})
    sandbox_store(sandbox, name="Other")
    before = Store.objects.filter(pk=store.pk).values().get()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("set_store", str(store.pk), *args, stdout=io.StringIO())
    assert Store.objects.filter(pk=store.pk).values().get() == before
    assert store.status_map() == {"paid": "awaiting_shipment"}


def test_set_store_changes_what_is_given_and_keeps_the_secret(sandboxes):
    sandbox = sandboxes("custom_store")
    store = sandbox_store(sandbox)
    secret, url = store.get_secrets(), store.settings["url"]
    call_command("set_store", str(store.pk), "--name", "Renamed", "--timezone", "Europe/Paris", "--active", "false",
                 "--set", "platform=woocommerce", stdout=io.StringIO())
    store.refresh_from_db()
    assert (store.name, store.timezone, store.active, store.settings["platform"]) == ("Renamed", "Europe/Paris",
                                                                                     False, "woocommerce")
    assert store.settings["url"] == url
    assert store.get_secrets() == secret


def test_set_store_from_the_shell_prints_one_line_on_error(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "set_store", "1", "--active", "maybe"],
                            capture_output=True, text=True,
                            env={**__import__("os").environ, "SHIPBRIDGE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["CommandError: --active expects true or false, got 'maybe'"]


# --- "Re-import from a date" -----------------------------------------------------------------


def test_reimport_from_a_date_on_the_store_page(sandboxes, admin_client_su, eager_celery,
                                               django_capture_on_commit_callbacks):
    sandbox = sandboxes("custom_store", orders=30)
    store = sandbox_store(sandbox)
    refresh(store)
    Order.objects.filter(store=store).delete()
    day = (timezone.now() - dt.timedelta(days=12)).date()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(reverse("admin:stores_store_reimport", args=[store.pk]),
                                        {"since": day.isoformat()})
    assert response.status_code == 302
    run = ImportRun.objects.filter(store=store).latest("started_at")
    assert run.trigger == "user" and run.window_start == dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)
    assert imported_ids(store) == sorted(expected_orders(sandbox.state, RIGHT))
    html = admin_client_su.get(reverse("admin:stores_store_change", args=[store.pk])).content.decode()
    assert 'id="reimport-form"' in html


@pytest.mark.parametrize("since, words", [("2001-01-01", "days back at most"), ("2999-01-01", "in the future"),
                                          ("soon", "Enter a valid date")])
def test_reimport_refuses_dates_out_of_reach(sandboxes, admin_client_su, eager_celery, since, words):
    store = sandbox_store(sandboxes("custom_store"))
    response = admin_client_su.post(reverse("admin:stores_store_reimport", args=[store.pk]), {"since": since},
                                    follow=True)
    assert words in response.content.decode() and not ImportRun.objects.filter(store=store).exists()


# --- schedules -------------------------------------------------------------------------------


def test_a_one_minute_store_is_due_at_every_tick_even_when_a_tick_runs_late(sandboxes):
    store = sandbox_store(sandboxes("custom_store"), refresh_interval_minutes=1)
    tick = timezone.now()
    for minute in range(5):  # ticks every minute, each run some hundreds of milliseconds late
        now = tick + dt.timedelta(minutes=minute, milliseconds=300 * (minute % 2))
        assert stores_refresh_due(now=now) == [store.pk], minute


def test_no_store_is_dispatched_twice_within_a_minute(sandboxes):
    store = sandbox_store(sandboxes("custom_store"), refresh_interval_minutes=1)
    now = timezone.now()
    assert stores_refresh_due(now=now) == [store.pk]
    assert stores_refresh_due(now=now + dt.timedelta(seconds=20)) == []


def test_after_a_manual_refresh_the_store_is_not_due_now(sandboxes, admin_client_su):
    store = sandbox_store(sandboxes("custom_store"))
    refresh(store)
    store.refresh_from_db()
    assert store.next_refresh_at > timezone.now() + dt.timedelta(minutes=14)
    html = admin_client_su.get(reverse("admin:stores_store_change", args=[store.pk])).content.decode()
    assert "due now" not in html
