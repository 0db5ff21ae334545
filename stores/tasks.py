"""Periodic work on stores. Thin: load ids, call a service."""
from celery import shared_task


@shared_task(name="stores.tasks.dispatch_due_stores", ignore_result=True)
def dispatch_due_stores() -> int:
    from orders.importing import stores_dispatch_due

    return len(stores_dispatch_due())
