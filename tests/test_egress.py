"""The egress policy, tested as the attack: a merchant admin points a store at an internal address
(in any spelling, or through a public-looking host that redirects there, or through a name whose
DNS answer changes) and asks ShipBridge to call it — "Test connection", a refresh, a shipment
notification. The internal services are listeners on OTHER loopback addresses (127.0.0.2,
127.0.0.3…: Linux routes all of 127/8 to lo) that count the connections they accept: they must
accept none, and the store page shows one line saying why, never their reply.

The tests allow 127.0.0.1 (SHIPBRIDGE_EGRESS_ALLOW, tests/conftest.py): the sandboxes and the
redirecting "public" hosts listen there. No test sends traffic beyond loopback: every connect()
is checked (`loopback_only`), and other addresses come from a faked DNS."""
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.urls import reverse

from orders.importing import store_refresh
from orders.models import ImportRun, NotificationAttempt, NotificationStatus
from orders.notifying import notification_deliver_now
from orders.shipping import shipment_create
from stores.connectors import http
from stores.connectors.base import ConfigurationError, EgressRefused, TransientError
from stores.models import Store
from stores.services import store_create, store_test_connection, store_update
from stores.sandbox.acumatica import SANDBOX_BRANCH, SANDBOX_PASSWORD, SANDBOX_TENANT, SANDBOX_USERNAME
from tests.utils import stop_quickly

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_retries", "loopback_only"),
              pytest.mark.retries(attempts=3, notify_attempts=3)]

POLICY = "ShipBridge only calls public addresses unless SHIPBRIDGE_EGRESS_ALLOW lists it"
SECRET_PAGE = b"INTERNAL ADMIN PAGE: db-password=hunter2"  # what an internal service would answer

# 127.0.0.2 spelled every way a URL host can (127.1 would be 127.0.0.1, which the tests allow)
SPELLINGS = ["127.0.0.2", "2130706434", "0x7f000002", "0x7f.0.0.2", "0177.0.0.2", "127.2", "127.0.2",
             "[::ffff:127.0.0.2]"]


# --- listeners: internal services that count what reaches them ------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, answer):
        super().__init__(address, _Handler)
        self.answer = answer
        self.connections = 0
        self.requests: list[tuple[str, str]] = []

    def verify_request(self, request, client_address):  # once per accepted connection
        self.connections += 1
        return True

    def handle_error(self, request, client_address):
        pass  # a client hanging up is not the listener's problem


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def answer(self):
        self.server.requests.append((self.command, self.path))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = self.server.answer(self)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = answer


class Listener:
    """An HTTP server on host:port in a thread; `answer(handler)` → (status, headers, body)."""

    def __init__(self, host, port=0, answer=None):
        self.httpd = _Server((host, port), answer or (lambda h: (200, {"Content-Type": "text/html"}, SECRET_PAGE)))
        self.host, self.port = self.httpd.server_address[:2]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def connections(self):
        return self.httpd.connections

    def url(self, host=None, path="/shipstation.xml"):
        return f"http://{host or self.host}:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def listen():
    """Start listeners: ``listen("127.0.0.2")``, ``listen("127.0.0.1", answer=...)``; stopped after
    the test. Skips when the machine cannot bind that loopback address (not Linux)."""
    started = []

    def start(host, port=0, answer=None):
        try:
            listener = Listener(host, port, answer)
        except OSError as exc:
            pytest.skip(f"cannot listen on {host}:{port}: {exc}")
        started.append(listener)
        return listener

    yield start
    for listener in started:
        stop_quickly(listener)


def redirect_to(location):
    """A listener answer: 302 to `location` (a callable of the request's path, or a URL)."""
    def answer(handler):
        target = location(handler.path) if callable(location) else location
        return 302, {"Location": target, "Content-Type": "text/html"}, b"REDIRECT PAGE: moved, db-password=hunter2"
    return answer


