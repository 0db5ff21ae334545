"""Recovering from faults: a database blip, a dead worker, an unreachable broker.

- `on_fresh_connection(write)`: a write that must not be lost to a database blip (a notification's
  outcome, an import's last writes) is tried once more on a new connection when the first one
  turns out to be dead (a PostgreSQL restart leaves every open connection stale).
- `Heartbeat`: keeps a lease or a claim alive from a helper thread while its holder works, so
  the lease can be short (a minute) and a dead holder's lease expires soon after it died.
- `after_commit(effect)`: a side effect (queue a task) run once the transaction commits; if
  it fails (the broker is down), the failure is logged and the saved action stands: the sweeps
  deliver what was left pending in the database.
- `queue_each(items, queue)`: what a sweep does: queue a task for each item until the broker
  refuses one; the rest waits for the next sweep.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection, connections, transaction

log = logging.getLogger("shipbridge.resilience")
T = TypeVar("T")

DATABASE_ERRORS = (OperationalError, InterfaceError)


def on_fresh_connection(write: Callable[[], T], *, what: str) -> T:
    """Run `write` (its own transaction); when the database connection fails, close it and run
    `write` once more on a new one. Inside an outer transaction nothing can be retried: the
    error propagates."""
    try:
        return write()
    except DATABASE_ERRORS as exc:
        if connection.in_atomic_block:
            raise
        log.warning("%s: the database connection failed (%s); trying once more on a new connection",
                    what, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        connection.close()
        return write()


class Heartbeat:
    """Call `beat()` every `every` seconds in a helper thread while the `with` block runs.

    `beat()` renews a lease and returns False when the lease is no longer ours (then `lost`
    is set and the heartbeat stops). A database error in a beat is logged and the next beat
    tries again on a new connection: a blip shorter than the lease costs nothing. The thread
    uses its own database connection and closes it when it ends."""

    def __init__(self, beat: Callable[[], bool], *, every: float, name: str):
        self._beat = beat
        self._every = max(0.05, float(every))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"shipbridge-heartbeat-{name}", daemon=True)
        self.lost = False
        self.name = name

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._every):
                try:
                    if not self._beat():  # not ours any more (or released): the holder decides
                        self.lost = True
                        return
                except DATABASE_ERRORS as exc:
                    log.warning("%s: heartbeat failed (%s); retrying on a new connection", self.name,
                                type(exc).__name__)
                    connection.close()
                except Exception:  # noqa: BLE001 - a heartbeat must never take its holder down
                    log.exception("%s: heartbeat failed", self.name)
        finally:
            connections.close_all()  # this thread's connections only


def after_commit(effect: Callable[[], object], *, what: str) -> None:
    """Run `effect` after the current transaction commits (at once outside one). A failure is
    logged and swallowed: the action is saved, and what `effect` would have started is still
    pending in the database, where a sweep finds it."""

    def run_effect() -> None:
        try:
            effect()
        except Exception as exc:  # noqa: BLE001 - e.g. the broker is unreachable
            log.warning("%s could not be queued now (%s: %s); the next sweep delivers it", what,
                        type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")

    transaction.on_commit(run_effect)


def queue_each(items: Iterable[T], queue: Callable[[T], object], *, what: Callable[[T], str]) -> int:
    """Queue a task for each of `items` (`queue(item)`), in order, until the broker refuses one:
    that one is logged (`what(item)` names it) and the rest is left for the next sweep. Returns
    how many were queued."""
    count = 0
    for item in items:
        try:
            queue(item)
        except Exception:  # noqa: BLE001 - broker down: the next sweep tries again
            log.exception("cannot queue %s; the next sweep tries again", what(item))
            break
        count += 1
    return count
