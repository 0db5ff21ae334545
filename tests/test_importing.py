"""Import engine over loopback HTTP against the sandbox Custom Store / QuickBooks Commerce feed."""
import datetime as dt
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.importing import StoreBusy, _lease_acquire, stores_refresh_due, store_refresh
from orders.models import ImportRun, Order, OrderItem, Product
from stores.models import OrderStatus, Store
from stores.sandbox.customstore import store_settings
from stores.services import store_create
from tests.utils import expected_orders, sandbox_store

CUSTOM_MAPPING = {"paid": "awaiting_shipment", "unpaid": "awaiting_payment", "shipped": "shipped",
                  "cancelled": "cancelled"}  # on-hold deliberately left unmapped


pytestmark = [pytest.mark.usefixtures("fast_retries"), pytest.mark.sandbox("custom_store", orders=150, seed=3)]


def make_store(sandbox, *, mapping=CUSTOM_MAPPING, **options):
    return sandbox_store(sandbox, **{"name": "Shop", "status_mapping": mapping, **options})


@pytest.mark.django_db
def test_imports_exactly_mapped_orders_with_an_address_fields_intact(sandbox):
    store = make_store(sandbox)
    run = store_refresh(store_id=store.pk)

    assert run.status == "succeeded", run.error
    wanted = expected_orders(sandbox.state, CUSTOM_MAPPING)
    assert 0 < len(wanted) < len(sandbox.state.orders)
    assert set(Order.objects.values_list("external_id", flat=True)) == set(wanted)
    assert run.imported == len(wanted) and run.updated == 0
    assert run.skipped == len(sandbox.state.orders) - len(wanted)

    # fields intact: pick an order with a company / notes carrying &, < or ]]>
    tricky = next(o for o in wanted.values() if any(c in (o.ship_to.get("Company") or "") for c in "&<]"))
    order = Order.objects.get(external_id=tricky.order_id)
    assert order.order_number == tricky.order_number
    assert order.ship_to_company == tricky.ship_to["Company"]
    assert order.ship_to_city == tricky.ship_to["City"]
    assert order.status == CUSTOM_MAPPING[tricky.status] and order.store_status == tricky.status
    assert order.order_date == tricky.order_date and order.modified_at == tricky.last_modified
    items = list(order.items.order_by("id"))
    assert [(i.line_item_id, i.sku, i.name, i.quantity, i.adjustment) for i in items] == [
        (line.line_item_id, line.sku, line.name, line.quantity, line.adjustment) for line in tricky.lines
    ]


@pytest.mark.django_db
def test_reimport_creates_no_duplicates_and_rewrites_nothing(sandbox):
    store = make_store(sandbox)
    first = store_refresh(store_id=store.pk)
    stamps = dict(Order.objects.values_list("external_id", "updated_at"))
    item_ids = set(OrderItem.objects.values_list("id", flat=True))

    second = store_refresh(store_id=store.pk, since=timezone.now() - dt.timedelta(days=30))

    assert second.status == "succeeded"
    assert second.imported == 0 and second.updated == 0 and second.unchanged == first.imported
    assert dict(Order.objects.values_list("external_id", "updated_at")) == stamps
    assert set(OrderItem.objects.values_list("id", flat=True)) == item_ids


@pytest.mark.django_db
def test_store_changes_update_the_order_but_shipped_here_is_not_moved_back(sandbox):
    store = make_store(sandbox)
    store_refresh(store_id=store.pk)
    paid = [o for o in expected_orders(sandbox.state, CUSTOM_MAPPING).values() if o.status == "paid"]
    cancelled_in_store, shipped_here = paid[0], paid[1]
    from orders.models import Shipment

    here = Order.objects.get(external_id=shipped_here.order_id)
    Shipment.objects.create(order=here, carrier="UPS", ship_date=dt.date.today(), notify_store=False)
    Order.objects.filter(pk=here.pk).update(status=OrderStatus.SHIPPED)

    sandbox.state.set_status(cancelled_in_store.order_id, "cancelled")
    sandbox.state.update_order(shipped_here.order_id, customer_notes="call before delivery")  # still "paid"
    run = store_refresh(store_id=store.pk)

    assert run.updated == 2 and run.imported == 0
    assert Order.objects.get(external_id=cancelled_in_store.order_id).status == OrderStatus.CANCELLED
    kept = Order.objects.get(external_id=shipped_here.order_id)
    assert kept.status == OrderStatus.SHIPPED and kept.customer_notes == "call before delivery"


