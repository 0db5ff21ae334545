"""Health endpoints, unauthenticated, for load balancers, supervisors and monitoring
(django-health-check's view and database check; the broker and beat checks are ShipBridge's).

- `/health/live/`   liveness: this web process answers (it touches nothing else). A supervisor
                    restarts the process when this fails.
- `/health/ready/`  readiness: the database answers a query, the Celery broker takes a
                    connection, and a worker handled beat's "Refresh due stores" tick within
                    SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS (orders/heartbeats.py). HTTP 200 when all
                    hold, 500 naming what failed otherwise; `?format=json` (or `Accept:
                    application/json`) for machines, `?format=text` for people.

Answers name the failing part and never a URL, host or password (the broker URL holds one)."""
from __future__ import annotations

import dataclasses
import datetime as dt

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from orders import heartbeats
from shipbridge.celery import app as celery_app


@never_cache
@require_safe
def live(request):
    """Liveness: the process answers. Deliberately checks nothing it depends on: a database
    outage must not make a supervisor restart every web process."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker (Redis in production) accepts a connection: without it nothing is
    queued (imports, store notifications, e-mails)."""

    timeout = dt.timedelta(seconds=3)

    def run(self):
        connection = celery_app.connection_for_write(connect_timeout=self.timeout.total_seconds())
        try:
            connection.ensure_connection(max_retries=0)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is "unavailable"
            raise ServiceUnavailable(
                f"the Celery broker ({connection.transport_cls}) refuses the connection: {type(exc).__name__}"
            ) from exc
        finally:
            connection.release()


@dataclasses.dataclass
class BeatTick(HealthCheck):
    """A worker ran beat's "Refresh due stores" tick recently: beat runs, and a worker takes the
    notifications queue (without them no store is refreshed on schedule)."""

    async def run(self):
        # In the request's thread (sync_to_async's default), whose database connection Django
        # closes at the end of the request.
        last = await sync_to_async(heartbeats.heartbeat_last)(name=heartbeats.REFRESH_TICK)
        stale = settings.SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS
        if last is None:
            raise ServiceUnavailable(
                "no beat tick was ever handled: start beat (exactly one) and a worker for the notifications queue")
        age = (timezone.now() - last).total_seconds()
        if age > stale:
            raise ServiceUnavailable(
                f"the last beat tick was handled {age:.0f} s ago (more than {stale:.0f} s): "
                "check beat and the notifications workers")


class ReadinessView(HealthCheckView):
    checks = (
        "health_check.checks.Database",
        Broker,
        BeatTick,
    )
