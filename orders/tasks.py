"""Celery tasks: thin wrappers that load ids and call a service. The beat schedule that runs
the periodic ones is CELERY_BEAT_SCHEDULE in shipbridge/settings.py."""
import datetime as dt
import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from stores.models import Store

from . import emails, heartbeats, importing, notifying, webhooks
from .models import AttemptOutcome, ImportTrigger
from .resilience import queue_each

log = logging.getLogger("shipbridge.tasks")


@shared_task(name="orders.tasks.refresh_store", ignore_result=True, acks_late=True)
def refresh_store(store_id: int, trigger: str = ImportTrigger.SCHEDULE, user_id: int | None = None,
                  since: str | None = None) -> str:
    """Refresh one store: import its orders (one run per store: the lease decides), from
    `since` (ISO 8601) when given."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = importing.store_refresh(store_id=store_id, trigger=trigger, user=user,
                                      since=dt.datetime.fromisoformat(since) if since else None)
    except importing.StoreUnavailable as exc:
        log.info("store %s: %s", store_id, exc)
        return "unavailable"
    except Store.DoesNotExist:
        log.info("store %s no longer exists: refresh dropped", store_id)
        return "gone"
    return run.status


@shared_task(name="orders.tasks.refresh_due_stores", ignore_result=True)
def refresh_due_stores() -> int:
    """Beat: queue a refresh of every store whose next refresh is due, then record the tick
    (the readiness check's "beat ticked recently")."""
    queued = importing.stores_refresh_due()
    heartbeats.heartbeat_record(name=heartbeats.REFRESH_TICK)
    return len(queued)


@shared_task(name="orders.tasks.refresh_stores", ignore_result=True, acks_late=True)
def refresh_stores(store_ids: list[int], trigger: str = ImportTrigger.SCHEDULE) -> int:
    """The fan-out of a beat tick: queue a refresh of each of these stores (their next refresh
    time was moved when they were picked)."""
    return importing.stores_queue_scheduled(store_ids=store_ids, trigger=trigger)


@shared_task(name="orders.tasks.notify_store", ignore_result=True, acks_late=True)
def notify_store(notification_id: int, attempt: int | None = None) -> str:
    """Deliver one shipment's store notification. `attempt` is the attempt count the task was
    queued for: a duplicate delivery of a task that already ran does nothing. A transient
    failure queues the next try after its back-off."""
    outcome = notifying.notification_attempt(notification_id=notification_id, expected_attempts=attempt)
    if outcome is None:
        return "nothing to do"
    if outcome.outcome == AttemptOutcome.RETRY:
        try:
            notifying.notification_queue(notification_id=notification_id, attempt=outcome.attempts,
                                         countdown=outcome.retry_in)
        except Exception:  # noqa: BLE001 - broker down: requeue_stale_notifications picks it up
            log.exception("cannot queue the next try of notification %s", notification_id)
    return outcome.outcome


# The tasks' names before "refresh" became the one verb: messages queued by an older release
# (a "Refresh now", a beat tick) are still run after an upgrade. To be removed in a later release.
@shared_task(name="orders.tasks.import_store", ignore_result=True, acks_late=True)
def import_store(store_id: int, trigger: str = ImportTrigger.SCHEDULE, user_id: int | None = None) -> str:
    return refresh_store(store_id, trigger=trigger, user_id=user_id)


@shared_task(name="stores.tasks.dispatch_due_stores", ignore_result=True)
def dispatch_due_stores() -> int:
    return refresh_due_stores()


@shared_task(name="orders.tasks.send_customer_email", ignore_result=True, acks_late=True)
def send_customer_email(shipment_id: int) -> str:
    """Send a shipment's pending customer e-mail; a duplicate delivery does nothing."""
    return emails.shipment_email_deliver(shipment_id=shipment_id) or "nothing to do"


@shared_task(name="orders.tasks.requeue_stale_notifications", ignore_result=True)
def requeue_stale_notifications() -> int:
    """Beat: queue again the pending store notifications, customer e-mails and webhook deliveries
    whose task was lost (the broker was down when the shipment was saved, a worker died)."""
    return (notifying.notifications_requeue_stale() + webhooks.deliveries_requeue_stale()
            + queue_each(emails.shipment_emails_pending(), send_customer_email.delay,
                         what=lambda shipment_id: f"the customer e-mail of shipment {shipment_id}"))


@shared_task(name="orders.tasks.deliver_webhook", ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: int, attempt: int | None = None) -> str:
    """POST one webhook delivery; a transient failure queues the next try after its back-off.
    `attempt`: the try count it was queued for (a duplicate finds it moved on and does nothing)."""
    result = webhooks.delivery_attempt(delivery_id=delivery_id, expected_attempts=attempt)
    if result is None:
        return "nothing to do"
    if result.retry_in is not None:
        try:
            webhooks.delivery_queue(delivery_id=delivery_id, attempt=result.attempts, countdown=result.retry_in)
        except Exception:  # noqa: BLE001 - broker down: the stale-delivery sweep picks it up
            log.exception("cannot queue the next try of webhook delivery %s", delivery_id)
    return result.outcome
