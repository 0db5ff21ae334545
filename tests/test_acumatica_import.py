"""Acumatica imports end to end (store_refresh → connector → sandbox over loopback HTTP):
the two time-zone failures (a store clock in another zone, and its cure), release versions, status and address rules, sessions."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from orders.importing import store_refresh
from orders.models import Order
from stores.connectors.base import Address
from stores.models import OrderStatus, Store
from stores.services import store_create
from tests.utils import acumatica_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries")]
CHICAGO = "America/Chicago"
MAPPING = {"Open": "awaiting_shipment", "On Hold": "on_hold", "Completed": "shipped", "Confirmed": "shipped",
           "Canceled": "cancelled"}


def acumatica_store(sandbox, *, zone="UTC", release="2021 R2", name="ERP"):
    return store_create(
        connector="acumatica", name=name, timezone=zone, status_mapping=MAPPING,
        settings=acumatica_settings(sandbox, version=release),
    )


def shipment_address(shipment) -> Address:
    """The shipment's ship-to address, field by field as the Acumatica mapper reads it."""
    a = shipment["ShipToAddress"]
    return Address(street1=a.get("AddressLine1") or "", city=a.get("City") or "", state=a.get("State") or "",
                   postal_code=a.get("PostalCode") or "", country=(a.get("Country") or "").upper())


@pytest.mark.parametrize("release", ["2018 R2", "2021 R2"])
def test_imports_exactly_mapped_shipments_with_complete_addresses(sandboxes, release):
    sandbox = sandboxes("acumatica", release=release, shipments=40)
    store = acumatica_store(sandbox, release=release)

    run = store_refresh(store_id=store.pk)

    assert run.status == "succeeded", run.error
    wanted = {nbr for nbr, s in sandbox.state.shipments.items()
              if s["Status"] in MAPPING and s["Type"] == "Shipment" and s["Operation"] == "Issue"
              and not shipment_address(s).missing_fields()}
    assert wanted and set(Order.objects.values_list("external_id", flat=True)) == wanted
    incomplete = [r for r in run.skip_reasons if "no complete shipping address" in r["reason"]]
    assert incomplete, "the sandbox holds shipments with incomplete addresses: they are listed"
    order = Order.objects.filter(status=OrderStatus.AWAITING_SHIPMENT).first()
    assert order.order_number == order.external_id and order.items.exists()
    assert order.raw.get("packages") is not None  # kept for the write-back
    assert sandbox.state.open_sessions == 0


def test_with_the_zone_set_late_day_shipments_arrive_with_the_right_date(sandboxes):
    sandbox = sandboxes("acumatica", server_timezone=CHICAGO, shipments=0)
    store = acumatica_store(sandbox, zone=CHICAGO)
    assert store_refresh(store_id=store.pk).status == "succeeded"

    # Given a shipment created and modified a minute ago, in the server's Chicago wall time
    created = sandbox.state.now_wall() - dt.timedelta(minutes=1)
    nbr = sandbox.state.add_shipment(created_at=created, modified_at=created)
    # When the next scheduled refresh runs
    run = store_refresh(store_id=store.pk)
    # Then it is imported, dated right in UTC: the instant the server's Chicago wall time stands for
    assert run.imported == 1, run.skip_reasons
    order = Order.objects.get(external_id=nbr)
    assert order.order_date == created.replace(tzinfo=ZoneInfo(CHICAGO)).astimezone(dt.timezone.utc)
    assert sandbox.state.open_sessions == 0


def test_with_the_zone_left_at_utc_the_seed_failures_show(sandboxes):
    sandbox = sandboxes("acumatica", server_timezone=CHICAGO, shipments=0)
    store = acumatica_store(sandbox, zone="UTC")
    old = sandbox.state.now_wall() - dt.timedelta(days=2)
    first = sandbox.state.add_shipment(created_at=old, modified_at=old)
    assert store_refresh(store_id=store.pk).imported == 1
    # order dates shifted: Chicago wall time read as UTC lands 5 or 6 hours early
    order_date = Order.objects.get(external_id=first).order_date
    assert order_date == old.replace(tzinfo=dt.timezone.utc)
    shift = old.replace(tzinfo=ZoneInfo(CHICAGO)) - order_date
    assert shift == -old.replace(tzinfo=ZoneInfo(CHICAGO)).utcoffset()
    assert shift in (dt.timedelta(hours=5), dt.timedelta(hours=6))

    # late-day shipments missed: one modified now (Chicago wall) is older than the UTC-wall filter
    late = sandbox.state.now_wall() - dt.timedelta(minutes=1)
    missed = sandbox.state.add_shipment(created_at=late, modified_at=late)
    run = store_refresh(store_id=store.pk)
    assert run.status == "succeeded" and not Order.objects.filter(external_id=missed).exists()

    # once the zone is set, the next refresh finds it
    Store.objects.filter(pk=store.pk).update(timezone=CHICAGO, import_cursor=None)
    store_refresh(store_id=store.pk)
    assert Order.objects.filter(external_id=missed).exists()


def test_a_failed_login_fails_the_run_and_leaves_no_session(sandboxes):
    sandbox = sandboxes("acumatica", shipments=5)
    store = store_create(
        connector="acumatica", name="Wrong", status_mapping=MAPPING,
        settings=acumatica_settings(sandbox, password="nope", version="2021 R2"),
    )
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed" and "wrong username or password" in run.error
    assert sandbox.state.open_sessions == 0 and not Order.objects.exists()


def test_an_error_mid_import_fails_the_run_and_logs_out(sandboxes, settings):
    settings.SHIPBRIDGE_RETRY_ATTEMPTS = 2
    sandbox = sandboxes("acumatica", shipments=30)
    store = acumatica_store(sandbox)
    sandbox.state.fail_next(5, 503, path_contains="/Shipment")
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed" and "503" in run.error
    assert sandbox.state.open_sessions == 0
