"""A store's secrets stay bound to where they were entered for, malformed addresses are input
errors (never a 500), and an error page never shows a secret, with DEBUG on or off."""
import base64
import io
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.views.debug import technical_500_response

from stores import services
from stores.connectors.base import ConfigurationError, clean_http_url, url_origin
from stores.connectors.registry import CONNECTOR_NAMES, get_connector_class
from stores.debug import secrets_filtered
from stores.models import Store
from stores.services import StoreInputError, store_create, store_update

pytestmark = pytest.mark.django_db

OLD = "Old-Secret-4821"
NEW = "New-Secret-7733"
CUSTOM = {"url": "http://127.0.0.1:9/feed.xml", "username": "shop", "password": OLD}
ACUMATICA = {"base_url": "http://127.0.0.1:9", "username": "admin", "password": OLD, "company": "Company",
             "branch": "HQ", "version": "2021 R2"}
QBC = {"url": "http://127.0.0.1:9/fulfillments/99999.xml", "username": "shop", "password": OLD}
MOVED = ("the store's address changed: enter its password again (stored secrets are never sent to a new "
         "address)")
LISTS = {"map_list_awaiting_payment": "unpaid", "map_list_awaiting_shipment": "paid", "map_list_shipped": "shipped",
         "map_list_cancelled": "cancelled", "map_list_on_hold": "on-hold"}


def shop(connector="custom_store", settings=None, name="Shop") -> Store:
    return store_create(connector=connector, name=name, merchant_name="Acme", settings=settings or CUSTOM)


def page(store, **overrides):
    """The store page's POST data for a custom store of `store`'s merchant (the password left blank)."""
    return {"merchant": store.merchant_id, "name": "Shop", "active": "on", "refresh_interval_minutes": "15", "timezone": "UTC",
            "notify_store": "on", "conn_url": CUSTOM["url"], "conn_username": "shop", "conn_password": "",
            **LISTS, **overrides}


def change_url(store):
    return reverse("admin:stores_store_change", args=[store.pk])


def frozen(store):
    return Store.objects.filter(pk=store.pk).values().get()


# --- a listener that records every request it gets ---------------------------------------------


class Listener:
    """An HTTP server on loopback that keeps every request it receives, raw (request line,
    headers, body), and answers with an empty Custom Store export."""

    def __init__(self):
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                listener.requests.append(f"{self.requestline}\r\n{self.headers}\r\n{body.decode('latin-1')}")
                reply = b'<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="0"></Orders>\n'
                self.send_response(200)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = _record

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def received(self, secret: str) -> bool:
        """Whether any request carried `secret`: as is, URL-encoded, or in HTTP Basic auth."""
        forms = {secret, quote(secret, safe=""), base64.b64encode(f"shop:{secret}".encode()).decode()}
        return any(form in request for request in self.requests for form in forms)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.stop()


# --- the address binds the secrets: services ------------------------------------------------------


def test_every_connector_with_secrets_says_where_they_go():
    for name in CONNECTOR_NAMES:
        cls = get_connector_class(name)
        assert set(cls.address_keys) <= cls.setting_keys(), name
        if cls.secret_keys():
            assert cls.address_keys, f"{name} keeps secrets but names no address setting"
    assert get_connector_class("acumatica").address_keys == ("base_url",)
    assert get_connector_class("custom_store").address_keys == ("url",)
    assert get_connector_class("quickbooks_commerce").address_keys == ("url",)


@pytest.mark.parametrize("a, b, same", [
    ("http://127.0.0.1:9/feed.xml", "http://127.0.0.1:9/other?x=1", True),
    ("HTTP://Shop.Example.COM./feed", "http://shop.example.com:80/feed", True),
    ("https://shop.example.com/feed", "https://shop.example.com:443/x", True),
    ("http://bücher.example/x", "http://xn--bcher-kva.example/x", True),
    ("http://shop.example.com/feed", "https://shop.example.com/feed", False),
    ("http://shop.example.com/feed", "http://shop.example.com:8080/feed", False),
    ("http://shop.example.com/feed", "http://shop.example.com.evil.test/feed", False),
    ("http://shop.example.com/feed", "http://evil.test/?shop.example.com", False),
    ("http://127.0.0.1:9/feed", "http://[::1]:9/feed", False),
])
def test_an_address_is_its_scheme_host_and_port(a, b, same):
    assert (url_origin(a) == url_origin(b)) is same