@pytest.mark.django_db
def test_skipped_orders_are_listed_with_their_reason(sandbox):
    store = make_store(sandbox)
    run = store_refresh(store_id=store.pk)
    reasons = {r["external_id"]: r["reason"] for r in run.skip_reasons}
    on_hold = [o for o in sandbox.state.orders.values() if o.status == "on-hold"]
    no_address = [o for o in sandbox.state.orders.values() if o.ship_to is None and o.status in CUSTOM_MAPPING]
    no_city = [o for o in sandbox.state.orders.values()
               if o.ship_to and not o.ship_to.get("City") and o.status in CUSTOM_MAPPING]
    assert on_hold and no_address and no_city
    assert all(reasons[o.order_id] == "store status 'on-hold' is not mapped" for o in on_hold)
    assert all(reasons[o.order_id] == "no complete shipping address (missing: shipping address)" for o in no_address)
    assert all("missing: city" in reasons[o.order_id] for o in no_city)
    assert len(run.skip_reasons) == run.skipped


@pytest.mark.django_db
def test_a_503_on_one_page_is_survived(sandbox):
    store = make_store(sandbox)
    sandbox.state.fail_next(1, 503, page=2)
    run = store_refresh(store_id=store.pk)
    assert run.status == "succeeded" and run.pages == 2
    assert Order.objects.count() == len(expected_orders(sandbox.state, CUSTOM_MAPPING))
    assert [r.status for r in sandbox.state.export_requests() if r.params.get("page") == ["2"]][:2] == [503, 200]


@pytest.mark.django_db
def test_stock_location_restriction_is_honoured(sandboxes):
    qbc = sandboxes("quickbooks_commerce", orders=120)
    store = store_create(connector="quickbooks_commerce", name="QBC",
                         settings=store_settings(qbc, stock_location_id="4102"))
    run = store_refresh(store_id=store.pk)
    mapping = store.status_map()
    in_location = {oid for oid, o in expected_orders(qbc.state, mapping).items() if o.stock_location_id == "4102"}
    assert run.status == "succeeded" and in_location
    assert set(Order.objects.values_list("external_id", flat=True)) == in_location
    # the feed sends purchase-order numbers; ShipBridge imports none of them, anywhere
    po_numbers = {qbc.state.get(oid).po_number for oid in in_location}
    assert all(po_numbers)
    for order in Order.objects.all():
        stored = json.dumps([str(getattr(order, f.attname)) for f in Order._meta.concrete_fields]
                            + [order.raw], ensure_ascii=False, default=str)
        assert not any(po in stored for po in po_numbers), order.order_number
    assert all(r.params.get("stock_location_id[]") == ["4102"] for r in qbc.state.export_requests())


@pytest.mark.django_db
def test_products_created_and_updated_from_order_lines(sandbox):
    store = make_store(sandbox, create_products=True, update_products=True)
    store_refresh(store_id=store.pk)
    skus = set(OrderItem.objects.filter(adjustment=False).values_list("sku", flat=True))
    assert skus and set(Product.objects.filter(merchant=store.merchant).values_list("sku", flat=True)) == skus
    product = Product.objects.get(sku="TEA-001")
    assert product.name == "Tea & Biscuits gift box" and product.weight_grams == 850


