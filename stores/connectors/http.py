"""HTTP plumbing shared by the connector clients, and the only code that calls out: a requests
Session under the egress policy, with timeouts, a cap on reply size, typed errors, redaction of
the store's secrets, and retry of transient failures with exponential back-off and jitter
(Retry-After honoured). Only clients import this module.

Egress policy: a store's address is resolved once per connection and every address it resolves
to is checked before connecting; the connection is made to the address that was checked (TLS
still verifies the certificate against the host name). Loopback, private, link-local, reserved,
multicast and unspecified addresses — in any spelling: 2130706433, 0x7f.1, 127.1, [::1],
[::ffff:127.0.0.1], 6to4 / NAT64 forms — are refused unless SHIPBRIDGE_EGRESS_ALLOW lists the
host name or its network. Redirects are followed by `send` itself, to the same host only, each
hop through the same check; no proxy from the environment is used."""
from __future__ import annotations

import base64
import functools
import html
import ipaddress
import json
import logging
import random
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import quote, quote_plus, urljoin, urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext_noop
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

from .base import (AuthError, ConfigurationError, ConnectorError, EgressRefused, ProtocolError, StoreRejected,
                   TransientError, ip_spelling)

log = logging.getLogger("shipbridge.http")
T = TypeVar("T")

USER_AGENT = "ShipBridge/0.1 (+self-hosted order hub)"


@dataclass
class Reply:
    status_code: int
    headers: dict[str, str]
    body: bytes
    url: str
    # the secrets of the session it came from: raise_for_status / redact_reply keep them out
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


# --- secrets kept out of error texts ------------------------------------------------------

MASK = "***"
# A password query parameter (SS-Password=..., password=...), whatever the value's encoding.
_PASSWORD_PARAM_RE = re.compile(r"([\w.-]*passw(?:or)?d=)[^&\s'\"<>]*", re.IGNORECASE)
_PERCENT_RE = re.compile(r"%[0-9A-F]{2}")


def secret_forms(secret: str) -> set[str]:
    """The ways a secret can come back inside a store's reply: as typed, percent-encoded
    (%20 or +, upper or lower hex), HTML-escaped, JSON-escaped (once or twice)."""
    if not secret:
        return set()
    encoded = {quote(secret, safe=""), quote_plus(secret, safe="")}
    encoded |= {_PERCENT_RE.sub(lambda m: m.group().lower(), form) for form in encoded}
    in_json = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    in_json |= {json.dumps(form)[1:-1] for form in in_json}  # a JSON request quoted inside a JSON error
    return {secret, html.escape(secret), *in_json, *encoded}


