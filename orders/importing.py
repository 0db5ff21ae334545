"""Import engine: refreshing a store imports its orders — windows, cursor, lease, bulk upsert
per page, skip reasons.

Data flow: beat (stores_refresh_due) or "Refresh now" (stores_queue_refresh) → the refresh_store
task → store_refresh() → connector.fetch_orders(window) → pages of OrderRecord → apply_page()
(a constant number of queries per page).

What a run keeps in words — its error, its warning, each skipped order's reason — is English
(templates marked with gettext_noop); the pages show it in the reader's language
(stores.i18n.translated).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import operator
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connections, reset_queries, transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_noop

from stores.connectors.base import ConnectorError, OrderRecord, Page, SourceRecord, Window
from stores.connectors.registry import connector_names_where
from stores.crypto import SecretDecryptionError
from stores.models import OrderStatus, RefreshStatus, Store

from . import tasks, webhooks
from .bulk import insert_rows, upsert_rows
from .models import ImportRun, ImportRunStatus, ImportTrigger, Order, OrderItem, Product, Shipment
from .resilience import DATABASE_ERRORS, Heartbeat, on_fresh_connection

log = logging.getLogger("shipbridge.importing")

ORDER_FIELDS = [
    "order_number", "order_date", "modified_at", "status", "store_status", "ship_date",
    "ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_street3",
    "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country", "ship_to_phone",
    "bill_to_name", "bill_to_company", "bill_to_phone", "bill_to_email",
    "customer_code", "customer_email", "currency", "order_total", "tax_amount", "shipping_amount",
    "requested_service", "payment_method", "customer_notes", "internal_notes", "gift", "gift_message",
    "raw", "content_hash", "updated_at",
]
ITEM_FIELDS = ["sku", "name", "quantity", "unit_price", "weight_grams", "image_url", "location", "adjustment",
               "options"]


class StoreUnavailable(Exception):
    """The store cannot be imported now; the message says why in one line."""


class StoreBusy(StoreUnavailable):
    """Another import of this store holds the lease."""


class StoreInactive(StoreUnavailable):
    """The store is deactivated: it does not import (its orders stay)."""


class StoreNotImported(StoreUnavailable):
    """The store's connector has nothing to import (its orders are made in ShipBridge)."""


class LeaseLost(Exception):
    """This run's lease expired and another run may hold the store."""


ABANDONED_RUN_ERROR = gettext_noop(
    "the worker running this import stopped before it finished; the next run picks up from the cursor")


# --- lease: one run per store across every worker ------------------------------------------


def _lease_acquire(store_id: int) -> str:
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = Store.objects.filter(pk=store_id).filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    ).update(
        lease_token=token,
        lease_expires_at=now + dt.timedelta(seconds=settings.SHIPBRIDGE_IMPORT_LEASE_SECONDS),
    )
    if not taken:
        if not Store.objects.filter(pk=store_id).exists():
            raise Store.DoesNotExist(NO_STORE.format(id=store_id))
        raise StoreBusy(gettext_noop("busy: another import of this store is running; try again when it ends"))
    return token


def _lease_renew(store_id: int, token: str) -> bool:
    """Extend the lease if it is still ours (the heartbeat, and every page's transaction)."""
    return bool(Store.objects.filter(pk=store_id, lease_token=token).update(
        lease_expires_at=timezone.now() + dt.timedelta(seconds=settings.SHIPBRIDGE_IMPORT_LEASE_SECONDS)
    ))


LEASE_LOST_ERROR = gettext_noop(
    "stopped: this import could not renew its hold on the store within SHIPBRIDGE_IMPORT_LEASE_SECONDS (its "
    "worker stalled or lost the database) and another run may have started; the next run picks up from the cursor"
)


def _lease_keep(store_id: int, token: str) -> None:
    """Inside a page's transaction: the page is written only while the lease is ours."""
    if not _lease_renew(store_id, token):
        raise LeaseLost(LEASE_LOST_ERROR)


def _lease_release(store_id: int, token: str) -> None:
    try:
        on_fresh_connection(
            lambda: Store.objects.filter(pk=store_id, lease_token=token).update(lease_token="", lease_expires_at=None),
            what=f"store {store_id}: releasing the import lease")
    except DATABASE_ERRORS:  # it expires by itself within SHIPBRIDGE_IMPORT_LEASE_SECONDS
        log.warning("store %s: the import lease could not be released; it expires by itself", store_id)


