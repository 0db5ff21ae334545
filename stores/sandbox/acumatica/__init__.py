"""A sandbox Acumatica instance on loopback: the contract-based REST API as a shipping
integration sees it (cookie login/logout with a licence seat limit, the Shipment entity of the
Default endpoint versions a release has, OData $filter/$expand/$select/$top/$skip, tracking PUT,
ConfirmShipment), with the server clock in a configurable time zone and fault switches.

    sandbox = start_acumatica_sandbox(release="2021 R2", server_timezone="America/Chicago")
    sandbox.url, sandbox.state.open_sessions, sandbox.state.status("000001"); sandbox.stop()

Timestamps are written as wall-clock time in the server's zone with no offset
("2021-07-15T17:45:12.13"), and `$filter` literals are read as wall time in that zone, which is
how an on-premises instance whose server does not run on UTC behaves.

The package: `data` (the Shipment entity's fields and the seed data), `state`
(AcumaticaSandboxState: shipments, sessions, switches, faults), `odata` (the `$filter`
language), `render` (Shipment JSON), `handler` (the HTTP handler); this module starts the
server and re-exports their names.
"""
from __future__ import annotations

import datetime as dt
import socket
import threading

from ..server import RunningSandbox, SandboxHandler
from .data import BOXES, CONFIRMED, CUSTOMERS, EXPANDABLE, ITEMS, SHIP_VIAS, SHIPMENT_FIELDS, STATUSES
from .handler import KEY_NOT_FOUND, NOT_FOUND_URI, AcumaticaSandboxHandler
from .odata import FilterSyntaxError
from .state import SANDBOX_BRANCH, SANDBOX_PASSWORD, SANDBOX_TENANT, SANDBOX_USERNAME, AcumaticaSandboxState

__all__ = [
    "BOXES", "CONFIRMED", "CUSTOMERS", "DEMO_SERVER_TIMEZONE", "EXPANDABLE", "ITEMS", "KEY_NOT_FOUND",
    "NOT_FOUND_URI", "SANDBOX_BRANCH", "SANDBOX_PASSWORD", "SANDBOX_TENANT", "SANDBOX_USERNAME", "SHIPMENT_FIELDS",
    "SHIP_VIAS", "STATUSES", "AcumaticaSandbox", "AcumaticaSandboxHandler", "AcumaticaSandboxState",
    "FilterSyntaxError", "RunningSandbox", "SandboxHandler", "start_acumatica_sandbox",
]

# The embedded demo's server clock zone (the demo store is set to it).
DEMO_SERVER_TIMEZONE = "America/Chicago"


class AcumaticaSandbox(RunningSandbox):
    """A running sandbox; with `live_every`, a thread keeps adding/updating shipments."""

    def __init__(self, state: AcumaticaSandboxState, *, host: str = "127.0.0.1", port: int = 0,
                 live_every: float | None = None):
        super().__init__(AcumaticaSandboxHandler, state, host=host, port=port)
        self._stop_live = threading.Event()
        self._live = None
        if live_every:
            self._live = threading.Thread(target=self._live_loop, args=(live_every,), daemon=True,
                                          name=f"acumatica-live-{self.port}")
            self._live.start()

    def _live_loop(self, every: float) -> None:
        while not self._stop_live.wait(every):
            self.state.live_tick()

    def stop(self) -> None:
        self._stop_live.set()
        if self._live is not None:
            self._live.join(timeout=5)
        # shutdown() waits for the accept loop's next poll (0.5 s): wake it with a connection
        stopper = threading.Thread(target=self.httpd.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                pass
            stopper.join(0.02)
        super().stop()


def start_acumatica_sandbox(port: int = 0, release: str = "2021 R2", server_timezone: str = "UTC",
                            shipments: int = 40, live_every: float | None = None, *, seed: int = 7,
                            host: str = "127.0.0.1", anchor: dt.datetime | None = None) -> AcumaticaSandbox:
    """Start a sandbox Acumatica on a loopback port (0: a free one). `anchor` is the server wall
    time the seeded data ends at (default: now, on the hour)."""
    state = AcumaticaSandboxState(release=release, server_timezone=server_timezone, shipments=shipments,
                                  seed=seed, anchor=anchor)
    return AcumaticaSandbox(state, host=host, port=port, live_every=live_every)