@pytest.mark.django_db
def test_cursor_moves_after_success_and_next_window_overlaps(sandbox, settings):
    store = make_store(sandbox)
    store_refresh(store_id=store.pk)
    store.refresh_from_db()
    cursor = store.import_cursor
    assert cursor is not None

    sandbox.state.serve_html(1)
    failed = store_refresh(store_id=store.pk)
    store.refresh_from_db()
    assert failed.status == "failed" and store.import_cursor == cursor  # not moved by a failure
    assert store.last_refresh_status == "failed" and store.last_refresh_error == failed.error and store.active

    run = store_refresh(store_id=store.pk)
    assert run.window_start == cursor - dt.timedelta(minutes=settings.SHIPBRIDGE_IMPORT_OVERLAP_MINUTES)
    start_param = sandbox.state.export_requests()[-1].params["start_date"][0]
    assert start_param == run.window_start.strftime("%m/%d/%Y %H:%M")


@pytest.mark.django_db
@pytest.mark.parametrize("fault, words", [
    (lambda s, settings: s.serve_html(1), "HTML"),
    (lambda s, settings: s.serve_truncated_xml(1), "XML"),
    (lambda s, settings: s.serve_xml_bomb(1), "entit"),
    (lambda s, settings: s.serve_external_entity(1), "entit"),
    (lambda s, settings: (setattr(settings, "SHIPBRIDGE_MAX_REPLY_BYTES", 200_000), s.serve_oversized(300_000)),
     "larger than"),
    (lambda s, settings: s.serve_empty(1), "empty"),
])
def test_hostile_replies_end_the_run_failed_with_a_clear_message(sandbox, settings, fault, words):
    store = make_store(sandbox)
    fault(sandbox.state, settings)
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed"
    assert words.lower() in run.error.lower(), run.error
    assert "\n" not in run.error and "Traceback" not in run.error
    assert Order.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["OrderDate", "OrderTotal", "Quantity"])
def test_one_unreadable_order_is_skipped_with_its_reason_and_the_others_import(sandbox, field):
    # Given a page whose first order carries an invalid value
    store = make_store(sandbox)
    sandbox.state.serve_invalid_values(field, count=None)
    # When the store is imported
    run = store_refresh(store_id=store.pk)
    # Then the run succeeds, the bad order is listed with the field named, the others are in
    assert run.status == "succeeded", run.error
    bad = [r for r in run.skip_reasons if field in r["reason"]]
    assert len(bad) == run.pages and all(r["order_number"] for r in bad)
    wanted = expected_orders(sandbox.state, CUSTOM_MAPPING)
    assert Order.objects.count() == len(set(wanted) - {r["external_id"] for r in bad}) > 0
    store.refresh_from_db()
    assert store.import_cursor is not None  # the store is not stuck on that order


@pytest.mark.django_db
def test_a_broken_later_page_keeps_earlier_pages(sandbox):
    store = make_store(sandbox)
    sandbox.state.serve_truncated_xml(1, page=2)
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed" and run.pages == 1
    assert 0 < Order.objects.count() == run.imported


@pytest.mark.django_db
def test_since_later_than_the_cursor_does_not_move_the_cursor(sandbox):
    store = make_store(sandbox)
    store_refresh(store_id=store.pk)
    store.refresh_from_db()
    old_cursor = store.import_cursor
    Store.objects.filter(pk=store.pk).update(import_cursor=old_cursor - dt.timedelta(days=3))

    run = store_refresh(store_id=store.pk, since=timezone.now() - dt.timedelta(hours=1))

    store.refresh_from_db()
    assert run.status == "succeeded"
    assert store.import_cursor == old_cursor - dt.timedelta(days=3)  # the three days are still to import
    assert store_refresh(store_id=store.pk).window_start < old_cursor - dt.timedelta(days=3)


