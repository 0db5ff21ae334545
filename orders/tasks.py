"""Celery tasks: thin wrappers that load ids and call a service."""
import logging

from celery import shared_task

log = logging.getLogger("shipbridge.tasks")


@shared_task(name="orders.tasks.import_store", ignore_result=True, acks_late=True)
def import_store(store_id: int, trigger: str = "schedule", user_id: int | None = None) -> str:
    from django.contrib.auth import get_user_model

    from .importing import StoreBusy, store_refresh

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        run = store_refresh(store_id=store_id, trigger=trigger, user=user)
    except StoreBusy as exc:
        log.info("store %s: %s", store_id, exc)
        return "busy"
    return run.status
