"""Carriers chosen from a list: every spelling of a listed carrier is its name, another
carrier's name is kept; the forms offer the list and "Other"; old shipments get the names."""
import datetime as dt
import importlib

import pytest
from django.apps import apps

from orders.carriers import OTHER, carrier_choices, carrier_name
from orders.forms import ShipmentCorrectionForm, ShipmentDetailsForm, carrier_initial
from orders.models import Shipment
from orders.shipping import shipment_create
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory


@pytest.mark.parametrize("typed, name", [
    ("ups", "UPS"), (" UPS ", "UPS"), ("Federal Express", "FedEx"), ("fedex", "FedEx"), ("stamps_com", "USPS"),
    ("U.S. Postal Service", "USPS"), ("Royal Mail", "RoyalMail"), ("canada_post", "CanadaPost"),
    ("dhl express", "DHL"), ("other", OTHER), ("Bpost", "Bpost"), ("  La   Poste ", "Colissimo"), ("", ""),
])
def test_every_spelling_of_a_listed_carrier_is_its_name(typed, name):
    assert carrier_name(typed) == name


def test_the_list_ends_with_other():
    names = [name for name, _ in carrier_choices()]
    assert names[:3] == ["UPS", "FedEx", "USPS"] and names[-1] == OTHER and len(set(names)) == len(names)


def test_the_ship_form_takes_a_listed_carrier_or_another_by_name():
    form = ShipmentDetailsForm({"carrier": "UPS", "carrier_other": "ignored"})
    assert form.is_valid() and form.shipment_details()["carrier"] == "UPS"
    assert "carrier_other" not in form.shipment_details()
    form = ShipmentDetailsForm({"carrier": OTHER, "carrier_other": " Bpost "})
    assert form.is_valid() and form.shipment_details()["carrier"] == "Bpost"
    form = ShipmentDetailsForm({"carrier": OTHER})
    assert form.is_valid() and form.shipment_details()["carrier"] == OTHER
    assert not ShipmentDetailsForm({"carrier": "Pigeon"}).is_valid()  # not in the list: "Other" and its name
    assert not ShipmentDetailsForm({"carrier": ""}).is_valid()


def test_a_correction_shows_an_unlisted_carrier_as_other_with_its_name():
    assert carrier_initial("UPS") == {"carrier": "UPS"}
    assert carrier_initial("Bpost") == {"carrier": OTHER, "carrier_other": "Bpost"}
    form = ShipmentCorrectionForm({"carrier": OTHER, "carrier_other": "Bpost", "ship_date": "2024-05-31"},
                                  offer_notify=False)
    assert form.is_valid() and form.corrections()["carrier"] == "Bpost" and "carrier_other" not in form.corrections()


@pytest.mark.django_db
def test_the_shipping_service_stores_the_listed_name():
    order = OrderFactory(store=StoreFactory(notify_store=False))
    OrderItemFactory(order=order)
    assert shipment_create(order=order, carrier="federal express").carrier == "FedEx"


@pytest.mark.django_db
def test_the_migration_gives_old_shipments_the_listed_names():
    order = OrderFactory()
    for carrier in ("ups", "Federal Express", "Royal Mail", "Bpost", "UPS"):
        Shipment.objects.create(order=order, carrier=carrier, ship_date=dt.date.today())
    migration = importlib.import_module("orders.migrations.0012_carrier_names_from_the_list")
    migration.listed_names(apps, None)
    assert sorted(Shipment.objects.values_list("carrier", flat=True)) == sorted(
        ["UPS", "FedEx", "RoyalMail", "Bpost", "UPS"])
