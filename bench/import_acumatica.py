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
        figures = measure(args, url)
    report(args, figures)


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


def measure(args, url) -> _bench.ImportFigures:
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=366 * 5)  # the sandbox's shipments go back years

    def prepare(store):
        sent = recorded_requests(store, since)
        return since, lambda: floor(sent)

    return _bench.import_runs(args.repeat, "acumatica", settings_for(url), prepare)


def report(args, figures: _bench.ImportFigures) -> None:
    run = figures.run
    _bench.import_report(
        figures, repeat=args.repeat, floor_label="floor (login, GETs, json, logout):", full_target=TARGET,
        again_target=None, again_label="re-import, shipments unchanged:",
        what=("shipments:", f"{figures.floor_result} read in {run.pages} pages ({run.imported} imported, "
                            f"{run.skipped} skipped by the mapping/address rules)"))


if __name__ == "__main__":
    main()
