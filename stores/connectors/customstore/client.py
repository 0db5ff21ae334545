"""Custom Store XML client: the only code of this connector doing I/O.

One URL for everything; `action` says what is asked. The merchant's URL is kept as given,
query string included (QuickBooks Commerce puts `stock_location_id[]=ID` there); our
parameters are appended. Credentials go both as HTTP Basic auth and as `SS-UserName` /
`SS-Password` query parameters, because some hosts strip the Authorization header.

Errors are the typed ones of `base`; their messages never carry the password. A store may
quote our request back (the URL, with `SS-Password`, or the Authorization header) in an error
page: the client declares its secrets to its HTTP session once (`http.guard`), so every error
`http.send` raises is redacted and every reply carries what to redact; texts built from a reply
are built from a redacted copy of it (`http.redact_reply`), and every error this client raises
— message and `StoreRejected.body` — goes through `http.redact_error` once more.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote, unquote_plus, urlencode, urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop
from requests.auth import HTTPBasicAuth

from .. import http
from ..base import AuthError, ConnectorError, ProtocolError, StoreRejected
from .mapper import format_protocol_datetime, shipnotify_fault, sniff_reply

# Parameters we own: a copy of them in the merchant's URL is dropped, not sent twice.
RESERVED_PARAMS = frozenset({
    "action", "start_date", "end_date", "page", "ss-username", "ss-password",
    "order_number", "carrier", "service", "tracking_number",
})
XML_CONTENT_TYPE = "application/xml; charset=utf-8"


class CustomStoreClient:
    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        extra_query: str = "",
        session=None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ):
        """`extra_query` is an already-encoded query fragment appended to every request
        (the QuickBooks Commerce preset's `stock_location_id%5B%5D=ID`)."""
        self.url = url.strip()
        self.username = username
        self.password = password
        self.extra_query = extra_query
        self.session = http.guard(session or http.new_session(), secrets=self.secrets)
        self.max_bytes = max_bytes
        self.timeout = timeout
        host = urlsplit(self.url).netloc.rpartition("@")[2]
        self.what = gettext_noop("the store at {host}").format(host=host) if host else http.THE_STORE

    # -- URLs --

    def build_url(self, params: list[tuple[str, str]], *, with_credentials: bool = True) -> str:
        """Merchant URL (query kept verbatim, minus our reserved parameters) + extra + ours."""
        base = self.url.split("#", 1)[0]
        path, _, query = base.partition("?")
        kept = [
            segment for segment in query.split("&")
            if segment and unquote_plus(segment.split("=", 1)[0]).strip().lower() not in RESERVED_PARAMS
        ]
        if self.extra_query:
            kept.append(self.extra_query)
        ours = list(params)
        if with_credentials:
            ours += [("SS-UserName", self.username), ("SS-Password", self.password)]
        kept.append(urlencode(ours, quote_via=quote, safe=""))
        return path + "?" + "&".join(kept)

    def describe(self, params: list[tuple[str, str]], method: str = "GET") -> str:
        """A request line safe to store and show: no credentials."""
        return f"{method} {self.build_url(params, with_credentials=False)}"

    # -- actions --

    def export(self, start: dt.datetime, end: dt.datetime, page: int, *, retries: bool = True) -> bytes:
        """Raw bytes of one export page. Transient failures (5xx, 429, timeouts) are retried
        with back-off when `retries`; a reply that is not XML is a ProtocolError."""
        params = [
            ("action", "export"),
            ("start_date", format_protocol_datetime(start)),
            ("end_date", format_protocol_datetime(end)),
            ("page", str(int(page))),
        ]

        def fetch() -> bytes:
            try:
                reply = self._send("GET", self.build_url(params))
                http.raise_for_status(reply, what=self.what)
                content_type = reply.headers.get("Content-Type", "")
                try:
                    sniff_reply(reply.body, content_type)
                except ConnectorError:
                    # the refusal quotes the reply: say it from a copy without the password
                    sniff_reply(http.redact_reply(reply).body, content_type)
                    raise
                return reply.body
            except ConnectorError as exc:
                http.redact_error(exc, self.secrets)
                raise

        return http.with_retries(fetch) if retries else fetch()

    def shipnotify(self, params: list[tuple[str, str]], xml_body: bytes) -> http.Reply:
        """POST one shipment notice. No retry here (the notification service retries).
        Returns the reply on 2xx; 401 AuthError; other 4xx StoreRejected with the store's
        body verbatim; 5xx / timeouts TransientError."""
        url = self.build_url([("action", "shipnotify"), *params])
        try:
            reply = self._send("POST", url, data=xml_body, headers={"Content-Type": XML_CONTENT_TYPE})
            # The reply is kept (attempt log, error): never with the password in it.
            reply = http.redact_reply(reply)
            if 200 <= reply.status_code < 300:
                return reply
            if reply.status_code == 401:
                raise AuthError(http.REFUSED_CREDENTIALS.format(what=self.what))
            if 400 <= reply.status_code < 500:
                body = reply.text
                raise StoreRejected(
                    shipnotify_fault(body)
                    or _rejection_message(body, reply.status_code, reply.headers.get("Content-Type", "")),
                    status_code=reply.status_code, body=body,
                )
            raise ProtocolError(gettext_noop("{what} answered an unexpected HTTP {code} to the shipment notice").format(
                what=self.what, code=reply.status_code))
        except ConnectorError as exc:
            http.redact_error(exc, self.secrets)
            raise

    # -- plumbing --

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in an error: the password, and the Basic auth token
        that carries it."""
        if not self.password:
            return ()
        return (self.password, http.basic_auth_token(self.username, self.password))

    def _send(self, method: str, url: str, **kwargs) -> http.Reply:
        auth = HTTPBasicAuth(self.username.encode("utf-8"), self.password.encode("utf-8"))
        max_bytes = self.max_bytes or settings.SHIPBRIDGE_MAX_REPLY_BYTES
        return http.send(self.session, method, url, auth=auth, max_bytes=max_bytes, timeout=self.timeout,
                         what=self.what, **kwargs)


def _rejection_message(body: str, status: int, content_type: str) -> str:
    """The store's own words, verbatim when they are a short text; a summary otherwise."""
    text = body.strip()
    if not text:
        return gettext_noop("the store refused the shipment notice (HTTP {code}) without a message").format(
            code=status)
    looks_html = "html" in content_type.lower() or text[:15].lower().startswith(("<!doctype html", "<html"))
    if looks_html or len(text) > 2000:
        return gettext_noop("the store refused the shipment notice (HTTP {code}): {words}").format(
            code=status, words=http.short(text, 200))
    return text if "\n" not in text else " ".join(text.split())

