"""The shipment e-mail to the customer, with the store's branding, in the store's language
(whoever ships the order), through Django's e-mail backend (console in development). Sent after
the shipment's transaction commits."""
from __future__ import annotations

import logging
from email.utils import formataddr
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext

from stores.i18n import store_language

from .models import Shipment

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


def shipment_email_send(*, shipment_id: int) -> bool:
    """Send the shipment e-mail if it is due; return whether one was sent. A mail server
    failure is logged, never raised (the shipment is already saved)."""
    shipment = Shipment.objects.select_related("order__store").filter(pk=shipment_id).first()
    if shipment is None or shipment.voided_at is not None or not customer_email_due(shipment):
        return False
    message = shipment_email(shipment)
    order = shipment.order
    try:
        message.send()
    except Exception:  # noqa: BLE001 - SMTP down, bad address...: logged for the operator
        log.exception("shipment %s: the customer e-mail could not be sent", shipment_id)
        return False
    log.info("shipment %s: customer e-mail sent to %s", shipment_id, order.customer_email)
    return True
