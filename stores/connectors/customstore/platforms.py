"""The real platforms behind Custom Store feeds: each one's statuses (for the default status
mapping) and quirks, taken from the platform's own ShipStation integration.

  WooCommerce  "ShipStation for WooCommerce" (includes/api/requests/class-wc-shipstation-api-export.php,
               data/data-settings.php): order statuses without "wc-", refunded written as cancelled.
  Magento 2    ShipStation's Auctane_Api (Api/Model/Action/Export.php): Magento status codes, no
               <OrderID>, "&" written as "&amp;" inside CDATA, country/region names before 2.4.
  Spree        spree_shipstation / solidus_shipstation (export.xml.builder): one <Order> per
               shipment, in the shipment's state; dates in the shop's own time zone.
QuickBooks Commerce is a store type of its own (QuickBooksCommerceConnector): it also refuses
split and combined orders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

AWAITING_PAYMENT, AWAITING_SHIPMENT, ON_HOLD, SHIPPED, CANCELLED = (
    "awaiting_payment", "awaiting_shipment", "on_hold", "shipped", "cancelled")


@dataclass(frozen=True)
class Platform:
    key: str
    label: str  # gettext_lazy, as help_text
    help_text: str
    status_mapping: dict[str, str] = field(default_factory=dict)
    # The producer writes "&" as "&amp;" inside CDATA (read back as "&").
    amp_escaped_twice: bool = False


PLATFORMS = {p.key: p for p in (
    Platform(
        "generic", _("Other (generic Custom Store)"),
        _("Any store or middleware that speaks the Custom Store XML protocol. Map its own statuses below."),
        {"unpaid": AWAITING_PAYMENT, "paid": AWAITING_SHIPMENT, "shipped": SHIPPED, "cancelled": CANCELLED,
         "on-hold": ON_HOLD},
    ),
    Platform(
        "woocommerce", "WooCommerce",
        _("WooCommerce with the “ShipStation for WooCommerce” plugin: use the plugin's URL "
          "(…/?wc-api=wc_shipstation&auth_key=…). Refunded orders arrive as cancelled; refunded lines with "
          "quantity 0 stay visible and are not shipped."),
        {"pending": AWAITING_PAYMENT, "processing": AWAITING_SHIPMENT, "on-hold": ON_HOLD, "completed": SHIPPED,
         "cancelled": CANCELLED, "refunded": CANCELLED},
    ),
    Platform(
        "magento2", "Magento 2",
        _("Magento 2 (Adobe Commerce) with ShipStation's extension: use …/api/auctane/index as the URL. "
          "Orders are identified by their increment id; country and region names are read as ISO codes."),
        {"pending": AWAITING_PAYMENT, "pending_payment": AWAITING_PAYMENT, "payment_review": AWAITING_PAYMENT,
         "processing": AWAITING_SHIPMENT, "holded": ON_HOLD, "fraud": ON_HOLD, "complete": SHIPPED,
         "canceled": CANCELLED, "closed": CANCELLED},
        amp_escaped_twice=True,
    ),
    Platform(
        "spree", "Spree / Solidus",
        _("Spree or Solidus with spree_shipstation / solidus_shipstation: use …/shipstation.xml. Each shipment "
          "is one order (numbered H…); set the time zone below to the shop's own (config.time_zone)."),
        {"pending": AWAITING_PAYMENT, "ready": AWAITING_SHIPMENT, "shipped": SHIPPED, "canceled": CANCELLED},
    ),
)}
DEFAULT_PLATFORM = "generic"


def platform_of(settings: dict[str, str]) -> Platform:
    return PLATFORMS.get((settings or {}).get("platform") or DEFAULT_PLATFORM, PLATFORMS[DEFAULT_PLATFORM])