@pytest.mark.parametrize("connector, settings, key, moved", [
    ("custom_store", CUSTOM, "url", "http://127.0.0.1:8/feed.xml"),
    ("custom_store", CUSTOM, "url", "https://127.0.0.1:9/feed.xml"),
    ("custom_store", CUSTOM, "url", "http://attacker.example/feed.xml"),
    ("quickbooks_commerce", QBC, "url", "http://localhost:9/fulfillments/99999.xml"),
    ("acumatica", ACUMATICA, "base_url", "http://127.0.0.2:9"),
])
def test_moving_a_store_without_its_password_is_refused_and_changes_nothing(connector, settings, key, moved):
    store = shop(connector, settings)
    before = frozen(store)
    with pytest.raises(StoreInputError) as err:
        store_update(store=store, settings={**settings, key: moved, "password": ""})
    assert str(err.value) == MOVED and err.value.field == "settings.password"
    assert frozen(store) == before and store.get_secrets() == {"password": OLD}


@pytest.mark.parametrize("connector, settings, key, moved", [
    ("custom_store", CUSTOM, "url", "http://127.0.0.1:8/feed.xml"),
    ("acumatica", ACUMATICA, "base_url", "https://erp.example.com"),
])
def test_moving_a_store_with_a_new_password_keeps_only_the_new_one(connector, settings, key, moved):
    store = shop(connector, settings)
    store_update(store=store, settings={**settings, key: moved, "password": NEW})
    store.refresh_from_db()
    assert store.settings[key] == moved and store.get_secrets() == {"password": NEW}


def test_the_same_server_keeps_the_stored_password():
    # another path, the host written in capitals, the scheme's port spelled out: the same server
    store = shop(settings={**CUSTOM, "url": "http://shop.example.com/feed.xml"})
    store_update(store=store, settings={**CUSTOM, "url": "HTTP://Shop.Example.com:80/new.xml?x=1", "password": ""})
    store.refresh_from_db()
    assert store.get_secrets() == {"password": OLD}


def test_other_settings_changed_keep_the_stored_password():
    store = shop("acumatica", ACUMATICA)
    store_update(store=store, settings={**ACUMATICA, "company": "Other", "version": "2019 R1", "password": ""})
    store.refresh_from_db()
    assert store.settings["company"] == "Other" and store.get_secrets() == {"password": OLD}


def test_a_malformed_new_address_is_named_before_the_missing_password():
    store = shop()
    with pytest.raises(StoreInputError) as err:
        store_update(store=store, settings={**CUSTOM, "url": "http://[::1", "password": ""})
    assert err.value.field == "settings.url" and "has an invalid host" in str(err.value)


# --- set_store --------------------------------------------------------------------------------


def test_set_store_refuses_a_new_address_without_the_password_in_one_line(listener):
    store = shop()
    before = frozen(store)
    with pytest.raises(CommandError) as err:
        call_command("set_store", str(store.pk), "--set", f"url={listener.url}/feed.xml", stdout=io.StringIO())
    assert str(err.value) == MOVED
    assert frozen(store) == before
    out = io.StringIO()
    call_command("set_store", str(store.pk), "--set", f"url={listener.url}/feed.xml", "--set", f"password={NEW}",
                 stdout=out)
    store.refresh_from_db()
    assert out.getvalue().strip() == str(store.pk)
    assert store.settings["url"] == f"{listener.url}/feed.xml" and store.get_secrets() == {"password": NEW}
    call_command("test_store", str(store.pk), stdout=io.StringIO(), stderr=io.StringIO())
    assert listener.received(NEW) and not listener.received(OLD)


