"""Celery tasks: thin wrappers that load ids and call a service."""
import logging

from celery import shared_task

from .models import ImportTrigger

log = logging.getLogger("shipbridge.tasks")


@shared_task(name="orders.tasks.import_store", ignore_result=True, acks_late=True)
def import_store(store_id: int, trigger: str = ImportTrigger.SCHEDULE, user_id: int | None = None) -> str:
    from django.contrib.auth import get_user_model

    from stores.models import Store

    from .importing import StoreUnavailable, store_refresh

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = store_refresh(store_id=store_id, trigger=trigger, user=user)
    except StoreUnavailable as exc:
        log.info("store %s: %s", store_id, exc)
        return "unavailable"
    except Store.DoesNotExist:
        log.info("store %s no longer exists: import dropped", store_id)
        return "gone"
    return run.status


@shared_task(name="orders.tasks.notify_store", ignore_result=True, acks_late=True)
def notify_store(notification_id: int, attempt: int | None = None) -> str:
    """Deliver one shipment's store notification. `attempt` is the attempt count the task was
    queued for: a duplicate delivery of a task that already ran does nothing. A transient
    failure queues the next try after its back-off."""
    from .notifying import RETRY, notification_attempt, notification_queue

    outcome = notification_attempt(notification_id=notification_id, expected_attempts=attempt)
    if outcome is None:
        return "nothing to do"
    if outcome.outcome == RETRY:
        try:
            notification_queue(notification_id=notification_id, attempt=outcome.attempts,
                               countdown=outcome.retry_in)
        except Exception:  # noqa: BLE001 - broker down: requeue_stale_notifications picks it up
            log.exception("cannot queue the next try of notification %s", notification_id)
    return outcome.outcome


@shared_task(name="orders.tasks.requeue_stale_notifications", ignore_result=True)
def requeue_stale_notifications() -> int:
    """Beat: queue again the pending store notifications whose task was lost."""
    from .notifying import notifications_requeue_stale

    return notifications_requeue_stale()