@pytest.fixture
def loopback_only(monkeypatch):
    """Every socket connect() of the test is recorded, and one to an address beyond loopback
    fails the test instead of leaving the machine."""
    attempts = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            attempts.append(host)
            ip = ipaddress.ip_address(host.split("%", 1)[0])
            mapped = getattr(ip, "ipv4_mapped", None)
            if not (ip.is_loopback or (mapped and mapped.is_loopback)):
                raise AssertionError(f"the test tried to connect to {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def dns(monkeypatch):
    """Fake DNS for made-up names: ``dns.answers["shop.example"] = [["127.0.0.1"], ["127.0.0.2"]]``
    answers the first list at the first lookup, the next at the next (the last one stays).
    `dns.lookups` lists the names looked up. Other names and IP literals resolve for real."""
    answers, lookups = {}, []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = str(host).lower()
        if name not in answers:
            return real(host, port, family, type, proto, flags)
        lookups.append(name)
        queue = answers[name]
        ips = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, int(port), 0, 0)) if ":" in ip
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port))) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(answers=answers, lookups=lookups)


def point_at(store, url):
    """The store's URL changed through the service the store page uses, its password entered
    again (a stored secret is never sent to a new address)."""
    (key,) = store.connector_class.address_keys
    return store_update(store=store, settings={**store.settings, **store.get_secrets(), key: url})


def custom_store(url, name="Internal"):
    return store_create(connector="custom_store", name=name,
                        settings={"url": url, "username": "merchant", "password": "store-pass-123"})


def assert_refused_one_line(message, address="127.0.0.2", kind="a loopback address"):
    assert message.startswith("refused: ") and message.endswith(POLICY), message
    assert f"{address}, {kind}" in message or f"{address} is {kind}" in message, message
    assert "\n" not in message and "INTERNAL" not in message and "hunter2" not in message


# --- a store URL at an internal address, in every spelling ----------------------------------


@pytest.mark.parametrize("host", SPELLINGS)
def test_a_connection_test_to_an_internal_address_reaches_nothing(listen, host):
    internal = listen("127.0.0.2")
    # Given a store whose URL is an internal service's, spelled `host`
    store = custom_store(internal.url(host))
    # When its connection is tested
    ok, message = store_test_connection(store=store)
    # Then it failed with one line naming the policy, and the service saw no connection at all
    assert not ok
    assert_refused_one_line(message)
    assert Store.objects.get(pk=store.pk).last_connection_test_message == message
    assert internal.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.2", "2130706434", "0x7f000002", "127.2", "[::ffff:127.0.0.2]"])
def test_a_refresh_of_a_store_at_an_internal_address_reaches_nothing_and_is_not_retried(listen, caplog, host):
    internal = listen("127.0.0.2")
    store = custom_store(internal.url(host))
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "failed"
    assert_refused_one_line(run.error)
    assert internal.connections == 0
    assert not any("retrying" in r.getMessage() for r in caplog.records)  # a refusal is permanent


@pytest.mark.parametrize("host", ["127.0.0.2", "2130706434", "0x7f.0.0.2"])
def test_a_shipment_notice_to_an_internal_address_reaches_nothing_and_is_not_retried(shop, listen, host):
    sandbox, store, order = shop
    internal = listen("127.0.0.2")
    # Given a store with an imported order, whose URL is then changed to an internal service
    store = point_at(store, internal.url(host))
    # When a shipment is made and its notice delivered (3 tries allowed)
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", queue_notification=False)
    notification = notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda s: None)
    # Then it failed at once with the refusal, and the service saw nothing
    assert notification.status == NotificationStatus.FAILED
    assert_refused_one_line(notification.error)
    assert NotificationAttempt.objects.filter(notification=notification).count() == 1
    assert internal.connections == 0


