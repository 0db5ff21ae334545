"""Store notifications: tell the store about one shipment, exactly once.

pending ──attempt──► sent (a warning kept when it went through only in part)
   │                 failed (the store's refusal verbatim; auth/protocol errors; retries used up)
   │                 skipped (the shipment was voided first, or the store already has every item)
   └─ transient failure (timeout, 5xx, 429): stays pending, retried after an exponential
      back-off with jitter, SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS tries in all.

Exactly once: before talking to the store, a delivery *claims* the notification with one
conditional UPDATE (pending, not claimed by a live delivery, and — for queued tasks — still at
the attempt count the task was queued for). A duplicated task delivery finds the claim taken or
the attempt already made and does nothing. Every try is a NotificationAttempt row: written
(and committed) as "in flight" before the store is called, completed with the outcome in the
same transaction as the notification's new state. No database lock is held while the store is
being called.

When the outcome cannot be recorded (the database fails after the store answered, the worker
dies mid-call), the claim is kept and the attempt stays in flight: the store may have accepted
the notice. Nothing sends it again by itself: once the claim has expired, the next delivery or
the stale-notification sweeper marks it failed with LOST_TRACK_ERROR, and a person checks the
store before resending (manual resend stays possible).

What a notification keeps in words — warnings, errors of ShipBridge's own, advice — is English
(templates marked with gettext_noop), shown in the reader's language by the pages
(stores.i18n.translated); the store's own words are kept verbatim. NotificationError (a
person's action refused) is said in the active language.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop

from stores.connectors.base import (Address, AuthError, ConnectorError, NoticeItem, ProtocolError,
                                    ShipmentNotice, StoreRejected, TransientError)
from stores.connectors.http import backoff_delay
from stores.crypto import SecretDecryptionError

from . import tasks
from .emails import customer_email_due
from .models import AttemptOutcome, NotificationAttempt, NotificationStatus, Shipment, ShipmentItem, StoreNotification
from .resilience import Heartbeat, after_commit, on_fresh_connection, queue_each

log = logging.getLogger("shipbridge.notifying")


# Why a notification is not sent (shipping.shipment_void writes it too).
VOID_SKIP_REASON = gettext_noop("the shipment was voided before the store was notified")
NOT_NOTIFIED_REASON = gettext_noop("not sent: this store type is never notified of shipments")

LOST_TRACK_ERROR = gettext_noop(
    "ShipBridge lost track of this notification while the store was answering: check the store "
    "before resending (it may already have this shipment)"
)

MAX_MESSAGE_CHARS = 20_000


class NotificationError(ValueError):
    """A notification action refused (resend of a sent one...); one line."""


@dataclass(frozen=True)
class AttemptResult:
    """What one delivery attempt did: its outcome (sent/failed/retry/skipped); `attempts` is the
    notification's attempt count after it; `retry_in` the back-off (seconds) for a retry."""

    notification_id: int
    outcome: AttemptOutcome
    attempts: int
    retry_in: float | None = None


def _lease() -> dt.timedelta:
    # Renewed by a heartbeat while the store is being called (a login, several calls, polls, a
    # logout): a dead worker's claim expires this long after it died.
    return dt.timedelta(seconds=settings.SHIPBRIDGE_CLAIM_SECONDS)


# --- queueing ------------------------------------------------------------------------------


def notification_queue(*, notification_id: int, attempt: int | None = None, countdown: float | None = None) -> None:
    """Queue the delivery task. `attempt` is the attempt count the task is for (duplicates of
    a task that already ran find it changed and do nothing)."""
    options = {"countdown": countdown} if countdown else {}
    tasks.notify_store.apply_async((notification_id,), {"attempt": attempt}, **options)


# --- building the notice -------------------------------------------------------------------


def _shipment_items(shipment: Shipment) -> list[ShipmentItem]:
    return list(shipment.items.select_related("order_item").order_by("order_item_id"))


