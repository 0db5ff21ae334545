"""Heartbeats of the periodic work: the "Refresh due stores" tick records when a worker last ran
it to its end; the readiness check (/health/ready/, shipbridge/health.py) turns red when that is
too long ago. The row proves the whole chain at once: beat sent the tick, the broker carried it,
a worker of the notifications queue ran it against the database. (django-celery-beat's
PeriodicTask.last_run_at says only that beat sent a tick, and beat writes it minutes late.)"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Heartbeat

# The beat tick whose heartbeat the readiness check reads (orders.tasks.refresh_due_stores).
REFRESH_TICK = "orders.tasks.refresh_due_stores"


def heartbeat_record(*, name: str, at: dt.datetime | None = None) -> None:
    """Service: `name` ran now (or `at`). One statement, whatever the number of workers."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, beat_at=at or timezone.now())],
        update_conflicts=True, unique_fields=["name"], update_fields=["beat_at"],
    )


def heartbeat_last(*, name: str) -> dt.datetime | None:
    """Selector: when `name` last ran, or None if it never did."""
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
