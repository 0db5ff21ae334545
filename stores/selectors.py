"""Reads about stores on their own: a store's state and next refresh in words. (What needs
orders — the activity log, the dashboard, the time-zone check — is in orders/selectors.py.)"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .i18n import translated
from .models import RefreshStatus, Store


NOT_IMPORTED_DETAIL = _("This store's orders are entered in ShipBridge: nothing is imported.")


@dataclass(frozen=True)
class StoreState:
    code: str  # ok / attention / failing / running / never / inactive
    label: str
    detail: str


def store_state(*, store: Store, now: dt.datetime | None = None) -> StoreState:
    """The store's state in words, in the active language: what it is doing and, when failing,
    its last error."""
    now = now or timezone.now()
    if not store.connector_class.imports_orders:
        return StoreState("ok", gettext("Not imported"), str(NOT_IMPORTED_DETAIL))
    running = StoreState("running", gettext("Importing now"), gettext("An import of this store is running."))
    if store.lease_expires_at and store.lease_expires_at > now:
        return running
    if not store.active:
        return StoreState("inactive", gettext("Inactive"),
                          gettext("This store is inactive: it does not import. Its orders stay."))
    status = store.last_refresh_status
    if status == RefreshStatus.FAILED:
        error = translated(store.last_refresh_error) or gettext("no reason was recorded")
        if store.last_refresh_at:
            detail = gettext("The last import failed {time} ago: {error}. It is retried at the next refresh.").format(
                time=timesince(store.last_refresh_at, now), error=error)
        else:
            detail = gettext("The last import failed recently: {error}. It is retried at the next refresh.").format(
                error=error)
        return StoreState("failing", gettext("Failing"), detail)
    if status == RefreshStatus.SUCCEEDED and store.last_refresh_warning:
        return StoreState("attention", gettext("Attention"), translated(store.last_refresh_warning))
    if status == RefreshStatus.SUCCEEDED:
        if store.last_refresh_at:
            detail = gettext("The last import succeeded {time} ago.").format(time=timesince(store.last_refresh_at, now))
        else:
            detail = gettext("The last import succeeded.")
        return StoreState("ok", gettext("OK"), detail)
    if status == RefreshStatus.RUNNING:
        return running
    return StoreState("never", gettext("Never refreshed"), gettext("This store has not imported yet."))


def next_refresh_words(*, store: Store, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if not store.connector_class.imports_orders:
        return gettext("— (not imported)")
    if not store.active:
        return gettext("— (inactive)")
    if store.next_refresh_at is None or store.next_refresh_at <= now:
        return gettext("due now")
    return gettext("in {time}").format(time=timeuntil(store.next_refresh_at, now))
