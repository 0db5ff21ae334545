"""The sandbox Custom Store's HTTP handler: authentication (Basic or SS-UserName/SS-Password),
the `export` and `shipnotify` actions, the faults armed in the state, and the reading of
`<ShipNotice>` bodies."""
from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, unquote_plus, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from ..server import SandboxHandler
from .render import BILLION_LAUGHS, EXTERNAL_ENTITY, HTML_PAGE
from .state import CustomStoreState, ReceivedNotice, RequestLog


class CustomStoreHandler(SandboxHandler):
    state: CustomStoreState

    def do_GET(self):
        self._handle(b"")

    def do_POST(self):
        self._handle(self.read_body())  # read first, whatever the answer, to keep the connection sane

    def _handle(self, body: bytes) -> None:
        state = self.state
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        first = {key: values[0] for key, values in params.items()}
        action = first.get("action", "")
        basic_user, basic_password = self._basic_credentials()
        entry = RequestLog(self.command, parts.path, action, params, basic_user, first.get("SS-UserName"))
        state.log_request(entry)
        state.tick()
        if parts.path != state.path:
            if parts.path in ("", "/"):
                return self._answer(entry, 200, HTML_PAGE, "text/html; charset=utf-8")
            return self._answer(entry, 404, HTML_PAGE.replace("Welcome to", "Page not found -"),
                                "text/html; charset=utf-8")
        if not self._authorised(basic_user, basic_password, first):
            return self._answer(entry, 401, "Unauthorized", headers={"WWW-Authenticate": 'Basic realm="Sandbox Shop"'})
        verb = action.lower()
        if verb == "export" and self.command == "GET":
            return self._export(entry, params, first)
        if verb == "shipnotify" and self.command == "POST":
            return self._shipnotify(entry, first, body)
        return self._answer(entry, 400, f"Unknown action {action!r} for {self.command}")

    def _export(self, entry: RequestLog, params: dict[str, list[str]], first: dict[str, str]) -> None:
        state = self.state
        try:
            start = state.parse_filter_date(first.get("start_date", ""))
            end = state.parse_filter_date(first.get("end_date", ""))
        except ValueError:
            return self._answer(entry, 400, "start_date and end_date must be MM/dd/yyyy HH:mm")
        page_text = first.get("page", "1") or "1"
        if not page_text.isdigit():
            return self._answer(entry, 400, f"invalid page {page_text!r}")
        page = int(page_text)
        locations = {v for key in ("stock_location_id[]", "stock_location_id") for v in params.get(key, []) if v}
        if state.on_export:
            state.on_export(state, page)
        fault = state.take_fault("export", page)
        corrupt = None
        if fault:
            if fault.kind == "echo":
                return self._answer(entry, fault.status, self._echo())
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                return self._answer(entry, fault.status, fault.body, headers=headers)
            if fault.kind == "html":
                return self._answer(entry, 200, HTML_PAGE, "text/html; charset=utf-8")
            if fault.kind == "empty":
                return self._answer(entry, 200, b"", "text/xml; charset=utf-8")
            if fault.kind == "bomb":
                return self._answer(entry, 200, BILLION_LAUGHS, "text/xml; charset=utf-8")
            if fault.kind == "external_entity":
                return self._answer(entry, 200, EXTERNAL_ENTITY, "text/xml; charset=utf-8")
            if fault.kind == "oversized":
                filler = b"<!-- " + b"x" * max(0, fault.size) + b" -->"
                body = b'<?xml version="1.0"?>\n<Orders pages="1">' + filler + b"</Orders>\n"
                return self._answer(entry, 200, body, "text/xml; charset=utf-8")
            if fault.kind == "invalid":
                corrupt = (fault.field, fault.body)
        document = state.export_document(start, end, page, locations, corrupt)
        if fault and fault.kind == "truncated":
            document = document[: max(40, len(document) * 3 // 5)]
        return self._answer(entry, 200, document, "text/xml; charset=utf-8")

    def _shipnotify(self, entry: RequestLog, first: dict[str, str], body: bytes) -> None:
        state = self.state
        params = {k: v for k, v in first.items() if k.lower() not in ("ss-username", "ss-password")}
        fault = state.take_fault("shipnotify", None)
        if fault and fault.kind in ("status", "qbc_422", "html", "echo"):
            notice = ReceivedNotice(params=params, body=body, fields={}, recipient={}, items=[],
                                    received_at=state.now())
            status = 200 if fault.kind == "html" else fault.status
            answer = HTML_PAGE if fault.kind == "html" else self._echo() if fault.kind == "echo" else fault.body
            try:
                notice.fields, notice.recipient, notice.items = _parse_notice(body)
            except (ParseError, defusedxml.DefusedXmlException):
                pass
            notice.status_code, notice.response_body = status, answer
            with state.lock:
                state.notices.append(notice)
            content_type = ("application/json; charset=utf-8" if fault.kind == "qbc_422"
                            else "text/html; charset=utf-8" if fault.kind == "html" else "text/plain; charset=utf-8")
            return self._answer(entry, status, answer, content_type)
        status, answer = state.receive_notice(params, body, *_read_notice(body))
        if state.on_shipnotify:
            state.on_shipnotify(state)
        content_type = "application/json; charset=utf-8" if answer.startswith("{") else "text/plain; charset=utf-8"
        return self._answer(entry, status, answer, content_type)

    # -- helpers --
    def _echo(self) -> str:
        """The request quoted back (the "echo" fault): URL as sent, decoded query, auth header."""
        query = urlsplit(self.path).query
        return (
            f"Bad request: {self.command} {self.path}\n"
            f"Parameters: {unquote_plus(query)}\n"
            f"Authorization: {self.headers.get('Authorization', '')}\n"
        )

    def _basic_credentials(self) -> tuple[str | None, str | None]:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, _, password = decoded.partition(":")
        return user, password

    def _authorised(self, basic_user, basic_password, first: dict[str, str]) -> bool:
        state = self.state
        if state.accept_basic and basic_user == state.username and basic_password == state.password:
            return True
        return bool(
            state.accept_query_auth
            and first.get("SS-UserName") == state.username
            and first.get("SS-Password") == state.password
        )

    def _answer(self, entry: RequestLog, status: int, body, content_type: str = "text/plain; charset=utf-8",
                headers: dict[str, str] | None = None) -> None:
        entry.status = status
        self.reply(status, body, content_type, headers)


def _parse_notice(body: bytes) -> tuple[dict, dict, list]:
    root: Element = SafeET.fromstring(body)
    if root.tag != "ShipNotice":
        raise ParseError(f"expected <ShipNotice>, got <{root.tag}>")
    fields, recipient, items = {}, {}, []
    for child in root:
        if child.tag == "Recipient":
            recipient = {c.tag: (c.text or "") for c in child}
        elif child.tag == "Items":
            items = [{c.tag: (c.text or "") for c in item} for item in child.findall("Item")]
        else:
            fields[child.tag] = child.text or ""
    return fields, recipient, items


def _read_notice(body: bytes) -> tuple[dict, dict, list, str | None]:
    """(fields, recipient, items, error) of a shipnotify body; `error` says why it cannot be read."""
    fields: dict[str, str] = {}
    recipient: dict[str, str] = {}
    items: list[dict[str, str]] = []
    error = None
    try:
        if not body.strip():
            error = "Empty body: a <ShipNotice> document is expected"
        else:
            fields, recipient, items = _parse_notice(body)
    except (ParseError, defusedxml.DefusedXmlException) as exc:
        error = f"Invalid XML: {exc}"
    return fields, recipient, items, error
