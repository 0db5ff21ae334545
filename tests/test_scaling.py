"""What keeps the hot paths flat as data grows (the figures themselves are in bench/): the beat
tick's statements and publishes do not grow with the due stores, an unchanged order is told
without mapping it, the bulk writes convert each column once and agree with the ORM, and the
orders desk answers in the same queries whatever the number of orders, without listing the
distinct dates of the table."""
import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import importing, tasks
from orders.importing import _next_refresh, store_refresh, stores_queue_scheduled, stores_refresh_due
from orders.models import ImportRun, Order
from stores.connectors.base import SourceRecord
from stores.connectors.customstore import mapper
from stores.models import Store
from tests.factories import MerchantFactory, StoreFactory

pytestmark = pytest.mark.django_db

INTERVALS = [1, 2, 5, 15, 60, 1440]


def due_stores(count, merchant):
    stores = [StoreFactory.build(merchant=merchant, refresh_interval_minutes=INTERVALS[n % len(INTERVALS)])
              for n in range(count)]
    for store in stores:
        store.set_secrets({"password": "s3cret"})
    return Store.objects.bulk_create(stores)


def tick(now, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.refresh_stores, "delay") as fan_out, mock.patch.object(
            tasks.refresh_store, "delay") as one_store, mock.patch.object(tasks.refresh_store, "apply_async") as queued:
        with CaptureQueriesContext(connection) as statements:
            with django_capture_on_commit_callbacks(execute=True):
                picked = stores_refresh_due(now=now)
    assert not one_store.called and not queued.called  # never one publish per store inside the tick
    return picked, len(statements), fan_out


# --- the beat tick -----------------------------------------------------------------------------


def test_the_tick_moves_every_due_store_in_the_same_statements_and_publishes_once(django_capture_on_commit_callbacks):
    merchant = MerchantFactory()
    now = timezone.now().replace(microsecond=123456)
    few = due_stores(3, merchant)
    picked, few_statements, fan_out = tick(now, django_capture_on_commit_callbacks)
    assert picked == sorted(s.pk for s in few)
    fan_out.assert_called_once_with(picked, trigger="schedule")

    many = due_stores(240, merchant)
    later = now + dt.timedelta(days=2)  # every store is due again
    picked, many_statements, fan_out = tick(later, django_capture_on_commit_callbacks)
    assert picked == sorted(s.pk for s in [*few, *many])
    assert many_statements == few_statements <= 10
    fan_out.assert_called_once_with(picked, trigger="schedule")
    # each store's next refresh is where one store at a time would have put it, to the microsecond
    for store in Store.objects.filter(pk__in=picked):
        assert store.next_refresh_at == _next_refresh(store, later), store.refresh_interval_minutes
    # and no store is picked again before it is due
    picked, _, fan_out = tick(later + dt.timedelta(seconds=20), django_capture_on_commit_callbacks)
    assert picked == [] and not fan_out.called


def test_the_tick_leaves_inactive_stores_not_due_stores_and_manual_stores_alone(django_capture_on_commit_callbacks):
    merchant = MerchantFactory()
    now = timezone.now()
    due, inactive, later, manual = due_stores(4, merchant)
    Store.objects.filter(pk=inactive.pk).update(active=False)
    Store.objects.filter(pk=later.pk).update(next_refresh_at=now + dt.timedelta(minutes=3))
    Store.objects.filter(pk=manual.pk).update(connector="manual")
    picked, _, _ = tick(now, django_capture_on_commit_callbacks)
    assert picked == [due.pk]
    assert Store.objects.get(pk=later.pk).next_refresh_at == now + dt.timedelta(minutes=3)
    assert Store.objects.get(pk=inactive.pk).next_refresh_at is None


def test_the_fan_out_queues_one_scheduled_refresh_per_store():
    with mock.patch.object(tasks.refresh_store, "apply_async") as queued:
        assert tasks.refresh_stores([4, 8, 15]) == 3
    assert [c.args[:2] for c in queued.call_args_list] == [((4,), {"trigger": "schedule"}),
                                                          ((8,), {"trigger": "schedule"}),
                                                          ((15,), {"trigger": "schedule"})]
    assert stores_queue_scheduled(store_ids=[]) == 0


