"""Benchmark: the beat tick that queues the refresh of every due store, with 10 and with 10,000
stores due.

    .venv/bin/python bench/dispatch_due.py [--few 10] [--many 10000] [--repeat 3]
    DATABASE_URL=postgres://… .venv/bin/python bench/dispatch_due.py   # an empty, disposable database

Each run makes every store due, then runs the tick as beat runs it (the refresh_due_stores task,
in this process, publishing to an in-memory broker) and counts its SQL statements and the
messages it publishes (Celery's before_task_publish signal), then runs the fan-out task the tick
published (which queues one refresh per store, outside the tick). Prints, for both numbers of
due stores, the tick's median time, statements (target: the same, at most 10) and publishes
(target: not one per store), and the ratio of the times."""
import argparse
import datetime as dt
import sys
import time

import _bench

MAX_STATEMENTS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--many", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _bench.setup_django()
    results = {}
    for count in (args.few, args.many):
        make_stores(count)
        results[count] = [tick() for _ in range(args.repeat)]
        print(f"  {count} due stores measured", file=sys.stderr, flush=True)
    report(args, results)


def make_stores(total: int) -> None:
    """Make the database hold `total` active stores (adding to what is there), intervals mixed."""
    from stores.crypto import encrypt_json
    from stores.models import Merchant, Store

    merchant, _ = Merchant.objects.get_or_create(name="Bench merchant")
    have = Store.objects.count()
    secrets = encrypt_json({"password": "p"})
    Store.objects.bulk_create([
        Store(merchant=merchant, connector="custom_store", name=f"Bench store {n}",
              settings={"url": f"https://shop{n}.example.com/xml", "username": "u"}, encrypted_secrets=secrets,
              refresh_interval_minutes=(1, 5, 15, 60)[n % 4])
        for n in range(have, total)
    ], batch_size=2000)


def tick() -> tuple[float, int, int, int, float]:
    """(seconds, statements, publishes, due stores, fan-out seconds) of one tick with every store due."""
    from celery.signals import before_task_publish
    from django.db import connection, transaction

    from orders import tasks
    from stores.models import Store

    Store.objects.update(next_refresh_at=None)  # every store due
    published = []

    def count(sender=None, **kwargs):
        published.append(sender)

    before_task_publish.connect(count)
    counter = _bench.StatementCounter()
    try:
        with counter.counting():
            started = time.perf_counter()
            due = tasks.refresh_due_stores()  # as beat's message runs it: its own transaction, publishes after commit
            seconds = time.perf_counter() - started
    finally:
        before_task_publish.disconnect(count)
    assert connection.get_autocommit() and not transaction.get_connection().in_atomic_block
    # the fan-out the tick published, run here: one refresh queued per store, outside the tick
    from orders import importing

    started = time.perf_counter()
    if "orders.tasks.refresh_stores" in published:
        importing.stores_queue_scheduled(store_ids=list(Store.objects.filter(next_refresh_at__isnull=False)
                                                        .values_list("pk", flat=True)))
    fan_seconds = time.perf_counter() - started
    return seconds, counter.count, len(published), due, fan_seconds


def report(args, results):
    _bench.line("database:", _bench.database_words())
    rows = {}
    for count, runs in results.items():
        seconds = _bench.median([r[0] for r in runs])
        _, statements, publishes, due, _ = runs[-1]
        fan = _bench.median([r[4] for r in runs])
        rows[count] = seconds
        _bench.line(f"{count} stores due:", f"tick {seconds * 1000:.1f} ms · {statements} statements "
                                            f"(target ≤ {MAX_STATEMENTS}) · {publishes} publish(es) in the tick · "
                                            f"{due} queued · fan-out task {fan * 1000:.0f} ms")
    _bench.line("ratio many / few (time):", f"{rows[args.many] / rows[args.few]:.1f}")


if __name__ == "__main__":
    main()
