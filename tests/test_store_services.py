"""store_create / store_update: the one write path for stores (the admin and `add_store` both use
it), and what the connectors say for the services to ask."""
import pytest
from django.urls import reverse

from stores.connectors.base import StoreRejected
from stores.connectors.registry import CONNECTOR_NAMES, get_connector_class
from stores.models import Merchant, StatusMapping, Store
from stores.services import StoreInputError, store_create, store_update
from tests.factories import MerchantFactory

CUSTOM = {"url": "http://127.0.0.1:9/feed.xml", "username": "shop", "password": "first-secret"}

pytestmark = pytest.mark.django_db


def shop(**kwargs) -> Store:
    if "merchant" not in kwargs:
        kwargs["merchant_name"] = "Acme"
    return store_create(connector="custom_store", name=kwargs.pop("name", "Shop"),
                        settings=kwargs.pop("settings", CUSTOM), **kwargs)


def test_update_changes_what_is_given_and_keeps_a_secret_left_blank():
    store = shop(status_mapping={"paid": "awaiting_shipment"})
    updated = store_update(store=store, name=" Shop two ", timezone="Europe/Paris",
                           settings={**CUSTOM, "url": "http://127.0.0.1:9/new.xml", "password": ""},
                           status_mapping={"processing": "awaiting_shipment"}, notify_store=False)
    store.refresh_from_db()
    assert (store.name, store.timezone, store.notify_store) == ("Shop two", "Europe/Paris", False)
    assert store.settings == {"url": "http://127.0.0.1:9/new.xml", "username": "shop"}
    assert store.get_secrets() == {"password": "first-secret"}
    assert store.status_map() == {"processing": "awaiting_shipment"} and updated.pk == store.pk


def test_update_with_a_new_secret_replaces_it():
    store = shop()
    store_update(store=store, settings={**CUSTOM, "password": "second-secret"})
    store.refresh_from_db()
    assert store.get_secrets() == {"password": "second-secret"}


@pytest.mark.parametrize("changes, field, words", [
    ({"settings": {**CUSTOM, "url": "ftp://x"}}, "settings.url", "setting 'url' must be an http"),
    ({"settings": {**CUSTOM, "username": ""}}, "settings.username", "missing required setting 'username'"),
    ({"settings": {**CUSTOM, "colour": "blue"}}, "settings.colour", "unknown setting 'colour'"),
    ({"timezone": "Mars/Olympus"}, "timezone", "not an IANA time zone name"),
    ({"name": "  "}, "name", "a store needs a name"),
    ({"name": "Other"}, "name", "merchant 'Acme' already has a store named 'Other'"),
    ({"status_mapping": {}}, "status_mapping", "map at least one store status"),
    ({"status_mapping": {"paid": "sent"}}, "status_mapping", "unknown internal status 'sent'"),
    ({"refresh_interval_minutes": 0}, "refresh_interval_minutes", "greater than or equal to 1"),
])
def test_a_bad_update_names_its_field_and_changes_nothing(changes, field, words):
    store = shop(status_mapping={"paid": "awaiting_shipment"})
    shop(name="Other")
    before = Store.objects.filter(pk=store.pk).values().get()
    with pytest.raises(StoreInputError) as err:
        store_update(store=store, **changes)
    assert err.value.field == field and words in str(err.value)
    assert Store.objects.filter(pk=store.pk).values().get() == before
    assert store.status_map() == {"paid": "awaiting_shipment"}


def test_dry_runs_check_everything_and_write_nothing():
    merchant = MerchantFactory(name="Acme")
    checked = store_create(connector="custom_store", name="Dry", merchant=merchant, settings=CUSTOM, dry_run=True)
    assert checked.pk is None and Store.objects.count() == 0 and StatusMapping.objects.count() == 0
    store = shop()
    store_update(store=store, name="Renamed", status_mapping={"x": "shipped"}, dry_run=True)
    store.refresh_from_db()
    assert store.name == "Shop" and "x" not in store.status_map()
    with pytest.raises(StoreInputError) as err:
        store_create(connector="custom_store", name="Shop", merchant=merchant, settings=CUSTOM, dry_run=True)
    assert err.value.field == "name"


def test_create_for_a_new_merchant_by_name_checks_before_creating_it():
    with pytest.raises(StoreInputError) as err:
        store_create(connector="custom_store", name="N" * 201, merchant_name="Brand new", settings=CUSTOM)
    assert err.value.field == "name" and str(err.value).startswith("store name: Ensure this value has at most 200")
    assert not Store.objects.exists()
    assert not Merchant.objects.filter(name="Brand new").exists()


def test_every_connector_says_what_the_services_ask():
    for name in CONNECTOR_NAMES:
        cls = get_connector_class(name)
        assert cls.short_label and cls.short_label in cls.label
        assert cls.status_mapping_style in ("lists", "per_status")
        assert cls.accepts_repeat_notification or cls.repeat_notification_advice
        assert cls.refusal_advice(StoreRejected("no", status_code=422, body="no")) == ""


def test_quickbooks_commerce_recognises_its_refusal_of_items_already_fulfilled():
    cls = get_connector_class("quickbooks_commerce")
    refusal = StoreRejected("refused", status_code=422,
                            body='{"errors":{"base":["Cannot fulfill items in a fulfilled state"]}}')
    assert cls.refusal_advice(refusal) == cls.repeat_notification_advice != ""
    assert get_connector_class("custom_store").refusal_advice(refusal) == ""


# --- the admin store page: it parses, the services decide -------------------------------------

PAGE = {"active": "on", "refresh_interval_minutes": "15", "timezone": "UTC", "notify_store": "on",
        "conn_url": "http://127.0.0.1:9/feed.xml", "conn_username": "shop", "map_list_awaiting_shipment": "paid"}


def test_the_store_page_shows_every_problem_at_once(admin_client_su):
    merchant = MerchantFactory(name="Acme")
    shop(name="Taken", merchant=merchant)
    response = admin_client_su.post(reverse("admin:stores_store_add") + "?connector=custom_store", {
        **PAGE, "merchant": merchant.pk, "name": "Taken", "conn_url": "ftp://nowhere", "conn_password": "p",
        "map_list_awaiting_shipment": "",
    })
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert "Setting 'url' must be an http:// or https:// address" in html
    assert "Merchant 'Acme' already has a store named 'Taken'." in html
    assert "Map at least one store status: with no mapping, no order is imported." in html
    assert Store.objects.count() == 1


def test_a_superuser_moves_a_store_to_another_merchant(admin_client_su):
    store = shop()
    other = MerchantFactory(name="Other merchant")
    response = admin_client_su.post(reverse("admin:stores_store_change", args=[store.pk]),
                                    {**PAGE, "merchant": other.pk, "name": "Shop"})
    assert response.status_code == 302, response.content.decode()[:2000]
    store.refresh_from_db()
    assert store.merchant == other and store.get_secrets() == {"password": "first-secret"}
