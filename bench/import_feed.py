"""Benchmark: import a 5,000-order Custom Store feed, and import it again unchanged, against the
floor of downloading the same export pages and parsing them, doing nothing else.

    .venv/bin/python bench/import_feed.py [--orders 5000] [--page-size 100] [--repeat 3]
    DATABASE_URL=postgres://… .venv/bin/python bench/import_feed.py   # an empty, disposable database

The floor: every export page of the import's window fetched on one keep-alive connection
(a plain requests Session) and parsed with xml.etree.ElementTree — nothing else (no egress
check, no mapping, no database). The figures: a full import of the feed into an empty store
(`store_refresh`, as the worker runs it), then a re-import of the same, unchanged orders
(`store_refresh(since=…)` over the same window). Prints the medians, the ratios to the floor
(targets: full ≤ 1.3, unchanged ≤ 1.15) and the statements per page. The sandbox store runs in
its own process, as a real store would; ShipBridge runs with DEBUG off, as in production."""
import argparse
import datetime as dt
import os
import sys
import xml.etree.ElementTree as ET

import _bench

FULL_TARGET, UNCHANGED_TARGET = 1.3, 1.15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _bench.setup_django()

    from stores.sandbox.customstore import SANDBOX_PASSWORD, SANDBOX_PATH, SANDBOX_USERNAME

    port = _bench.free_port()
    code = ("from stores.sandbox.customstore import main; "
            f"main(['--port', '{port}', '--preset', 'custom_store', '--orders', '{args.orders}', "
            f"'--live-every', '0', '--page-size', '{args.page_size}'])")
    with _bench.sandbox_process(code):
        settings = {"url": f"http://127.0.0.1:{port}{SANDBOX_PATH}", "username": SANDBOX_USERNAME,
                    "password": SANDBOX_PASSWORD}
        results = measure(args, settings)
    report(args, *results)


def floor(client, start, end) -> tuple[int, int]:
    """Download every page on one keep-alive connection and parse it; nothing else.
    Returns (pages, orders)."""
    import requests

    session = requests.Session()
    number, total, orders = 1, 1, 0
    while number <= total:
        url = client.build_url([("action", "export"), ("start_date", start.strftime("%m/%d/%Y %H:%M")),
                                ("end_date", end.strftime("%m/%d/%Y %H:%M")), ("page", str(number))])
        root = ET.fromstring(session.get(url).content)
        total = int(root.get("pages") or 0)
        orders += len(root)
        number += 1
    session.close()
    return total, orders


def measure(args, settings):
    from django.utils import timezone

    from orders.importing import store_refresh
    from orders.models import Order, Product
    from stores.connectors.base import Window
    from stores.services import store_create

    floors, fulls, unchanged, statements = _bench.Clock(), _bench.Clock(), _bench.Clock(), []
    for n in range(args.repeat):
        store = store_create(connector="custom_store", name=f"Bench {os.getpid()}-{n}", settings=settings,
                             status_mapping=None, create_products=True, update_products=True)
        now = timezone.now()
        since = now - dt.timedelta(days=30)
        connector = store.build_connector()
        start, end = connector.request_bounds(Window(since, now))

        with floors.timing():
            pages, fetched = floor(connector.client(), start, end)
        assert fetched == args.orders, (fetched, args.orders)

        counter = _bench.StatementCounter()
        with counter.counting():
            with fulls.timing():
                run = store_refresh(store_id=store.pk, since=since)
        assert run.status == "succeeded", run.error
        assert run.imported + run.skipped == args.orders and run.pages == pages, (run.imported, run.skipped, run.pages)
        full_statements = counter.count

        counter = _bench.StatementCounter()
        with counter.counting():
            with unchanged.timing():
                again = store_refresh(store_id=store.pk, since=since)
        assert again.status == "succeeded", again.error
        assert again.unchanged == run.imported and again.imported == again.updated == 0, (
            again.unchanged, again.imported, again.updated)
        statements.append((full_statements, counter.count, pages, run.imported, run.skipped))
        print(f"  run {n + 1}: floor {floors.wall[-1]:.3f} s · full {fulls.wall[-1]:.3f} s · "
              f"unchanged {unchanged.wall[-1]:.3f} s",
              file=sys.stderr, flush=True)
        Order.objects.filter(store=store).delete()
        Product.objects.filter(merchant_id=store.merchant_id).delete()
        store.delete()
    return floors, fulls, unchanged, statements


def report(args, floors, fulls, unchanged, statements):
    floor_s, full_s, unchanged_s = (_bench.median(clock.wall) for clock in (floors, fulls, unchanged))
    full_statements, unchanged_statements, pages, imported, skipped = statements[-1]
    _bench.line("database:", _bench.database_words())
    _bench.line("feed:", f"{args.orders} orders, {pages} pages of {args.page_size} "
                         f"({imported} imported, {skipped} skipped by the store's mapping/address rules)")
    _bench.line("floor (download + ElementTree):",
                f"{floor_s:.3f} s (median of {args.repeat} runs; the ratios compare medians, and the best runs)")
    _bench.line("full import:", f"{full_s:.3f} s")
    _bench.line("re-import, orders unchanged:", f"{unchanged_s:.3f} s")
    _bench.line("ratio full / floor:", f"{full_s / floor_s:.2f}  (target ≤ {FULL_TARGET}; best runs "
                                       f"{min(fulls.wall) / min(floors.wall):.2f})")
    _bench.line("ratio unchanged / floor:", f"{unchanged_s / floor_s:.2f}  (target ≤ {UNCHANGED_TARGET}; best runs "
                                            f"{min(unchanged.wall) / min(floors.wall):.2f})")
    _bench.cpu_line(floors, {"full import": fulls, "re-import": unchanged})
    _bench.line("statements, full import:", f"{full_statements} ({full_statements / pages:.1f} per page)")
    _bench.line("statements, re-import:", f"{unchanged_statements} ({unchanged_statements / pages:.1f} per page)")


if __name__ == "__main__":
    main()
