"""The sandbox Acumatica's HTTP handler: cookie login/logout, the Shipment entity of the
Default endpoint (list with OData options, get, tracking PUT, ConfirmShipment and its status),
Acumatica's error bodies, and the faults and delays armed in the state."""
from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..server import SandboxHandler
from .data import CONFIRMED, EXPANDABLE, SHIPMENT_FIELDS
from .odata import FilterParser, FilterSyntaxError, evaluate
from .render import render_shipment
from .state import AcumaticaSandboxState

NOT_FOUND_URI = "No HTTP resource was found that matches the request URI '{uri}'."
KEY_NOT_FOUND = {
    "message": "An error has occurred.",
    "exceptionMessage": "The given key was not present in the dictionary.",
    "exceptionType": "System.Collections.Generic.KeyNotFoundException",
    "stackTrace": "   at System.Collections.Generic.Dictionary`2.get_Item(TKey key)",
}


NOT_JSON = object()  # a request body that is not JSON (already answered)


class AcumaticaSandboxHandler(SandboxHandler):
    state: AcumaticaSandboxState
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    # -- plumbing --
    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None,
                  cookies: list[str] | None = None) -> None:
        body = b"" if data is None else json.dumps(data).encode("utf-8")
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def error_500(self, exception_message: str, exception_type: str = "PX.Data.PXException") -> None:
        self.send_json(500, {"message": "An error has occurred.", "exceptionMessage": exception_message,
                             "exceptionType": exception_type,
                             "stackTrace": "   at PX.Api.ContractBased.EntityService.Get(...)"})

    def echo(self, body: bytes) -> dict:
        """An error quoting the request back (the "echo" fault): request line, cookies, body."""
        return {"message": "An error has occurred.",
                "exceptionMessage": (f"Bad request: {self.command} {self.path}; Cookie: {self.headers.get('Cookie', '')}; "
                                     f"Body: {body.decode('utf-8', errors='replace')}"),
                "exceptionType": "PX.Api.ContractBased.BadRequestException"}

    def render(self, shipment: dict, *, expand: set[str], select: list[str] | None, row: int = 1) -> dict:
        """Shipment JSON, timestamps with this server's offset."""
        return render_shipment(shipment, expand=expand, select=select, row=row, offset=self.state.timestamp_offset)

    def cookies(self) -> dict[str, str]:
        jar = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                key, _, value = part.strip().partition("=")
                jar[key] = value
        return jar

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self) -> None:
        body = self.read_body()
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        state = self.state
        with state.lock:
            state.requests.append((self.command, path, query))
        delay = state._take_delay(path)
        if delay:
            time.sleep(delay)
        fault = state._take_fault(path)
        if fault and fault["echo"]:
            return self.send_json(fault["status"], self.echo(body))
        if fault:
            headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
            payload = fault["body"] if fault["body"] is not None else {
                "message": "An error has occurred.",
                "exceptionMessage": f"Sandbox fault: HTTP {fault['status']}",
            }
            if isinstance(payload, str):
                self.reply(fault["status"], payload, headers=headers)
            else:
                self.send_json(fault["status"], payload, headers=headers)
            return
        try:
            self.route(path, query, body)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug answers like a server error
            self.error_500(f"Sandbox error: {type(exc).__name__}: {exc}", "System.Exception")

    def route(self, path: str, query: dict, body: bytes) -> None:
        if path == "/entity/auth/login" and self.command == "POST":
            return self.login(body)
        if path == "/entity/auth/logout" and self.command == "POST":
            return self.logout()
        match = re.fullmatch(r"/entity/Default/([^/]+)/Shipment(?:/(.+))?", path)
        if not match or match.group(1) not in self.state.versions:
            return self.not_found(path)
        if not self.state._touch(self.cookies().get(".ASPXAUTH")):
            return self.send_json(401, {"message": "Authorization has been denied for this request."})
        version, rest = match.group(1), match.group(2)
        if rest is None and self.command == "GET":
            return self.list_shipments(query)
        if rest is None and self.command == "PUT":
            return self.put_shipment(query, body)
        if rest == "ConfirmShipment" and self.command == "POST":
            return self.confirm(version, body)
        if rest and rest.startswith("ConfirmShipment/status/") and self.command == "GET":
            return self.confirm_status(rest.rsplit("/", 1)[1])
        if rest and "/" not in rest and self.command == "GET":
            return self.get_shipment(rest, query)
        return self.not_found(path)

    def not_found(self, path: str) -> None:
        self.send_json(404, {"message": NOT_FOUND_URI.format(uri=f"http://{self.headers.get('Host')}{path}")})

    # -- sessions --
    def login(self, body: bytes) -> None:
        state = self.state
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self.send_json(400, {"message": "The request is invalid.",
                                        "modelState": {"credentials": ["The login body is not JSON."]}})
        company = data.get("company") or data.get("tenant") or ""
        if data.get("company") and data.get("tenant"):
            return self.send_json(400, {"message": "The request is invalid.",
                                        "modelState": {"credentials": ["Specify either company or tenant."]}})
        if company != state.tenant:
            return self.error_500(
                "Error: The proper company ID cannot be determined. Please ensure that the company name is "
                "specified correctly in the login request."
            )
        if data.get("name") != state.username or data.get("password") != state.password:
            return self.error_500("Error: Invalid credentials. Please try again.")
        if data.get("branch") and data.get("branch") != state.branch:
            return self.error_500(f"Error: The branch '{data.get('branch')}' cannot be found in the system.")
        old = self.cookies().get(".ASPXAUTH")
        if old:
            state.end_session(old)
        token = state._open_session()
        if token is None:
            message = ("API Login Limit: the number of concurrent API logins has reached the limit of "
                       f"{state.max_sessions} set by the licence.")
            if state.licence_status == 429:
                return self.send_json(429, {"message": message})
            return self.error_500(message)
        session_id = secrets.token_hex(12)
        self.send_json(204, None, cookies=[
            f".ASPXAUTH={token}; path=/; HttpOnly",
            f"ASP.NET_SessionId={session_id}; path=/; HttpOnly",
            f"CompanyID={state.tenant}; path=/",
            f"UserBranch={state.branch}; path=/",
            "Locale=Culture=en-US&TimeZone=GMTM0600A; path=/",
        ])

    def logout(self) -> None:
        token = self.cookies().get(".ASPXAUTH")
        if token:
            with self.state.lock:
                if token in self.state._sessions:
                    self.state.logouts += 1
            self.state.end_session(token)
        self.send_json(204, None, cookies=[".ASPXAUTH=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/",
                                           "ASP.NET_SessionId=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/"])

    # -- reads --
    def _expand_select(self, query: dict) -> tuple[set[str], list[str] | None] | None:
        expand = {e.strip() for e in query.get("$expand", "").split(",") if e.strip()}
        select = [s.strip() for s in query.get("$select", "").split(",") if s.strip()] or None
        unknown = [e for e in expand if e not in EXPANDABLE] + [s for s in select or [] if s not in SHIPMENT_FIELDS]
        if unknown:
            self.send_json(500, KEY_NOT_FOUND)
            return None
        return expand, select

    def list_shipments(self, query: dict) -> None:
        state = self.state
        parsed = self._expand_select(query)
        if parsed is None:
            return
        expand, select = parsed
        try:
            top = int(query["$top"]) if "$top" in query else None
            skip = int(query.get("$skip") or 0)
        except ValueError:
            return self.send_json(400, {"message": "The query specified in the URI is not valid."})
        if state.optimizer_error and "Details" in expand:
            return self.error_500(
                "Optimization cannot be performed.The following fields cause the error:\r\n"
                "Details.ShippedQty: View Transactions has BQL delegate",
                "PX.Api.ContractBased.OptimizedExport.CannotOptimizeException",
            )
        with state.lock:
            try:
                tree = (FilterParser(query["$filter"], SHIPMENT_FIELDS, state.wall).parse()
                        if query.get("$filter") else None)
                rows = [s for s in state.shipments.values()
                        if tree is None or evaluate(tree, partial(state.field_value, s))]
            except KeyError:
                return self.send_json(500, KEY_NOT_FOUND)
            except FilterSyntaxError as exc:
                return self.send_json(400, {"message": f"The query specified in the URI is not valid. {exc}"})
            rows = rows[skip:] if top is None else rows[skip:skip + top]
            out = [self.render(s, expand=expand, select=select, row=n) for n, s in enumerate(rows, skip + 1)]
        self.send_json(200, out)

    def get_shipment(self, nbr: str, query: dict) -> None:
        parsed = self._expand_select(query)
        if parsed is None:
            return
        with self.state.lock:
            shipment = self.state.shipments.get(nbr)
            if shipment is None:
                return self.error_500("No entity satisfies the condition.",
                                      "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")
            out = self.render(shipment, expand=parsed[0], select=parsed[1])
        self.send_json(200, out)

    # -- writes --
    def _find(self, entity: dict) -> dict | None:
        if not isinstance(entity, dict):
            return None
        with self.state.lock:
            if isinstance(entity.get("id"), str):
                for s in self.state.shipments.values():
                    if s["id"] == entity["id"]:
                        return s
            wrapped = entity.get("ShipmentNbr")
            nbr = wrapped.get("value") if isinstance(wrapped, dict) else None
            return self.state.shipments.get(nbr) if nbr else None

    def json_body(self, body: bytes):
        """The request's JSON, or NOT_JSON after answering 400 as Acumatica does."""
        try:
            return json.loads(body)
        except ValueError:
            self.send_json(400, {"message": "The request is invalid.", "modelState": {"entity": ["The body is not JSON."]}})
            return NOT_JSON

    def put_shipment(self, query: dict, body: bytes) -> None:
        state = self.state
        data = self.json_body(body)
        if data is NOT_JSON:
            return None
        rows = data.get("Packages") if isinstance(data, dict) else None
        if rows is not None and (not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows)):
            return self.send_json(400, {"message": "The request is invalid.",
                                        "modelState": {"entity.Packages": ["Packages must be a list of objects."]}})
        with state.lock:
            shipment = self._find(data)
            if shipment is None:
                return self.error_500("No entity satisfies the condition.",
                                      "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")
            expand = {e.strip() for e in query.get("$expand", "").split(",") if e.strip()} | {"Packages"}
            if rows and shipment["Status"] in CONFIRMED | {"Canceled"}:
                reply = self.render(shipment, expand=expand, select=None)
                message = (f"The Packages grid cannot be changed because the shipment has the "
                           f"{shipment['Status']} status.")
                reply["Packages"] = [
                    {**({"id": r["id"]} if "id" in r else {}), "TrackingNbr": {**(r.get("TrackingNbr") or {}),
                                                                              "error": message},
                     "error": message}
                    for r in rows
                ]
                reply["error"] = "Updating 'Shipment' record raised at least one error. Please review the errors."
                return self.send_json(422, reply)
            for row in rows or []:
                values = {k: (row.get(k) or {}).get("value") for k in ("TrackingNbr", "BoxID", "Weight")
                          if isinstance(row.get(k), dict) and "value" in row[k]}
                if "id" in row:
                    package = next((p for p in shipment["Packages"] if p["id"] == row["id"]), None)
                    if package is None:
                        reply = self.render(shipment, expand=expand, select=None)
                        reply["error"] = f"The package {row['id']} cannot be found in the shipment."
                        return self.send_json(422, reply)
                    package.update({k: ("" if v is None else v) for k, v in values.items()})
                    state.operations.append(("tracking", shipment["ShipmentNbr"], package["id"],
                                             package["TrackingNbr"]))
                else:  # like the real API: a row without id inserts a package
                    package = {"id": state._guid(), "BoxID": values.get("BoxID") or "LARGE",
                               "TrackingNbr": values.get("TrackingNbr") or "", "Weight": values.get("Weight") or 0.0}
                    shipment["Packages"].append(package)
                    state.operations.append(("insert_package", shipment["ShipmentNbr"], package["id"],
                                             package["TrackingNbr"]))
            shipment["LastModifiedDateTime"] = state.now_wall()
            out = self.render(shipment, expand=expand, select=None)
        self.send_json(200, out)

    def confirm(self, version: str, body: bytes) -> None:
        state = self.state
        data = self.json_body(body)
        if data is NOT_JSON:
            return None
        with state.lock:
            shipment = self._find(data.get("entity") if isinstance(data, dict) else None)
            if shipment is None:
                return self.error_500("No entity satisfies the condition.",
                                      "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")
            if shipment["Status"] != "Open":
                reply = self.render(shipment, expand=set(), select=None)
                reply["error"] = f"The shipment cannot be confirmed because it has the {shipment['Status']} status."
                return self.send_json(422, reply)
            shipment["Status"] = "Confirmed"
            shipment["LastModifiedDateTime"] = state.now_wall()
            state.operations.append(("confirm", shipment["ShipmentNbr"]))
            job = uuid.uuid4().hex
            state._confirm_jobs[job] = max(0, int(state.confirm_polls))
        location = f"/entity/Default/{version}/Shipment/ConfirmShipment/status/{job}"
        self.send_json(202, None, headers={"Location": location})

    def confirm_status(self, job: str) -> None:
        with self.state.lock:
            remaining = self.state._confirm_jobs.get(job)
            if remaining is None:
                return self.send_json(204, None)
            if remaining > 0:
                self.state._confirm_jobs[job] = remaining - 1
                return self.send_json(202, None)
            del self.state._confirm_jobs[job]
        self.send_json(204, None)
