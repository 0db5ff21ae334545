"""Benchmark: import a 5,000-order feed from the sandbox Custom Store and compare the time with
downloading and parsing the same pages and doing nothing else.

    .venv/bin/python bench/import_feed.py [--orders 5000] [--page-size 100] [--repeat 3]

Prints the two times, their ratio (target ≤ 1.3) and the queries per page. The sandbox store
runs in its own process, as a real store would; ShipBridge runs with DEBUG off, as in
production. Uses a throw-away SQLite database unless DATABASE_URL is set (then that database
must be empty and disposable)."""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    os.environ.setdefault("SHIPBRIDGE_VAR_DIR", tempfile.mkdtemp(prefix="shipbridge-bench-"))
    os.environ["DEBUG"] = "false"
    from shipbridge.keys import new_fernet_key, new_secret_key  # throw-away keys: no key ships with ShipBridge

    os.environ.setdefault("SECRET_KEY", new_secret_key())
    os.environ.setdefault("SHIPBRIDGE_ENCRYPTION_KEYS", new_fernet_key())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipbridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SHIPBRIDGE_EGRESS_ALLOW", "127.0.0.1")  # the sandbox store's address
    import django

    django.setup()
    from django.core.management import call_command

    from stores.sandbox.customstore import SANDBOX_PASSWORD, SANDBOX_PATH, SANDBOX_USERNAME

    call_command("migrate", verbosity=0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "stores.sandbox.customstore", "--port", str(port), "--preset", "custom_store",
         "--orders", str(args.orders), "--live-every", "0", "--page-size", str(args.page_size)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    sandbox.stdout.readline()  # the sandbox prints its URL once it listens
    settings = {"url": f"http://127.0.0.1:{port}{SANDBOX_PATH}", "username": SANDBOX_USERNAME,
                "password": SANDBOX_PASSWORD}
    mapping = None  # the connector's usual mapping: every status of the feed is mapped

    try:
        fetch_times, import_times, queries = measure(args, settings, mapping)
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    report(args, fetch_times, import_times, queries)


def measure(args, settings, mapping):
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from orders.importing import store_refresh
    from orders.models import Order
    from stores.connectors.base import Window
    from stores.services import store_create

    fetch_times, import_times, queries = [], [], []
    for n in range(args.repeat):
        store = store_create(connector="custom_store", name=f"Bench {os.getpid()}-{n}", settings=settings,
                             status_mapping=mapping, create_products=True, update_products=True)
        window = Window(start=timezone.now() - dt.timedelta(days=30), end=timezone.now())

        started = time.perf_counter()
        fetched = sum(len(page.records) for page in store.build_connector().fetch_orders(window, statuses=[]))
        fetch_times.append(time.perf_counter() - started)

        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            run = store_refresh(store_id=store.pk)
            import_times.append(time.perf_counter() - started)
        assert run.status == "succeeded", run.error
        assert run.imported + run.skipped == fetched == args.orders, (run.imported, run.skipped, fetched)
        queries.append(len(ctx.captured_queries) / max(run.pages, 1))
        Order.objects.filter(store=store).delete()
    return fetch_times, import_times, queries


def report(args, fetch_times, import_times, queries):
    from django.db import connection

    fetch, imp = statistics.median(fetch_times), statistics.median(import_times)
    print(f"orders: {args.orders}  pages: {-(-args.orders // args.page_size)}  database: {connection.vendor}")
    print(f"download + parse only: {fetch:.3f} s (median of {args.repeat})")
    print(f"full import:           {imp:.3f} s (median of {args.repeat})")
    print(f"ratio import / fetch:  {imp / fetch:.2f}  (target ≤ 1.3)")
    print(f"queries per page:      {statistics.median(queries):.1f}")


if __name__ == "__main__":
    main()
