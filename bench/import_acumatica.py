"""Benchmark: import 5,000 shipments from the sandbox Acumatica against the floor of logging in,
sending the same GET requests, reading their JSON and logging out, doing nothing else.

    .venv/bin/python bench/import_acumatica.py [--shipments 5000] [--repeat 3]
    DATABASE_URL=postgres://… .venv/bin/python bench/import_acumatica.py   # an empty, disposable database

A first import (not timed) records the requests ShipBridge sends; the floor replays them on one
keep-alive connection (a plain requests Session: login, every GET with json.loads, logout — no
egress check, no mapping, no database). The figure: a full import of the shipments into an
empty store (`store_refresh`, as the worker runs it), and for information a re-import of the
same, unchanged shipments. Prints the medians, the ratio to the floor (target ≤ 1.2) and the
statements per page. The sandbox runs in its own process, as a real Acumatica would."""
import argparse
import datetime as dt
import json
import os
import sys

import _bench

TARGET = 1.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    _bench.setup_django()
    port = _bench.free_port()
    code = ("import time; from stores.sandbox.acumatica import start_acumatica_sandbox; "
            f"s = start_acumatica_sandbox(port={port}, shipments={args.shipments}); "
            "print(s.url, flush=True); time.sleep(10**9)")
    with _bench.sandbox_process(code) as url:
        results = measure(args, url)
    report(args, *results)


def settings_for(url):
    from stores.sandbox.acumatica import SANDBOX_BRANCH, SANDBOX_PASSWORD, SANDBOX_TENANT, SANDBOX_USERNAME

    return {"base_url": url, "username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD, "company": SANDBOX_TENANT,
            "branch": SANDBOX_BRANCH, "version": "2021 R2"}


def recorded_requests(store, since):
    """The requests one import sends: [(method, url, json body)]."""
    from unittest import mock

    from orders.importing import store_refresh
    from orders.models import Order
    from stores.connectors import http

    sent = []
    real = http.send

    def record(session, method, url, **kwargs):
        sent.append((method, url, kwargs.get("json")))
        return real(session, method, url, **kwargs)

    with mock.patch.object(http, "send", record):
        run = store_refresh(store_id=store.pk, since=since)
    assert run.status == "succeeded", run.error
    Order.objects.filter(store=store).delete()
    return sent


def floor(sent) -> int:
    """Replay: login, the GETs (json.loads each), logout, on one keep-alive connection. Returns
    the shipments read."""
    import requests

    session = requests.Session()
    shipments = 0
    for method, url, body in sent:
        reply = session.request(method, url, json=body)
        assert reply.status_code < 300, (reply.status_code, url)
        if method == "GET":
            shipments += len(json.loads(reply.content))
    session.close()
    return shipments


def measure(args, url):
    from orders.importing import store_refresh
    from orders.models import Order, Product
    from stores.services import store_create

    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=366 * 5)  # the sandbox's shipments go back years
    floors, fulls, unchanged, statements = _bench.Clock(), _bench.Clock(), _bench.Clock(), None
    for n in range(args.repeat):
        store = store_create(connector="acumatica", name=f"Bench {os.getpid()}-{n}", settings=settings_for(url),
                             status_mapping=None, create_products=True, update_products=True)
        sent = recorded_requests(store, since)

        with floors.timing():
            read = floor(sent)

        counter = _bench.StatementCounter()
        with counter.counting():
            with fulls.timing():
                run = store_refresh(store_id=store.pk, since=since)
        assert run.status == "succeeded", run.error
        full_statements = counter.count
        counter = _bench.StatementCounter()
        with counter.counting():
            with unchanged.timing():
                again = store_refresh(store_id=store.pk, since=since)
        assert again.status == "succeeded" and again.unchanged == run.imported, (again.error, again.unchanged)
        statements = (full_statements, counter.count, run.pages, read, run.imported, run.skipped)
        print(f"  run {n + 1}: floor {floors.wall[-1]:.3f} s · full {fulls.wall[-1]:.3f} s · "
              f"unchanged {unchanged.wall[-1]:.3f} s",
              file=sys.stderr, flush=True)
        Order.objects.filter(store=store).delete()
        Product.objects.filter(merchant_id=store.merchant_id).delete()
        store.delete()
    return floors, fulls, unchanged, statements


def report(args, floors, fulls, unchanged, statements):
    full_statements, unchanged_statements, pages, read, imported, skipped = statements
    floor_s, full_s, unchanged_s = (_bench.median(clock.wall) for clock in (floors, fulls, unchanged))
    _bench.line("database:", _bench.database_words())
    _bench.line("shipments:", f"{read} read in {pages} pages ({imported} imported, {skipped} skipped "
                              "by the mapping/address rules)")
    _bench.line("floor (login, GETs, json, logout):",
                f"{floor_s:.3f} s (median of {args.repeat} runs; the ratios compare medians, and the best runs)")
    _bench.line("full import:", f"{full_s:.3f} s")
    _bench.line("re-import, shipments unchanged:", f"{unchanged_s:.3f} s")
    _bench.line("ratio full / floor:", f"{full_s / floor_s:.2f}  (target ≤ {TARGET}; best runs "
                                       f"{min(fulls.wall) / min(floors.wall):.2f})")
    _bench.line("ratio unchanged / floor:",
                f"{unchanged_s / floor_s:.2f}  (best runs {min(unchanged.wall) / min(floors.wall):.2f})")
    _bench.cpu_line(floors, {"full import": fulls, "re-import": unchanged})
    _bench.line("statements, full import:", f"{full_statements} ({full_statements / pages:.1f} per page)")
    _bench.line("statements, re-import:", f"{unchanged_statements} ({unchanged_statements / pages:.1f} per page)")


if __name__ == "__main__":
    main()
