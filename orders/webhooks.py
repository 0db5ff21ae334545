"""Webhooks, as ShipStation sends them: subscriptions, the batches an event brings, and their
deliveries.

Events: ORDER_NOTIFY / ITEM_ORDER_NOTIFY after an import run that brought new or changed orders
(one batch per run: importing.py records the orders of each page with `import_batch_add` and
calls `import_run_finished` at the end); SHIP_NOTIFY / ITEM_SHIP_NOTIFY after shipments are
made (shipping.py calls `shipment_created` for each: the shipments of one transaction and one
store are one batch). The body is ShipStation's: {"resource_url", "resource_type"}, where
resource_url is the API URL (absolute, from SHIPBRIDGE_SITE_URL) listing exactly that batch —
/api/v1/orders?importBatch=<uuid> or /api/v1/shipments?batchId=<id>&includeShipmentItems=False
(True for ITEM_SHIP_NOTIFY) — read with the merchant's API key like any call.

Deliveries: one WebhookDelivery row per subscription and batch, written in the transaction of
the event, posted by a Celery task after the commit through the egress policy
(stores/connectors/http.py). A 2xx answer is "sent"; no answer, 5xx or 429 is tried again after
an exponential back-off (SHIPBRIDGE_WEBHOOK_MAX_ATTEMPTS tries in all); anything else fails at
once. Every try is a WebhookAttempt row with the target's answer; the admin resends.

Signature (beyond ShipStation): each POST carries `X-ShipBridge-Timestamp` (Unix seconds) and
`X-ShipBridge-Signature: sha256=<hex>`, the HMAC-SHA256 of "<timestamp>.<body>" keyed with the
subscription's secret (shown when it is made). A receiver recomputes it over the raw body and
compares in constant time, and refuses old timestamps."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from stores import crypto
from stores.connectors import http
from stores.connectors.base import ConnectorError, EgressRefused, TransientError
from stores.models import Merchant, Store

from . import tasks
from .models import (AttemptOutcome, DeliveryStatus, ImportRun, Shipment, WebhookAttempt, WebhookBatch,
                     WebhookBatchKind, WebhookDelivery, WebhookEvent, WebhookSubscription)
from .resilience import after_commit, queue_each

log = logging.getLogger("shipbridge.webhooks")

ORDER_EVENTS = (WebhookEvent.ORDER_NOTIFY, WebhookEvent.ITEM_ORDER_NOTIFY)
SHIP_EVENTS = (WebhookEvent.SHIP_NOTIFY, WebhookEvent.ITEM_SHIP_NOTIFY)
SIGNATURE_HEADER = "X-ShipBridge-Signature"
TIMESTAMP_HEADER = "X-ShipBridge-Timestamp"
TIMEOUT_SECONDS = 15.0
RETRY_BASE_SECONDS = 60.0
RETRY_CAP_SECONDS = 3600.0
MAX_BODY_CHARS = 2000
STALE_GRACE_SECONDS = 120.0
NO_SITE_URL = gettext_noop("webhooks need SHIPBRIDGE_SITE_URL, this ShipBridge's public address "
                           "(https://ship.example.com): their resource_url is built from it")
# Who a delivery's errors are about ("{what} answered HTTP {code}", stores/connectors/http.py)
TARGET = gettext_noop("the webhook target")


class WebhookError(ValueError):
    """A webhook action refused; one line a person can act on. Written in English (the API
    answers it as it is; the admin shows it with stores.i18n.translated), like the delivery
    errors kept on WebhookDelivery and WebhookAttempt."""


# --- subscriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSubscription:
    subscription: WebhookSubscription
    secret: str  # the signing secret (also readable later by the merchant's admins)


def subscription_secret(subscription: WebhookSubscription) -> str:
    return crypto.decrypt_json(subscription.encrypted_secret).get("secret", "")


def _clean_target(url) -> str:
    text = str(url or "").strip()
    if not text:
        raise WebhookError(gettext_noop("target_url is required"))
    if len(text) > WebhookSubscription._meta.get_field("target_url").max_length:
        raise WebhookError(gettext_noop("target_url is too long"))
    not_a_url = gettext_noop("target_url {url} is not a URL")
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise WebhookError(not_a_url.format(url=repr(text))) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise WebhookError(gettext_noop("target_url {url} must be an http:// or https:// URL").format(url=repr(text)))
    if any(c.isspace() for c in text):
        raise WebhookError(not_a_url.format(url=repr(text)))
    try:  # a host the egress policy refuses is said now, not at the first delivery
        http.egress_addresses(host, port or (443 if parts.scheme.lower() == "https" else 80))
    except EgressRefused as exc:
        raise WebhookError(gettext_noop("target_url: {error}").format(error=exc)) from None
    except OSError:
        pass  # does not resolve now: the deliveries will say so
    return text


def subscription_check(*, merchant: Merchant, event: str, target_url: str,
                       store: Store | int | None = None) -> tuple[str, int | None]:
    """Raise WebhookError when the subscription cannot be made; else its target URL and store id."""
    if not isinstance(merchant, Merchant) or merchant.pk is None:
        raise WebhookError(gettext_noop("a webhook needs a merchant"))
    if event not in WebhookEvent.values:
        raise WebhookError(gettext_noop("event {event} is not one of {known}").format(
            event=repr(event), known=", ".join(WebhookEvent.values)))
    if not settings.SHIPBRIDGE_SITE_URL:
        raise WebhookError(NO_SITE_URL)
    url = _clean_target(target_url)
    store_id = store.pk if isinstance(store, Store) else store
    if store_id is not None and not Store.objects.filter(pk=store_id, merchant=merchant).exists():
        raise WebhookError(gettext_noop("store_id {store_id} is not one of {merchant}'s stores").format(
            store_id=store_id, merchant=merchant.name))
    return url, store_id


def subscription_create(*, merchant: Merchant, event: str, target_url: str, store: Store | int | None = None,
                        friendly_name: str = "", api_key=None) -> NewSubscription:
    """Subscribe `target_url` to `event` (for one of the merchant's stores, or all of them)."""
    url, store_id = subscription_check(merchant=merchant, event=event, target_url=target_url, store=store)
    name = " ".join(str(friendly_name or "").split())[:200]
    secret = secrets.token_hex(32)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            merchant=merchant, event=event, target_url=url, store_id=store_id, friendly_name=name,
            encrypted_secret=crypto.encrypt_json({"secret": secret}), api_key=api_key)
    return NewSubscription(subscription=subscription, secret=secret)


def subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Unsubscribe: the subscription and its delivery log go."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).delete()


def _subscriptions(merchant_id: int, store_id: int | None, events) -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(merchant_id=merchant_id, active=True, event__in=events)
                .filter(Q(store__isnull=True) | Q(store_id=store_id)).order_by("pk"))


# --- resource URLs -------------------------------------------------------------------------


def resource_url(batch: WebhookBatch, event: str) -> str:
    base = settings.SHIPBRIDGE_SITE_URL.rstrip("/") + "/api/v1"
    if batch.kind == WebhookBatchKind.ORDERS:
        return f"{base}/orders?importBatch={batch.token}"
    items = "True" if event == WebhookEvent.ITEM_SHIP_NOTIFY else "False"
    return f"{base}/shipments?batchId={batch.pk}&includeShipmentItems={items}"


def _write_deliveries(batch: WebhookBatch, subscriptions: list[WebhookSubscription]) -> list[WebhookDelivery]:
    """The batch's deliveries (in the caller's transaction), queued after the commit."""
    if not settings.SHIPBRIDGE_SITE_URL:
        log.warning("webhook batch %s not sent: %s", batch.pk, NO_SITE_URL)
        return []
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(subscription=s, batch=batch, resource_type=s.event, resource_url=resource_url(batch, s.event))
        for s in subscriptions])
    for delivery in deliveries:
        after_commit(lambda delivery_id=delivery.pk: delivery_queue(delivery_id=delivery_id, attempt=0),
                     what=f"webhook delivery {delivery.pk}")
    return deliveries


# --- orders: one batch per import run ------------------------------------------------------


def import_batch_add(*, run: ImportRun, order_ids) -> None:
    """The orders a page of `run` brought or changed (called in the page's transaction). Kept
    only when the store's merchant has an order webhook (looked up once per run)."""
    order_ids = list(order_ids)
    if not order_ids:
        return
    merchant_id = getattr(run, "_order_webhooks_merchant", None)  # 0: no order webhook
    if merchant_id is None:
        merchant_id = Store.objects.filter(pk=run.store_id).values_list("merchant_id", flat=True).get()
        merchant_id = run._order_webhooks_merchant = (
            merchant_id if _subscriptions(merchant_id, run.store_id, ORDER_EVENTS) else 0)
    if not merchant_id:
        return
    batch, _ = WebhookBatch.objects.get_or_create(
        import_run=run, defaults={"merchant_id": merchant_id, "store_id": run.store_id,
                                  "kind": WebhookBatchKind.ORDERS, "token": uuid.uuid4()})
    through = WebhookBatch.orders.through
    through.objects.bulk_create([through(webhookbatch_id=batch.pk, order_id=pk) for pk in order_ids],
                                ignore_conflicts=True)


