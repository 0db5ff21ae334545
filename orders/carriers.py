"""The carriers a shipment is sent with: the common ones by name, and "Other".

A shipment's carrier is one of these names (the spelling stores are sent, in the notices
ShipStation's integrations receive), or, for a carrier not in the list, its own name as typed.
Every spelling a person, a file or a carrier portal uses for a listed carrier ("ups", "Federal
Express", "stamps_com") is read as that carrier's name, so reports group by carrier."""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

OTHER = "Other"


@dataclass(frozen=True)
class Carrier:
    name: str  # stored and sent to the store
    label: str
    aliases: tuple[str, ...] = ()


CARRIERS: tuple[Carrier, ...] = (
    Carrier("UPS", "UPS", ("United Parcel Service", "UPS Ground", "ups_walleted", "UPS Mail Innovations")),
    Carrier("FedEx", "FedEx", ("Fed Ex", "Federal Express", "FedEx Ground", "fedex_walleted")),
    Carrier("USPS", "USPS", ("US Postal Service", "U.S. Postal Service", "United States Postal Service",
                             "stamps_com", "Stamps.com", "Endicia", "US Mail")),
    Carrier("DHL", "DHL Express", ("DHL Express", "dhl_express", "dhl_express_worldwide", "DHL Worldwide")),
    Carrier("DHLeCommerce", "DHL eCommerce", ("DHL eCommerce", "dhl_ecommerce", "DHL Global Mail")),
    Carrier("Amazon", "Amazon Shipping", ("Amazon Shipping", "amazon_shipping", "Amazon Logistics")),
    Carrier("OnTrac", "OnTrac", ("On Trac",)),
    Carrier("CanadaPost", "Canada Post", ("Canada Post", "canada_post", "Postes Canada")),
    Carrier("Purolator", "Purolator", ("purolator_ca",)),
    Carrier("RoyalMail", "Royal Mail", ("Royal Mail", "royal_mail")),
    Carrier("Evri", "Evri (Hermes)", ("Hermes", "Hermes UK", "myHermes")),
    Carrier("DPD", "DPD", ("DPD UK", "dpd_uk")),
    Carrier("GLS", "GLS", ("gls_us",)),
    Carrier("AustraliaPost", "Australia Post", ("Australia Post", "australia_post", "AusPost")),
    Carrier("Colissimo", "Colissimo / La Poste", ("La Poste",)),
)


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


_BY_KEY = {_key(spelling): carrier.name for carrier in CARRIERS
           for spelling in (carrier.name, carrier.label, *carrier.aliases)}
_BY_KEY[_key(OTHER)] = OTHER


def carrier_name(text: str) -> str:
    """The carrier's name: a listed carrier's own name for any of its spellings, else the text
    itself (stripped), an "other" carrier's name."""
    text = " ".join((text or "").split())
    return _BY_KEY.get(_key(text), text) if text else ""


# ShipStation's carrier codes (its API's carrierCode) for the listed carriers.
_CODES = {"UPS": "ups", "FedEx": "fedex", "USPS": "usps", "DHL": "dhl_express", "DHLeCommerce": "dhl_ecommerce",
          "Amazon": "amazon_shipping", "OnTrac": "ontrac", "CanadaPost": "canada_post", "Purolator": "purolator_ca",
          "RoyalMail": "royal_mail", "Evri": "hermes", "DPD": "dpd", "GLS": "gls_us",
          "AustraliaPost": "australia_post", "Colissimo": "colissimo"}


def carrier_code(name: str) -> str:
    """A shipment's carrier as ShipStation's API spells it (carrierCode): its code for a listed
    carrier, else the name itself."""
    return _CODES.get(name, name)


def is_listed(name: str) -> bool:
    return name in _LISTED


_LISTED = frozenset(c.name for c in CARRIERS)


def carrier_choices() -> list[tuple[str, str]]:
    """The list to choose from: the common carriers, then "Other" (its name typed)."""
    return [(c.name, c.label) for c in CARRIERS] + [(OTHER, _("Other (type its name)"))]