@pytest.mark.django_db
def test_lines_without_a_line_id_are_matched_not_duplicated_after_a_shipment(sandbox):
    from orders.models import Shipment, ShipmentItem
    from stores.sandbox.customstore import SandboxLine
    from decimal import Decimal

    store = make_store(sandbox)
    lines = [SandboxLine("", "MUG-BLU", "Mug", 2, Decimal("12.50")),
             SandboxLine("", "MUG-BLU", "Mug", 1, Decimal("12.50")),
             SandboxLine("", "TEA-001", "Tea", 1, Decimal("19.90"))]
    sandbox_order = sandbox.state.add_order(status="paid", lines=lines)
    store_refresh(store_id=store.pk)
    order = Order.objects.get(external_id=sandbox_order.order_id)
    first_mug = order.items.order_by("id").first()
    shipment = Shipment.objects.create(order=order, carrier="UPS", ship_date=dt.date.today(), notify_store=False)
    ShipmentItem.objects.create(shipment=shipment, order_item=first_mug, quantity=1)

    sandbox.state.update_order(sandbox_order.order_id, customer_notes="leave at the door")
    run = store_refresh(store_id=store.pk)

    assert run.updated == 1
    items = list(order.items.order_by("id").values_list("sku", "quantity"))
    assert items == [("MUG-BLU", 2), ("MUG-BLU", 1), ("TEA-001", 1)]
    assert order.items.order_by("id").first().pk == first_mug.pk


@pytest.mark.django_db
def test_an_order_imported_as_shipped_can_be_reopened_by_the_store(sandbox):
    store = make_store(sandbox)
    sandbox_order = sandbox.state.add_order(status="shipped")
    store_refresh(store_id=store.pk)
    assert Order.objects.get(external_id=sandbox_order.order_id).status == OrderStatus.SHIPPED
    sandbox.state.set_status(sandbox_order.order_id, "paid")  # no shipment here: the store decides
    store_refresh(store_id=store.pk)
    assert Order.objects.get(external_id=sandbox_order.order_id).status == OrderStatus.AWAITING_SHIPMENT


@pytest.mark.django_db
def test_an_inactive_store_does_not_import(sandbox):
    from orders.importing import StoreInactive
    from orders.tasks import refresh_store

    store = make_store(sandbox)
    Store.objects.filter(pk=store.pk).update(active=False)
    with pytest.raises(StoreInactive):
        store_refresh(store_id=store.pk)
    assert refresh_store(store.pk) == "unavailable"  # a task queued before deactivation
    assert refresh_store(987654) == "gone"  # a task for a store deleted since
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("refresh_store", str(store.pk), "--wait", stdout=out)
    assert "inactive" in json.loads(out.getvalue().strip().splitlines()[-1])["error"]
    assert not ImportRun.objects.exists() and not Order.objects.exists()
    assert stores_refresh_due() == []


@pytest.mark.django_db
def test_a_run_abandoned_by_a_dead_worker_is_closed_by_the_next_one(sandbox):
    from orders.importing import ABANDONED_RUN_ERROR

    store = make_store(sandbox)
    dead = ImportRun.objects.create(store=store, trigger="schedule", started_at=timezone.now())
    run = store_refresh(store_id=store.pk)
    dead.refresh_from_db()
    assert dead.status == "failed" and dead.error == ABANDONED_RUN_ERROR and dead.finished_at
    assert run.status == "succeeded"


@pytest.mark.django_db
def test_a_run_that_lost_its_lease_stops(sandbox, settings):
    store = make_store(sandbox)
    import orders.importing as importing

    original = importing.apply_page

    def slow_page(**kwargs):  # meanwhile the lease runs out and another run takes the store
        original(**kwargs)
        Store.objects.filter(pk=store.pk).update(lease_token="someone-else")

    importing.apply_page = slow_page
    try:
        run = store_refresh(store_id=store.pk)
    finally:
        importing.apply_page = original
    assert run.status == "failed" and "SHIPBRIDGE_IMPORT_LEASE_SECONDS" in run.error
    store.refresh_from_db()
    assert store.lease_token == "someone-else"  # the other run's lease is left alone


@pytest.mark.django_db
def test_test_store_command(sandbox, capsys):
    store = make_store(sandbox)
    out, err = io.StringIO(), io.StringIO()
    call_command("test_store", str(store.pk), stdout=out, stderr=err)
    assert out.getvalue().strip() == "ok" and "answered" in err.getvalue()
    bad = store_create(connector="custom_store", name="Wrong", settings=store_settings(sandbox, password="nope"))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="credentials"):
        call_command("test_store", str(bad.pk), stdout=io.StringIO())


