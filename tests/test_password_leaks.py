"""The store's password never reaches ShipBridge's records or logs, even when the store quotes
our request back (URL with SS-Password, decoded query, Authorization header) in its replies.

Against the sandbox Custom Store's "echo" fault, through the real import, connection test and
notification services; plus unit tests of the redaction helpers (stores/connectors/http.py)."""
import base64
import html
import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from orders.importing import store_refresh
from orders.models import ImportRun, NotificationAttempt, NotificationStatus, StoreNotification
from orders.shipping import shipment_create
from stores.connectors import http
from stores.connectors.base import ProtocolError, StoreRejected, TransientError
from stores.models import Store
from stores.services import store_test_connection

# Characters that URL-, HTML- and JSON-encode differently from the password as typed.
PASSWORD = "p@ss wörd&=+<1>"
USERNAME = "sandbox"

# The shop: a sandbox Custom Store with that password, one order imported.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries"),
              pytest.mark.retries(attempts=2, notify_attempts=2), pytest.mark.shop("custom_store", password=PASSWORD)]


def leaked_forms(password=PASSWORD):
    return {
        password,
        quote(password, safe=""),
        quote_plus(password, safe=""),
        base64.b64encode(f"{USERNAME}:{password}".encode()).decode(),
    }


def assert_no_password(*texts):
    for text in texts:
        for form in leaked_forms():
            assert form not in (text or ""), (form, text)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # everything a DEBUG root logger would let through
    return caplog


def test_the_sandbox_echo_fault_really_quotes_the_password(shop):
    # Given the echo fault, when the store is asked directly, then its reply carries the password
    # in every form a store could quote it (so the tests below test something)
    sandbox, store, order = shop
    import requests

    sandbox.state.echo_request(1, status=400)
    reply = requests.get(sandbox.endpoint, params={"action": "export", "start_date": "01/01/2024 00:00",
                                                   "end_date": "01/02/2024 00:00", "SS-UserName": USERNAME,
                                                   "SS-Password": PASSWORD}, auth=(USERNAME.encode(), PASSWORD.encode()), timeout=5)
    assert reply.status_code == 400
    assert PASSWORD in reply.text and quote_plus(PASSWORD, safe="") in reply.text
    assert base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode() in reply.text


def test_an_import_refused_with_the_url_quoted_back_records_no_password(shop, logs):
    sandbox, store, order = shop
    # Given a store that first fails (503) then refuses (400), each time quoting the request back
    sandbox.state.echo_request(1, status=503, action="export")
    sandbox.state.echo_request(1, status=400, action="export")
    # When an import runs
    run = store_refresh(store_id=store.pk, trigger="command")
    # Then it failed with the store's words, and the password is nowhere
    assert run.status == "failed"
    assert run.error.startswith("Bad request: GET /shipstation.xml?action=export"), run.error
    assert "SS-Password=***" in run.error
    store.refresh_from_db()
    assert_no_password(run.error, store.last_refresh_error, *ImportRun.objects.values_list("error", flat=True))
    assert any("retrying" in r.getMessage() for r in logs.records)  # the 503 was logged, then retried
    assert_no_password(*(r.getMessage() for r in logs.records), logs.text)


def test_a_connection_test_refused_with_the_url_quoted_back_records_no_password(shop, logs):
    sandbox, store, order = shop
    sandbox.state.echo_request(1, status=400, action="export")
    ok, message = store_test_connection(store=store)
    assert not ok and message.startswith("Bad request: GET /shipstation.xml")
    store.refresh_from_db()
    assert_no_password(message, store.last_connection_test_message, logs.text)


@pytest.mark.parametrize("status, outcome", [(400, NotificationStatus.FAILED), (503, NotificationStatus.FAILED),
                                             (200, NotificationStatus.SENT)])
def test_a_shipment_notice_answered_with_the_url_quoted_back_records_no_password(shop, logs, status, outcome):
    sandbox, store, order = shop
    # Given a store quoting the shipment notice's request back (refusal, server error or success)
    sandbox.state.echo_request(None, status=status, action="shipnotify")
    # When the shipment is made and its notification delivered (retries included)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", queue_notification=False)
    from orders.notifying import notification_deliver_now

    notification = notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda s: None)
    # Then the store's answer is recorded, without the password
    assert notification.status == outcome
    attempts = list(NotificationAttempt.objects.filter(notification=notification))
    assert attempts and all("Bad request: POST /shipstation.xml" in a.message for a in attempts)
    if status == 400:
        assert notification.error.startswith("Bad request: POST /shipstation.xml?action=shipnotify")
    texts = [notification.error, notification.warning, notification.advice]
    for attempt in attempts:
        texts += [attempt.message, attempt.request_summary]
    assert_no_password(*texts, logs.text, *(r.getMessage() for r in logs.records))
    assert_no_password(*StoreNotification.objects.values_list("error", flat=True))