def notice_for_shipment(*, shipment: Shipment) -> ShipmentNotice:
    """The ShipmentNotice for a shipment: only its own items, with their exported line ids."""
    order = shipment.order
    items = tuple(
        NoticeItem(line_item_id=si.order_item.line_item_id, sku=si.order_item.sku, name=si.order_item.name,
                   quantity=si.quantity)
        for si in _shipment_items(shipment)
    )
    recipient = Address(
        name=order.ship_to_name, company=order.ship_to_company, street1=order.ship_to_street1,
        street2=order.ship_to_street2, street3=order.ship_to_street3, city=order.ship_to_city,
        state=order.ship_to_state, postal_code=order.ship_to_postal_code, country=order.ship_to_country,
        phone=order.ship_to_phone, email=order.customer_email,
    )
    return ShipmentNotice(
        order_external_id=order.external_id,
        order_number=order.order_number,
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
        ship_date=shipment.ship_date,
        label_created_at=shipment.created_at.astimezone(dt.timezone.utc),
        items=items,
        recipient=recipient,
        shipping_cost=shipment.cost,
        customer_code=order.customer_code,
        customer_notes=order.customer_notes,
        internal_notes=order.internal_notes,
        # The store e-mails the buyer only when asked to and ShipBridge does not do it itself.
        notify_customer=shipment.notify_customer and not customer_email_due(shipment),
        order_raw=order.raw or {},
    )


def _summary(store_connector: str, notice: ShipmentNotice) -> str:
    items = ", ".join(f"{i.line_item_id or i.sku}×{i.quantity}" for i in notice.items)
    return gettext_noop(
        "{connector} shipment notice for order {number} ({id}): carrier {carrier}, service {service}, tracking "
        "{tracking}, ship date {date}, items [{items}]"
    ).format(connector=store_connector, number=notice.order_number, id=notice.order_external_id,
             carrier=repr(notice.carrier), service=repr(notice.service), tracking=repr(notice.tracking_number),
             date=notice.ship_date.isoformat(), items=items)


def _already_notified(shipment: Shipment) -> str:
    """For stores that take no repeat notification of the same items: the reason to skip when
    every item of this shipment is already covered by earlier shipments the store was told
    about (void ones included: voids are never sent); else ""."""
    items = _shipment_items(shipment)
    if not items:
        return ""
    sent_rows = (
        ShipmentItem.objects.filter(shipment__order_id=shipment.order_id,
                                    shipment__notification__status=NotificationStatus.SENT)
        .exclude(shipment_id=shipment.pk)
        .values("order_item_id")
        .annotate(total=Sum("quantity"))
    )
    sent = {row["order_item_id"]: row["total"] for row in sent_rows}
    if not all(sent.get(si.order_item_id, 0) >= si.order_item.quantity for si in items):
        return ""
    earlier = sorted(
        ShipmentItem.objects.filter(shipment__order_id=shipment.order_id,
                                    shipment__notification__status=NotificationStatus.SENT)
        .exclude(shipment_id=shipment.pk).values_list("shipment_id", flat=True).distinct()
    )
    return gettext_noop(
        "not sent: the store already has every item of this shipment from shipment {shipments}; it cannot receive "
        "shipping information for items already packed"
    ).format(shipments=", ".join(f"#{pk}" for pk in earlier))


# --- one attempt ---------------------------------------------------------------------------


def _claim(notification_id: int, expected_attempts: int | None) -> str | None:
    now = timezone.now()
    token = uuid.uuid4().hex
    qs = StoreNotification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    if expected_attempts is not None:
        qs = qs.filter(attempts=expected_attempts)
    return token if qs.update(claim_token=token, claimed_until=now + _lease()) else None


def _renew(notification_id: int, token: str) -> bool:
    return bool(StoreNotification.objects.filter(pk=notification_id, claim_token=token).update(
        claimed_until=timezone.now() + _lease()))


def _release(notification_id: int, token: str) -> None:
    StoreNotification.objects.filter(pk=notification_id, claim_token=token).update(
        claim_token="", claimed_until=None
    )