def test_an_acumatica_store_at_an_internal_address_reaches_nothing(listen):
    internal = listen("127.0.0.3")
    store = store_create(connector="acumatica", name="ERP",
                         settings={"base_url": f"http://2130706435:{internal.port}", "username": SANDBOX_USERNAME,
                                   "password": SANDBOX_PASSWORD, "company": SANDBOX_TENANT, "branch": SANDBOX_BRANCH,
                                   "version": "2021 R2"})
    ok, message = store_test_connection(store=store)
    assert not ok
    assert_refused_one_line(message, address="127.0.0.3")
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "failed"
    assert_refused_one_line(run.error, address="127.0.0.3")
    assert internal.connections == 0


def test_the_admin_pages_show_the_refusal_never_the_internal_reply(listen, admin_client_su):
    internal = listen("127.0.0.2")
    store = custom_store(internal.url("0x7f000002"))
    # "Test connection" and "Refresh now" on the store page, then the Activity page
    html = admin_client_su.post(reverse("admin:stores_store_test_connection", args=[store.pk]), follow=True
                                ).content.decode()
    assert "refused: 0x7f000002 is 127.0.0.2, a loopback address" in html and "INTERNAL" not in html
    admin_client_su.post(reverse("admin:stores_store_refresh", args=[store.pk]), follow=True)
    store_refresh(store_id=store.pk, trigger="command")  # in case the page only queued it
    html = admin_client_su.get(reverse("admin:stores_store_activity", args=[store.pk])).content.decode()
    assert "refused: 0x7f000002 is 127.0.0.2" in html and "INTERNAL" not in html and "hunter2" not in html
    assert internal.connections == 0


def test_the_refusal_says_nothing_about_whether_the_port_is_open(listen):
    # An error text that differs between an open and a closed port is a port scanner
    internal = listen("127.0.0.2")
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        closed_port = probe.getsockname()[1]
    open_store = custom_store(internal.url(), name="Open port")
    closed_store = custom_store(f"http://127.0.0.2:{closed_port}/shipstation.xml", name="Closed port")
    assert store_test_connection(store=open_store)[1] == store_test_connection(store=closed_store)[1]
    assert internal.connections == 0


@pytest.mark.parametrize("url, kind", [
    ("http://169.254.169.254/latest/meta-data/", "a link-local address"),  # the cloud metadata service
    ("http://[fe80::1]/", "a link-local address"),
    ("http://0.0.0.0:8000/", "an unspecified address"),
    ("http://[::]:8000/", "an unspecified address"),
    ("http://[::1]:8000/", "a loopback address"),
    ("http://10.0.0.5/", "a private address"),
    ("http://172.16.0.1/", "a private address"),
    ("http://192.168.1.1/", "a private address"),
    ("http://[fc00::1]/", "a private address"),
    ("http://100.64.0.1/", "a non-public address"),
    ("http://224.0.0.1/", "a multicast address"),
    ("http://240.0.0.1/", "a reserved address"),
    ("http://[::ffff:10.0.0.5]/", "a private address"),
    ("http://[2002:a00:5::]/", "a private address"),  # 6to4 around 10.0.0.5
    ("http://[64:ff9b::a00:5]/", "a private address"),  # NAT64 around 10.0.0.5
    ("http://127.1:8000/", "a loopback address"),  # allowed in the other tests: not here
    ("http://2130706433:8000/", "a loopback address"),
    ("http://0x7f.1:8000/", "a loopback address"),
])
def test_non_public_addresses_are_refused_before_any_connection(settings, loopback_only, url, kind):
    settings.SHIPBRIDGE_EGRESS_ALLOW = []
    with pytest.raises(EgressRefused) as refused:
        http.send(http.new_session(), "GET", url)
    assert kind in str(refused.value) and str(refused.value).endswith(POLICY)
    assert loopback_only == []  # not one connect() was tried


def test_a_session_made_elsewhere_is_put_under_the_policy(listen):
    import requests

    internal = listen("127.0.0.2")
    with pytest.raises(EgressRefused):
        http.send(requests.Session(), "GET", internal.url())
    assert internal.connections == 0


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2002:5db8:d822::"])
def test_public_addresses_pass_the_check(address):
    # (only checked: no traffic is sent to them)
    assert http.address_refusal(ipaddress.ip_address(address)) is None