@pytest.mark.django_db
def test_wrong_password_reads_as_a_credentials_error(sandbox):
    store = store_create(connector="custom_store", name="Shop",
                         settings=store_settings(sandbox, password="wrong"), status_mapping=CUSTOM_MAPPING)
    run = store_refresh(store_id=store.pk)
    assert run.status == "failed" and "credentials" in run.error


@pytest.mark.django_db
def test_unreachable_store_fails_and_stays_active(settings):
    settings.SHIPBRIDGE_RETRY_ATTEMPTS = 2
    store = store_create(connector="custom_store", name="Gone",
                         settings={"url": "http://127.0.0.1:9/store", "username": "u", "password": "p"})
    run = store_refresh(store_id=store.pk)
    store.refresh_from_db()
    assert run.status == "failed" and "cannot reach" in run.error
    assert store.active and store.last_refresh_status == "failed"


@pytest.mark.django_db
def test_a_held_lease_makes_another_refresh_report_busy(sandbox):
    store = make_store(sandbox)
    _lease_acquire(store.pk)  # another worker's run in progress
    with pytest.raises(StoreBusy):
        store_refresh(store_id=store.pk)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("refresh_store", str(store.pk), "--wait", stdout=out)
    assert exit_info.value.code == 1
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["status"] == "failed" and "busy" in summary["error"]
    # the lease has a TTL: a crashed worker's lease expires and the store imports again
    Store.objects.filter(pk=store.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert store_refresh(store_id=store.pk).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_started_together_one_runs_the_other_is_busy(sandbox):
    store = make_store(sandbox)
    entered, release = threading.Event(), threading.Event()
    original = sandbox.state.export_document

    def held_export(*args, **kwargs):  # the first run waits inside the store's reply
        entered.set()
        release.wait(20)
        return original(*args, **kwargs)

    sandbox.state.export_document = held_export
    outcome = {}

    def first():
        try:
            outcome["first"] = store_refresh(store_id=store.pk).status
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(20)
    with pytest.raises(StoreBusy):
        store_refresh(store_id=store.pk)
    release.set()
    thread.join(30)
    assert outcome["first"] == "succeeded"
    assert ImportRun.objects.filter(store=store).count() == 1


def _import_queries(sandboxes, n_orders, page_size=100):
    s = sandboxes("custom_store", orders=0, page_size=page_size)
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    for i in range(n_orders):
        s.state.add_order(status="paid", when=now - dt.timedelta(minutes=i % 500))
    store = make_store(s, name=f"Q{n_orders}-{page_size}", create_products=True, update_products=True)
    with CaptureQueriesContext(connection) as ctx:
        run = store_refresh(store_id=store.pk)
    assert run.status == "succeeded" and run.pages == -(-n_orders // page_size)
    return len(ctx.captured_queries), run


@pytest.mark.django_db
def test_queries_grow_by_a_constant_per_page_not_per_order(sandboxes):
    # Given feeds of 1, 3 and 5 pages of 100 orders, when each is imported into a fresh store,
    q1, run1 = _import_queries(sandboxes, 100)
    q3, run3 = _import_queries(sandboxes, 300)
    q5, run5 = _import_queries(sandboxes, 500)
    # then every page costs the same few statements (products add one insert the first time a
    # SKU is seen, hence the tolerance of one),
    assert abs((q5 - q3) - (q3 - q1)) <= 1, (q1, q3, q5)
    assert (q5 - q1) / 4 <= 10, (q1, q3, q5)
    assert run5.imported + run5.skipped == 500
    # and the cost of a page does not depend on how many orders it holds.
    q5_small, _ = _import_queries(sandboxes, 100, page_size=20)
    assert abs(q5_small - q5) <= 2, (q5_small, q5)
