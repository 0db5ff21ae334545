"""The store settings page, its buttons, the activity log and the dashboard, through the admin."""
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from orders.models import ImportRun, ImportRunStatus, ImportTrigger, NotificationAttempt, Order, StoreNotification
from stores.models import RefreshStatus, StatusMapping, Store
from orders.selectors import TIMEZONE_WARNING
from tests.factories import OrderFactory, StoreFactory
from tests.utils import sandbox_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords"),
              pytest.mark.sandbox("custom_store", orders=12)]

ADD_URL = reverse("admin:stores_store_add")


def change_url(store):
    return reverse("admin:stores_store_change", args=[store.pk])


def store_form(merchant=None, **overrides):
    """POST data of the store page, every section filled like a browser would."""
    data = {
        "name": "Main shop",
        "active": "on",
        "refresh_interval_minutes": "15",
        "timezone": "UTC",
        "notify_store": "on",
        "brand_company_name": "Acme Goods",
        "brand_phone": "",
        "brand_email": "",
        "brand_website": "",
        "brand_return_address": "",
    }
    if merchant is not None:
        data["merchant"] = str(merchant.pk)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


LISTS = {"map_list_awaiting_payment": "unpaid", "map_list_awaiting_shipment": "paid, Paid",
         "map_list_shipped": "shipped", "map_list_cancelled": "cancelled", "map_list_on_hold": "on-hold"}