def test_without_the_allow_list_even_the_sandbox_on_127_0_0_1_is_refused(shop, settings):
    sandbox, store, order = shop
    settings.SHIPBRIDGE_EGRESS_ALLOW = []
    requests_before = len(sandbox.state.requests)
    ok, message = store_test_connection(store=store)
    assert not ok and message == f"refused: 127.0.0.1 is a loopback address; {POLICY}"
    assert len(sandbox.state.requests) == requests_before


# --- redirects ------------------------------------------------------------------------------


def test_a_redirect_to_an_internal_address_is_not_followed(shop, listen):
    sandbox, store, order = shop
    internal = listen("127.0.0.2")
    # Given a "public" host (127.0.0.1, allowed here) that answers every request with a 302 to
    # an internal service, and a store pointing at it
    public = listen("127.0.0.1", answer=redirect_to(internal.url(path="/admin")))
    store = point_at(store, public.url())
    # When the connection is tested, the store refreshed and a shipment notified
    ok, message = store_test_connection(store=store)
    run = store_refresh(store_id=store.pk, trigger="command")
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", queue_notification=False)
    notification = notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda s: None)
    # Then each says where the store redirected, and the internal service saw nothing
    expected = (f"the store at 127.0.0.1:{public.port} redirected to another host (127.0.0.2): "
                f"use that address as the store URL")
    assert not ok and message == expected
    assert run.status == "failed" and run.error == expected
    assert notification.status == NotificationStatus.FAILED and notification.error == expected
    assert internal.connections == 0
    # and no redirect page was shown anywhere
    assert not any("REDIRECT PAGE" in (e or "") for e in ImportRun.objects.values_list("error", flat=True))


@pytest.mark.parametrize("target", ["http://2130706434:{port}/", "http://[::ffff:127.0.0.2]:{port}/",
                                    "http://localhost:{port}/"])
def test_a_redirect_to_another_spelling_or_name_is_another_host(listen, target):
    internal = listen("127.0.0.2")
    public = listen("127.0.0.1", answer=redirect_to(target.format(port=internal.port)))
    ok, message = store_test_connection(store=custom_store(public.url()))
    assert not ok and "redirected to another host" in message and "REDIRECT PAGE" not in message
    assert internal.connections == 0


def test_a_redirect_on_the_same_host_is_followed_with_each_hop_checked(listen, dns):
    internal = listen("127.0.0.2")
    # Given shop.example, first answering 127.0.0.1 (a "public" host redirecting to a port of
    # its own name), then 127.0.0.2 (the DNS answer changed under the redirect)
    dns.answers["shop.example"] = [["127.0.0.1"], ["127.0.0.2"]]
    public = listen("127.0.0.1", answer=redirect_to(f"http://shop.example:{internal.port}/shipstation.xml"))
    # When the store is called
    ok, message = store_test_connection(store=custom_store(public.url("shop.example")))
    # Then the second hop was looked up and checked like the first, and refused
    assert not ok
    assert message == f"refused: shop.example resolves to 127.0.0.2, a loopback address; {POLICY}"
    assert dns.lookups == ["shop.example", "shop.example"]
    assert public.connections == 1 and internal.connections == 0


def test_a_redirect_on_the_same_host_reaches_the_store(shop, listen):
    sandbox, store, order = shop
    # Given a front door on 127.0.0.1 redirecting every request to the store, also on 127.0.0.1
    front = listen("127.0.0.1", answer=redirect_to(lambda path: f"{sandbox.url}{path}"))
    store = point_at(store, front.url(path=sandbox.state.path))
    # When the store is used, then it works through the redirect
    ok, message = store_test_connection(store=store)
    assert ok, message
    assert store_refresh(store_id=store.pk, trigger="command").status == "succeeded"
    assert len(front.httpd.requests) >= 2