def test_a_due_store_is_refreshed_through_the_fan_out(sandboxes, eager_celery, django_capture_on_commit_callbacks):
    from tests.utils import sandbox_store

    store = sandbox_store(sandboxes("custom_store", orders=12))
    with django_capture_on_commit_callbacks(execute=True):
        assert stores_refresh_due() == [store.pk]
    run = ImportRun.objects.get(store=store)
    assert run.trigger == "schedule" and run.status == "succeeded" and run.imported > 0


# --- an unchanged order is not mapped ----------------------------------------------------------


def test_an_unchanged_order_is_told_without_mapping_it_and_a_changed_one_is_written(sandboxes):
    from tests.utils import sandbox_store

    sandbox = sandboxes("custom_store", orders=30)
    store = sandbox_store(sandbox)
    first = store_refresh(store_id=store.pk)
    assert first.status == "succeeded" and first.imported > 0
    order = next(o for o in sandbox.state.orders.values() if Order.objects.filter(external_id=o.order_id).exists())
    sandbox.state.update_order(order.order_id, customer_notes="Leave it at the door")
    with mock.patch.object(SourceRecord, "mapped", autospec=True, side_effect=SourceRecord.mapped) as mapped:
        again = store_refresh(store_id=store.pk, since=first.window_start)
    assert again.status == "succeeded", again.error
    assert again.updated == 1 and again.unchanged == first.imported - 1 and again.imported == 0
    # (orders skipped for an incomplete address are mapped again: nothing of theirs is kept to compare)
    imported = set(Order.objects.filter(store=store).values_list("external_id", flat=True))
    assert [call.args[0].external_id for call in mapped.call_args_list
            if call.args[0].external_id in imported] == [order.order_id]
    assert Order.objects.get(store=store, external_id=order.order_id).customer_notes == "Leave it at the door"


def test_the_fingerprint_covers_how_the_feed_is_read():
    page = (b'<Orders pages="1"><Order><OrderID>1</OrderID><OrderNumber>1001</OrderNumber>'
            b"<OrderDate>03/23/2024 21:09</OrderDate><OrderStatus>paid</OrderStatus></Order></Orders>")
    utc = mapper.read_export(page)[1][0]
    paris = mapper.read_export(page, tz=dt.timezone(dt.timedelta(hours=1)))[1][0]
    assert mapper.read_export(page)[1][0].fingerprint == utc.fingerprint  # same document, same reading
    assert paris.fingerprint != utc.fingerprint  # the store's zone changed: its dates read otherwise
    assert mapper.read_export(page, default_weight_units="grams")[1][0].fingerprint != utc.fingerprint
    assert mapper.read_export(page.replace(b"paid", b"shipped"))[1][0].fingerprint != utc.fingerprint
    assert utc.mapped().order_date == dt.datetime(2024, 3, 23, 21, 9, tzinfo=dt.timezone.utc)


# --- bulk writes -----------------------------------------------------------------------------------