def import_run_finished(*, run: ImportRun) -> list[WebhookDelivery]:
    """ORDER_NOTIFY (and ITEM_ORDER_NOTIFY) for the orders `run` brought or changed, if any."""
    batch = WebhookBatch.objects.filter(import_run=run).first()
    if batch is None or not WebhookBatch.orders.through.objects.filter(webhookbatch_id=batch.pk).exists():
        return []
    return _write_deliveries(batch, _subscriptions(batch.merchant_id, batch.store_id, ORDER_EVENTS))


# --- shipments: the shipments of one transaction and one store are one batch ---------------


class _ShipBatchQueued:
    """The on_commit callback of a shipments batch; found again (by merchant and store) by the
    next shipment of the same transaction. Django drops it with the savepoint that made it."""

    def __init__(self, batch_id: int, merchant_id: int, store_id: int):
        self.batch_id, self.merchant_id, self.store_id = batch_id, merchant_id, store_id

    def __call__(self):  # the deliveries were queued by their own callbacks
        return None


def _open_ship_batch(merchant_id: int, store_id: int) -> int | None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    for _sids, func, _robust in connection.run_on_commit:
        if isinstance(func, _ShipBatchQueued) and (func.merchant_id, func.store_id) == (merchant_id, store_id):
            return func.batch_id
    return None


def shipment_created(*, shipment: Shipment) -> None:
    """SHIP_NOTIFY (and ITEM_SHIP_NOTIFY) for a shipment just made (called in its transaction)."""
    store = Store.objects.only("pk", "merchant_id").get(orders__pk=shipment.order_id)
    batch_id = _open_ship_batch(store.merchant_id, store.pk)
    if batch_id is None:
        subscriptions = _subscriptions(store.merchant_id, store.pk, SHIP_EVENTS)
        if not subscriptions:
            return
        batch = WebhookBatch.objects.create(merchant_id=store.merchant_id, store_id=store.pk,
                                            kind=WebhookBatchKind.SHIPMENTS, token=uuid.uuid4())
        batch_id = batch.pk
        _write_deliveries(batch, subscriptions)
        transaction.on_commit(_ShipBatchQueued(batch.pk, store.merchant_id, store.pk))
    WebhookBatch.shipments.through.objects.create(webhookbatch_id=batch_id, shipment_id=shipment.pk)


# --- deliveries ----------------------------------------------------------------------------


def delivery_queue(*, delivery_id: int, attempt: int | None = None, countdown: float | None = None) -> None:
    options = {"countdown": countdown} if countdown else {}
    tasks.deliver_webhook.apply_async((delivery_id,), {"attempt": attempt}, **options)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-ShipBridge-Signature value: "sha256=" and the HMAC-SHA256 of "<timestamp>.<body>"."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class DeliveryResult:
    delivery_id: int
    outcome: str
    attempts: int
    retry_in: float | None = None


def _claim(delivery_id: int, expected_attempts: int | None) -> int | None:
    """Take the next try of a pending delivery (one conditional UPDATE: a duplicated task finds
    the count moved on). Returns the try's number."""
    with transaction.atomic():
        current = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).values_list(
            "attempts", flat=True).first()
        if current is None or (expected_attempts is not None and current != expected_attempts):
            return None
        if not WebhookDelivery.objects.filter(pk=delivery_id, attempts=current, status=DeliveryStatus.PENDING).update(
                attempts=F("attempts") + 1, next_attempt_at=None, updated_at=timezone.now()):
            return None
        # a try that never recorded its outcome (a worker killed mid-call) is not in flight any more
        WebhookAttempt.objects.filter(delivery_id=delivery_id, outcome=AttemptOutcome.IN_FLIGHT).update(
            outcome=AttemptOutcome.UNKNOWN, finished_at=timezone.now(),
            message=gettext_noop("the worker stopped before this try's outcome was recorded"))
        WebhookAttempt.objects.create(delivery_id=delivery_id, number=current + 1, started_at=timezone.now(),
                                      outcome=AttemptOutcome.IN_FLIGHT)
        return current + 1


