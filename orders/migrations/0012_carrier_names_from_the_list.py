"""Carriers are chosen from a list: the shipments already made with a listed carrier under
another spelling ("ups", "Fedex", "Federal Express", "Royal Mail") get the listed name, so
reports group by carrier. Any other carrier's name is kept as it was (an "other" carrier).
The spellings are frozen here as orders/carriers.py had them when this migration was written."""
import re

from django.db import migrations

SPELLINGS = {
    "UPS": ("UPS", "United Parcel Service", "UPS Ground", "ups_walleted", "UPS Mail Innovations"),
    "FedEx": ("FedEx", "Fed Ex", "Federal Express", "FedEx Ground", "fedex_walleted"),
    "USPS": ("USPS", "US Postal Service", "U.S. Postal Service", "United States Postal Service", "stamps_com",
             "Stamps.com", "Endicia", "US Mail"),
    "DHL": ("DHL", "DHL Express", "dhl_express", "dhl_express_worldwide", "DHL Worldwide"),
    "DHLeCommerce": ("DHLeCommerce", "DHL eCommerce", "dhl_ecommerce", "DHL Global Mail"),
    "Amazon": ("Amazon", "Amazon Shipping", "amazon_shipping", "Amazon Logistics"),
    "OnTrac": ("OnTrac", "On Trac"),
    "CanadaPost": ("CanadaPost", "Canada Post", "canada_post", "Postes Canada"),
    "Purolator": ("Purolator", "purolator_ca"),
    "RoyalMail": ("RoyalMail", "Royal Mail", "royal_mail"),
    "Evri": ("Evri", "Evri (Hermes)", "Hermes", "Hermes UK", "myHermes"),
    "DPD": ("DPD", "DPD UK", "dpd_uk"),
    "GLS": ("GLS", "gls_us"),
    "AustraliaPost": ("AustraliaPost", "Australia Post", "australia_post", "AusPost"),
    "Colissimo": ("Colissimo", "Colissimo / La Poste", "La Poste"),
    "Other": ("Other",),
}


def _key(text):
    return re.sub(r"[^0-9a-z]", "", (text or "").casefold())


def listed_names(apps, schema_editor):
    Shipment = apps.get_model("orders", "Shipment")
    by_key = {_key(spelling): name for name, spellings in SPELLINGS.items() for spelling in spellings}
    used = Shipment.objects.values_list("carrier", flat=True).distinct()
    for carrier in list(used):
        name = by_key.get(_key(carrier))
        if name is not None and name != carrier:
            Shipment.objects.filter(carrier=carrier).update(carrier=name)


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0011_product_barcode"),
    ]

    operations = [
        migrations.RunPython(listed_names, migrations.RunPython.noop),
    ]