# --- the lured password: the admin page -------------------------------------------------------------


def test_a_lured_password_never_reaches_the_new_address(admin_client_su, listener):
    # Given a store whose password is stored
    store = shop()
    before = frozen(store)
    # When its URL is pointed at another server with the password left blank
    response = admin_client_su.post(change_url(store), page(store, conn_url=f"{listener.url}/feed.xml"))
    # Then the page refuses it on the password field, and nothing changes
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    assert ("The store's address changed: enter its password again (stored secrets are never sent to a new "
            "address).") in html
    assert html.index("enter its password again") > html.index('class="form-row field-conn_url')
    assert html.index("enter its password again") < html.index('name="conn_password"')
    assert frozen(store) == before
    # and testing the connection (the saved details) sends nothing there
    admin_client_su.post(reverse("admin:stores_store_test_connection", args=[store.pk]))
    assert listener.requests == []
    # When the URL changes with a new password
    response = admin_client_su.post(change_url(store), page(store, conn_url=f"{listener.url}/feed.xml",
                                                            conn_password=NEW))
    assert response.status_code == 302, response.content.decode()[:3000]
    store.refresh_from_db()
    assert store.get_secrets() == {"password": NEW}
    # Then the new server gets the new password, never the old one
    admin_client_su.post(reverse("admin:stores_store_test_connection", args=[store.pk]))
    store.refresh_from_db()
    assert store.last_connection_test_ok, store.last_connection_test_message
    assert listener.requests and listener.received(NEW) and not listener.received(OLD)


def test_the_password_field_says_it_is_bound_to_the_address(admin_client_su):
    store = shop()
    html = admin_client_su.get(change_url(store)).content.decode()
    assert "Leave blank to keep it — unless the Store URL changes server (scheme, host or port)" in html
    acumatica = shop("acumatica", ACUMATICA, name="ERP")
    assert "unless the Base URL changes server" in admin_client_su.get(change_url(acumatica)).content.decode()


# --- malformed addresses ---------------------------------------------------------------------------

MALFORMED = [
    ("http://[::1", "has an invalid host"),
    ("http://[::1/feed", "has an invalid host"),
    ("http://[zz]/feed", "has an invalid host"),
    ("http://exa mple.com", "must not contain spaces"),
    ("http://exa..mple.com/feed", "has an invalid host"),
    ("http://host:99999", "has an invalid port"),
    ("http://host:0/feed", "has an invalid port"),
    ("http://host:-1/feed", "has an invalid port"),
    ("http://host:/feed", "has an invalid port"),
    ("http://:80", "must be an http:// or https:// address with a host"),
    ("http:///feed", "must be an http:// or https:// address with a host"),
]


@pytest.mark.parametrize("url, words", MALFORMED + [("http://host\x07/feed", "control characters")])
def test_a_malformed_address_is_a_configuration_error(url, words):
    with pytest.raises(ConfigurationError) as err:
        clean_http_url(url, "url")
    assert words in str(err.value) and err.value.field == "url" and "\n" not in str(err.value)


@pytest.mark.parametrize("url, words", MALFORMED)
def test_a_malformed_address_on_the_store_page_is_a_form_error(admin_client_su, url, words):
    store = shop()
    before = frozen(store)
    # the change page, password left blank (the stored one would have been decrypted for it)
    response = admin_client_su.post(change_url(store), page(store, conn_url=url))
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200 and words in html
    assert html.index(words) < html.index('name="conn_url"')  # on the URL field
    assert frozen(store) == before
    # the add page
    response = admin_client_su.post(reverse("admin:stores_store_add") + "?connector=custom_store",
                                    page(store, name="New", conn_url=url, conn_password="p"))
    assert response.status_code == 200 and words in response.content.decode().replace("&#x27;", "'")
    assert Store.objects.count() == 1


