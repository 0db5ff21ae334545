"""Real Custom Store producers, end to end over loopback HTTP: the export pages and shipnotify
replies of WooCommerce ("ShipStation for WooCommerce"), Magento 2 (ShipStation's Auctane_Api)
and Spree/Solidus (spree_shipstation, solidus_shipstation), replayed from literal fixtures
reconstructed from each producer's source (tests/fixtures/customstore/platforms/, each file
names the repository and file it follows). Each store uses its platform's default mapping."""
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from orders.importing import store_refresh
from orders.models import NotificationStatus, Order
from orders.notifying import notification_deliver_now
from orders.shipping import shipment_create
from stores.connectors.customstore.platforms import PLATFORMS
from stores.services import store_create
from tests.fixtures.replay import PLATFORM_FIXTURES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries"), pytest.mark.retries(notify_attempts=1)]


def platform_store(replay, platform, *, timezone="UTC", name=None):
    return store_create(
        connector="custom_store", name=name or f"{platform} shop", timezone=timezone,
        settings={"platform": platform, "url": replay.endpoint, "username": "ss", "password": "pw"},
    )


def refresh(store):
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded", run.error
    return run


def orders_of(store) -> dict[str, Order]:
    return {o.order_number: o for o in Order.objects.filter(store=store).prefetch_related("items")}


def ship_and_notify(order, **details):
    shipment = shipment_create(order=order, carrier=details.pop("carrier", "UPS"), notify_store=True,
                               queue_notification=False, **details)
    return shipment, notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda _: None)


# --- WooCommerce ---------------------------------------------------------------------------


def test_woocommerce_feed_imports_every_order_with_refunded_lines_kept_but_not_shippable(replay_store):
    replay = replay_store("woocommerce_export.xml", "woocommerce_shipnotify_reply_ok.txt")
    store = platform_store(replay, "woocommerce")
    assert store.status_map() == PLATFORMS["woocommerce"].status_mapping
    run = refresh(store)
    orders = orders_of(store)
    # every order of the page, the sequential number shown and the WooCommerce id kept
    assert run.imported == 4 and run.skipped == 0 and run.warning == ""
    assert {n: (o.external_id, o.status, o.ship_to_country, o.ship_to_state) for n, o in orders.items()} == {
        "1043": ("5880", "on_hold", "CA", "QC"),
        "1042": ("5873", "awaiting_shipment", "US", "MI"),
        "1040": ("5802", "cancelled", "US", "OR"),  # refunded, written as cancelled by the plugin
        "1038": ("5791", "shipped", "US", "IL"),
    }
    lines = {i.line_item_id or i.sku: i for i in orders["1042"].items.all()}
    assert lines["312"].quantity == 0 and lines["311"].quantity == 2  # the refunded mug stays, nothing to ship
    assert lines["311"].weight_grams == Decimal("566.990")  # pounds in the feed
    assert lines["total-discount"].adjustment and lines["total-discount"].unit_price == Decimal("-8.00")
    assert orders["1042"].order_total == Decimal("90.79")

    # Shipping the order ships what is left: the refunded line is not in the notice.
    order = orders["1042"]
    shipment, notification = ship_and_notify(order, tracking_number="1Z999AA10123456784")
    order.refresh_from_db()
    assert order.status == "shipped" and sorted(si.order_item.line_item_id for si in shipment.items.all()) == [
        "311", "314"]
    (query, body), = replay.state.notices
    assert query["order_number"] == "1042" and query["carrier"] == "UPS"
    assert query["tracking_number"] == "1Z999AA10123456784"
    notice = ET.fromstring(body)
    assert notice.findtext("OrderID") == "5873"  # the plugin takes the order by this id
    assert [(i.findtext("LineItemID"), i.findtext("Quantity")) for i in notice.iter("Item")] == [("311", "2"),
                                                                                                ("314", "1")]
    # WooCommerce answers an empty 200 to success and to an unknown order alike: sent, with that caveat
    assert notification.status == NotificationStatus.SENT
    assert "empty reply: it confirms nothing" in notification.warning