def basic_auth_token(username: str, password: str) -> str:
    """The base64 token of an `Authorization: Basic` header (a store may echo headers back)."""
    return base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` without the secrets (in any of their forms) and without password parameters."""
    if not text:
        return text
    forms = {form for secret in secrets for form in secret_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):  # longest first: an encoded form may contain another
        text = text.replace(form, MASK)
    # then any password parameter left (a secret not known here, or cut short by a clip)
    return _PASSWORD_PARAM_RE.sub(lambda m: m.group(1) + MASK, text)


def redact_reply(reply: Reply, secrets: Iterable[str] = ()) -> Reply:
    """A copy of the reply whose body (and URL) carry no secret — those given and those of the
    session it came from: what error texts are built from."""
    secrets = (*reply.secrets, *secrets)
    text = redact(reply.text, secrets)
    body = reply.body if text == reply.text else text.encode("utf-8")
    return replace(reply, body=body, url=redact(reply.url, secrets))


def redact_error(exc: ConnectorError, secrets: Iterable[str]) -> ConnectorError:
    """Remove the secrets from an error in place: its message, its args and the store's reply
    it carries (`StoreRejected.body`). Returns the error, for `raise redact_error(exc, ...)`."""
    secrets = tuple(secrets)
    message = redact(exc.message or "", secrets)
    if message != exc.message:
        exc.message = message
        exc.args = (message,)
    body = getattr(exc, "body", None)
    if isinstance(body, str) and body:
        exc.body = redact(body, secrets)
    return exc


# Cookies that carry a session (Acumatica's .ASPXAUTH and ASP.NET_SessionId, PHPSESSID…): a
# store quoting our request headers back must not put them in an error text either.
_SESSION_COOKIE_RE = re.compile(r"auth|sess|token|sid|jwt|csrf|xsrf", re.IGNORECASE)


def session_secrets(session: requests.Session) -> tuple[str, ...]:
    """What must never appear in an error about an exchange of this session: the secrets its
    client declared (`new_session(secrets=...)`) and the values of its session cookies."""
    declared = tuple(getattr(session, "shipbridge_secrets", ()))
    cookies = tuple(
        cookie.value for cookie in getattr(session, "cookies", ())
        if cookie.value and len(cookie.value) >= 8 and _SESSION_COOKIE_RE.search(cookie.name or "")
    )
    return declared + cookies


# --- egress policy --------------------------------------------------------------------------

ALLOW_SETTING = "SHIPBRIDGE_EGRESS_ALLOW"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# (property, how the refusal names it), most specific first: a loopback address is also private.
_NOT_PUBLIC = (
    ("is_unspecified", gettext_noop("an unspecified address")),
    ("is_loopback", gettext_noop("a loopback address")),
    ("is_link_local", gettext_noop("a link-local address")),
    ("is_multicast", gettext_noop("a multicast address")),
    ("is_site_local", gettext_noop("a site-local address")),
    ("is_reserved", gettext_noop("a reserved address")),
    ("is_private", gettext_noop("a private address")),
)
# The refusals (kept as a refresh's error: English, shown translated — stores/i18n.py).
_REFUSED_ADDRESS = gettext_noop("refused: {address} is {kind}; ShipBridge only calls public addresses unless "
                                "{setting} lists it")
_REFUSED_SPELLING = gettext_noop("refused: {host} is {address}, {kind}; ShipBridge only calls public addresses "
                                 "unless {setting} lists it")
_REFUSED_NAME = gettext_noop("refused: {host} resolves to {address}, {kind}; ShipBridge only calls public "
                             "addresses unless {setting} lists it")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (IPv4-mapped, 6to4, Teredo client, NAT64), if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("a loopback address"…), or None when it is one. An
    IPv6 form carrying an IPv4 address is judged by both."""
    for candidate in (_embedded_ipv4(ip), ip):
        if candidate is None:
            continue
        for prop, kind in _NOT_PUBLIC:
            if getattr(candidate, prop, False):
                return kind
        if not candidate.is_global:
            return gettext_noop("a non-public address")
    return None


@dataclass(frozen=True)
class EgressAllowList:
    """SHIPBRIDGE_EGRESS_ALLOW, read: host names (any address they resolve to is allowed) and
    networks (an address in one is allowed, whatever name led to it)."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def allows_host(self, host: str) -> bool:
        return _host_key(host) in self.hosts

    def allows_address(self, ip: IPAddress) -> bool:
        candidates = [ip] + [a for a in (_embedded_ipv4(ip),) if a is not None]
        return any(a.version == net.version and a in net for a in candidates for net in self.networks)


def _host_key(host: str) -> str:
    return (host or "").strip().strip("[]").rstrip(".").lower()


@functools.lru_cache(maxsize=16)
def parse_allow_list(entries: tuple[str, ...]) -> EgressAllowList:
    hosts, networks = set(), []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            if "/" in entry or not _host_key(entry):
                log.warning("%s: %r is neither a host name, an IP address nor a network; ignored",
                            ALLOW_SETTING, entry)
                continue
            hosts.add(_host_key(entry))
    return EgressAllowList(frozenset(hosts), tuple(networks))


def allow_list() -> EgressAllowList:
    value = getattr(settings, ALLOW_SETTING, ()) or ()
    if isinstance(value, str):
        value = value.split(",")
    return parse_allow_list(tuple(value))



def _refusal(host: str, ip: IPAddress, kind: str) -> EgressRefused:
    shown = short(host, 80)
    address = f"::ffff:{ip.ipv4_mapped}" if ip.version == 6 and ip.ipv4_mapped else str(ip)
    if shown.lower() == address:
        template = _REFUSED_ADDRESS
    elif ip_spelling(host):
        template = _REFUSED_SPELLING
    else:
        template = _REFUSED_NAME
    return EgressRefused(template.format(host=shown, address=address, kind=kind, setting=ALLOW_SETTING))


def egress_addresses(host: str, port: int, *, family: int = socket.AF_UNSPEC) -> list[tuple]:
    """Resolve `host` (once) and check every address it resolves to against the egress policy;
    return the getaddrinfo entries to connect to, in order. One address refused refuses them
    all (a name answering a public and a private address is refused). Raises EgressRefused, or
    socket.gaierror when the name does not resolve."""
    name = host.strip("[]")
    entries = socket.getaddrinfo(name, port, family, socket.SOCK_STREAM)
    allowed = allow_list()
    if allowed.allows_host(name):
        return entries
    for entry in entries:
        ip = ipaddress.ip_address(str(entry[4][0]).split("%", 1)[0])
        kind = address_refusal(ip)
        if kind and not allowed.allows_address(ip):
            raise _refusal(name, ip, kind)
    return entries


def _checked_socket(conn: HTTPConnection) -> socket.socket:
    """Connect to an address of `conn`'s host that the egress policy accepts: resolved once,
    every address checked, then the connection made to those addresses, not to a new lookup."""
    try:
        entries = egress_addresses(conn._dns_host, conn.port, family=allowed_gai_family())
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    error: OSError | None = None
    for family, socktype, proto, _canonname, sockaddr in entries:
        sock = None
        try:
            sock = socket.socket(family, socktype, proto)
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if conn.timeout is None or isinstance(conn.timeout, (int, float)):
                sock.settimeout(conn.timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    if isinstance(error, TimeoutError):
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})")
    raise NewConnectionError(conn, f"Failed to establish a new connection: {error or 'no address'}")


class _CheckedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _checked_socket(self)


class _CheckedHTTPSConnection(HTTPSConnection):
    # TLS is wrapped around this socket by connect(), with SNI and certificate checks against
    # the host name of the URL (self.host), not the address connected to.
    def _new_conn(self) -> socket.socket:
        return _checked_socket(self)


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class EgressAdapter(HTTPAdapter):
    """A requests transport whose every connection goes through the egress policy, direct (an
    HTTP(S)_PROXY from the environment would resolve and call on our behalf: not used)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPConnectionPool,
                                                   "https": _CheckedHTTPSConnectionPool}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)


# --- requests ------------------------------------------------------------------------------

MAX_REDIRECTS = 5
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


def guard(session: requests.Session, *, secrets: Iterable[str] = ()) -> requests.Session:
    """Put `session` under the egress policy and declare its client's secrets (passwords, auth
    tokens): every error `send` raises and every reply it returns then keeps them out."""
    if not all(isinstance(session.adapters.get(prefix), EgressAdapter) for prefix in ("http://", "https://")):
        adapter = EgressAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    declared = (*getattr(session, "shipbridge_secrets", ()), *(s for s in secrets if s))
    session.shipbridge_secrets = tuple(dict.fromkeys(declared))
    return session


def new_session(*, secrets: Iterable[str] = ()) -> requests.Session:
    """A session for one client, under the egress policy, with its secrets declared once."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return guard(session, secrets=secrets)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


# How an error names what it called, by default (clients name their store more precisely).
THE_STORE = gettext_noop("the store")


def short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    what: str = THE_STORE,
    secrets: Iterable[str] = (),
    **kwargs,
) -> Reply:
    """One HTTP exchange, under the egress policy (a refused address raises EgressRefused before
    any connection). Network failures and 5xx/429 raise TransientError; the caller decides what
    other status codes mean. Redirects to the same host are followed (at most MAX_REDIRECTS,
    each hop checked like the first); a redirect to another host, from https to http, or of a
    POST that would turn it into a GET is refused with a ConfigurationError, its target never
    called. The body is read up to `max_bytes`. The secrets — `secrets`, those the session
    declared, its session cookies — are kept out of every error raised here (messages and
    `StoreRejected.body`), and travel with the reply for `raise_for_status` / `redact_reply`."""
    try:
        return _send(session, method, url, max_bytes=max_bytes or settings.SHIPBRIDGE_MAX_REPLY_BYTES,
                     timeout=timeout or settings.SHIPBRIDGE_HTTP_TIMEOUT, what=what,
                     secrets=(*session_secrets(session), *secrets), **kwargs)
    except ConnectorError as exc:
        redact_error(exc, (*session_secrets(session), *secrets))  # cookies set during the exchange too
        raise


def _send(session, method, url, *, max_bytes: int, timeout: float, what: str, secrets: tuple[str, ...],
          **kwargs) -> Reply:
    for _hop in range(MAX_REDIRECTS + 1):
        response = _open(session, method, url, timeout=timeout, what=what, secrets=secrets, **kwargs)
        if response.status_code not in REDIRECT_CODES:
            break
        location, code = response.headers.get("Location", ""), response.status_code
        response.close()  # the body of a redirect is never read, nor shown
        url = _redirect_target(url, location, method=method, code=code, what=what)
    else:
        raise ProtocolError(gettext_noop("{what} redirected more than {count} times: check the store URL").format(
            what=what, count=MAX_REDIRECTS))
    too_large = gettext_noop("{what} sent a reply larger than the {limit} limit")
    try:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise ProtocolError(too_large.format(what=what, limit=f"{max_bytes // (1024 * 1024)} MB"))
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ProtocolError(too_large.format(what=what, limit=_mb(max_bytes)))
                chunks.append(chunk)
        except requests.Timeout:
            raise TransientError(gettext_noop("{what} stopped sending its reply (timeout after {seconds} s)").format(
                what=what, seconds=f"{timeout:g}")) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise TransientError(gettext_noop("{what} broke the connection mid-reply: {reason}").format(
                what=what, reason=_reason(exc, secrets))) from None
    finally:
        response.close()
    reply = Reply(response.status_code, dict(response.headers), b"".join(chunks), response.url,
                  secrets=tuple(dict.fromkeys(secrets)))
    if reply.status_code == 429 or reply.status_code >= 500:
        raise TransientError(
            (gettext_noop("{what} answered HTTP {code}: {words}") if reply.body else
             gettext_noop("{what} answered HTTP {code}")).format(
                what=what, code=reply.status_code, words=short(redact(reply.text, secrets), 200)),
            retry_after=_retry_after(reply.headers.get("Retry-After")),
            status_code=reply.status_code,
        )
    return reply


def _open(session, method, url, *, timeout: float, what: str, secrets: tuple[str, ...], **kwargs):
    """One request, redirects not followed, through the egress adapter."""
    try:
        if not isinstance(session.get_adapter(url), EgressAdapter):
            guard(session)  # a session made elsewhere: under the policy all the same
            if not isinstance(session.get_adapter(url), EgressAdapter):
                raise ConfigurationError(gettext_noop(
                    "the session calling {what} has a transport of its own for this address: ShipBridge calls "
                    "stores only under its egress policy").format(what=what))
        return session.request(method, url, timeout=(min(timeout, 10.0), timeout), stream=True,
                               allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise TransientError(gettext_noop("{what} did not answer within {seconds} s").format(
            what=what, seconds=f"{timeout:g}")) from None
    except requests.ConnectionError as exc:
        raise TransientError(gettext_noop("cannot reach {what}: {reason}").format(
            what=what, reason=_reason(exc, secrets))) from None
    except requests.RequestException as exc:
        raise ProtocolError(gettext_noop("invalid request to {what}: {words}").format(
            what=what, words=short(redact(str(exc), secrets)))) from None


def _redirect_target(current: str, location: str, *, method: str, code: int, what: str) -> str:
    """Where a redirect leads, if ShipBridge follows it: the same host (credentials stay with
    the store they were given for), never from https to http, never a POST turned into a GET."""
    if not location.strip():
        raise ProtocolError(gettext_noop("{what} answered HTTP {code} (a redirect) without saying where to").format(
            what=what, code=code))
    target = urljoin(current, location.strip())
    old, new = urlsplit(current), urlsplit(target)
    try:
        new_host = new.hostname or ""
    except ValueError:
        new_host = ""
    if new.scheme.lower() not in ("http", "https") or not new_host:
        raise ProtocolError(gettext_noop(
            "{what} redirected (HTTP {code}) to an address that is not http(s): check the store URL").format(
            what=what, code=code))
    if _host_key(new_host) != _host_key(old.hostname or ""):
        raise ConfigurationError(gettext_noop(
            "{what} redirected to another host ({host}): use that address as the store URL").format(
            what=what, host=short(new_host, 80)))
    if old.scheme.lower() == "https" and new.scheme.lower() == "http":
        raise ConfigurationError(gettext_noop(
            "{what} redirected from https to http: ShipBridge does not follow a redirect to an unencrypted "
            "address; check the store URL").format(what=what))
    if code in (301, 302, 303) and method.upper() not in ("GET", "HEAD"):
        raise ConfigurationError(gettext_noop(
            "{what} answered the {method} with a redirect (HTTP {code}) to {path}: use the address it redirects "
            "to as the store URL").format(what=what, method=method.upper(), code=code, path=short(new.path or "/", 80)))
    return target


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


# What the network said, in a few words (kept inside an error: English, shown translated).
_REASONS = (
    ("Connection refused", gettext_noop("connection refused")),
    ("Name or service not known", gettext_noop("name or service not known")),
    ("timed out", gettext_noop("timed out")),
    ("No route to host", gettext_noop("no route to host")),
    ("Connection reset", gettext_noop("connection reset")),
    ("Remote end closed", gettext_noop("remote end closed")),
)


def _reason(exc: Exception, secrets: Iterable[str] = ()) -> str:
    text = redact(str(exc), secrets)
    for marker, words in _REASONS:
        if marker in text:
            return words
    refused_certificate = re.search(r"certificate verify failed: ([^\"'()]+)", text)
    if refused_certificate:
        return gettext_noop("its TLS certificate was not accepted ({detail})").format(
            detail=refused_certificate.group(1).strip().rstrip("."))
    return short(text, 160)


REFUSED_CREDENTIALS = gettext_noop("{what} refused the credentials (HTTP 401): check username and password")
UNEXPECTED_STATUS = gettext_noop("{what} answered an unexpected HTTP {code}")


def raise_for_status(reply: Reply, *, what: str = THE_STORE, secrets: Iterable[str] = ()) -> None:
    """Typed errors for the 4xx a store can answer; 5xx/429 were raised by send(). The
    messages and `StoreRejected.body` are built from the reply without `secrets` nor the
    secrets of the session it came from."""
    if 200 <= reply.status_code < 300:
        return
    reply = redact_reply(reply, secrets)
    if reply.status_code == 401:
        raise AuthError(REFUSED_CREDENTIALS.format(what=what))
    if reply.status_code == 403:
        raise StoreRejected(
            gettext_noop("{what} refused access (HTTP 403): often a firewall or host block").format(what=what),
            status_code=403, body=reply.text,
        )
    if reply.status_code == 404:
        raise StoreRejected(gettext_noop("{what} has no such page (HTTP 404): check the URL").format(what=what),
                            status_code=404, body=reply.text)
    if 400 <= reply.status_code < 500:
        raise StoreRejected(short(reply.text) or f"HTTP {reply.status_code}", status_code=reply.status_code,
                            body=reply.text)
    if not 200 <= reply.status_code < 300:
        raise ProtocolError(UNEXPECTED_STATUS.format(what=what, code=reply.status_code))


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int | None = None,
    base: float | None = None,
    cap: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[TransientError, float], None] | None = None,
) -> T:
    """Call `call`; on TransientError wait (Retry-After, or exponential back-off with full
    jitter) and try again, `attempts` times in all. The last error propagates."""
    attempts = attempts or settings.SHIPBRIDGE_RETRY_ATTEMPTS
    base = settings.SHIPBRIDGE_RETRY_BASE_SECONDS if base is None else base
    cap = settings.SHIPBRIDGE_RETRY_MAX_SECONDS if cap is None else cap
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except TransientError as exc:
            if attempt == attempts:
                raise
            delay = backoff_delay(attempt, base=base, cap=cap, retry_after=exc.retry_after)
            log.warning("transient error (attempt %d/%d), retrying in %.2fs: %s", attempt, attempts, delay, exc)
            if on_retry:
                on_retry(exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(retry_after, cap)
    return min(cap, base * (2 ** (attempt - 1))) * (0.5 + random.random() / 2)