def _round_tries(notification_id: int) -> int:
    """Transient failures since the last final outcome (a resend starts a new round)."""
    log_rows = NotificationAttempt.objects.filter(notification_id=notification_id)
    last_final = (log_rows.exclude(outcome__in=[AttemptOutcome.RETRY, AttemptOutcome.IN_FLIGHT])
                  .aggregate(n=Max("number"))["n"] or 0)
    return log_rows.filter(outcome=AttemptOutcome.RETRY, number__gt=last_final).count()


def _store_message(exc: StoreRejected) -> str:
    """The store's refusal in its own words: the connector's message carries them (a short
    text reply verbatim, or the error texts of a structured reply). The whole reply is kept
    in the attempt log."""
    return (exc.message or "").strip() or (exc.body or "").strip()[:MAX_MESSAGE_CHARS] or (
        gettext_noop("the store refused the notification (HTTP {code})").format(code=exc.status_code))


def _finish(
    *,
    notification_id: int,
    token: str,
    started_at: dt.datetime,
    outcome: AttemptOutcome,
    request_summary: str = "",
    response_code: int | None = None,
    message: str = "",
    error: str = "",
    warning: str = "",
    advice: str = "",
    retry_in: float | None = None,
) -> AttemptResult:
    now = timezone.now()
    # The store has answered: its answer must not be lost to a database blip (a stale
    # connection after a PostgreSQL restart). Retried once on a new connection.
    notification = on_fresh_connection(lambda: _record_outcome(
        notification_id=notification_id, token=token, now=now, started_at=started_at, outcome=outcome,
        request_summary=request_summary, response_code=response_code, message=message, error=error,
        warning=warning, advice=advice, retry_in=retry_in,
    ), what=f"notification {notification_id}: recording the outcome")
    log.info("notification %s (shipment %s) attempt %s: %s%s", notification_id, notification.shipment_id,
             notification.attempts, outcome, f" ({error})" if error else "")
    return AttemptResult(notification_id=notification_id, outcome=outcome, attempts=notification.attempts,
                         retry_in=retry_in)


def _record_outcome(*, notification_id: int, token: str, now: dt.datetime, started_at: dt.datetime,
                    outcome: AttemptOutcome, request_summary: str, response_code: int | None, message: str,
                    error: str, warning: str, advice: str, retry_in: float | None) -> StoreNotification:
    with transaction.atomic():
        notification = StoreNotification.objects.select_for_update().get(pk=notification_id)
        number = notification.attempts + 1
        values = {"started_at": started_at, "finished_at": now, "outcome": outcome,
                  "request_summary": request_summary, "response_code": response_code,
                  "message": message[:MAX_MESSAGE_CHARS]}
        # the row written "in flight" before the store was called, if it was
        NotificationAttempt.objects.update_or_create(notification=notification, number=number, defaults=values)
        notification.attempts = number
        notification.error = error
        notification.warning = warning
        notification.advice = advice
        notification.next_attempt_at = None
        if outcome == AttemptOutcome.SENT:
            notification.status = NotificationStatus.SENT
            notification.sent_at = now
        elif outcome == AttemptOutcome.FAILED:
            notification.status = NotificationStatus.FAILED
        elif outcome == AttemptOutcome.SKIPPED:
            notification.status = NotificationStatus.SKIPPED
        else:  # AttemptOutcome.RETRY: stays pending; the last error shows while it waits
            notification.status = NotificationStatus.PENDING
            notification.next_attempt_at = now + dt.timedelta(seconds=retry_in or 0)
        if notification.claim_token == token:
            notification.claim_token = ""
            notification.claimed_until = None
        notification.save()
    return notification


def _in_flight(notification_id: int) -> NotificationAttempt | None:
    return NotificationAttempt.objects.filter(notification_id=notification_id, outcome=AttemptOutcome.IN_FLIGHT).first()


def _mark_in_flight(notification_id: int, started_at: dt.datetime, summary: str) -> None:
    """Write the attempt row before the store is called (committed on its own when no outer
    transaction is open): a crash from here on leaves a trace that the store may have been told."""
    with transaction.atomic():
        notification = StoreNotification.objects.get(pk=notification_id)
        NotificationAttempt.objects.create(
            notification=notification, number=notification.attempts + 1, started_at=started_at,
            outcome=AttemptOutcome.IN_FLIGHT, request_summary=summary,
        )