def test_woocommerce_missing_parameter_reply_is_a_refusal_in_its_own_words(replay_store):
    replay = replay_store("woocommerce_export.xml", "woocommerce_shipnotify_reply_error.txt")
    store = platform_store(replay, "woocommerce")
    refresh(store)
    _, notification = ship_and_notify(orders_of(store)["1042"])
    assert notification.status == NotificationStatus.FAILED
    assert notification.error == "Missing required param: carrier"
    assert notification.attempt_log.get().message == '{"success":false,"data":"Missing required param: carrier"}'


# --- Magento 2 -----------------------------------------------------------------------------


@pytest.mark.parametrize("fixture, expected", [
    ("magento_export.xml", {  # 2.4+: codes
        "000000124": ("awaiting_payment", "US", "OH"), "000000123": ("awaiting_shipment", "US", "MI"),
        "000000118": ("on_hold", "NL", ""), "000000116": ("cancelled", "US", "WA"),
        "000000110": ("shipped", "US", "TX"), "000000109": ("cancelled", "US", "MA"),
    }),
    ("magento_v2.3_export.xml", {  # 2.3: country and region names
        "000000123": ("awaiting_shipment", "US", "MI"), "000000121": ("awaiting_payment", "GB", "Greater London"),
    }),
])
def test_magento_feed_with_a_false_encoding_and_no_order_id_imports(replay_store, fixture, expected):
    raw = (PLATFORM_FIXTURES / fixture).read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-16"?>') and "Ångström".encode("utf-8") in raw
    replay = replay_store(fixture)
    store = platform_store(replay, "magento2")
    run = refresh(store)
    orders = orders_of(store)
    assert run.skipped == 0 and {n: (o.status, o.ship_to_country, o.ship_to_state) for n, o in orders.items()} \
        == expected
    assert all(o.external_id == n for n, o in orders.items())  # no <OrderID>: the increment id is the id
    assert orders["000000123"].ship_to_name == "Zoë Ångström"
    assert orders["000000123"].order_total == Decimal("102.54")  # 102.5400 in the feed
    if "000000124" in orders:  # "&" written as "&amp;" inside CDATA by 2.4+, read back as "&"
        assert orders["000000124"].ship_to_company == "Smith & Sons Hardware"


def test_magento_fault_with_http_200_is_a_refusal_and_the_notice_names_the_order_by_increment_id(replay_store):
    replay = replay_store("magento_export.xml", "magento_shipnotify_reply_invalid_xml.txt",
                          "magento_shipnotify_reply_error.txt")
    store = platform_store(replay, "magento2")
    refresh(store)
    orders = orders_of(store)
    _, first = ship_and_notify(orders["000000123"])
    assert first.status == NotificationStatus.FAILED  # HTTP 200, but the body is a <fault>
    assert first.error == "Input Xml contains errors and couldn't be parsed."
    assert first.attempt_log.get().response_code == 200 and "<faultcode>400</faultcode>" in first.attempt_log.get().message
    (query, body), = replay.state.notices
    notice = ET.fromstring(body)
    assert notice.findtext("OrderID") == "000000123"  # what Magento loads the order by
    assert sorted(i.findtext("SKU") for i in notice.iter("Item")) == ["24-MG04", "MH01-XS-Black"]
    _, second = ship_and_notify(orders["000000118"])  # on hold in Magento ("holded"): shippable here
    assert second.status == NotificationStatus.FAILED and second.error == "Order '000000999' does not exist"


# --- Spree / Solidus -----------------------------------------------------------------------


def test_spree_shipments_import_in_the_shops_zone_and_shipnotify_replies_are_judged(replay_store):
    replay = replay_store("spree_export.xml", "spree_shipnotify_reply_ok.txt", "spree_shipnotify_reply_error.txt")
    store = platform_store(replay, "spree", timezone="America/New_York")
    refresh(store)
    orders = orders_of(store)
    assert {n: (o.external_id, o.status) for n, o in orders.items()} == {
        "H48173625591": ("1021", "awaiting_shipment"), "H10348857701": ("1022", "awaiting_shipment"),
        "H10348857702": ("1023", "shipped"), "H62017744382": ("1019", "cancelled"),
    }
    # "01/13/2014 13:05" in the shop's zone (EST) is 18:05 UTC
    assert orders["H48173625591"].order_date.isoformat() == "2014-01-13T18:05:00+00:00"
    assert all(not i.line_item_id for o in orders.values() for i in o.items.all())  # Spree sends none
    _, ok = ship_and_notify(orders["H48173625591"], tracking_number="9400111899561")
    assert ok.status == NotificationStatus.SENT and ok.warning == ""  # "success": a real confirmation
    query, _ = replay.state.notices[0]
    assert query["order_number"] == "H48173625591" and query["tracking_number"] == "9400111899561"
    _, refused = ship_and_notify(orders["H10348857701"])
    assert refused.status == NotificationStatus.FAILED and refused.error.startswith("Shipment ")
    assert "was not found" in refused.error