def test_urllib3_request_lines_never_reach_the_logs(settings):
    # urllib3 logs "GET /path?query" at DEBUG: the logging configuration keeps it quiet
    assert settings.LOGGING["loggers"]["urllib3"]["level"] in ("INFO", "WARNING")
    assert not logging.getLogger("urllib3").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("urllib3.connectionpool").isEnabledFor(logging.DEBUG)


# --- the helpers (error shapes) -------------------------------------------------------------


def test_redact_error_cleans_the_message_the_args_and_the_body():
    body = f"<p>GET /x?SS-UserName=u&SS-Password={quote(PASSWORD, safe='')}</p> you sent {PASSWORD!r}"
    err = StoreRejected(f"refused: {http.short(body, 60)}", status_code=400, body=body)
    assert http.redact_error(err, [PASSWORD]) is err
    assert PASSWORD not in err.body and quote(PASSWORD, safe="") not in err.body
    assert "SS-Password=***" in err.body and "you sent '***'" in err.body
    assert "SS-Password=***" in str(err) and err.args == (err.message,)


@pytest.mark.parametrize("form", sorted(http.secret_forms(PASSWORD)))
def test_every_encoding_of_the_password_is_redacted(form):
    assert http.redact(f"before {form} after", [PASSWORD]) == "before *** after"


def test_a_password_parameter_is_masked_even_when_cut_short_or_unknown():
    assert http.redact("…&SS-Password=p%40ss%20w", []) == "…&SS-Password=***"
    assert http.redact("url?password=hunter2&x=1", ["other"]) == "url?password=***&x=1"


def test_an_error_quoting_a_clipped_reply_leaks_no_prefix_of_the_password():
    # Given a reply whose refusal message is the reply clipped to 300 characters, clipped in the
    # middle of the password: the text is redacted before it is clipped
    reply = http.Reply(400, {}, ("x" * 290 + PASSWORD).encode(), "http://h/x")
    with pytest.raises(StoreRejected) as exc:
        http.raise_for_status(reply, secrets=[PASSWORD])
    assert PASSWORD[:6] not in str(exc.value) and PASSWORD not in exc.value.body


def test_transient_and_protocol_errors_are_redacted_too():
    for err in (TransientError(f"HTTP 503: {PASSWORD}"), ProtocolError(f"text, not XML ({PASSWORD!r})")):
        http.redact_error(err, [PASSWORD])
        assert PASSWORD not in str(err)


def test_store_fields_are_clean_after_everything(shop):
    sandbox, store, order = shop
    sandbox.state.echo_request(None, status=400, action="any")
    store_refresh(store_id=store.pk, trigger="command")
    store_test_connection(store=store)
    row = Store.objects.filter(pk=store.pk).values("last_refresh_error", "last_connection_test_message").get()
    assert row["last_refresh_error"] and row["last_connection_test_message"]
    assert_no_password(*row.values())


# --- Acumatica: replies quoting the login request (password in its JSON body) or our headers --
# The same attack on the other connector: the sandbox Acumatica's "echo" fault answers with an
# Acumatica error quoting the request line, the Cookie header and the body back.

ACUMATICA_MAPPING = {"Open": "awaiting_shipment", "Completed": "shipped", "Confirmed": "shipped"}
LOGIN = {"name": "admin", "password": PASSWORD, "company": "Company", "branch": "HEADOFFICE"}


def acumatica_leaked_forms(password=PASSWORD):
    """The password as a JSON request body carries it (requests escapes non-ASCII), and that
    body quoted inside a JSON error; plus the forms a Custom Store would quote."""
    as_json = json.dumps(password)[1:-1]
    return {password, quote(password, safe=""), quote_plus(password, safe=""), as_json, json.dumps(as_json)[1:-1]}


def assert_no_acumatica_secret(*texts, cookies=()):
    for text in texts:
        for form in (*acumatica_leaked_forms(), *cookies):
            assert form not in (text or ""), (form, text)


@pytest.fixture
def erp(sandboxes):
    """A sandbox Acumatica whose password is PASSWORD, a store pointing at it and one open
    shipment imported: (sandbox, store, order)."""
    from orders.models import Order
    from stores.services import store_create
    from tests.utils import acumatica_settings

    sandbox = sandboxes("acumatica", shipments=0)
    sandbox.state.password = PASSWORD
    nbr = sandbox.state.add_shipment()
    store = store_create(connector="acumatica", name="ERP", status_mapping=ACUMATICA_MAPPING,
                         settings=acumatica_settings(sandbox, password=PASSWORD))
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded" and run.imported == 1, run.error
    return sandbox, store, Order.objects.get(store=store, external_id=nbr)


@pytest.fixture
def issued_tokens(erp):
    """The .ASPXAUTH session tokens the sandbox hands out from now on (to look for them later)."""
    sandbox = erp[0]
    tokens, real_open = [], sandbox.state._open_session

    def remember():
        token = real_open()
        tokens.append(token)
        return token

    sandbox.state._open_session = remember
    return tokens