def test_a_redirect_loop_ends(listen):
    loop = listen("127.0.0.1", answer=redirect_to(lambda path: path))
    ok, message = store_test_connection(store=custom_store(loop.url()))
    assert not ok and message == (f"the store at 127.0.0.1:{loop.port} redirected more than {http.MAX_REDIRECTS} times: "
                                  f"check the store URL")
    assert len(loop.httpd.requests) == http.MAX_REDIRECTS + 1


def test_a_redirected_shipment_notice_is_not_turned_into_a_get(shop, listen):
    sandbox, store, order = shop
    front = listen("127.0.0.1", answer=redirect_to(lambda path: f"{sandbox.url}{path}"))
    store = point_at(store, front.url(path=sandbox.state.path))
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", queue_notification=False)
    notification = notification_deliver_now(notification_id=shipment.notification.pk, sleep=lambda s: None)
    assert notification.status == NotificationStatus.FAILED
    assert notification.error.startswith(f"the store at 127.0.0.1:{front.port} answered the POST with a redirect "
                                         f"(HTTP 302) to {sandbox.state.path}: use the address it redirects to")
    assert not [r for r in sandbox.state.requests if r.action.lower() == "shipnotify"]


def test_a_redirect_to_another_host_never_carries_the_password(listen):
    # requests strips Authorization across hosts; the SS-Password query parameter would not be:
    # the redirect is not followed at all
    other = listen("127.0.0.1")
    front = listen("127.0.0.1", answer=redirect_to(lambda path: f"http://localhost:{other.port}{path}"))
    ok, message = store_test_connection(store=custom_store(front.url()))
    assert not ok and "redirected to another host (localhost)" in message
    assert other.connections == 0 and "store-pass-123" not in message


# --- DNS: names answering internal addresses, and answers that change -----------------------


def test_a_name_resolving_to_a_private_address_is_refused_without_traffic(dns, loopback_only):
    dns.answers["shop.example"] = [["10.0.0.5"]]
    ok, message = store_test_connection(store=custom_store("http://shop.example/shipstation.xml"))
    assert not ok and message == f"refused: shop.example resolves to 10.0.0.5, a private address; {POLICY}"
    assert loopback_only == []


def test_a_name_with_one_public_and_one_internal_address_is_refused(dns, loopback_only):
    # every address is checked, not only the first
    dns.answers["shop.example"] = [["93.184.216.34", "169.254.169.254"]]
    ok, message = store_test_connection(store=custom_store("http://shop.example/shipstation.xml"))
    assert not ok and "resolves to 169.254.169.254, a link-local address" in message
    assert loopback_only == []


def test_dns_rebinding_connects_to_the_address_that_was_checked(sandboxes, listen, dns):
    # Given a store on 127.0.0.1:P and an internal service on 127.0.0.2:P (the same port), and
    # shop.example answering 127.0.0.1 at the first lookup and 127.0.0.2 after that
    sandbox = sandboxes("custom_store", orders=1)
    internal = listen("127.0.0.2", sandbox.port)
    dns.answers["shop.example"] = [["127.0.0.1"], ["127.0.0.2"]]
    store = store_create(connector="custom_store", name="Rebinding",
                         settings={"url": f"http://shop.example:{sandbox.port}{sandbox.state.path}",
                                   "username": sandbox.state.username, "password": sandbox.state.password})
    # When the connection is tested: one lookup, checked, and the connection made to its answer
    ok, message = store_test_connection(store=store)
    assert ok, message
    assert dns.lookups == ["shop.example"] and len(sandbox.state.requests) == 1
    # (a check that resolved again to connect would have reached the internal service)
    assert internal.connections == 0
    # And the next connection, whose lookup answers 127.0.0.2, is refused before connecting
    ok, message = store_test_connection(store=store)
    assert not ok and message == f"refused: shop.example resolves to 127.0.0.2, a loopback address; {POLICY}"
    assert internal.connections == 0