def test_solidus_empty_400_is_a_refusal_without_a_message(replay_store):
    replay = replay_store("solidus_export.xml", "solidus_shipnotify_reply_error.txt")
    store = platform_store(replay, "spree")
    refresh(store)
    _, notification = ship_and_notify(orders_of(store)["H27531904886"])
    assert notification.status == NotificationStatus.FAILED
    assert notification.error == "the store refused the shipment notice (HTTP 400) without a message"


# --- what no platform may do to a run -------------------------------------------------------


def test_one_absurd_order_is_skipped_with_its_reason_and_the_others_import(replay_store):
    feed = (PLATFORM_FIXTURES / "woocommerce_export.xml").read_bytes()
    feed = feed.replace(b"<Quantity>2</Quantity>", b"<Quantity>123456789012345678901234</Quantity>", 1)
    feed = feed.replace(b"<OrderDate>03/15/2025 16:40</OrderDate>", b"<OrderDate>12/31/9999 23:59</OrderDate>", 1)
    replay = replay_store("", data=feed)
    store = platform_store(replay, "woocommerce")
    run = refresh(store)
    assert run.imported == 2 and run.skipped == 2
    assert {s["order_number"] for s in run.skip_reasons} == {"1042", "1043"}
    reasons = " | ".join(s["reason"] for s in run.skip_reasons)
    assert "not a plausible quantity" in reasons and "not a plausible date" in reasons
    store.refresh_from_db()
    assert store.import_cursor is not None  # the cursor moved on


def test_over_long_values_skip_that_order_not_the_page(replay_store):
    feed = (PLATFORM_FIXTURES / "woocommerce_export.xml").read_bytes()
    feed = feed.replace(b"Maria Lopez", b"M" * 300, 1)
    replay = replay_store("", data=feed)
    run = refresh(platform_store(replay, "woocommerce"))
    assert run.imported == 3 and [s["order_number"] for s in run.skip_reasons] == ["1042"]
    assert "longer than 200 characters" in run.skip_reasons[0]["reason"]


def test_an_unmapped_platform_says_so_in_the_summary_the_store_state_and_the_dashboard(replay_store,
                                                                                       admin_client_su):
    replay = replay_store("woocommerce_export.xml")
    store = platform_store(replay, "generic", name="Woo as generic")  # generic mapping: unpaid/paid/...
    out = io.StringIO()
    call_command("refresh_store", str(store.pk), "--wait", stdout=out)
    summary = json.loads(out.getvalue().splitlines()[-1])
    # the generic mapping knows "on-hold" and "cancelled", not WooCommerce's "processing" and "completed"
    assert summary["status"] == "succeeded" and summary["imported"] == 2 and summary["skipped"] == 2
    assert summary["warning"] == ("Attention: 2 orders skipped — statuses 'processing' (1), 'completed' (1) "
                                  "are not mapped")
    store.refresh_from_db()
    assert store.last_refresh_warning == summary["warning"]
    html = admin_client_su.get(reverse("shipbridge_dashboard")).content.decode().replace("&#x27;", "'")
    assert "Attention: 2 orders skipped" in html and "needing attention" in html
    # mapping the statuses clears the warning at the next refresh
    store.status_mappings.create(store_status="processing", status="awaiting_shipment")
    store.status_mappings.create(store_status="completed", status="shipped")
    refresh(store)
    store.refresh_from_db()
    assert store.last_refresh_warning == "" and Order.objects.filter(store=store).count() == 4
