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
        figures = measure(args, settings)
    report(args, figures)


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


def measure(args, settings) -> _bench.ImportFigures:
    from django.utils import timezone

    from stores.connectors.base import Window

    def prepare(store):
        now = timezone.now()
        since = now - dt.timedelta(days=30)
        connector = store.build_connector()
        start, end = connector.request_bounds(Window(since, now))
        return since, lambda: floor(connector.client(), start, end)

    figures = _bench.import_runs(args.repeat, "custom_store", settings, prepare)
    pages, fetched = figures.floor_result
    run = figures.run
    assert fetched == args.orders, (fetched, args.orders)
    assert run.imported + run.skipped == args.orders and run.pages == pages, (run.imported, run.skipped, run.pages)
    return figures


def report(args, figures: _bench.ImportFigures) -> None:
    run = figures.run
    _bench.import_report(
        figures, repeat=args.repeat, floor_label="floor (download + ElementTree):", full_target=FULL_TARGET,
        again_target=UNCHANGED_TARGET, again_label="re-import, orders unchanged:",
        what=("feed:", f"{args.orders} orders, {run.pages} pages of {args.page_size} ({run.imported} imported, "
                       f"{run.skipped} skipped by the store's mapping/address rules)"))


if __name__ == "__main__":
    main()
