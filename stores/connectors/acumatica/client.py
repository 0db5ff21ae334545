"""Acumatica contract-based REST client: the only Acumatica code doing I/O.

One requests Session per use, cookie session (login → calls → logout). Use it as

    client = AcumaticaClient(base_url=…, username=…, password=…, company=…, branch=…,
                             endpoint_version="20.200.001")
    with client.session():
        rows = client.list_shipments(filter_text, top=100, skip=0)

`session()` always logs out (a leaked session holds one of the licence's API users for
minutes), also when an error happens in the middle. HTTP, the reply size cap and retries come
from `stores.connectors.http`; error replies become the typed errors of `base`, keeping the
store's own words — never the password nor the session cookies (a store may quote the login
request, password included, in its error reply): the client declares its secrets to its HTTP
session once (`http.new_session(secrets=...)`); every error `http.send` raises is redacted of
them and of the session cookies, and every text built here from a reply is built from a copy
without them (`http.redact_reply`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urljoin

import requests
from django.utils.translation import gettext_noop

from .. import http
from ..base import AuthError, ConfigurationError, ConnectorError, ProtocolError, StoreRejected, TransientError
from . import mapper

log = logging.getLogger("shipbridge.acumatica")

LICENCE_LIMIT_TEXT = gettext_noop("the Acumatica licence's API user limit is reached")


class OptimizerError(ProtocolError):
    """A list call with a large $expand failed with Acumatica's "optimization" error (HTTP 500):
    the caller falls back to listing keys and reading shipments one by one."""


class EntityNotFound(StoreRejected):
    """The entity asked for does not exist (any more)."""


class LicenceLimitReached(TransientError):
    """Every API user seat of the licence is taken."""


_PLAIN = "',/():"  # left as is in query values; everything else (space, '+', '&'…) is %-encoded


def _query(params: dict[str, Any]) -> str:
    """OData query string: keys keep their '$', values are percent-encoded (space → %20,
    '+' → %2B), keeping the characters OData readers expect plain."""
    return "&".join(
        f"{quote(str(key), safe='$')}={quote(str(value), safe=_PLAIN)}" for key, value in params.items()
        if value is not None
    )


class AcumaticaClient:
    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        company: str,
        branch: str,
        endpoint_version: str,
        release: str = "",
        retry: bool = True,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        poll_limit: int = 60,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.company = company
        self.branch = branch
        self.version = endpoint_version
        self.release = release
        # retry=False: one attempt per call (the caller retries later, e.g. notifications)
        self.retry = retry
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.poll_limit = poll_limit
        self.sleep = sleep
        self.what = gettext_noop("Acumatica at {address}").format(address=self.base)
        self._http: requests.Session | None = None
        self._logged_in = False

    # -- URLs --
    @property
    def entity_url(self) -> str:
        return f"{self.base}/entity/{mapper.ENDPOINT_NAME}/{self.version}/Shipment"

    def _attempts(self) -> int | None:
        return None if self.retry else 1  # None: settings.SHIPBRIDGE_RETRY_ATTEMPTS

    # -- sessions --
    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in an error: the password (the session cookies are added by
        `http.send` while the session lasts)."""
        return (self.password,) if self.password else ()

    @contextmanager
    def session(self) -> Iterator[AcumaticaClient]:
        """Log in, yield, and log out whatever happens (a failed login included)."""
        try:
            self.login()
            yield self
        finally:
            self.logout()

    def login(self) -> None:
        """POST /entity/auth/login. Licence limit and 5xx are waited out a bounded number of
        times; wrong credentials or tenant/branch raise AuthError at once."""
        if self._http is None:
            self._http = http.new_session(secrets=self.secrets)
        http.with_retries(self._login_once, attempts=self._attempts(), sleep=self.sleep)
        self._logged_in = True

    def _login_once(self) -> None:
        payload = {"name": self.username, "password": self.password, "company": self.company}
        if self.branch:
            payload["branch"] = self.branch
        url = f"{self.base}/entity/auth/login"
        try:
            reply = http.send(self._http, "POST", url, json=payload, timeout=self.timeout, what=self.what)
        except TransientError as exc:
            if exc.status_code is None:
                raise
            raise self._login_failure(exc.status_code, mapper.embedded_error_words(str(exc)) or str(exc),
                                      exc.retry_after) from None
        if reply.status_code in (200, 204):
            return
        words = mapper.error_words(http.redact_reply(reply).body)  # a login reply may quote the password
        if reply.status_code == 404:
            raise ConfigurationError(gettext_noop(
                "no Acumatica login at {url} (HTTP 404): check the base URL ({words})").format(url=url, words=words))
        raise self._login_failure(reply.status_code, words, None)

    def _login_failure(self, status: int, words: str, retry_after: float | None) -> ConnectorError:
        low = words.lower()
        if status == 429 or "api login limit" in low or "login limit" in low:
            return LicenceLimitReached(
                gettext_noop("{problem} (Acumatica said: {words}): close other API sessions or wait for idle ones "
                             "to expire (about 10 minutes)").format(problem=LICENCE_LIMIT_TEXT, words=words),
                retry_after=retry_after, status_code=status,
            )
        if "invalid credentials" in low or status in (401, 403):
            return AuthError(gettext_noop("wrong username or password: {words}").format(words=words))
        if "company id" in low or "tenant" in low or "company name" in low:
            return AuthError(gettext_noop("wrong company (tenant) or branch: {words}").format(words=words))
        if "branch" in low:
            return AuthError(gettext_noop("wrong branch: {words}").format(words=words))
        if status >= 500:
            return TransientError(gettext_noop("{what} failed the login (HTTP {code}): {words}").format(
                what=self.what, code=status, words=words), status_code=status, retry_after=retry_after)
        return StoreRejected(gettext_noop("{what} refused the login (HTTP {code}): {words}").format(
            what=self.what, code=status, words=words), status_code=status, body=words)

    def logout(self) -> None:
        """POST /entity/auth/logout once (no retries); never raises. Closes the HTTP session."""
        session, self._http = self._http, None
        if session is None:
            return
        try:
            if self._logged_in or len(session.cookies):
                reply = http.send(session, "POST", f"{self.base}/entity/auth/logout",
                                  timeout=min(self.timeout or 10.0, 10.0), what=self.what)
                if reply.status_code not in (200, 204):
                    log.warning("logout from %s answered HTTP %s", self.base, reply.status_code)
        except ConnectorError as exc:
            log.warning("logout from %s failed: %s", self.base, exc)
        finally:
            self._logged_in = False
            session.close()

    # -- one call --
    def _classify_5xx(self, exc: TransientError) -> ConnectorError:
        words = mapper.embedded_error_words(str(exc))
        low = (words or str(exc)).lower()
        if exc.status_code == 500 and "optimization" in low:
            return OptimizerError(gettext_noop("{what} could not optimise the request: {words}").format(
                what=self.what, words=words))
        if exc.status_code == 500 and ("keynotfound" in low or "given key was not present" in low):
            return ProtocolError(gettext_noop(
                "{what} does not know a field of the request on endpoint {version}: {words}").format(
                what=self.what, version=self.version, words=words or exc))
        if exc.status_code == 500 and "no entity satisfies the condition" in low:
            return EntityNotFound(f"{self.what}: {words}", status_code=404, body=words)
        if words:
            return TransientError(gettext_noop("{what} answered HTTP {code}: {words}").format(
                what=self.what, code=exc.status_code, words=words),
                retry_after=exc.retry_after, status_code=exc.status_code)
        return exc

    def _exchange(self, method: str, url: str, *, json: Any = None) -> http.Reply:
        kwargs = {"json": json} if json is not None else {}
        kwargs["headers"] = {"Accept": "application/json"}
        try:
            return http.send(self._http, method, url, timeout=self.timeout, what=self.what, **kwargs)
        except TransientError as exc:
            if exc.status_code is None:
                raise
            raise self._classify_5xx(exc) from None

    def request(self, method: str, url: str, *, json: Any = None, ok: tuple[int, ...] = (200,)) -> http.Reply:
        """One API call: retried on 5xx/timeouts (unless retry=False), one re-login on 401,
        typed errors for the rest."""
        if self._http is None:
            raise ConfigurationError(gettext_noop("the Acumatica client is used outside `with client.session()`"))

        def attempt() -> http.Reply:
            reply = self._exchange(method, url, json=json)
            if reply.status_code == 401:
                log.info("Acumatica session expired (HTTP 401); logging in again")
                self._http.cookies.clear()
                self.login()
                reply = self._exchange(method, url, json=json)
            return reply

        reply = http.with_retries(attempt, attempts=self._attempts(), sleep=self.sleep)
        if reply.status_code in ok:
            return reply
        self._raise_for(reply)
        raise ProtocolError(http.UNEXPECTED_STATUS.format(what=self.what, code=reply.status_code))

    def _raise_for(self, reply: http.Reply) -> None:
        reply = http.redact_reply(reply)  # the words and bodies below are kept and shown
        words = mapper.error_words(reply.body) if reply.body else ""
        code = reply.status_code
        if code == 404 and "no http resource was found" in words.lower():
            template = (gettext_noop(
                "the endpoint version {endpoint} is missing on this Acumatica instance: check the Acumatica release "
                "setting (ShipBridge uses {version} for release {release}) — Acumatica said: {words}")
                if self.release else gettext_noop(
                "the endpoint version {endpoint} is missing on this Acumatica instance: check the Acumatica release "
                "setting (ShipBridge uses {version} for this release) — Acumatica said: {words}"))
            raise ConfigurationError(template.format(endpoint=f"{mapper.ENDPOINT_NAME}/{self.version}",
                                                     version=self.version, release=self.release, words=words))
        if code == 404:
            raise EntityNotFound(gettext_noop("{what} has no such entity (HTTP 404): {words}").format(
                what=self.what, words=words or reply.url), status_code=404, body=reply.text)
        if code == 401:
            raise AuthError(gettext_noop("{what} ended the session and refused a new one (HTTP 401): {words}").format(
                what=self.what, words=words))
        if code == 403:
            raise StoreRejected(gettext_noop(
                "{what} denied access (HTTP 403): the user lacks rights to the Shipments screen? {words}").format(
                what=self.what, words=words), status_code=403, body=reply.text)
        if 400 <= code < 500:
            raise StoreRejected(
                (gettext_noop("Acumatica refused the request (HTTP {code}): {words}") if words else
                 gettext_noop("Acumatica refused the request (HTTP {code}): no details")).format(
                    code=code, words=words),
                status_code=code, body=reply.text)
        http.raise_for_status(reply, what=self.what)

    def _json(self, reply: http.Reply) -> Any:
        return mapper.parse_json(reply.body, what=gettext_noop("{what}'s reply").format(what=self.what))

    # -- reads --
    def check_shipments(self) -> int:
        """GET Shipment?$top=1 on this endpoint version: the connection test's read."""
        reply = self.request("GET", f"{self.entity_url}?{_query({'$top': 1})}")
        return len(mapper.shipment_list(self._json(reply)))

    def list_shipments(self, filter_text: str, *, top: int, skip: int,
                       expand: str = mapper.SHIPMENT_EXPAND) -> list[dict]:
        params = {"$filter": filter_text or None, "$expand": expand, "$top": top, "$skip": skip}
        reply = self.request("GET", f"{self.entity_url}?{_query(params)}")
        return mapper.shipment_list(self._json(reply))

    def list_shipment_numbers(self, filter_text: str, *, top: int, skip: int) -> list[str]:
        params = {"$filter": filter_text or None, "$select": "ShipmentNbr", "$top": top, "$skip": skip}
        reply = self.request("GET", f"{self.entity_url}?{_query(params)}")
        return mapper.shipment_numbers(self._json(reply))

    def get_shipment(self, shipment_nbr: str, *, expand: str = mapper.SHIPMENT_EXPAND) -> dict:
        url = f"{self.entity_url}/{quote(shipment_nbr, safe='')}?{_query({'$expand': expand})}"
        data = self._json(self.request("GET", url))
        if not isinstance(data, dict):
            raise ProtocolError(gettext_noop("{what}'s shipment {number} is not a JSON object").format(
                what=self.what, number=shipment_nbr))
        return data

    # -- writes --
    def put_tracking(self, *, shipment_id: str, shipment_nbr: str, package_id: str, tracking: str) -> http.Reply:
        """Write a tracking number on an existing package of the shipment."""
        body = mapper.tracking_payload(shipment_id=shipment_id, shipment_nbr=shipment_nbr,
                                       package_id=package_id, tracking=tracking)
        return self.request("PUT", f"{self.entity_url}?{_query({'$expand': 'Packages'})}", json=body)

    def confirm_shipment(self, shipment_nbr: str) -> http.Reply:
        """POST ConfirmShipment → 202 + Location; poll the location until 204 (bounded)."""
        reply = self.request("POST", f"{self.entity_url}/ConfirmShipment", json=mapper.confirm_payload(shipment_nbr),
                             ok=(200, 202, 204))
        if reply.status_code != 202:
            return reply
        location = reply.headers.get("Location") or reply.headers.get("location")
        if not location:
            return reply  # accepted without a way to follow it: nothing to wait for
        status_url = urljoin(self.base + "/", location)
        for attempt in range(self.poll_limit):
            if attempt:
                self.sleep(self.poll_interval)
            reply = self.request("GET", status_url, ok=(200, 202, 204))
            if reply.status_code != 202:
                return reply
        raise TransientError(gettext_noop(
            "{what} accepted the confirmation of shipment {number} but had not finished it after {checks} checks"
        ).format(what=self.what, number=shipment_nbr, checks=self.poll_limit))