def delivery_attempt(*, delivery_id: int, expected_attempts: int | None = None) -> DeliveryResult | None:
    """One try of a delivery: POST the payload, record the answer. None when there is nothing to
    do (not pending, or another task already made this try)."""
    number = _claim(delivery_id, expected_attempts)
    if number is None:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = json.dumps({"resource_url": delivery.resource_url, "resource_type": delivery.resource_type}).encode()
    code, answer, error, transient, retry_after = None, "", "", False, None
    try:
        secret = subscription_secret(subscription)
        stamp = int(time.time())
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp),
                   SIGNATURE_HEADER: sign(secret, stamp, body), "X-ShipBridge-Event": delivery.resource_type,
                   "X-ShipBridge-Delivery": str(delivery.pk)}
        reply = http.send(http.new_session(secrets=[secret]), "POST", subscription.target_url, data=body,
                          headers=headers, timeout=TIMEOUT_SECONDS, max_bytes=64 * 1024, what=TARGET)
        code, answer = reply.status_code, reply.text[:MAX_BODY_CHARS]
        if not 200 <= reply.status_code < 300:
            error = gettext_noop("the webhook target answered HTTP {code}").format(code=reply.status_code)
    except TransientError as exc:
        code, error, transient, retry_after = exc.status_code, str(exc), True, exc.retry_after
    except ConnectorError as exc:  # egress policy, redirect refused, malformed reply...
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded, never raised into the worker's loop
        log.exception("webhook delivery %s failed unexpectedly", delivery_id)
        error = gettext_noop("internal error ({type}); the details are in the worker's log").format(
            type=type(exc).__name__)
    return _finish(delivery, number, code=code, answer=answer, error=error, transient=transient,
                   retry_after=retry_after)


def _finish(delivery: WebhookDelivery, number: int, *, code, answer, error, transient, retry_after) -> DeliveryResult:
    now = timezone.now()
    retry_in = None
    if not error:
        outcome, status = AttemptOutcome.SENT, DeliveryStatus.SENT
    elif transient and number < settings.SHIPBRIDGE_WEBHOOK_MAX_ATTEMPTS:
        outcome, status = AttemptOutcome.RETRY, DeliveryStatus.PENDING
        retry_in = http.backoff_delay(number, base=RETRY_BASE_SECONDS, cap=RETRY_CAP_SECONDS, retry_after=retry_after)
    else:
        outcome, status = AttemptOutcome.FAILED, DeliveryStatus.FAILED
        if transient:
            error = gettext_noop("{error} (gave up after {tries} tries)").format(error=error, tries=number)
    with transaction.atomic():
        WebhookAttempt.objects.filter(delivery_id=delivery.pk, number=number).update(
            finished_at=now, outcome=outcome, response_code=code, response_body=answer, message=error)
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=number).update(
            status=status, error=error, updated_at=now, sent_at=now if status == DeliveryStatus.SENT else None,
            next_attempt_at=now + dt.timedelta(seconds=retry_in) if retry_in is not None else None)
    if error:
        log.info("webhook delivery %s, try %s: %s", delivery.pk, number, error)
    return DeliveryResult(delivery_id=delivery.pk, outcome=outcome, attempts=number, retry_in=retry_in)


def delivery_deliver(*, delivery_id: int) -> WebhookDelivery:
    """Deliver here and now, retries included (waiting their back-off): for commands and tests."""
    result = delivery_attempt(delivery_id=delivery_id)
    while result is not None and result.retry_in is not None:
        time.sleep(result.retry_in)
        result = delivery_attempt(delivery_id=delivery_id, expected_attempts=result.attempts)
    return WebhookDelivery.objects.get(pk=delivery_id)


def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Post a delivery again ("Resend" in the admin): back to pending, queued after the commit.
    A delivery still pending is left to its own tries."""
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if current.status == DeliveryStatus.PENDING:
            raise WebhookError(gettext_noop("delivery {id} is still being tried: wait for its outcome").format(
                id=current.pk))
        current.status, current.error, current.next_attempt_at = DeliveryStatus.PENDING, "", None
        current.save(update_fields=["status", "error", "next_attempt_at", "updated_at"])
        delivery_id, attempts = current.pk, current.attempts
        after_commit(lambda: delivery_queue(delivery_id=delivery_id, attempt=attempts),
                     what=f"webhook delivery {delivery_id}")
    return current


def deliveries_requeue_stale(*, now: dt.datetime | None = None) -> int:
    """Queue again the pending deliveries whose task was lost (broker down at commit, worker
    killed): due for longer than a grace period. A duplicate is harmless (see _claim)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=STALE_GRACE_SECONDS)
    stale = (WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
             .filter(Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, updated_at__lt=cutoff))
             .values_list("pk", "attempts"))
    return queue_each(stale.iterator(), lambda row: delivery_queue(delivery_id=row[0], attempt=row[1]),
                      what=lambda row: f"webhook delivery {row[0]}")
