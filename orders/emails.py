"""The shipment e-mail to the customer, with the store's branding, in the store's language
(whoever ships the order), through Django's e-mail backend (console in development).

Durable: the shipment's transaction marks the e-mail pending; after the commit a task sends it.
A task lost on the way (the broker was down) or a mail server that failed leaves it pending,
and the stale sweep (beat) queues it again: nothing is dropped. A delivery claims the e-mail
first (one conditional UPDATE), so a duplicated task sends nothing twice; the buyer could get
it twice only if the worker died after the mail server took it and before that was recorded.
"""
from __future__ import annotations

import datetime as dt
import logging
from email.utils import formataddr
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from stores.i18n import store_language

from stores.connectors.http import backoff_delay

from .models import CustomerEmailStatus, Shipment
from .resilience import on_fresh_connection

log = logging.getLogger("shipbridge.emails")

# Public tracking pages of the common carriers (by the carrier's name, case-insensitive).
TRACKING_PAGES = {
    "ups": "https://www.ups.com/track?tracknum={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "canadapost": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
}


def customer_email_due(shipment: Shipment) -> bool:
    """ShipBridge e-mails the buyer when the store and the shipment both ask for it and the
    order has an address."""
    order = shipment.order
    return bool(shipment.notify_customer and order.store.notify_customer and order.customer_email.strip())


def tracking_url(carrier: str, tracking_number: str) -> str:
    key = "".join(carrier.split()).lower()
    page = TRACKING_PAGES.get(key)
    return page.format(quote(tracking_number, safe="")) if page and tracking_number else ""


def _logo_url(store) -> str:
    if not store.brand_logo:
        return ""
    url = store.brand_logo.url
    if url.startswith(("http://", "https://")):
        return url
    site = settings.SHIPBRIDGE_SITE_URL.rstrip("/")
    return f"{site}{url}" if site else ""  # a relative URL means nothing in a mailbox


def shipment_email_context(shipment: Shipment) -> dict:
    order = shipment.order
    store = order.store
    return {
        "shipment": shipment,
        "order": order,
        "items": [(si.order_item, si.quantity) for si in shipment.items.select_related("order_item").order_by("id")],
        "tracking_url": tracking_url(shipment.carrier, shipment.tracking_number),
        "brand": {
            "company_name": store.brand_company_name or store.name,
            "logo_url": _logo_url(store),
            "phone": store.brand_phone,
            "email": store.brand_email,
            "website": store.brand_website,
            "return_address": store.brand_return_address,
        },
    }


def shipment_email(shipment: Shipment) -> EmailMultiAlternatives:
    """The shipment e-mail (text and HTML), written in the store's language."""
    context = shipment_email_context(shipment)
    brand = context["brand"]
    order = shipment.order
    with store_language(order.store):
        subject = gettext("Your order {number} from {company} has shipped").format(
            number=order.order_number, company=brand["company_name"])
        text = render_to_string("emails/shipment.txt", context)
        html = render_to_string("emails/shipment.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((brand["company_name"], settings.DEFAULT_FROM_EMAIL)),
        to=[order.customer_email.strip()],
        reply_to=[brand["email"]] if brand["email"] else None,
    )
    message.attach_alternative(html, "text/html")
    return message


def _claim(shipment_id: int, now: dt.datetime) -> bool:
    return bool(
        Shipment.objects.filter(pk=shipment_id, customer_email_status=CustomerEmailStatus.PENDING)
        .filter(Q(customer_email_claimed_until__isnull=True) | Q(customer_email_claimed_until__lt=now))
        .update(customer_email_claimed_until=now + dt.timedelta(seconds=settings.SHIPBRIDGE_CLAIM_SECONDS))
    )


def _record(shipment_id: int, **values) -> None:
    on_fresh_connection(lambda: Shipment.objects.filter(pk=shipment_id).update(**values),
                        what=f"shipment {shipment_id}: recording its customer e-mail")


def shipment_email_deliver(*, shipment_id: int) -> str:
    """Send the pending shipment e-mail (what the task does). Returns its status afterwards, or
    "" when there was nothing to do (not pending, or another delivery holds it). A mail server
    failure leaves it pending for a later try (SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS in all), never raises."""
    now = timezone.now()
    if not _claim(shipment_id, now):
        return ""
    shipment = Shipment.objects.select_related("order__store").get(pk=shipment_id)
    if shipment.voided_at is not None or not customer_email_due(shipment):
        reason = (gettext_noop("the shipment was voided first") if shipment.voided_at
                  else gettext_noop("no longer asked for"))
        _record(shipment_id, customer_email_status=CustomerEmailStatus.SKIPPED, customer_email_error=reason,
                customer_email_claimed_until=None)
        return CustomerEmailStatus.SKIPPED
    attempts = shipment.customer_email_attempts + 1
    try:
        shipment_email(shipment).send()
    except Exception as exc:  # noqa: BLE001 - SMTP down, refused address...: kept for the operator
        log.warning("shipment %s: the customer e-mail could not be sent (attempt %s): %s", shipment_id, attempts,
                    type(exc).__name__)
        error = f"{type(exc).__name__}: {str(exc).strip()[:500]}"
        if attempts >= max(1, settings.SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS):
            _record(shipment_id, customer_email_status=CustomerEmailStatus.FAILED, customer_email_attempts=attempts,
                    customer_email_error=gettext_noop("{error} (gave up after {tries} attempts)").format(
                        error=error, tries=attempts),
                    customer_email_claimed_until=None)
            return CustomerEmailStatus.FAILED
        # Stays pending; the claim, moved to after the back-off, keeps the sweep off it till then.
        delay = backoff_delay(attempts, base=settings.SHIPBRIDGE_RETRY_BASE_SECONDS,
                              cap=settings.SHIPBRIDGE_RETRY_MAX_SECONDS)
        _record(shipment_id, customer_email_attempts=attempts, customer_email_error=error,
                customer_email_claimed_until=timezone.now() + dt.timedelta(seconds=delay))
        return CustomerEmailStatus.PENDING
    _record(shipment_id, customer_email_status=CustomerEmailStatus.SENT, customer_email_attempts=attempts,
            customer_email_error="", customer_emailed_at=timezone.now(), customer_email_claimed_until=None)
    log.info("shipment %s: customer e-mail sent", shipment_id)
    return CustomerEmailStatus.SENT


def shipment_emails_pending(*, now: dt.datetime | None = None, grace_seconds: float | None = None) -> list[int]:
    """The pending e-mails no delivery holds, queued longer than the grace period ago
    (SHIPBRIDGE_SWEEP_GRACE_SECONDS): their task was lost, or their back-off is over. For the
    stale sweep."""
    now = now or timezone.now()
    grace = settings.SHIPBRIDGE_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = now - dt.timedelta(seconds=grace)
    return list(
        Shipment.objects.filter(customer_email_status=CustomerEmailStatus.PENDING, created_at__lt=cutoff)
        .filter(Q(customer_email_claimed_until__isnull=True) | Q(customer_email_claimed_until__lt=now))
        .order_by("pk").values_list("pk", flat=True)[:1000]
    )