def png_bytes(size=(40, 20), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- adding a store ------------------------------------------------------------------------


def test_add_page_asks_for_the_connector_first(admin_client_su):
    # Given no connector chosen, when the add page opens, then it offers the three connectors,
    # the Custom Store once per platform behind its feed.
    response = admin_client_su.get(ADD_URL)
    assert response.status_code == 200
    html = response.content.decode().replace("&amp;", "&")
    for query, label in [("connector=custom_store&conn_platform=generic", "Custom Store: Other (generic Custom Store)"),
                         ("connector=custom_store&conn_platform=woocommerce", "Custom Store: WooCommerce"),
                         ("connector=custom_store&conn_platform=magento2", "Custom Store: Magento 2"),
                         ("connector=custom_store&conn_platform=spree", "Custom Store: Spree / Solidus"),
                         ("connector=quickbooks_commerce", "QuickBooks Commerce (TradeGecko)"),
                         ("connector=acumatica", "Acumatica ERP")]:
        assert f"?{query}" in html and label in html
    assert "shut QuickBooks Commerce down on 31 August 2023" in html


@pytest.mark.parametrize("platform, mapped", [
    ("woocommerce", {"awaiting_shipment": "processing", "shipped": "completed", "cancelled": "cancelled, refunded"}),
    ("magento2", {"awaiting_shipment": "processing", "on_hold": "fraud, holded", "cancelled": "canceled, closed"}),
    ("spree", {"awaiting_payment": "pending", "awaiting_shipment": "ready", "cancelled": "canceled"}),
])
def test_a_platform_chosen_first_fills_the_mapping_with_its_statuses(admin_client_su, platform, mapped):
    html = admin_client_su.get(f"{ADD_URL}?connector=custom_store&conn_platform={platform}").content.decode()
    assert f'<option value="{platform}" selected>' in html
    for status, lists in mapped.items():
        assert f'name="map_list_{status}" value="{lists}"' in html


@pytest.mark.parametrize("connector, shown, hidden", [
    ("custom_store", ["conn_url", "conn_username", "conn_password", "map_list_awaiting_shipment"],
     ["conn_base_url", "conn_stock_location_id", "map_status_"]),
    ("quickbooks_commerce", ["conn_url", "conn_stock_location_id", "map_list_on_hold"], ["conn_base_url", "conn_company"]),
    ("acumatica", ["conn_base_url", "conn_company", "conn_branch", "conn_version", "map_status_"],
     ["conn_url", "conn_stock_location_id", "map_list_"]),
])
def test_add_page_shows_only_the_chosen_connectors_fields(admin_client_su, connector, shown, hidden):
    html = admin_client_su.get(f"{ADD_URL}?connector={connector}").content.decode()
    for name in shown:
        assert f'name="{name}' in html, name
    for name in hidden:
        assert f'name="{name}' not in html, name
    assert 'list="iana-time-zones"' in html and '<option value="America/Chicago">' in html


def test_add_custom_store_through_the_form(admin_client_su, merchant):
    data = store_form(merchant, connector="acumatica",  # a forged connector is ignored: the page's one is used
                      conn_url="http://127.0.0.1:9/shipstation.xml", conn_username="shop",
                      conn_password="Hunter2-very-secret", timezone="America/Chicago", **LISTS)
    response = admin_client_su.post(f"{ADD_URL}?connector=custom_store", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    store = Store.objects.get()
    assert store.connector == "custom_store" and store.merchant == merchant and store.timezone == "America/Chicago"
    assert store.settings == {"url": "http://127.0.0.1:9/shipstation.xml", "username": "shop"}
    assert store.get_secrets() == {"password": "Hunter2-very-secret"}
    assert "Hunter2" not in store.encrypted_secrets
    assert store.status_map() == {"unpaid": "awaiting_payment", "paid": "awaiting_shipment",
                                  "Paid": "awaiting_shipment", "shipped": "shipped", "cancelled": "cancelled",
                                  "on-hold": "on_hold"}
    # the secret is never rendered back
    html = admin_client_su.get(change_url(store)).content.decode()
    assert "Hunter2-very-secret" not in html and "A value is stored" in html


def test_add_page_prefills_the_connectors_usual_mapping(admin_client_su):
    html = admin_client_su.get(f"{ADD_URL}?connector=quickbooks_commerce").content.decode()
    assert 'name="map_list_awaiting_shipment" value="finalized"' in html
    assert 'name="map_list_cancelled" value="deleted, void"' in html


@pytest.mark.parametrize("overrides, error", [
    ({"conn_url": ""}, "This field is required."),
    ({"conn_url": "ftp://example.test/feed"}, "Setting &#x27;url&#x27; must be an http:// or https:// address"),
    ({"timezone": "Mars/Olympus"}, "is not an IANA time zone name"),
    ({"map_list_shipped": "paid"}, "Store status &#x27;paid&#x27; is listed under two statuses"),
    ({**{k: "" for k in LISTS}}, "Map at least one store status"),
    ({"refresh_interval_minutes": "0"}, "Ensure this value is greater than or equal to 1."),
    ({"name": ""}, "This field is required."),
])
def test_bad_input_gives_form_errors_and_saves_nothing(admin_client_su, merchant, overrides, error):
    data = store_form(merchant, **{"conn_url": "http://127.0.0.1:9/x", "conn_username": "u", "conn_password": "p",
                                   **LISTS, **overrides})
    response = admin_client_su.post(f"{ADD_URL}?connector=custom_store", data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Store.objects.count() == 0 and StatusMapping.objects.count() == 0


def test_bad_edit_changes_nothing(admin_client_su):
    store = StoreFactory(name="Shop", timezone="UTC")
    StatusMapping.objects.create(store=store, store_status="paid", status="awaiting_shipment")
    before = (store.settings, store.encrypted_secrets)
    data = store_form(store.merchant, name="Renamed", timezone="Europe/Paris", conn_url="http://new.example.test/x",
                      conn_username="new", **{**LISTS, "map_list_shipped": "paid"})
    response = admin_client_su.post(change_url(store), data)
    assert response.status_code == 200 and "listed under two statuses" in response.content.decode()
    store.refresh_from_db()
    assert store.name == "Shop" and store.timezone == "UTC" and (store.settings, store.encrypted_secrets) == before
    assert store.status_map() == {"paid": "awaiting_shipment"}


def test_edit_keeps_the_stored_secret_when_left_blank(admin_client_su):
    store = StoreFactory(name="Shop")
    data = store_form(store.merchant, name="Shop", conn_url="http://127.0.0.1:9/new", conn_username="shop",
                      conn_password="", **LISTS)
    response = admin_client_su.post(change_url(store), data)
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.settings["url"] == "http://127.0.0.1:9/new" and store.get_secrets() == {"password": "s3cret"}


def test_duplicate_store_name_is_a_form_error(admin_client_su, merchant):
    StoreFactory(merchant=merchant, name="Shop")
    data = store_form(merchant, name="Shop", conn_url="http://127.0.0.1:9/x", conn_username="u",
                      conn_password="p", **LISTS)
    response = admin_client_su.post(f"{ADD_URL}?connector=custom_store", data)
    assert response.status_code == 200
    assert "already has a store named &#x27;Shop&#x27;" in response.content.decode()
    assert Store.objects.count() == 1


# --- Acumatica mapping, QuickBooks Commerce notice --------------------------------------------


def acumatica_store(merchant):
    from stores.services import store_create

    return store_create(connector="acumatica", name="ERP", merchant_name=merchant.name, settings={
        "base_url": "http://127.0.0.1:9", "username": "admin", "password": "pw", "company": "Company",
        "branch": "HQ", "version": "2021 R2"})


def test_acumatica_store_maps_each_shipment_status_with_a_select(admin_client_su, merchant):
    from stores.connectors.acumatica.connector import AcumaticaConnector
    from stores.forms import _status_field_name

    store = acumatica_store(merchant)
    html = admin_client_su.get(change_url(store)).content.decode()
    for status in AcumaticaConnector.known_statuses:
        assert f'name="{_status_field_name(status)}"' in html
    assert "not imported" in html and 'name="conn_url"' not in html
    data = store_form(merchant, name="ERP", conn_base_url="http://127.0.0.1:9", conn_username="admin",
                      conn_company="Company", conn_branch="HQ", conn_version="2019 R1",
                      **{_status_field_name("Open"): "awaiting_shipment", _status_field_name("On Hold"): "on_hold",
                         _status_field_name("Completed"): "shipped"})
    response = admin_client_su.post(change_url(store), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    store.refresh_from_db()
    assert store.status_map() == {"Open": "awaiting_shipment", "On Hold": "on_hold", "Completed": "shipped"}
    assert store.settings["version"] == "2019 R1" and store.get_secrets() == {"password": "pw"}


def test_acumatica_unknown_release_is_refused(admin_client_su, merchant):
    from stores.forms import _status_field_name

    store = acumatica_store(merchant)
    data = store_form(merchant, name="ERP", conn_base_url="http://127.0.0.1:9", conn_username="admin",
                      conn_company="Company", conn_branch="HQ", conn_version="2017 R1",
                      **{_status_field_name("Open"): "awaiting_shipment"})
    response = admin_client_su.post(change_url(store), data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    store.refresh_from_db()
    assert store.settings["version"] == "2021 R2"


def test_quickbooks_commerce_store_shows_the_shutdown_notice(admin_client_su, merchant):
    store = StoreFactory(merchant=merchant, connector="quickbooks_commerce",
                         settings={"url": "https://shipstation.tradegecko.com/fulfillments/99999.xml", "username": "u"})
    html = admin_client_su.get(change_url(store)).content.decode()
    assert 'id="connector-notice"' in html and "31 August 2023" in html
    assert 'name="conn_stock_location_id"' in html and 'name="map_list_awaiting_shipment"' in html


# --- branding ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, content, error", [
    ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "Upload a valid image"),
    ("logo.bmp", None, "must be a PNG, JPEG, GIF or WebP image (this one is BMP)"),
    ("logo.png", "big", "the limit is 1 MB"),
])
def test_logo_type_and_size_are_checked(admin_client_su, media, name, content, error):
    store = StoreFactory(name="Shop")
    if content is None:
        content = png_bytes(fmt="BMP")
    elif content == "big":
        content = png_bytes() + b"\0" * (1024 * 1024)  # a valid PNG padded past 1 MB
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = store_form(store.merchant, name="Shop", conn_url="http://127.0.0.1:9/x", conn_username="u", **LISTS)
    data["brand_logo"] = SimpleUploadedFile(name, content)
    response = admin_client_su.post(change_url(store), data)
    assert response.status_code == 200
    assert error in response.content.decode()
    store.refresh_from_db()
    assert not store.brand_logo


def test_logo_upload_is_saved_and_used_on_the_packing_slip(admin_client_su, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    store = StoreFactory(name="Shop")
    data = store_form(store.merchant, name="Shop", conn_url="http://127.0.0.1:9/x", conn_username="u",
                      brand_company_name="Acme Goods Ltd", brand_return_address="1 Return Road\nLeeds", **LISTS)
    data["brand_logo"] = SimpleUploadedFile("logo.webp", png_bytes(fmt="WEBP"))
    assert admin_client_su.post(change_url(store), data).status_code == 302
    store.refresh_from_db()
    assert store.brand_logo.name.startswith("logos/") and store.brand_logo.size > 0
    order = OrderFactory(store=store, order_number="SO-77")
    html = admin_client_su.get(reverse("shipbridge_packing_slip", args=[order.pk])).content.decode()
    assert store.brand_logo.url in html and "Acme Goods Ltd" in html and "1 Return Road" in html and "SO-77" in html


def logo_page(store, name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = store_form(store.merchant, name="Shop", conn_url="http://127.0.0.1:9/x", conn_username="u", **LISTS)
    data["brand_logo"] = SimpleUploadedFile(name, content)
    return data


def huge_png(side=12000) -> bytes:
    """A real side×side PNG, a few kilobytes: one colour compresses well."""
    buffer = io.BytesIO()
    Image.new("1", (side, side), 1).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming(width, height) -> bytes:
    """A small PNG whose header claims width×height pixels (a decompression bomb's header)."""
    import struct
    import zlib

    data = bytearray(png_bytes())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def test_a_logo_of_144_megapixels_is_refused_before_it_is_decoded(admin_client_su, media):
    store = StoreFactory(name="Shop")
    content = huge_png()
    assert len(content) < 100_000
    response = admin_client_su.post(change_url(store), logo_page(store, "logo.png", content))
    assert response.status_code == 200
    assert "The logo is 12000×12000 pixels; the limit is 2000×2000." in response.content.decode()
    store.refresh_from_db()
    assert not store.brand_logo and not (media.exists() and any(media.rglob("*.*")))


@pytest.mark.parametrize("width, height, words", [
    (100_000, 100_000, "The logo has far too many pixels; the limit is 2000×2000."),  # Pillow's own bomb limit
    (2001, 10, "The logo is 2001×10 pixels; the limit is 2000×2000."),
])
def test_a_logo_header_claiming_too_many_pixels_is_refused(admin_client_su, media, width, height, words):
    store = StoreFactory(name="Shop")
    response = admin_client_su.post(change_url(store), logo_page(store, "logo.png", png_claiming(width, height)))
    assert response.status_code == 200 and words in response.content.decode()
    store.refresh_from_db()
    assert not store.brand_logo


def test_a_logo_is_named_by_its_format_whatever_its_name(admin_client_su, media):
    store = StoreFactory(name="Shop")
    response = admin_client_su.post(change_url(store), logo_page(store, "logo.pdf", png_bytes(size=(64, 32))))
    assert response.status_code == 302, response.content.decode()[:3000]
    store.refresh_from_db()
    assert store.brand_logo.name.startswith("logos/logo") and store.brand_logo.name.endswith(".png")
    with Image.open(store.brand_logo.path) as stored:
        assert (stored.format, stored.size) == ("PNG", (64, 32))


def test_a_logo_is_re_encoded(admin_client_su, media):
    # Given a JPEG carrying metadata (EXIF) and bytes after its end
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "private description"  # ImageDescription
    Image.new("RGB", (120, 80), (10, 120, 200)).save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    uploaded = buffer.getvalue() + b"<script>trailing bytes</script>"
    store = StoreFactory(name="Shop")
    # When it is uploaded as the logo
    response = admin_client_su.post(change_url(store), logo_page(store, "photo.jpeg", uploaded))
    assert response.status_code == 302, response.content.decode()[:3000]
    # Then the stored file is Pillow's new JPEG of the same picture: no metadata, nothing after it
    store.refresh_from_db()
    assert store.brand_logo.name.endswith(".jpg")
    stored = store.brand_logo.read()
    assert stored != uploaded and b"trailing bytes" not in stored and b"private description" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("JPEG", (120, 80)) and not image.getexif()


@pytest.mark.parametrize("fmt, extension", [("GIF", ".gif"), ("WEBP", ".webp"), ("PNG", ".png")])
def test_every_logo_format_is_kept_in_its_own(fmt, extension, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from stores.services import store_update

    store = StoreFactory(name="Shop")
    store_update(store=store, brand_logo=SimpleUploadedFile("upload.bin", png_bytes(fmt=fmt)))
    store.refresh_from_db()
    assert store.brand_logo.name.endswith(extension)
    with Image.open(store.brand_logo.path) as image:
        assert image.format == fmt and image.size == (40, 20)


def test_the_services_refuse_a_bad_logo_naming_the_field(media, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import ImageFile

    from stores.services import StoreInputError, store_update

    def decoded(image):
        raise AssertionError("the logo was decoded before its size was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    store = StoreFactory(name="Shop")
    with pytest.raises(StoreInputError) as err:
        store_update(store=store, brand_logo=SimpleUploadedFile("logo.png", huge_png()))
    assert err.value.field == "brand_logo" and str(err.value) == "the logo is 12000×12000 pixels; the limit is 2000×2000"
    store.refresh_from_db()
    assert not store.brand_logo


# --- buttons: test connection, refresh now -------------------------------------------------------


def test_test_connection_result_is_shown_on_the_store_page(admin_client_su, merchant, sandbox):
    store = sandbox_store(sandbox, merchant_name=merchant.name)
    response = admin_client_su.post(reverse("admin:stores_store_test_connection", args=[store.pk]), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].endswith(change_url(store) + "#connection-test")
    assert "Connection test passed" in html and "ok: the store answered" in html

    sandbox.state.password = "changed-in-the-store"
    html = admin_client_su.post(reverse("admin:stores_store_test_connection", args=[store.pk]), follow=True
                                ).content.decode()
    assert "Connection test failed" in html
    store.refresh_from_db()
    assert store.last_connection_test_ok is False and store.last_connection_test_message in html


def test_refresh_now_imports_and_shows_the_run_in_activity(admin_client_su, merchant, sandbox, eager_celery,
                                                           django_capture_on_commit_callbacks):
    store = sandbox_store(sandbox, merchant_name=merchant.name)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(reverse("admin:stores_store_refresh", args=[store.pk]), follow=True)
    assert "Import queued for Sandbox shop" in response.content.decode()
    run = ImportRun.objects.get(store=store)
    assert run.status == ImportRunStatus.SUCCEEDED and run.trigger == ImportTrigger.USER and run.imported > 0
    assert Order.objects.filter(store=store).count() == run.imported
    html = admin_client_su.get(reverse("admin:stores_store_activity", args=[store.pk])).content.decode()
    assert "Succeeded" in html and "Admin user (root)" in html
    assert run.skipped > 0  # the sandbox holds address-less orders: listed with their reason
    assert f"{run.skipped} skipped order" in html and "no complete shipping address" in html


def test_refresh_of_an_inactive_store_is_refused_in_words(admin_client_su, eager_celery):
    store = StoreFactory(name="Old shop", active=False)
    response = admin_client_su.post(reverse("admin:stores_store_refresh", args=[store.pk]), follow=True)
    assert "Inactive, left alone: Old shop." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_buttons_are_post_only(admin_client_su):
    store = StoreFactory()
    assert admin_client_su.get(reverse("admin:stores_store_refresh", args=[store.pk])).status_code == 405
    assert admin_client_su.get(reverse("admin:stores_store_test_connection", args=[store.pk])).status_code == 405


def test_failed_import_has_a_retry_button_that_queues_a_new_run(admin_client_su, merchant, sandbox, eager_celery,
                                                                django_capture_on_commit_callbacks):
    store = sandbox_store(sandbox, merchant_name=merchant.name)
    sandbox.state.serve_html(count=None)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_su.post(reverse("admin:stores_store_refresh", args=[store.pk]))
    failed = ImportRun.objects.get(store=store)
    assert failed.status == ImportRunStatus.FAILED and failed.error
    activity = reverse("admin:stores_store_activity", args=[store.pk])
    html = admin_client_su.get(activity).content.decode()
    assert failed.error.split("'")[0] in html.replace("&#x27;", "'") and 'value="Retry"' in html

    sandbox.state.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_su.post(reverse("admin:stores_store_refresh", args=[store.pk]), {"next": activity})
    assert response.status_code == 302 and response["Location"] == activity
    assert ImportRun.objects.filter(store=store).order_by("-id").first().status == ImportRunStatus.SUCCEEDED


# --- time zone warning -----------------------------------------------------------------------


def test_wrong_time_zone_warning_when_timestamps_land_in_the_future(admin_client_su):
    store = StoreFactory(name="Shop", timezone="UTC")
    OrderFactory(store=store, order_date=timezone.now() - dt.timedelta(hours=1))
    assert TIMEZONE_WARNING not in admin_client_su.get(change_url(store)).content.decode()

    OrderFactory(store=store, order_date=timezone.now() + dt.timedelta(hours=3))
    html = admin_client_su.get(change_url(store)).content.decode()
    assert TIMEZONE_WARNING in html
    assert TIMEZONE_WARNING in admin_client_su.get(reverse("shipbridge_dashboard")).content.decode()


def test_a_few_minutes_ahead_is_no_warning(admin_client_su):
    store = StoreFactory(name="Shop")
    OrderFactory(store=store, order_date=timezone.now() + dt.timedelta(minutes=2),
                 modified_at=timezone.now() + dt.timedelta(minutes=2))
    assert TIMEZONE_WARNING not in admin_client_su.get(change_url(store)).content.decode()


# --- activity: notifications ---------------------------------------------------------------


def test_activity_lists_notifications_newest_first_with_attempts(admin_client_su):
    from orders.models import Shipment

    store = StoreFactory(name="Shop")
    older = Shipment.objects.create(order=OrderFactory(store=store, order_number="A-1"), carrier="UPS",
                                    tracking_number="1Z1", ship_date=dt.date.today())
    newer = Shipment.objects.create(order=OrderFactory(store=store, order_number="A-2"), carrier="USPS",
                                    tracking_number="94001", ship_date=dt.date.today())
    failed = StoreNotification.objects.create(shipment=older, status="failed", attempts=1,
                                              error='{"base":["Cannot create fulfilment on an order in the fulfilled state"]}')
    NotificationAttempt.objects.create(notification=failed, number=1, started_at=timezone.now(), outcome="failed",
                                       response_code=422, message="Cannot create fulfilment")
    StoreNotification.objects.create(shipment=newer, status="sent", attempts=1, sent_at=timezone.now())
    html = admin_client_su.get(reverse("admin:stores_store_activity", args=[store.pk])).content.decode()
    assert html.index("A-2") < html.index("A-1")
    assert "Cannot create fulfilment on an order in the fulfilled state" in html and "HTTP 422" in html


# --- dashboard -----------------------------------------------------------------------------


def test_dashboard_lists_stores_with_state_refreshes_and_last_error(admin_client_su, django_assert_max_num_queries):
    now = timezone.now()
    ok = StoreFactory(name="Good shop", last_refresh_status=RefreshStatus.SUCCEEDED,
                      last_refresh_at=now - dt.timedelta(minutes=3), next_refresh_at=now + dt.timedelta(minutes=12))
    StoreFactory(name="Broken shop", last_refresh_status=RefreshStatus.FAILED, last_refresh_at=now,
                 last_refresh_error="the store refused the credentials (HTTP 401)")
    StoreFactory(name="Old shop", active=False)
    for i in range(3):
        OrderFactory(store=ok)
    with django_assert_max_num_queries(12):
        response = admin_client_su.get(reverse("shipbridge_dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Good shop" in html and "OK" in html and "in 11" in html
    assert "Failing" in html and "The last import failed" in html and "the store refused the credentials (HTTP 401)" in html
    assert "Inactive" in html and "— (inactive)" in html
    assert f"?store__id__exact={ok.pk}&amp;status__exact=awaiting_shipment\">3</a>" in html


def test_admin_index_links_the_dashboard(admin_client_su):
    html = admin_client_su.get(reverse("admin:index")).content.decode()
    assert reverse("shipbridge_dashboard") in html


def test_store_changelist_shows_state_in_words(admin_client_su):
    StoreFactory(name="Broken shop", last_refresh_status=RefreshStatus.FAILED, last_refresh_at=timezone.now(),
                 last_refresh_error="timed out")
    html = admin_client_su.get(reverse("admin:stores_store_changelist")).content.decode()
    assert "Failing" in html and "timed out" in html



def test_resend_from_activity_requeues_a_failed_notification(admin_client_su):
    from orders.models import Shipment

    store = StoreFactory(name="Shop")
    shipment = Shipment.objects.create(order=OrderFactory(store=store, order_number="R-1"), carrier="UPS",
                                       ship_date=dt.date.today())
    failed = StoreNotification.objects.create(shipment=shipment, status="failed", attempts=5, error="HTTP 502")
    activity = reverse("admin:stores_store_activity", args=[store.pk])
    assert 'value="Resend"' in admin_client_su.get(activity).content.decode()
    response = admin_client_su.post(reverse("admin:stores_store_resend", args=[store.pk, failed.pk]), follow=True)
    assert "Resend of the notification of shipment" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "pending" and failed.error == ""

    failed.status, failed.sent_at = "sent", timezone.now()
    failed.save()
    response = admin_client_su.post(reverse("admin:stores_store_resend", args=[store.pk, failed.pk]), follow=True)
    assert "Not resent: the store was already notified" in response.content.decode()
