"""Reads about stores on their own: a store's state and next refresh in words. (What needs
orders — the activity log, the dashboard, the time-zone check — is in orders/selectors.py.)"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from .models import RefreshStatus, Store


NOT_IMPORTED_DETAIL = "This store's orders are entered in ShipBridge: nothing is imported."


@dataclass(frozen=True)
class StoreState:
    code: str  # ok / attention / failing / running / never / inactive
    label: str
    detail: str


def store_state(*, store: Store, now: dt.datetime | None = None) -> StoreState:
    """The store's state in words: what it is doing and, when failing, its last error."""
    now = now or timezone.now()
    if not store.connector_class.imports_orders:
        return StoreState("ok", "Not imported", NOT_IMPORTED_DETAIL)
    if store.lease_expires_at and store.lease_expires_at > now:
        return StoreState("running", "Importing now", "An import of this store is running.")
    if not store.active:
        return StoreState("inactive", "Inactive", "This store is inactive: it does not import. Its orders stay.")
    status = store.last_refresh_status
    if status == RefreshStatus.FAILED:
        when = f"{timesince(store.last_refresh_at, now)} ago" if store.last_refresh_at else "recently"
        error = store.last_refresh_error or "no reason was recorded"
        return StoreState("failing", "Failing",
                          f"The last import failed {when}: {error}. It is retried at the next refresh.")
    if status == RefreshStatus.SUCCEEDED and store.last_refresh_warning:
        return StoreState("attention", "Attention", store.last_refresh_warning)
    if status == RefreshStatus.SUCCEEDED:
        when = f"{timesince(store.last_refresh_at, now)} ago" if store.last_refresh_at else ""
        return StoreState("ok", "OK", f"The last import succeeded {when}.".replace(" .", "."))
    if status == RefreshStatus.RUNNING:
        return StoreState("running", "Importing now", "An import of this store is running.")
    return StoreState("never", "Never refreshed", "This store has not imported yet.")


def next_refresh_words(*, store: Store, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if not store.connector_class.imports_orders:
        return "— (not imported)"
    if not store.active:
        return "— (inactive)"
    if store.next_refresh_at is None or store.next_refresh_at <= now:
        return "due now"
    return f"in {timeuntil(store.next_refresh_at, now)}"