def self_signed_certificate(folder, name):
    """A key and a self-signed certificate for `name` (its own trust anchor): (cert, key) paths."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_is_verified_against_the_host_name_while_connecting_to_the_checked_address(listen, dns, tmp_path):
    import ssl

    # Given an HTTPS store whose certificate names shop.example, listening on 127.0.0.1, and
    # shop.example (and another name) resolving there
    cert, key = self_signed_certificate(tmp_path, "shop.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server_names = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    store = listen("127.0.0.1")
    store.httpd.socket = context.wrap_socket(store.httpd.socket, server_side=True)
    dns.answers["shop.example"] = [["127.0.0.1"]]
    dns.answers["other.example"] = [["127.0.0.1"]]
    # When it is called by its name, then TLS checks the certificate against that name
    reply = http.send(http.new_session(), "GET", f"https://shop.example:{store.port}/", verify=str(cert))
    assert reply.status_code == 200 and server_names == ["shop.example"]
    assert dns.lookups == ["shop.example"]
    # and a name the certificate does not carry fails, though the address is the same
    with pytest.raises(TransientError, match=r"TLS certificate was not accepted \(Hostname mismatch"):
        http.send(http.new_session(), "GET", f"https://other.example:{store.port}/", verify=str(cert))


# --- SHIPBRIDGE_EGRESS_ALLOW ---------------------------------------------------------------------


def test_an_allowed_network_lets_a_private_store_through(sandboxes, listen, settings):
    # Given a self-hosted store on 127.0.0.2 and the operator allowing 127.0.0.0/30
    settings.SHIPBRIDGE_EGRESS_ALLOW = ["127.0.0.0/30"]
    sandbox = sandboxes("custom_store", orders=1, host="127.0.0.2")
    store = store_create(connector="custom_store", name="On the LAN",
                         settings={"url": f"http://2130706434:{sandbox.port}{sandbox.state.path}",
                                   "username": sandbox.state.username, "password": sandbox.state.password})
    # Then it is reached, in any spelling
    ok, message = store_test_connection(store=store)
    assert ok, message
    run = store_refresh(store_id=store.pk, trigger="command")
    assert run.status == "succeeded" and run.imported == 1, run.error
    # and an address outside the network still is not
    outside = listen("127.0.0.5")
    ok, message = store_test_connection(store=custom_store(outside.url(), name="Outside"))
    assert not ok
    assert_refused_one_line(message, address="127.0.0.5")
    assert outside.connections == 0


def test_an_allowed_host_name_lets_its_addresses_through(sandboxes, dns, settings):
    settings.SHIPBRIDGE_EGRESS_ALLOW = ["127.0.0.1", "ERP.lan"]
    sandbox = sandboxes("custom_store", orders=1, host="127.0.0.2")
    dns.answers["erp.lan"] = [["127.0.0.2"]]
    dns.answers["other.lan"] = [["127.0.0.2"]]
    settings_for = {"username": sandbox.state.username, "password": sandbox.state.password}
    allowed = store_create(connector="custom_store", name="ERP",
                           settings={"url": f"http://erp.lan:{sandbox.port}{sandbox.state.path}", **settings_for})
    assert store_test_connection(store=allowed)[0]
    other = store_create(connector="custom_store", name="Other",
                         settings={"url": f"http://other.lan:{sandbox.port}{sandbox.state.path}", **settings_for})
    ok, message = store_test_connection(store=other)
    assert not ok and message.startswith("refused: other.lan resolves to 127.0.0.2")


def test_the_allow_list_is_read_from_the_setting():
    allowed = http.parse_allow_list(("10.1.0.0/16", " erp.lan. ", "[fd00::1]", "", "10.0.0.0/33"))
    assert allowed.allows_address(ipaddress.ip_address("10.1.2.3"))
    assert allowed.allows_address(ipaddress.ip_address("::ffff:10.1.2.3"))
    assert not allowed.allows_address(ipaddress.ip_address("10.2.0.1"))
    assert allowed.allows_address(ipaddress.ip_address("fd00::1"))
    assert allowed.allows_host("ERP.lan") and not allowed.allows_host("lan")


def test_a_refusal_is_a_permanent_configuration_error():
    assert issubclass(EgressRefused, ConfigurationError)
