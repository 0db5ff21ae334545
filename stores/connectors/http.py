"""HTTP plumbing shared by the connector clients: a requests Session with timeouts, a cap on
reply size, typed errors, and retry of transient failures with exponential back-off and jitter
(Retry-After honoured). Only clients import this module."""
from __future__ import annotations

import base64
import html
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import quote, quote_plus

import requests
from django.conf import settings

from .base import AuthError, ConnectorError, ProtocolError, StoreRejected, TransientError

log = logging.getLogger("shipbridge.http")
T = TypeVar("T")

USER_AGENT = "ShipBridge/0.1 (+self-hosted order hub)"


@dataclass
class Reply:
    status_code: int
    headers: dict[str, str]
    body: bytes
    url: str

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
    (%20 or +, upper or lower hex), HTML-escaped and JSON-escaped."""
    if not secret:
        return set()
    encoded = {quote(secret, safe=""), quote_plus(secret, safe="")}
    encoded |= {_PERCENT_RE.sub(lambda m: m.group().lower(), form) for form in encoded}
    return {secret, html.escape(secret), json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
            *encoded}


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


def redact_reply(reply: Reply, secrets: Iterable[str]) -> Reply:
    """A copy of the reply whose body (and URL) carry no secret: what error texts are built from."""
    secrets = tuple(secrets)
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


# --- requests ------------------------------------------------------------------------------


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


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
    what: str = "the store",
    secrets: Iterable[str] = (),
    **kwargs,
) -> Reply:
    """One HTTP exchange. Network failures and 5xx/429 raise TransientError; the caller
    decides what other status codes mean. The body is read up to `max_bytes`. `secrets`
    (passwords) are kept out of the error texts, which may quote the URL or the reply."""
    secrets = tuple(secrets)
    max_bytes = max_bytes or settings.SHIPBRIDGE_MAX_REPLY_BYTES
    timeout = timeout or settings.SHIPBRIDGE_HTTP_TIMEOUT
    try:
        response = session.request(method, url, timeout=(min(timeout, 10.0), timeout), stream=True, **kwargs)
    except requests.Timeout:
        raise TransientError(f"{what} did not answer within {timeout:g} s") from None
    except requests.ConnectionError as exc:
        raise TransientError(f"cannot reach {what}: {_reason(exc, secrets)}") from None
    except requests.RequestException as exc:
        raise ProtocolError(f"invalid request to {what}: {short(redact(str(exc), secrets))}") from None
    try:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise ProtocolError(f"{what} sent a reply larger than the {max_bytes // (1024 * 1024)} MB limit")
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ProtocolError(
                        f"{what} sent a reply larger than the {_mb(max_bytes)} limit"
                    )
                chunks.append(chunk)
        except requests.Timeout:
            raise TransientError(f"{what} stopped sending its reply (timeout after {timeout:g} s)") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise TransientError(f"{what} broke the connection mid-reply: {_reason(exc, secrets)}") from None
    finally:
        response.close()
    reply = Reply(response.status_code, dict(response.headers), b"".join(chunks), response.url)
    if reply.status_code == 429 or reply.status_code >= 500:
        raise TransientError(
            f"{what} answered HTTP {reply.status_code}"
            + (f": {short(redact(reply.text, secrets), 200)}" if reply.body else ""),
            retry_after=_retry_after(reply.headers.get("Retry-After")),
            status_code=reply.status_code,
        )
    return reply


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _reason(exc: Exception, secrets: Iterable[str] = ()) -> str:
    text = redact(str(exc), secrets)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host",
                   "Connection reset", "Remote end closed"):
        if marker in text:
            return marker.lower()
    return short(text, 160)


def raise_for_status(reply: Reply, *, what: str = "the store", secrets: Iterable[str] = ()) -> None:
    """Typed errors for the 4xx a store can answer; 5xx/429 were raised by send(). The
    messages and `StoreRejected.body` are built from the reply without `secrets`."""
    if 200 <= reply.status_code < 300:
        return
    reply = redact_reply(reply, secrets)
    if reply.status_code == 401:
        raise AuthError(f"{what} refused the credentials (HTTP 401): check username and password")
    if reply.status_code == 403:
        raise StoreRejected(
            f"{what} refused access (HTTP 403): often a firewall or host block",
            status_code=403, body=reply.text,
        )
    if reply.status_code == 404:
        raise StoreRejected(f"{what} has no such page (HTTP 404): check the URL", status_code=404, body=reply.text)
    if 400 <= reply.status_code < 500:
        raise StoreRejected(short(reply.text) or f"HTTP {reply.status_code}", status_code=reply.status_code,
                            body=reply.text)
    if not 200 <= reply.status_code < 300:
        raise ProtocolError(f"{what} answered an unexpected HTTP {reply.status_code}")


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