def stores_close_abandoned(*, now: dt.datetime | None = None) -> list[int]:
    """Stores whose import is "running" but whose lease expired: the worker running it died (or
    lost the database for longer than the lease). Their run is closed as failed, the store says
    so, and it is due at once (the beat tick that calls this queues it). Returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            Store.objects.select_for_update(skip_locked=True)
            .filter(last_refresh_status=RefreshStatus.RUNNING)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .values_list("pk", flat=True)
        )
        if not stale:
            return []
        ImportRun.objects.filter(store_id__in=stale, status=ImportRunStatus.RUNNING).update(
            status=ImportRunStatus.FAILED, finished_at=now, error=ABANDONED_RUN_ERROR)
        Store.objects.filter(pk__in=stale).update(
            last_refresh_status=RefreshStatus.FAILED, last_refresh_error=ABANDONED_RUN_ERROR, last_refresh_at=now,
            next_refresh_at=now)
    log.warning("imports abandoned by a stopped worker, closed and queued again: stores %s", stale)
    return stale


# --- scheduling ----------------------------------------------------------------------------


def _next_refresh(store: Store, now: dt.datetime) -> dt.datetime:
    """When the store is next due: one interval on, less half a beat tick (at most half the
    interval), so the tick one interval later finds it due even when this one ran a little
    late — a 1-minute store refreshes at every tick."""
    slack = min(dt.timedelta(seconds=30), store.refresh_interval / 2)
    return now + store.refresh_interval - slack


def stores_refresh_due(*, now: dt.datetime | None = None) -> list[int]:
    """Queue a refresh of every active store whose next refresh is due, moving its next
    refresh time in the same transaction (so two beat ticks never queue it twice).

    Set-based, whatever the number of due stores: one UPDATE … RETURNING moves the next refresh
    of every due store (each by its own interval, the arithmetic done by the database) and
    answers their ids; after commit, one message hands the ids to the refresh_stores task,
    which queues one refresh per store (stores_queue_scheduled) — the beat tick publishes once."""
    now = now or timezone.now()
    stores_close_abandoned(now=now)
    with transaction.atomic():
        due = (
            Store.objects.select_for_update(skip_locked=True)
            .filter(active=True, connector__in=connector_names_where(lambda cls: cls.imports_orders))
            .filter(Q(next_refresh_at__isnull=True) | Q(next_refresh_at__lte=now))
            .order_by().values("pk")
        )
        due_ids = _move_next_refresh(due, now)
        if due_ids:
            transaction.on_commit(lambda: tasks.refresh_stores.delay(due_ids, trigger=ImportTrigger.SCHEDULE))
    return due_ids


def _move_next_refresh(due, now: dt.datetime) -> list[int]:
    """Set the next refresh of the stores `due` selects (a queryset of their pks, locked as it is
    read) to what _next_refresh gives — one interval on, less the smaller of 30 seconds and half
    the interval — in one statement; return their ids, in order."""
    connection = connections[due.db]
    quote = connection.ops.quote_name
    column = quote(Store._meta.get_field("next_refresh_at").column)
    minutes = quote(Store._meta.get_field("refresh_interval_minutes").column)
    pk = quote(Store._meta.pk.column)
    selected, selected_params = due.query.sql_with_params()
    if connection.vendor == "postgresql":
        moved = f"%s + make_interval(secs => {minutes} * 60 - LEAST(30, {minutes} * 30))"
        params = [now]
    else:  # SQLite: its text form of a datetime, whole seconds added (the fraction is kept as it was)
        text = connection.ops.adapt_datetimefield_value(now)
        moved = (f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, '+' || ({minutes} * 60 - MIN(30, {minutes} * 30)) "
                 "|| ' seconds') || substr(%s, 20)")
        params = [text, text]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(Store._meta.db_table)} SET {column} = {moved} "
                       f"WHERE {pk} IN ({selected}) RETURNING {pk}", [*params, *selected_params])
        return sorted(row[0] for row in cursor.fetchall())


def stores_queue_scheduled(*, store_ids: list[int], trigger: str = ImportTrigger.SCHEDULE) -> int:
    """The fan-out of a beat tick (the refresh_stores task): queue one refresh per store, on one
    connection to the broker. Returns how many were queued."""
    app = tasks.refresh_store.app
    with app.producer_or_acquire() as producer:
        for store_id in store_ids:
            tasks.refresh_store.apply_async((store_id,), {"trigger": trigger}, producer=producer)
    return len(store_ids)


INACTIVE_ERROR = gettext_noop("inactive: this store is deactivated and does not import (activate it first)")
NOT_IMPORTED_ERROR = gettext_noop("nothing to import: this store's orders are entered in ShipBridge")
NO_STORE = gettext_noop("no store with id {id}")


def _check_importable(store: Store) -> None:
    if not store.connector_class.imports_orders:
        raise StoreNotImported(NOT_IMPORTED_ERROR)
    if not store.active:
        raise StoreInactive(INACTIVE_ERROR)


def store_queue_refresh(*, store: Store, trigger: str, user=None, since: dt.datetime | None = None) -> None:
    """"Refresh now" (from `since` when given: "Re-import from a date"): queue a refresh of
    this store after the current transaction commits. Raises StoreInactive for a deactivated
    store (it does not import) and StoreNotImported for a store whose connector imports nothing."""
    _check_importable(store)
    user_id = user.pk if user is not None else None
    options = {"since": since.isoformat()} if since is not None else {}
    transaction.on_commit(lambda: tasks.refresh_store.delay(store.pk, trigger=trigger, user_id=user_id, **options))


@dataclass(frozen=True)
class RefreshesQueued:
    queued: list[Store]
    inactive: list[Store]  # left alone: inactive stores do not import
    not_imported: list[Store]  # left alone: their orders are entered in ShipBridge
    failed: list[tuple[Store, Exception]]  # could not be queued (e.g. the task queue is unreachable)


def stores_queue_refresh(*, stores, trigger: str, user=None) -> RefreshesQueued:
    """"Refresh now" for several stores: each active one is queued, inactive ones and those
    with nothing to import are left alone; one that cannot be queued does not stop the others."""
    result = RefreshesQueued(queued=[], inactive=[], not_imported=[], failed=[])
    for store in stores:
        try:
            store_queue_refresh(store=store, trigger=trigger, user=user)
        except StoreInactive:
            result.inactive.append(store)
        except StoreNotImported:
            result.not_imported.append(store)
        except Exception as exc:  # noqa: BLE001 - e.g. the task queue is unreachable; reported per store
            log.exception("could not queue a refresh of store %s", store.pk)
            result.failed.append((store, exc))
        else:
            result.queued.append(store)
    return result


# --- the run -------------------------------------------------------------------------------


_DONE = object()


def read_ahead(pages: Iterator[Page], depth: int = 2) -> Iterator[Page]:
    """Iterate `pages` in a helper thread, `depth` pages ahead, so the next page downloads and
    parses while this one is written. Connector errors surface here, in order; when the
    consumer stops early the producer is told to stop and closes the connector's generator
    (which logs out of API sessions) in its own thread."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(("page", page), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            buffer.put(("error", exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
            buffer.put(("done", _DONE))

    worker = threading.Thread(target=produce, name="shipbridge-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = buffer.get()
            if kind == "page":
                yield item
            elif kind == "error":
                raise item
            else:
                return
    finally:
        stop.set()
        while worker.is_alive():  # drain so a blocked producer can finish and close
            try:
                buffer.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()


def import_window(store: Store, *, now: dt.datetime, since: dt.datetime | None = None) -> Window:
    """From `since`, else from the cursor (less the overlap) — or further back to the orders
    skipped for a reason a new mapping fixed — else a first refresh's reach. Never further back
    than a first refresh's reach."""
    overlap = dt.timedelta(minutes=settings.SHIPBRIDGE_IMPORT_OVERLAP_MINUTES)
    reach = now - dt.timedelta(days=settings.SHIPBRIDGE_FIRST_IMPORT_DAYS)
    if since is not None:
        start = since
    elif store.import_cursor is not None:
        start = store.import_cursor - overlap
        if store.recover_requested_at is not None and store.recover_from is not None:
            start = min(start, max(store.recover_from - overlap, reach))
    else:
        start = reach
    return Window(start=start, end=now)


def _record_recovery(store: Store, run: ImportRun, window: Window, oldest: dt.datetime | None, *,
                     plain: bool) -> None:
    """After a successful run: a recovery asked for before the run started and reached by its
    window (as far back as a first refresh looks) is done, and forgotten unless the mapping
    changed again meanwhile (conditional update); the run's own fixable skips (the oldest
    change among them: `oldest`) are remembered for the next fix (also after a --since run)."""
    reach = window.end - dt.timedelta(days=settings.SHIPBRIDGE_FIRST_IMPORT_DAYS)
    requested = store.recover_requested_at
    if plain and requested is not None and requested <= run.started_at and (
            store.recover_from is None or window.start <= max(store.recover_from, reach)):
        Store.objects.filter(pk=store.pk, recover_requested_at=requested).update(
            recover_requested_at=None, recover_from=oldest)
    elif oldest is not None:
        Store.objects.filter(pk=store.pk).filter(Q(recover_from__isnull=True) | Q(recover_from__gt=oldest)).update(
            recover_from=oldest)


def store_refresh(
    *, store_id: int, trigger: str = ImportTrigger.COMMAND, user=None, since: dt.datetime | None = None
) -> ImportRun:
    """Run one import of the store here and now. Raises StoreInactive for a deactivated store,
    StoreNotImported for one whose connector imports nothing and StoreBusy when another run
    holds it; every other failure ends as a failed ImportRun (returned), never an exception."""
    store = Store.objects.filter(pk=store_id).only("pk", "active", "connector").first()
    if store is None:
        raise Store.DoesNotExist(NO_STORE.format(id=store_id))
    _check_importable(store)
    token = _lease_acquire(store_id)
    try:
        return _run(store_id=store_id, token=token, trigger=trigger, user=user, since=since)
    finally:
        _lease_release(store_id, token)


def _run(*, store_id: int, token: str, trigger: str, user, since) -> ImportRun:
    store = Store.objects.select_related("merchant").get(pk=store_id)
    now = timezone.now()
    # Holding the lease, no other run of this store is alive: a run still "running" was abandoned.
    ImportRun.objects.filter(store=store, status=ImportRunStatus.RUNNING).update(
        status=ImportRunStatus.FAILED, finished_at=now, error=ABANDONED_RUN_ERROR
    )
    window = import_window(store, now=now, since=since)
    run = ImportRun.objects.create(
        store=store, trigger=trigger, triggered_by=user, started_at=now,
        window_start=window.start, window_end=window.end,
    )
    Store.objects.filter(pk=store.pk).update(last_refresh_status=RefreshStatus.RUNNING)
    status_map = store.status_map()
    error = ""
    retry_soon = False  # a fault of ShipBridge's own (the database, a stalled worker): due again at once
    # Keeps the lease alive while this run is alive, also while a page downloads (each page's
    # transaction renews it as well, and writes nothing once it is lost).
    heartbeat = Heartbeat(lambda: _lease_renew(store.pk, token),
                          every=settings.SHIPBRIDGE_IMPORT_LEASE_SECONDS / 3, name=f"import of store {store.pk}")
    keep_lease = lambda: _lease_keep(store.pk, token)  # noqa: E731
    try:
        with heartbeat:
            connector = store.build_connector()
            pages = connector.fetch_orders(window, statuses=sorted(status_map))
            for page in read_ahead(pages):
                apply_page(store=store, run=run, page=page, status_map=status_map, keep_lease=keep_lease)
                if settings.DEBUG:
                    reset_queries()  # DEBUG keeps every query: a long import would grow with it
            on_fresh_connection(keep_lease, what=f"store {store.pk}: renewing the import lease")
    except (ConnectorError, SecretDecryptionError) as exc:
        error = str(exc)
    except LeaseLost as exc:
        error, retry_soon = str(exc), True
    except SoftTimeLimitExceeded:
        error = gettext_noop("stopped: the import ran longer than SHIPBRIDGE_IMPORT_TIME_LIMIT_SECONDS; what was "
                             "written stays, and the next run picks up from the cursor")
    except DATABASE_ERRORS as exc:
        retry_soon = True
        log.warning("import of store %s: the database failed: %s", store.pk, exc)
        error = gettext_noop("stopped: the database connection failed during the import; what was written stays, "
                             "and the next run picks up from the cursor")
    except Exception as exc:  # noqa: BLE001 - a bug must end the run, not hide it
        log.exception("import of store %s failed unexpectedly", store.pk)
        error = INTERNAL_ERROR.format(error=type(exc).__name__)
    finished = timezone.now()
    run.finished_at = finished
    run.status = ImportRunStatus.FAILED if error else ImportRunStatus.SUCCEEDED
    run.error = error
    tally = _tally(run)
    run.warning = tally.attention_words()
    # The last writes survive a database blip: retried once on a new connection.
    on_fresh_connection(lambda: _finish_run(store, run, window, tally, since=since, trigger=trigger,
                                            finished=finished, error=error, retry_soon=retry_soon),
                        what=f"import of store {store.pk}: recording the run")
    if error:
        log.warning("import of store %s failed: %s", store.pk, error)
    return run


def _finish_run(store: Store, run: ImportRun, window: Window, tally: SkipTally, *, since, trigger: str,
                finished: dt.datetime, error: str, retry_soon: bool) -> None:
    with transaction.atomic():
        run.save()
        updates = {
            "last_refresh_at": finished,
            "last_refresh_status": RefreshStatus.FAILED if error else RefreshStatus.SUCCEEDED,
            "last_refresh_error": error,
        }
        if not error:
            updates["last_refresh_warning"] = run.warning
            _record_recovery(store, run, window, tally.oldest_fixable, plain=since is None)
            if trigger != ImportTrigger.SCHEDULE:  # just refreshed: the schedule starts again from here
                updates["next_refresh_at"] = max(store.next_refresh_at or finished, _next_refresh(store, finished))
        if retry_soon:  # the next beat tick imports it again, not a whole refresh interval later
            updates["next_refresh_at"] = finished
        if not error and (store.import_cursor is None or window.start <= store.import_cursor):
            # The cursor moves only after a successful run that covered it, never backwards: a
            # run started later than the cursor (--since) must not jump over what it skipped.
            updates["import_cursor"] = max(store.import_cursor or window.end, window.end)
        Store.objects.filter(pk=store.pk).update(**updates)
        webhooks.import_run_finished(run=run)  # ORDER_NOTIFY when the run brought new or changed orders


# --- one page ------------------------------------------------------------------------------


INTERNAL_ERROR = gettext_noop("internal error ({error}); the details are in the worker's log")


def _record_hash(record: OrderRecord | SourceRecord, status: str) -> str:
    # A record read but not mapped has the fingerprint of what the store sent (and of how it is
    # read): an unchanged order is told without mapping it. Otherwise repr() of the frozen
    # dataclass covers every field (nested lines and addresses included) and is deterministic
    # for the same store data; far cheaper than asdict + json.
    if record.fingerprint:
        return hashlib.sha256(f"{status}|{record.fingerprint}".encode()).hexdigest()
    return hashlib.sha256(f"{status}|{record!r}".encode()).hexdigest()


# Why an order is skipped when the merchant can fix it: the status mapping, or the address in the store.
UNMAPPED, NO_ADDRESS = "unmapped_status", "incomplete_address"


@dataclass
class SkipTally:
    """What a run skipped, in constant memory: the counts behind the run's warning and the
    oldest change among the orders the merchant can fix (where a recovery starts). The reasons
    themselves are kept on the run up to SHIPBRIDGE_SKIP_REASONS_KEPT, with the count of the rest."""

    unmapped: Counter = field(default_factory=Counter)  # store status → orders skipped for it
    no_address: int = 0
    oldest_fixable: dt.datetime | None = None

    def attention_words(self) -> str:
        return attention_words(self.unmapped, self.no_address)


def _tally(run: ImportRun) -> SkipTally:
    tally = getattr(run, "_skip_tally", None)
    if tally is None:
        tally = run._skip_tally = SkipTally()
    return tally


def _skip(run: ImportRun, record_or_skip, reason: str, *, fixable: str = "", status: str = "") -> None:
    run.skipped += 1
    if fixable:  # a record the merchant can fix: when it changed, for the refresh after the fix
        tally = _tally(run)
        if fixable == UNMAPPED:
            tally.unmapped[status] += 1
        else:
            tally.no_address += 1
        modified = record_or_skip.modified_at
        if tally.oldest_fixable is None or modified < tally.oldest_fixable:
            tally.oldest_fixable = modified
    if len(run.skip_reasons) >= settings.SHIPBRIDGE_SKIP_REASONS_KEPT:
        run.skip_reasons_omitted += 1
        return
    entry = {"external_id": record_or_skip.external_id, "order_number": record_or_skip.order_number, "reason": reason}
    if fixable:
        entry["fixable"] = fixable
        entry["modified_at"] = record_or_skip.modified_at.isoformat()
        if status:
            entry["store_status"] = status
    run.skip_reasons.append(entry)


def attention_words(unmapped: Counter, no_address: int) -> str:
    """What a run skipped that the merchant can fix, in one line ("" when nothing):
    "Attention: 80 orders skipped — status 'processing' is not mapped". `unmapped`: orders
    skipped per unmapped store status; `no_address`: orders skipped without a full address.
    (English, kept: one template per count's form, 1 or more, each shown translated.)"""
    unmapped = +unmapped  # drop zero counts
    parts = []
    if unmapped:
        count = sum(unmapped.values())
        if len(unmapped) == 1:
            (status,) = unmapped
            template = (gettext_noop("{count} order skipped — status {status} is not mapped") if count == 1 else
                        gettext_noop("{count} orders skipped — status {status} is not mapped"))
            parts.append(template.format(count=count, status=repr(status)))
        else:
            listed = ", ".join(f"{status!r} ({n})" for status, n in unmapped.most_common())
            parts.append(gettext_noop("{count} orders skipped — statuses {statuses} are not mapped").format(
                count=count, statuses=listed))
    if no_address:
        template = (gettext_noop("{count} order skipped — no complete shipping address") if no_address == 1 else
                    gettext_noop("{count} orders skipped — no complete shipping address"))
        parts.append(template.format(count=no_address))
    return gettext_noop("Attention: {problems}").format(problems="; ".join(parts)) if parts else ""


# Text columns of orders and their lines: a value longer than its column makes the order unreadable.
_ORDER_LIMITS = [(i, name, f.max_length) for i, name in enumerate(ORDER_FIELDS)
                 if (f := Order._meta.get_field(name)).max_length]
_LINE_LIMITS = {f.name: f.max_length for f in OrderItem._meta.fields if f.max_length}
_LINE_LIMITED = [(name, _LINE_LIMITS[name]) for name in ("line_item_id", "sku", "name", "image_url", "location")]
_EXTERNAL_ID_LIMIT = Order._meta.get_field("external_id").max_length
_ORDER_LIMITED = operator.itemgetter(*(i for i, _name, _limit in _ORDER_LIMITS))
_ORDER_LIMIT_VALUES = tuple(limit for _i, _name, limit in _ORDER_LIMITS)
_LINE_LIMITED_OF = operator.attrgetter(*(name for name, _limit in _LINE_LIMITED))
_LINE_LIMIT_VALUES = tuple(limit for _name, limit in _LINE_LIMITED)


def _too_long(record: OrderRecord, values: tuple) -> str:
    """Why the record (and its `values` in ORDER_FIELDS order) does not fit ShipBridge's
    columns ("" when it does)."""
    try:  # the common case, every text within its column, told in C (a value not text: one by one below)
        if len(record.external_id) <= _EXTERNAL_ID_LIMIT and not any(
                map(operator.gt, map(len, _ORDER_LIMITED(values)), _ORDER_LIMIT_VALUES)) and not any(
                any(map(operator.gt, map(len, _LINE_LIMITED_OF(line)), _LINE_LIMIT_VALUES)) for line in record.lines):
            return ""
    except TypeError:
        pass
    if len(record.external_id) > _EXTERNAL_ID_LIMIT:
        return gettext_noop("its id is longer than {limit} characters").format(limit=_EXTERNAL_ID_LIMIT)
    for i, name, limit in _ORDER_LIMITS:
        value = values[i]
        if isinstance(value, str) and len(value) > limit:
            return gettext_noop("its {field} is longer than {limit} characters").format(
                field=name.replace("_", " "), limit=limit)
    for line in record.lines:
        for name, limit in _LINE_LIMITED:
            if len(getattr(line, name)) > limit:
                return gettext_noop("a line's {field} is longer than {limit} characters").format(
                    field=name.replace("_", " "), limit=limit)
    return ""


def _order_values(record: OrderRecord, status: str, content_hash: str, now: dt.datetime) -> tuple:
    """The order's values in ORDER_FIELDS order."""
    ship = record.ship_to
    bill = record.bill_to
    values = {
        "order_number": record.order_number,
        "order_date": record.order_date,
        "modified_at": record.modified_at,
        "status": status,
        "store_status": record.store_status,
        "ship_date": record.ship_date,
        "ship_to_name": ship.name,
        "ship_to_company": ship.company,
        "ship_to_street1": ship.street1,
        "ship_to_street2": ship.street2,
        "ship_to_street3": ship.street3,
        "ship_to_city": ship.city,
        "ship_to_state": ship.state,
        "ship_to_postal_code": ship.postal_code,
        "ship_to_country": ship.country.upper()[:2],
        "ship_to_phone": ship.phone,
        "bill_to_name": bill.name if bill else "",
        "bill_to_company": bill.company if bill else "",
        "bill_to_phone": bill.phone if bill else "",
        "bill_to_email": bill.email if bill else "",
        "customer_code": record.customer_code,
        "customer_email": record.customer_email or (bill.email if bill else "") or ship.email,
        "currency": record.currency[:3],
        "order_total": record.order_total,
        "tax_amount": record.tax_amount,
        "shipping_amount": record.shipping_amount,
        "requested_service": record.requested_service,
        "payment_method": record.payment_method,
        "customer_notes": record.customer_notes,
        "internal_notes": record.internal_notes,
        "gift": record.gift,
        "gift_message": record.gift_message,
        "raw": record.raw,
        "content_hash": content_hash,
        "updated_at": now,
    }
    return tuple(values[name] for name in ORDER_FIELDS)


def apply_page(*, store: Store, run: ImportRun, page: Page, status_map: dict[str, str],
               keep_lease: Callable[[], None] | None = None) -> None:
    """Upsert one page of records in one transaction, with a constant number of queries.
    `keep_lease` renews the run's lease in that transaction (raising LeaseLost, which rolls the
    page back, when another run holds the store). The run's counts are saved with the page;
    its skip reasons once, when it ends. A page that fails leaves the run's counts as they were.
    An unchanged order (same fingerprint, or same record, and status) is told before it is mapped
    (SourceRecord), and left alone; only new and changed orders are mapped and written."""
    counts = _RunCounts.of(run)
    try:
        _apply_page(store=store, run=run, page=page, status_map=status_map, keep_lease=keep_lease)
    except BaseException:
        counts.restore(run)
        raise


@dataclass
class _RunCounts:
    values: tuple
    reasons: int
    tally: SkipTally

    FIELDS = ("imported", "updated", "unchanged", "skipped", "pages", "skip_reasons_omitted")

    @classmethod
    def of(cls, run: ImportRun) -> _RunCounts:
        tally = _tally(run)
        return cls(tuple(getattr(run, f) for f in cls.FIELDS), len(run.skip_reasons),
                   SkipTally(Counter(tally.unmapped), tally.no_address, tally.oldest_fixable))

    def restore(self, run: ImportRun) -> None:
        for name, value in zip(self.FIELDS, self.values):
            setattr(run, name, value)
        del run.skip_reasons[self.reasons:]
        run._skip_tally = self.tally


def _apply_page(*, store: Store, run: ImportRun, page: Page, status_map: dict[str, str],
                keep_lease: Callable[[], None] | None) -> None:
    for skipped in page.skipped:
        _skip(run, skipped, skipped.reason)

    # Later duplicates (paging overlap) win only when newer.
    latest: dict[str, OrderRecord | SourceRecord] = {}
    for record in page.records:
        seen = latest.get(record.external_id)
        if seen is None or record.modified_at >= seen.modified_at:
            latest[record.external_id] = record

    wanted: dict[str, tuple[OrderRecord | SourceRecord, str]] = {}
    for record in latest.values():
        status = status_map.get(record.store_status)
        if status is None:
            _skip(run, record, gettext_noop("store status {status} is not mapped").format(
                status=repr(record.store_status)), fixable=UNMAPPED, status=record.store_status)
            continue
        wanted[record.external_id] = (record, status)

    with transaction.atomic():
        existing = {
            external_id: (status, content_hash, shipped_here)
            for external_id, status, content_hash, shipped_here in Order.objects.filter(
                store=store, external_id__in=list(wanted))
            .annotate(shipped_here=Exists(Shipment.objects.filter(order=OuterRef("pk"), voided_at__isnull=True)))
            .values_list("external_id", "status", "content_hash", "shipped_here")
        }
        to_write: list[tuple] = []
        written: dict[str, OrderRecord] = {}
        rehashed: dict[str, str] = {}
        new_ids, changed_ids = set(), set()
        now = timezone.now()
        for external_id, (source, status) in wanted.items():
            current = existing.get(external_id)
            if current is not None and current[2] and current[0] == OrderStatus.SHIPPED and (
                status not in (OrderStatus.SHIPPED, OrderStatus.CANCELLED)
            ):
                status = OrderStatus.SHIPPED  # shipped here: a stale store status does not move it back
            content_hash = _record_hash(source, status)
            if current is not None and current[1] == content_hash:
                run.unchanged += 1
                continue
            try:
                record = source.mapped()
            except ConnectorError as exc:  # one unreadable order does not block the others
                _skip(run, source, str(exc))
                continue
            if current is not None and source.fingerprint and current[1] == _record_hash(record, status):
                # Stored before fingerprints, with the hash of the mapped record: unchanged. Only
                # its hash is brought up to date (an order rewritten would lose a clerk's address
                # correction and count as changed).
                rehashed[external_id] = content_hash
                run.unchanged += 1
                continue
            missing = (record.ship_to.missing_fields() if record.ship_to is not None
                       else [gettext_noop("shipping address")])
            if missing:
                _skip(run, record, gettext_noop("no complete shipping address (missing: {fields})").format(
                    fields=", ".join(missing)), fixable=NO_ADDRESS)
                continue
            values = _order_values(record, status, content_hash, now)
            too_long = _too_long(record, values)
            if too_long:
                _skip(run, record, gettext_noop("unreadable order: {reason}").format(reason=too_long))
                continue
            (changed_ids if current is not None else new_ids).add(external_id)
            to_write.append((store.pk, external_id, now, *values))
            written[external_id] = record

        if to_write:
            order_ids = upsert_rows(Order, ["store", "external_id", "imported_at", *ORDER_FIELDS], to_write,
                                    unique=["store", "external_id"], update=ORDER_FIELDS,
                                    returning=["external_id", "id"])
            order_ids = dict(order_ids if order_ids is not None else Order.objects.filter(
                store=store, external_id__in=list(written)).values_list("external_id", "pk"))
            _write_items(order_ids, written, replace=bool(changed_ids))
            webhooks.import_batch_add(run=run, order_ids=order_ids.values())  # ORDER_NOTIFY's batch
        if rehashed:  # one statement for the page
            Order.objects.filter(store=store, external_id__in=list(rehashed)).update(content_hash=Case(
                *(When(external_id=eid, then=Value(digest)) for eid, digest in rehashed.items()),
                output_field=Order._meta.get_field("content_hash")))
        run.imported += len(new_ids)
        run.updated += len(changed_ids)
        run.pages += 1
        if store.create_products or store.update_products:
            _write_products(store, list(written.values()))
        if keep_lease is not None:
            keep_lease()
        run.save(update_fields=["imported", "updated", "unchanged", "skipped", "pages"])


def _line_key(line_item_id: str, sku: str, seen: dict, order_id: int) -> str:
    """A line's identity within its order: the store's line id, or for stores that send none,
    the SKU and its rank among the order's id-less lines with that SKU."""
    if line_item_id:
        return line_item_id
    rank = seen.get((order_id, sku), 0)
    seen[(order_id, sku)] = rank + 1
    return f"\0{sku}#{rank}"


def _item_values(line) -> tuple:
    """A line's item values in ITEM_FIELDS order."""
    return (line.sku, line.name, line.quantity, line.unit_price, line.weight_grams, line.image_url, line.location,
            line.adjustment, [list(o) for o in line.options])


def _write_items(order_ids: dict[str, int], records: dict[str, OrderRecord], *, replace: bool) -> None:
    """Make each order's items match its record's lines: update matching lines (by line id),
    add new ones, delete vanished ones unless a shipment refers to them."""
    existing: dict[tuple[int, str], OrderItem] = {}
    if replace:
        seen: dict[tuple[int, str], int] = {}
        for item in OrderItem.objects.filter(order_id__in=list(order_ids.values())).order_by("order_id", "id"):
            existing[(item.order_id, _line_key(item.line_item_id, item.sku, seen, item.order_id))] = item
    to_create, to_update, keep = [], [], set()
    for external_id, record in records.items():
        order_id = order_ids[external_id]
        if not existing:  # new orders only: every line is a new item
            to_create.extend((order_id, line.line_item_id, *_item_values(line)) for line in record.lines)
            continue
        seen = {}
        for line in record.lines:
            values = _item_values(line)
            item = existing.get((order_id, _line_key(line.line_item_id, line.sku, seen, order_id)))
            if item is None:
                to_create.append((order_id, line.line_item_id, *values))
                continue
            keep.add(item.pk)
            if any(getattr(item, k) != v for k, v in zip(ITEM_FIELDS, values)):
                for k, v in zip(ITEM_FIELDS, values):
                    setattr(item, k, v)
                to_update.append(item)
    gone = [item.pk for item in existing.values() if item.pk not in keep]
    if gone:
        OrderItem.objects.filter(pk__in=gone, shipment_items__isnull=True).delete()
    if to_update:
        OrderItem.objects.bulk_update(to_update, ITEM_FIELDS)
    insert_rows(OrderItem, ["order", "line_item_id", *ITEM_FIELDS], to_create)


def _write_products(store: Store, records: list[OrderRecord]) -> None:
    lines = {}
    for record in records:
        for line in record.lines:
            if line.sku and not line.adjustment:
                lines[line.sku] = line
    if not lines:
        return
    existing = {p.sku: p for p in Product.objects.filter(merchant_id=store.merchant_id, sku__in=list(lines))}
    if store.create_products:
        Product.objects.bulk_create(
            [
                Product(merchant_id=store.merchant_id, sku=sku, name=line.name, weight_grams=line.weight_grams,
                        image_url=line.image_url, bin_location=line.location)
                for sku, line in lines.items() if sku not in existing
            ],
            ignore_conflicts=True,
        )
    if store.update_products:
        changed = []
        for sku, product in existing.items():
            line = lines[sku]
            new = {"name": line.name or product.name, "weight_grams": line.weight_grams or product.weight_grams,
                   "image_url": line.image_url or product.image_url, "bin_location": line.location or product.bin_location}
            if any(getattr(product, k) != v for k, v in new.items()):
                for k, v in new.items():
                    setattr(product, k, v)
                product.updated_at = timezone.now()
                changed.append(product)
        if changed:
            Product.objects.bulk_update(changed, ["name", "weight_grams", "image_url", "bin_location", "updated_at"])