def test_bulk_writes_store_what_the_orm_would():
    from orders.bulk import column_converter, upsert_rows

    store = StoreFactory()
    when = dt.datetime(2024, 3, 23, 21, 9, 7, 654321, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    row = {"store": store.pk, "external_id": "E-1", "imported_at": when, "updated_at": when,
           "order_number": "1001", "order_date": when, "modified_at": when, "status": "awaiting_shipment",
           "ship_date": dt.date(2024, 3, 25), "ship_to_country": "US", "order_total": Decimal("12.50"),
           "gift": True, "raw": {"order_id": "E-1", "line_item_ids": ["a", "b"], "note": "é \"quoted\"\n"}}
    unsaved = Order(**{("store_id" if k == "store" else k): v for k, v in row.items()})  # the model's defaults
    names = [f.name for f in Order._meta.concrete_fields if not f.primary_key]
    values = {name: getattr(unsaved, Order._meta.get_field(name).attname) for name in names}
    upsert_rows(Order, names, [tuple(values.values())], unique=["store", "external_id"], update=names[2:])
    saved = Order.objects.get(store=store, external_id="E-1")
    for name, value in row.items():
        assert getattr(saved, "store_id" if name == "store" else name) == value, name
    # an upsert of the same key updates it
    upsert_rows(Order, names, [tuple({**values, "order_total": Decimal("3.10"), "raw": {}}.values())],
                unique=["store", "external_id"], update=names[2:])
    saved.refresh_from_db()
    assert saved.order_total == Decimal("3.10") and saved.raw == {} and Order.objects.count() == 1
    # a value the short way does not know goes the field's own way
    convert = column_converter(Order._meta.get_field("order_total"), connection)
    assert convert(Decimal("2.5")) == Order._meta.get_field("order_total").get_db_prep_save(Decimal("2.5"), connection)
    assert convert("2.5") == Order._meta.get_field("order_total").get_db_prep_save("2.5", connection)


@pytest.mark.django_db(transaction=True)
def test_an_upsert_outside_a_transaction_writes_its_rows():
    # PostgreSQL's staging table empties at each commit: the COPY and the merge must share one
    from orders.bulk import upsert_rows

    store = StoreFactory()
    when = timezone.now()
    unsaved = Order(store=store, external_id="E-9", order_number="9", order_date=when, modified_at=when,
                    status="awaiting_shipment", imported_at=when, updated_at=when)
    names = [f.name for f in Order._meta.concrete_fields if not f.primary_key]
    row = tuple(getattr(unsaved, Order._meta.get_field(name).attname) for name in names)
    written = upsert_rows(Order, names, [row], unique=["store", "external_id"], update=names[2:],
                          returning=["external_id", "id"])
    saved = Order.objects.get(store=store, external_id="E-9")
    assert written is None or written == [("E-9", saved.pk)]  # SQLite answers no rows


# --- the orders desk -----------------------------------------------------------------------------


def desk(client, query=""):
    from django.urls import reverse

    with CaptureQueriesContext(connection) as statements:
        response = client.get(reverse("admin:orders_order_changelist") + query)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in statements.captured_queries]


def orders_dated(store, *dates):
    from tests.factories import OrderFactory

    return [OrderFactory(store=store, order_date=when) for when in dates]


def test_the_desk_reads_the_same_statements_at_any_size_and_never_lists_distinct_dates(admin_client_su):
    store = StoreFactory()
    utc = dt.timezone.utc
    orders_dated(store, dt.datetime(2022, 5, 3, 10, tzinfo=utc), dt.datetime(2024, 11, 20, 9, tzinfo=utc))
    page, few = desk(admin_client_su)
    orders_dated(store, *(dt.datetime(2023, 1 + n % 12, 1 + n % 28, tzinfo=utc) for n in range(60)))
    page, many = desk(admin_client_su)
    assert len(many) == len(few)
    assert not any("DISTINCT" in sql.upper() for sql in many)  # no distinct dates of every order
    assert sum(sql.upper().startswith("SELECT COUNT(") for sql in many) == 1  # the listed orders, counted once
    # the first and last order of the list: two index lookups, read once for the page (Django's own
    # aggregate and the drill-down share them), never one MIN/MAX over every listed order
    assert not any("MIN(" in sql.upper() or "MAX(" in sql.upper() for sql in many)
    bounds = [sql for sql in many if '"order_date" IS NOT NULL' in sql and sql.upper().endswith("LIMIT 1")]
    assert len(bounds) == 2 and "ASC" in bounds[0] and "DESC" in bounds[1], bounds
    # every year from the first order to the last is offered
    for year in (2022, 2023, 2024):
        assert f"order_date__year={year}" in page


def test_the_drill_down_offers_each_month_then_each_day_between_the_first_and_last_order(admin_client_su):
    store = StoreFactory()
    utc = dt.timezone.utc
    orders_dated(store, dt.datetime(2024, 3, 30, 22, tzinfo=utc), dt.datetime(2024, 6, 2, 8, tzinfo=utc))
    page, _ = desk(admin_client_su, "?order_date__year=2024")
    months = [m for m in range(1, 13) if f"order_date__month={m}&" in page or f"order_date__month={m}\"" in page]
    assert months == [3, 4, 5, 6]
    page, statements = desk(admin_client_su, "?order_date__year=2024&order_date__month=3")
    assert "order_date__day=30" in page and "order_date__day=29" not in page
    assert not any("DISTINCT" in sql.upper() for sql in statements)
    # the admin's time zone decides the dates, as Django's own drill-down does
    with timezone.override("Pacific/Kiritimati"):  # UTC+14: 22:00 UTC on the 30th is the 31st there
        page, _ = desk(admin_client_su, "?order_date__year=2024&order_date__month=3")
    assert "order_date__day=31" in page and "order_date__day=30" not in page