def test_the_acumatica_echo_fault_really_quotes_the_password_and_the_session(erp):
    # Given the echo fault, when the sandbox is called directly, then its replies carry the
    # password (login) and the session cookie (a later call), so the tests below test something
    import requests

    sandbox, store, order = erp
    session = requests.Session()
    assert session.post(f"{sandbox.url}/entity/auth/login", json=LOGIN, timeout=5).status_code == 204
    token = session.cookies[".ASPXAUTH"]
    sandbox.state.echo_request(1, status=500)
    reply = session.post(f"{sandbox.url}/entity/auth/login", json=LOGIN, timeout=5)
    assert reply.status_code == 500 and json.dumps(PASSWORD)[1:-1] in reply.json()["exceptionMessage"]
    sandbox.state.echo_request(1, status=400, path_contains="/Shipment")
    reply = session.get(f"{sandbox.url}/entity/Default/20.200.001/Shipment", timeout=5)
    assert reply.status_code == 400 and f".ASPXAUTH={token}" in reply.json()["exceptionMessage"]
    session.post(f"{sandbox.url}/entity/auth/logout", timeout=5)


@pytest.mark.parametrize("status", [401, 400, 500])
def test_an_acumatica_import_whose_login_reply_quotes_the_password_records_none(erp, logs, status):
    sandbox, store, order = erp
    # Given an Acumatica answering the login with an error quoting the request, password in its
    # JSON body (twice: a 500 is retried once)
    sandbox.state.echo_request(2, status=status)
    # When an import runs
    run = store_refresh(store_id=store.pk, trigger="command")
    # Then it failed with Acumatica's words, and the password is nowhere
    assert run.status == "failed" and "Bad request: POST /entity/auth/login" in run.error, run.error
    assert '"password": "***"' in run.error, run.error
    store.refresh_from_db()
    assert_no_acumatica_secret(run.error, store.last_refresh_error, *ImportRun.objects.values_list("error", flat=True),
                               logs.text, *(r.getMessage() for r in logs.records))
    assert sandbox.state.open_sessions == 0


def test_an_acumatica_connection_test_whose_login_reply_quotes_the_password_records_none(erp, logs):
    sandbox, store, order = erp
    sandbox.state.echo_request(1, status=401)
    ok, message = store_test_connection(store=store)
    assert not ok and message.startswith("wrong username or password: Bad request: POST /entity/auth/login"), message
    store.refresh_from_db()
    assert_no_acumatica_secret(message, store.last_connection_test_message, logs.text)


@pytest.mark.parametrize("path, status", [("/entity/auth/login", 500), ("/entity/auth/login", 400),
                                          ("/Shipment", 400), ("/Shipment", 500)])
def test_an_acumatica_shipment_notice_quoted_back_records_neither_password_nor_session(
        erp, issued_tokens, logs, path, status):
    sandbox, store, order = erp
    # Given an Acumatica quoting our requests back: the login (password in the body) or the
    # shipment read (session cookies in the headers)
    sandbox.state.echo_request(10, status=status, path_contains=path)
    # When the shipment is made and its notification delivered (retries included)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", queue_notification=False)
    from orders.notifying import notification_deliver_now

    notification = notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda s: None)
    # Then it failed with Acumatica's words, recorded without the password or the session
    assert notification.status == NotificationStatus.FAILED
    attempts = list(NotificationAttempt.objects.filter(notification=notification))
    assert attempts and all("Bad request: " in a.message for a in attempts), [a.message for a in attempts]
    if path == "/Shipment":
        assert issued_tokens and all(".ASPXAUTH=***" in a.message for a in attempts), [a.message for a in attempts]
    texts = [notification.error, notification.warning, notification.advice]
    for attempt in attempts:
        texts += [attempt.message, attempt.request_summary]
    assert_no_acumatica_secret(*texts, logs.text, *(r.getMessage() for r in logs.records),
                               *StoreNotification.objects.values_list("error", flat=True), cookies=issued_tokens)
    assert sandbox.state.open_sessions == 0


def test_the_admin_pages_show_no_acumatica_password(erp, admin_client_su):
    from django.urls import reverse

    from orders.notifying import notification_deliver_now

    sandbox, store, order = erp
    # Given a failed import, a failed connection test and a failed notification, each with
    # Acumatica's reply quoting the password
    sandbox.state.echo_request(50, status=401)
    store_refresh(store_id=store.pk, trigger="command")
    store_test_connection(store=store)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", queue_notification=False)
    notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda s: None)
    # Then the store page, its activity log, the dashboard, the store list and the order page
    # show what happened, without the password in any form (HTML-escaped included)
    pages = [reverse("admin:stores_store_change", args=[store.pk]), reverse("admin:stores_store_activity", args=[store.pk]),
             reverse("shipbridge_dashboard"), reverse("admin:stores_store_changelist"),
             reverse("admin:orders_order_change", args=[order.pk])]
    for url in pages:
        page = admin_client_su.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        assert_no_acumatica_secret(text, html.unescape(text))
    activity = admin_client_su.get(pages[1]).content.decode()
    assert "wrong username or password" in activity and "Bad request: POST /entity/auth/login" in activity
