"""A sandbox Custom Store: a loopback HTTP server speaking the Custom Store XML protocol, with
realistic generated orders, a QuickBooks Commerce preset and fault switches for the tests.

Endpoint: `<sandbox url>/shipstation.xml` (SANDBOX_PATH); `/` answers the shop's HTML home
page (what a merchant who pasted the wrong URL gets). Credentials: SANDBOX_USERNAME /
SANDBOX_PASSWORD, as HTTP Basic auth or `SS-UserName` / `SS-Password` query parameters.

    GET  /shipstation.xml?action=export&start_date=MM/dd/yyyy HH:mm&end_date=...&page=N
         orders whose LastModified (minute precision, the sandbox's zone, default UTC) lies
         in [start_date, end_date], oldest first, `page_size` per page, `<Orders pages="N">`;
         `stock_location_id[]=ID` (repeatable) restricts to those stock locations.
    POST /shipstation.xml?action=shipnotify&order_number=...&carrier=...&service=...&tracking_number=...
         with a <ShipNotice> body: recorded in `state.notices`; the order's lines are marked
         shipped and, once everything is shipped, the order takes the preset's shipped status.
         The QuickBooks Commerce preset validates like the real feed did (422 + JSON errors).

Start one (tests, demo, `run_sandboxes`):

    sandbox = start_custom_store_sandbox(port=0, preset="quickbooks_commerce", orders=60)
    sandbox.endpoint  # http://127.0.0.1:PORT/shipstation.xml
    sandbox.state.fail_next(1, status=503, page=2)
    sandbox.stop()

or `python -m stores.sandbox.customstore --port 8071 --preset custom_store`.

No Django here: the sandbox runs without settings.

The package: `data` (presets, order records, generated orders), `state` (CustomStoreState, fault
switches, request and notice records), `render` (export pages), `handler` (the HTTP handler);
this module starts the server and re-exports their names.
"""
from __future__ import annotations

import argparse
import datetime as dt

from ..server import RunningSandbox, SandboxHandler, serve_until_interrupted
from .data import (
    CATALOGUE, COMPANIES, FIRST_NAMES, LAST_NAMES, NOTES, PLACES, PRESETS, SERVICES, UTC, Preset, SandboxLine,
    SandboxOrder, generate_orders,
)
from .handler import CustomStoreHandler
from .render import BILLION_LAUGHS, EXTERNAL_ENTITY, HTML_PAGE
from .state import (
    CUSTOM_STORE_PATH, DEFAULT_PAGE_SIZE, INVALID_VALUES, QBC_FULFILLED_ERROR, SANDBOX_PASSWORD, SANDBOX_PATH,
    SANDBOX_USERNAME, CustomStoreState, Fault, ReceivedNotice, RequestLog,
)

__all__ = [
    "BILLION_LAUGHS", "CATALOGUE", "COMPANIES", "CUSTOM_STORE_PATH", "DEFAULT_PAGE_SIZE", "EXTERNAL_ENTITY",
    "FIRST_NAMES", "HTML_PAGE", "INVALID_VALUES", "LAST_NAMES", "NOTES", "PLACES", "PRESETS", "QBC_FULFILLED_ERROR",
    "SANDBOX_PASSWORD", "SANDBOX_PATH", "SANDBOX_USERNAME", "SERVICES", "UTC", "CustomStoreHandler",
    "CustomStoreState", "Fault", "Preset", "ReceivedNotice", "RequestLog", "RunningSandbox", "SandboxHandler",
    "SandboxLine", "SandboxOrder", "generate_orders", "main", "start_custom_store_sandbox", "store_settings",
]


def start_custom_store_sandbox(
    port: int = 0,
    preset: str = "quickbooks_commerce",
    orders: int = 60,
    live_every: float | None = 20,
    *,
    host: str = "127.0.0.1",
    seed: int = 7,
    page_size: int = DEFAULT_PAGE_SIZE,
    now: dt.datetime | None = None,
    timezone: str = "UTC",
    verbose: bool = False,
    **state_options,
) -> RunningSandbox:
    """Start a sandbox Custom Store on host:port (0: a free port) in a thread. The returned
    RunningSandbox has `.url`, `.endpoint` (the URL to configure a store with), `.state`
    (a CustomStoreState) and `.stop()`. `live_every`: a new order every N seconds (None: off)."""
    state = CustomStoreState(preset=preset, orders=orders, seed=seed, now=now, page_size=page_size,
                             timezone=timezone, live_every=live_every, verbose=verbose, **state_options)
    sandbox = RunningSandbox(CustomStoreHandler, state, host=host, port=port)
    sandbox.endpoint = sandbox.url + state.path
    return sandbox


def store_settings(sandbox: RunningSandbox, **extra: str) -> dict[str, str]:
    """Connection settings (password included) for a store pointing at this sandbox."""
    return {"url": sandbox.url + sandbox.state.path, "username": sandbox.state.username,
            "password": sandbox.state.password, **extra}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stores.sandbox.customstore",
                                     description="Run a sandbox Custom Store (XML) on a loopback port.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quickbooks_commerce")
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--live-every", type=float, default=20, help="seconds between new orders (0: off)")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    sandbox = start_custom_store_sandbox(
        args.port, args.preset, args.orders, args.live_every or None, host=args.host,
        page_size=args.page_size, timezone=args.timezone, verbose=args.verbose,
    )
    print(f"{args.preset} sandbox: {sandbox.endpoint}  user={SANDBOX_USERNAME} password={SANDBOX_PASSWORD}",
          flush=True)
    serve_until_interrupted(sandbox)