def _give_up_lost(notification_id: int, *, token: str = "", now: dt.datetime | None = None) -> bool:
    """A notification left in flight (its outcome never recorded, its claim expired or held by
    `token`): failed with LOST_TRACK_ERROR, never sent again by itself. False when it is not
    (or no longer) in that state."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = StoreNotification.objects.select_for_update().filter(
            pk=notification_id, status=NotificationStatus.PENDING).first()
        if notification is None:
            return False
        held = notification.claimed_until is not None and notification.claimed_until >= now
        if held and not (token and notification.claim_token == token):
            return False  # a live delivery: not ours to judge
        attempt = _in_flight(notification_id)
        if attempt is None:
            return False
        attempt.outcome = AttemptOutcome.UNKNOWN
        attempt.finished_at = now
        attempt.message = LOST_TRACK_ERROR
        attempt.save(update_fields=["outcome", "finished_at", "message"])
        notification.status = NotificationStatus.FAILED
        notification.attempts = max(notification.attempts, attempt.number)
        notification.error = LOST_TRACK_ERROR
        notification.next_attempt_at = None
        notification.claim_token = ""
        notification.claimed_until = None
        notification.save()
    log.warning("notification %s (shipment %s): outcome of attempt %s unknown; marked failed, not resent",
                notification_id, notification.shipment_id, attempt.number)
    return True


class _Delivery:
    """Whether the store has been called in this attempt (then the claim must outlive a
    failure to record the outcome)."""

    store_called = False


def notification_attempt(*, notification_id: int, expected_attempts: int | None = None) -> AttemptResult | None:
    """Make one delivery attempt if the notification is pending and nobody else is delivering
    it (and, when `expected_attempts` is given, it is still at that attempt count). Returns
    None when there was nothing to do. Never raises for what the store answers.

    If recording the outcome fails after the store was called, the error propagates and the
    claim is kept (not released): no duplicate delivery can send it again meanwhile."""
    token = _claim(notification_id, expected_attempts)
    if token is None:
        return None
    delivery = _Delivery()
    heartbeat = Heartbeat(lambda: _renew(notification_id, token), every=_lease().total_seconds() / 3,
                          name=f"notification {notification_id}")
    try:
        with heartbeat:
            outcome = _attempt(notification_id, token, delivery)
    except BaseException:
        if delivery.store_called:
            log.error("notification %s: the store was called but the outcome could not be recorded; the claim "
                      "is kept and the notification will be marked failed (not resent)", notification_id)
        else:
            _release(notification_id, token)
        raise
    _release(notification_id, token)  # normally already released with the outcome
    return outcome


def _attempt(notification_id: int, token: str, delivery: _Delivery) -> AttemptResult:
    started = timezone.now()
    notification = StoreNotification.objects.select_related("shipment__order__store").get(pk=notification_id)
    shipment = notification.shipment
    store = shipment.order.store
    finish = lambda outcome, **kw: _finish(  # noqa: E731
        notification_id=notification_id, token=token, started_at=started, outcome=outcome, **kw
    )

    if _in_flight(notification_id) is not None:
        # An earlier delivery called the store and its outcome was lost: never resend blindly.
        _give_up_lost(notification_id, token=token)
        notification.refresh_from_db(fields=["attempts"])
        return AttemptResult(notification_id=notification_id, outcome=AttemptOutcome.FAILED,
                             attempts=notification.attempts)
    if shipment.voided_at is not None:
        return finish(AttemptOutcome.SKIPPED, message=VOID_SKIP_REASON, warning=VOID_SKIP_REASON)
    connector_cls = store.connector_class
    if not connector_cls.notifies_store:
        return finish(AttemptOutcome.SKIPPED, message=NOT_NOTIFIED_REASON, warning=NOT_NOTIFIED_REASON)
    if not connector_cls.accepts_repeat_notification:
        reason = _already_notified(shipment)
        if reason:
            return finish(AttemptOutcome.SKIPPED, message=reason, warning=reason,
                          advice=connector_cls.repeat_notification_advice)

    summary = gettext_noop("{connector} shipment notice for shipment {id}").format(connector=store.connector,
                                                                                   id=shipment.pk)
    try:
        notice = notice_for_shipment(shipment=shipment)
        summary = _summary(store.connector, notice)
        connector = store.build_connector()
    except Exception as exc:  # noqa: BLE001 - classified (and a bug logged) by _failure
        return _failure(exc, finish=finish, store=store, summary=summary, notification_id=notification_id)
    # The store is about to be told: leave a committed trace first. A failure to write it
    # propagates (the store was not called: the claim is released, the sweeper queues it again).
    _mark_in_flight(notification_id, started, summary)
    delivery.store_called = True
    try:
        result = connector.notify_shipment(notice)
    except Exception as exc:  # noqa: BLE001 - classified (and a bug logged) by _failure
        return _failure(exc, finish=finish, store=store, summary=summary, notification_id=notification_id)
    return finish(AttemptOutcome.SENT, request_summary=result.request_summary or summary,
                  response_code=result.response_code, message=result.response_body or "",
                  warning=result.warning or "")


def _failure(exc: Exception, *, finish, store, summary: str, notification_id: int) -> AttemptResult:
    """Record what an attempt's error means: retry (transient), failed (the store's refusal
    verbatim, credentials, protocol, secrets, or a bug, logged with its trace)."""
    if isinstance(exc, TransientError):
        tries = _round_tries(notification_id) + 1
        limit = max(1, settings.SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS)
        if tries >= limit:
            return finish(AttemptOutcome.FAILED, request_summary=summary, response_code=exc.status_code,
                          message=exc.message,
                          error=gettext_noop("{error} (gave up after {tries} attempts)").format(error=exc.message,
                                                                                             tries=tries))
        delay = backoff_delay(tries, base=settings.SHIPBRIDGE_RETRY_BASE_SECONDS,
                              cap=settings.SHIPBRIDGE_RETRY_MAX_SECONDS, retry_after=exc.retry_after)
        return finish(AttemptOutcome.RETRY, request_summary=summary, response_code=exc.status_code,
                      message=exc.message,
                      error=exc.message, retry_in=delay)
    if isinstance(exc, StoreRejected):
        return finish(AttemptOutcome.FAILED, request_summary=summary, response_code=exc.status_code,
                      message=(exc.body or exc.message), error=_store_message(exc),
                      advice=store.connector_class.refusal_advice(exc))
    if isinstance(exc, (AuthError, ProtocolError, ConnectorError)):
        return finish(AttemptOutcome.FAILED, request_summary=summary, response_code=getattr(exc, "status_code", None),
                      message=exc.message, error=exc.message)
    if isinstance(exc, SecretDecryptionError):
        return finish(AttemptOutcome.FAILED, request_summary=summary, message=str(exc), error=str(exc))
    # a bug must end the attempt with a trace, not hide it
    log.error("notification %s: unexpected error", notification_id, exc_info=exc)
    error = gettext_noop("internal error ({error}); the details are in the worker's log").format(
        error=type(exc).__name__)
    return finish(AttemptOutcome.FAILED, request_summary=summary, message=error, error=error)


# --- public services -----------------------------------------------------------------------


def notification_deliver(*, notification_id: int, expected_attempts: int | None = None) -> StoreNotification:
    """One delivery of the notification (what the task does); a duplicate does nothing.
    Returns the notification as it stands afterwards."""
    notification_attempt(notification_id=notification_id, expected_attempts=expected_attempts)
    return StoreNotification.objects.get(pk=notification_id)


def notification_deliver_now(
    *, notification_id: int, sleep: Callable[[float], None] = time.sleep
) -> StoreNotification:
    """Deliver here and now, retries included (sleeping the back-off between tries): for
    `ship_order --wait`. Returns the notification in its final state (or as another delivery
    in progress left it)."""
    expected = None
    while True:
        outcome = notification_attempt(notification_id=notification_id, expected_attempts=expected)
        if outcome is None or outcome.outcome != AttemptOutcome.RETRY:
            break
        sleep(outcome.retry_in or 0)
        expected = outcome.attempts
    return StoreNotification.objects.get(pk=notification_id)


def notification_resend(*, notification: StoreNotification, user=None) -> StoreNotification:
    """Manual resend: a failed or skipped notification goes back to pending and is queued again
    (a pending one not being delivered right now is just queued again)."""
    with transaction.atomic():
        try:
            current = (StoreNotification.objects.select_for_update().select_related("shipment")
                       .get(pk=notification.pk))
        except StoreNotification.DoesNotExist:
            raise NotificationError(gettext("no store notification with id {id}").format(id=notification.pk)) from None
        shipment = current.shipment
        if current.status == NotificationStatus.SENT:
            when = (date_format(timezone.localtime(current.sent_at), "DATETIME_FORMAT") if current.sent_at
                    else gettext("earlier"))
            raise NotificationError(
                gettext("the store was already notified of shipment {id} ({when}); it is not told twice").format(
                    id=shipment.pk, when=when)
            )
        if shipment.voided_at is not None:
            raise NotificationError(gettext("shipment {id} is void: the store is not told about it").format(
                id=shipment.pk))
        now = timezone.now()
        if current.status == NotificationStatus.PENDING and current.claimed_until and current.claimed_until > now:
            raise NotificationError(
                gettext("the notification of shipment {id} is being delivered right now; wait for its outcome").format(
                    id=shipment.pk)
            )
        notification_requeue(notification=current)
    log.info("notification %s (shipment %s) queued again by %s", current.pk, shipment.pk, user or "an operator")
    return current


def notification_requeue(*, notification: StoreNotification) -> None:
    """Put a notification the caller has locked (SELECT ... FOR UPDATE, in its transaction) back to
    pending, and queue its delivery after the commit; its attempt log is kept. The task is queued
    for the current attempt count, so a late duplicate of an earlier task does nothing: the
    store is told once more, exactly once. For a manual resend, and for a shipment corrected
    after the store was notified (the store is sent the corrected values)."""
    notification.status = NotificationStatus.PENDING
    notification.error = notification.warning = notification.advice = ""
    notification.next_attempt_at = None
    notification.sent_at = None
    notification.save(update_fields=["status", "error", "warning", "advice", "next_attempt_at", "sent_at",
                                     "updated_at"])
    notification_id, attempts = notification.pk, notification.attempts
    after_commit(lambda: notification_queue(notification_id=notification_id, attempt=attempts),
                 what=f"notification {notification_id}")


def notifications_requeue_stale(*, now: dt.datetime | None = None, grace_seconds: float | None = None) -> int:
    """Queue again the pending notifications whose task was lost (broker down at queue time,
    worker killed): not being delivered, and due for longer than the grace period. Safe to
    run any time: a duplicate delivery does nothing. A notification whose last attempt called
    the store without its outcome being recorded is not queued: it is marked failed
    (LOST_TRACK_ERROR). Returns how many were queued."""
    now = now or timezone.now()
    grace = settings.SHIPBRIDGE_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = now - dt.timedelta(seconds=grace)
    unclaimed = StoreNotification.objects.filter(status=NotificationStatus.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    # Called the store, outcome never recorded, claim expired: failed, not resent (see top).
    lost = unclaimed.filter(Exists(NotificationAttempt.objects.filter(notification=OuterRef("pk"),
                                                                      outcome=AttemptOutcome.IN_FLIGHT)))
    for notification_id in list(lost.values_list("pk", flat=True)):
        _give_up_lost(notification_id, now=now)
    stale = (
        unclaimed.filter(Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, updated_at__lt=cutoff))
        .values_list("pk", "attempts")
    )
    return queue_each(stale.iterator(), lambda row: notification_queue(notification_id=row[0], attempt=row[1]),
                      what=lambda row: f"notification {row[0]}")