@pytest.mark.parametrize("url, words", MALFORMED)
def test_a_malformed_address_is_one_line_from_the_commands(url, words):
    store = shop()
    before = frozen(store)
    with pytest.raises(CommandError, match="setting 'url'") as err:
        call_command("set_store", str(store.pk), "--set", f"url={url}", "--set", f"password={NEW}",
                     stdout=io.StringIO())
    assert words in str(err.value) and "\n" not in str(err.value)
    assert frozen(store) == before
    with pytest.raises(CommandError, match="setting 'url'") as err:
        call_command("add_store", "--connector", "custom_store", "--name", "New", "--set", f"url={url}",
                     "--set", "username=u", "--set", "password=p", stdout=io.StringIO())
    assert words in str(err.value) and Store.objects.count() == 1


def test_a_malformed_acumatica_address_is_a_form_error_too():
    store = shop("acumatica", ACUMATICA)
    with pytest.raises(StoreInputError) as err:
        store_update(store=store, settings={**ACUMATICA, "base_url": "https://[erp.example.com", "password": ""})
    assert err.value.field == "settings.base_url" and "has an invalid host" in str(err.value)


def test_set_store_from_the_shell_prints_the_malformed_address_in_one_line(tmp_path):
    # its own throw-away SQLite database (the test run's PostgreSQL holds only the test database)
    env = {**__import__("os").environ, "SHIPBRIDGE_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'shipbridge.sqlite3'}"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, capture_output=True)
    added = subprocess.run([*manage, "add_store", "--connector", "custom_store", "--name", "Shop", "--set",
                            "url=http://127.0.0.1:9/x", "--set", "username=u", "--set", f"password={OLD}"],
                           env=env, capture_output=True, text=True, check=True)
    store_id = added.stdout.strip().splitlines()[-1]
    for args, line in [
        (["--set", "url=http://[::1"], "CommandError: setting 'url' has an invalid host (got 'http://[::1')"),
        (["--set", "url=http://127.0.0.1:8/x"], f"CommandError: {MOVED}"),
    ]:
        result = subprocess.run([*manage, "set_store", store_id, *args], env=env, capture_output=True, text=True)
        assert result.returncode != 0 and result.stdout == ""
        assert result.stderr.strip().splitlines() == [line]


# --- error pages never show a secret -----------------------------------------------------------------


def _fail(*args, **kwargs):
    raise RuntimeError("an unexpected failure in store_update")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("typed", [True, False])  # a new password typed, or the stored one decrypted
def test_an_error_page_raised_inside_store_update_shows_no_secret(settings, monkeypatch, rf, debug, typed):
    settings.DEBUG = debug
    store = shop()
    monkeypatch.setattr(services, "_check_store", _fail)  # after the secrets are cleaned and merged
    request = rf.post(change_url(store), {"name": "Shop"})
    if debug:
        secrets_filtered(request)  # as the store page does: Django's filter stands down in DEBUG otherwise
    try:  # (this frame is on the page too: it holds no secret itself)
        store_update(store=store, settings={**CUSTOM, "password": NEW if typed else ""})
    except RuntimeError:
        html = technical_500_response(request, *sys.exc_info()).content.decode()
    else:
        pytest.fail("store_update did not fail")
    assert "an unexpected failure in store_update" in html and "in store_update" in html  # the frames are there
    assert OLD not in html and NEW not in html


def test_the_store_page_error_page_shows_no_secret_with_debug_on(settings, monkeypatch, superuser):
    settings.DEBUG = True
    store = shop()
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    monkeypatch.setattr(services, "_check_store", _fail)
    for password in (NEW, ""):
        response = client.post(change_url(store), page(store, conn_password=password))
        html = response.content.decode()
        assert response.status_code == 500 and "an unexpected failure in store_update" in html
        assert "conn_password" in html and "conn_username" in html  # the POST data is listed, the secret starred
        assert OLD not in html and NEW not in html
    response = client.post(reverse("admin:stores_store_add") + "?connector=custom_store",
                           page(store, name="New", conn_password=NEW))
    assert response.status_code == 500 and NEW not in response.content.decode()