# --- reading ahead, collecting later -------------------------------------------------------------


def test_prefetch_fetches_the_next_page_ahead_and_raises_its_error_when_it_is_asked_for():
    import threading

    from stores.connectors.base import Prefetch, ProtocolError

    asked, threads = [], set()

    def fetch(number):
        asked.append(number)
        threads.add(threading.current_thread().name)
        if number == 3:
            raise ProtocolError("page 3 is broken")
        return f"page {number}"

    pages = Prefetch(fetch)
    assert pages.get(1, then=2) == "page 1"
    assert pages.get(2, then=3) == "page 2"  # fetched while page 1 was read
    with pytest.raises(ProtocolError, match="page 3 is broken"):
        pages.get(3)  # the error of a page fetched ahead surfaces when the page is asked for
    pages.ahead(4)
    assert pages.get(5) == "page 5"  # a page fetched ahead but not asked for is dropped
    pages.ahead(6)
    pages.close()
    assert asked == [1, 2, 3, 4, 5, 6] and "shipbridge-prefetch" in threads


def test_collection_is_paused_for_a_page_and_resumes_as_it_was():
    import gc
    import threading

    from stores.connectors.base import gc_paused

    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other_page():
        with gc_paused():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=other_page)
    worker.start()
    inside.wait(5)
    with pytest.raises(ValueError):
        with gc_paused():
            assert not gc.isenabled()
            raise ValueError("a page that fails")
    assert not gc.isenabled()  # the other page is still being read
    release.set()
    worker.join(5)
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_the_embedded_database_runs_in_write_ahead_log_mode(tmp_path, settings):
    # what settings give a SQLite DATABASE_URL, on a database file of its own
    from django.db.backends.sqlite3.base import DatabaseWrapper

    probe = DatabaseWrapper({**settings.DATABASES["default"], "ENGINE": "django.db.backends.sqlite3",
                             "NAME": str(tmp_path / "embedded.sqlite3"), "OPTIONS": dict(settings.SQLITE_OPTIONS)},
                            alias="embedded-probe")
    try:
        with probe.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"  # readers never wait for the worker's writes
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL: a commit costs no disk flush
    finally:
        probe.close()


def test_orders_stored_before_fingerprints_stay_unchanged_and_keep_a_clerks_correction(sandboxes):
    # An earlier ShipBridge stored the hash of the mapped record; the first import after the upgrade
    # must not take every order for changed (and overwrite what a clerk corrected).
    from stores.connectors.base import Window
    from tests.utils import sandbox_store

    sandbox = sandboxes("custom_store", orders=30)
    store = sandbox_store(sandbox)
    first = store_refresh(store_id=store.pk)
    assert first.status == "succeeded" and first.imported > 0
    mapped_now = {source.external_id: source.mapped()
                  for page in store.build_connector().fetch_orders(Window(first.window_start, timezone.now()))
                  for source in page.records}
    for order in Order.objects.filter(store=store):
        Order.objects.filter(pk=order.pk).update(
            content_hash=importing._record_hash(mapped_now[order.external_id], order.status))
    corrected = Order.objects.filter(store=store).order_by("pk").first()
    Order.objects.filter(pk=corrected.pk).update(ship_to_street1="12 Corrected Road")

    again = store_refresh(store_id=store.pk, since=first.window_start)
    assert again.status == "succeeded", again.error
    assert (again.updated, again.imported, again.unchanged) == (0, 0, first.imported)
    assert Order.objects.get(pk=corrected.pk).ship_to_street1 == "12 Corrected Road"
    # their hashes were brought up to date: the next import tells them unchanged without mapping them
    with mock.patch.object(SourceRecord, "mapped", autospec=True, side_effect=SourceRecord.mapped) as mapped:
        third = store_refresh(store_id=store.pk, since=first.window_start)
    assert third.unchanged == first.imported and third.updated == 0
    imported = set(Order.objects.filter(store=store).values_list("external_id", flat=True))
    assert not [call for call in mapped.call_args_list if call.args[0].external_id in imported]


def test_a_source_record_without_a_fingerprint_is_refused():
    with pytest.raises(ValueError, match="fingerprint"):
        SourceRecord(external_id="1", order_number="1", modified_at=timezone.now(), store_status="paid",
                     fingerprint="", map=lambda: None)
