"""A sandbox Acumatica instance on loopback: the contract-based REST API as a shipping
integration sees it (cookie login/logout with a licence seat limit, the Shipment entity of the
Default endpoint versions a release has, OData $filter/$expand/$select/$top/$skip, tracking PUT,
ConfirmShipment), with the server clock in a configurable time zone and fault switches.

    sandbox = start_acumatica_sandbox(release="2021 R2", server_timezone="America/Chicago")
    sandbox.url, sandbox.state.open_sessions, sandbox.state.status("000001"); sandbox.stop()

Timestamps are written as wall-clock time in the server's zone with no offset
("2021-07-15T17:45:12.13"), and `$filter` literals are read as wall time in that zone, which is
how an on-premises instance whose server does not run on UTC behaves.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
import secrets
import socket
import threading
import time
import uuid
from collections import OrderedDict
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from stores.connectors.acumatica.mapper import RELEASE_ENDPOINT_VERSIONS

from ..server import RunningSandbox, SandboxHandler

SANDBOX_USERNAME = "admin"
SANDBOX_PASSWORD = "sandbox-pass-123"
SANDBOX_TENANT = "Company"
SANDBOX_BRANCH = "HEADOFFICE"
# The embedded demo's server clock zone (the demo store is set to it).
DEMO_SERVER_TIMEZONE = "America/Chicago"

STATUSES = ("Open", "On Hold", "Confirmed", "Completed", "Canceled")
CONFIRMED = frozenset({"Confirmed", "Completed", "Invoiced", "Partially Invoiced"})

# Top-level Shipment fields (what $filter and $select may name).
SHIPMENT_FIELDS = (
    "ShipmentNbr", "Type", "Operation", "Status", "Hold", "CustomerID", "LocationID", "WarehouseID", "ShipVia",
    "ShipmentDate", "CreatedDateTime", "LastModifiedDateTime", "PackageCount", "Description",
)
EXPANDABLE = frozenset({
    "Details", "Packages", "ShippingSettings", "ShippingSettings/ShipToAddress", "ShippingSettings/ShipToContact",
})

NOT_FOUND_URI = "No HTTP resource was found that matches the request URI '{uri}'."
KEY_NOT_FOUND = {
    "message": "An error has occurred.",
    "exceptionMessage": "The given key was not present in the dictionary.",
    "exceptionType": "System.Collections.Generic.KeyNotFoundException",
    "stackTrace": "   at System.Collections.Generic.Dictionary`2.get_Item(TKey key)",
}

CUSTOMERS = [
    ("ABARTENDE", "USA Bartending School", "Maria Lopez", "mlopez@bartending.example", "+1 (312) 555-0101",
     ("201 Lower Wacker Dr", "Suite 4", "Chicago", "IL", "60601", "US")),
    ("ACTIVESTAF", "Active Staffing Services", "", "orders@activestaff.example", "+1 (646) 555-0133",
     ("350 5th Ave", "", "New York", "NY", "10118", "US")),
    ("COFFEESHOP", "Coffee Shop Northwest", "Jamie Chen", "jamie@coffeenw.example", "+1 (206) 555-0177",
     ("1912 Pike Pl", "", "Seattle", "WA", "98101", "US")),
    ("GOODFOOD", "Good Food One Store", "Sam O'Neil", "sam@goodfood.example", "+1 (512) 555-0150",
     ("600 Congress Ave", "Floor 2", "Austin", "TX", "78701", "US")),
    ("MAPLELEAF", "Maple Leaf Outfitters", "Élodie Tremblay", "elodie@mapleleaf.example", "+1 (514) 555-0190",
     ("1 Place Ville Marie", "", "Montréal", "QC", "H3B 2B6", "CA")),
    ("THAMESTEA", "Thames Tea Company", "Oliver Brown", "oliver@thamestea.example", "+44 20 7946 0958",
     ("221B Baker Street", "", "London", "", "NW1 6XE", "GB")),
    ("DESERTSUN", "Desert Sun Supplies", "Ana Ruiz", "ana@desertsun.example", "+1 (602) 555-0112",
     ("2 E Jefferson St", "", "Phoenix", "AZ", "85004", "US")),
    ("LAKESIDE", "Lakeside Hardware", "", "buy@lakeside.example", "+1 (414) 555-0144",
     ("700 N Water St", "Unit 12", "Milwaukee", "WI", "53202", "US")),
]
ITEMS = [
    ("AACOMPUT01", "Acer Laptop Computer", "EA"), ("AALEGO500", "Lego 500 piece set", "EA"),
    ("CONBABY1", "Baby food jar, 250 g", "EA"), ("CONGRILL", "Charcoal grill", "EA"),
    ("CONTABLE1", "Folding table", "EA"), ("COFFEEBEAN", "Coffee beans, 1 kg", "KG"),
    ("PENBLACK", "Black pen, box of 12", "BOX"), ("TEAGREEN", "Green tea, 100 bags", "EA"),
]
SHIP_VIAS = ("UPSGROUND", "FEDEX2DAY", "USPSPRIORITY", "DHLINTL", "LOCAL")
BOXES = ("LARGE", "MEDIUM", "SMALL")


def _wrap(value: Any) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, Decimal):
        value = float(value)
    return {"value": value}


class AcumaticaSandboxState:
    """Data, sessions and fault switches of one sandbox instance (shared by request threads).

    Switches (set them directly): `login_limit_reached` (every login answers the API Login Limit
    error), `optimizer_error` (list calls expanding Details fail with the optimizer's HTTP 500),
    `max_sessions` (licence seats, 2), `session_idle_seconds` (idle sessions expire),
    `confirm_polls` (how many 202s the ConfirmShipment status answers before its 204),
    `timestamp_offset` ('' = no offset; e.g. '+00:00' like a cloud instance), `licence_status`
    (HTTP status of the licence error: 500 or 429). Methods: fail_next(), slow_next()."""

    def __init__(self, *, release: str = "2021 R2", server_timezone: str = "UTC", shipments: int = 40,
                 seed: int = 7, anchor: dt.datetime | None = None):
        if release not in RELEASE_ENDPOINT_VERSIONS:
            raise ValueError(f"unknown Acumatica release {release!r}")
        self.release = release
        self.versions = RELEASE_ENDPOINT_VERSIONS[release]
        self.tz = ZoneInfo(server_timezone)
        self.lock = threading.RLock()
        self.verbose = False
        self.username, self.password = SANDBOX_USERNAME, SANDBOX_PASSWORD
        self.tenant, self.branch = SANDBOX_TENANT, SANDBOX_BRANCH
        # switches
        self.max_sessions = 2
        self.session_idle_seconds = 600.0
        self.login_limit_reached = False
        self.licence_status = 500
        self.optimizer_error = False
        self.confirm_polls = 1
        self.timestamp_offset = ""
        self.clock = None  # optional callable returning the server's naive wall-clock time
        # records of what happened
        # ("tracking", nbr, package id, number) / ("insert_package", nbr, id, number) / ("confirm", nbr)
        self.operations: list[tuple] = []
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, query)
        self.logins = 0
        self.logouts = 0
        # internals
        self._sessions: dict[str, float] = {}  # .ASPXAUTH token → last use (monotonic)
        self._faults: list[dict] = []
        self._delays: list[dict] = []
        self._confirm_jobs: dict[str, int] = {}
        self._rng = random.Random(seed)
        self._next_nbr = 1
        self.shipments: OrderedDict[str, dict] = OrderedDict()
        self._seed(shipments, anchor or self.now_wall().replace(minute=0, second=0, microsecond=0))

    # -- clock --
    def now_wall(self) -> dt.datetime:
        """The server's wall-clock time (naive, in its zone)."""
        if self.clock is not None:
            return self.clock()
        return dt.datetime.now(self.tz).replace(tzinfo=None)

    def wall(self, moment: dt.datetime) -> dt.datetime:
        """An aware instant as this server's naive wall-clock time."""
        return moment.astimezone(self.tz).replace(tzinfo=None)

    # -- sessions --
    def _purge(self) -> None:
        limit = time.monotonic() - self.session_idle_seconds
        for token in [t for t, used in self._sessions.items() if used < limit]:
            del self._sessions[token]

    @property
    def open_sessions(self) -> int:
        with self.lock:
            self._purge()
            return len(self._sessions)

    def hold_session(self) -> str:
        """Take a licence seat as another API user would (ignores the limit); returns its token."""
        with self.lock:
            token = secrets.token_hex(16)
            self._sessions[token] = time.monotonic()
            return token

    def end_session(self, token: str) -> None:
        with self.lock:
            self._sessions.pop(token, None)

    def end_all_sessions(self) -> None:
        with self.lock:
            self._sessions.clear()

    def _open_session(self) -> str | None:
        with self.lock:
            self._purge()
            if self.login_limit_reached or len(self._sessions) >= self.max_sessions:
                return None
            token = secrets.token_hex(16)
            self._sessions[token] = time.monotonic()
            self.logins += 1
            return token

    def _touch(self, token: str | None) -> bool:
        with self.lock:
            self._purge()
            if token and token in self._sessions:
                self._sessions[token] = time.monotonic()
                return True
            return False

    # -- faults --
    def fail_next(self, count: int = 1, status: int = 503, *, after: int = 0, path_contains: str | None = None,
                  retry_after: float | None = None, body: dict | str | None = None) -> None:
        """Answer `status` to the next `count` requests (whose path contains `path_contains`,
        when given), after letting `after` of them through."""
        with self.lock:
            self._faults.append({"count": count, "status": status, "after": after, "path": path_contains,
                                 "retry_after": retry_after, "body": body})

    def slow_next(self, count: int = 1, seconds: float = 1.0, *, path_contains: str | None = None) -> None:
        """Delay the next `count` replies (to paths containing `path_contains`, when given) by
        `seconds`, to provoke client timeouts."""
        with self.lock:
            self._delays.append({"count": count, "seconds": seconds, "path": path_contains})

    def _take_fault(self, path: str) -> dict | None:
        with self.lock:
            for fault in self._faults:
                if fault["path"] and fault["path"] not in path:
                    continue
                if fault["after"] > 0:
                    fault["after"] -= 1
                    return None
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self._faults.remove(fault)
                return fault
            return None

    def _take_delay(self, path: str) -> float:
        with self.lock:
            for delay in self._delays:
                if delay["path"] and delay["path"] not in path:
                    continue
                delay["count"] -= 1
                if delay["count"] <= 0:
                    self._delays.remove(delay)
                return delay["seconds"]
            return 0.0

    # -- data --
    def _guid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _seed(self, count: int, anchor: dt.datetime) -> None:
        rng = self._rng
        cycle = ("Open", "Open", "On Hold", "Confirmed", "Open", "Completed", "Canceled", "Open", "Confirmed",
                 "Completed")
        for i in range(1, count + 1):
            status = cycle[(i - 1) % len(cycle)]
            created = anchor - dt.timedelta(hours=(count - i) * 7 + rng.randint(0, 5), minutes=rng.randint(0, 59),
                                            seconds=rng.randint(0, 59), microseconds=rng.randint(0, 99) * 10_000)
            modified = min(anchor, created + dt.timedelta(minutes=rng.randint(1, 300),
                                                          microseconds=rng.randint(0, 99) * 10_000))
            customer = CUSTOMERS[rng.randrange(len(CUSTOMERS))]
            address = list(customer[5])
            if i % 7 == 3:
                address[2] = ""  # no city
            elif i % 11 == 5:
                address[4] = ""  # no postal code
            elif i % 13 == 6 and address[5] == "US":
                address[3] = ""  # US without state
            n_packages = 0 if i % 3 == 0 else (2 if i % 4 == 1 else 1)
            packages = [
                {"BoxID": BOXES[k % len(BOXES)], "Weight": round(rng.uniform(0.5, 20), 2),
                 "TrackingNbr": f"1Z{rng.randrange(10**15):015d}" if status in ("Confirmed", "Completed") else ""}
                for k in range(n_packages)
            ]
            details = []
            for line in range(1, rng.randint(1, 4) + 1):
                sku, name, uom = ITEMS[rng.randrange(len(ITEMS))]
                details.append({"InventoryID": sku, "Description": name, "UOM": uom,
                                "ShippedQty": float(rng.choice((1, 1, 2, 3, 5, 10))),
                                "OrderType": "SO", "OrderNbr": f"SO{3000 + i:06d}"})
            self.add_shipment(
                status=status, created_at=created, modified_at=modified,
                ship_date=(created + dt.timedelta(days=rng.randint(0, 2))).date(),
                customer_id=customer[0], business_name=customer[1], attention=customer[2], email=customer[3],
                phone=customer[4], address=tuple(address), packages=packages, details=details,
                ship_via=SHIP_VIAS[rng.randrange(len(SHIP_VIAS))],
                type="Transfer" if i % 17 == 8 else "Shipment",
                operation="Receipt" if i % 19 == 9 else "Issue",
            )

    def add_shipment(
        self, nbr: str | None = None, *, status: str = "Open", created_at: dt.datetime | None = None,
        modified_at: dt.datetime | None = None, ship_date: dt.date | None = None, customer_id: str = "ABARTENDE",
        business_name: str = "USA Bartending School", attention: str = "Maria Lopez",
        email: str = "mlopez@bartending.example", phone: str = "+1 (312) 555-0101",
        address: tuple[str, str, str, str, str, str] = ("201 Lower Wacker Dr", "", "Chicago", "IL", "60601", "US"),
        packages: list[dict] | int = 1, details: list[dict] | None = None, ship_via: str = "UPSGROUND",
        type: str = "Shipment", operation: str = "Issue",
    ) -> str:
        """Add a shipment; timestamps are the server's NAIVE wall-clock times (default: now).
        `packages` is a count or a list of {BoxID, TrackingNbr, Weight}; `details` a list of
        {InventoryID, Description, ShippedQty, UOM, OrderType, OrderNbr}. Returns its ShipmentNbr."""
        with self.lock:
            if nbr is None:
                while f"{self._next_nbr:06d}" in self.shipments:
                    self._next_nbr += 1
                nbr = f"{self._next_nbr:06d}"
                self._next_nbr += 1
            if nbr in self.shipments:
                raise ValueError(f"shipment {nbr} exists")
            now = self.now_wall()
            created_at = created_at or now
            modified_at = modified_at or created_at
            if isinstance(packages, int):
                packages = [{"BoxID": BOXES[k % len(BOXES)], "Weight": 2.5, "TrackingNbr": ""} for k in range(packages)]
            if details is None:
                details = [{"InventoryID": "AALEGO500", "Description": "Lego 500 piece set", "ShippedQty": 2.0,
                            "UOM": "EA", "OrderType": "SO", "OrderNbr": f"SO9{nbr}"}]
            line1, line2, city, state, postal, country = address
            self.shipments[nbr] = {
                "id": self._guid(), "ShipmentNbr": nbr, "Type": type, "Operation": operation, "Status": status,
                "Hold": status == "On Hold", "CustomerID": customer_id, "LocationID": "MAIN",
                "WarehouseID": "WHOLESALE", "ShipVia": ship_via, "Description": "",
                "ShipmentDate": ship_date or created_at.date(), "CreatedDateTime": created_at,
                "LastModifiedDateTime": modified_at,
                "Details": [{"id": self._guid(), "LineNbr": n, **{"UOM": "EA", "OrderType": "SO", "OrderNbr": ""},
                             **d} for n, d in enumerate(details, 1)],
                "Packages": [{"id": self._guid(), "TrackingNbr": "", "Weight": 1.0, "BoxID": "LARGE", **p}
                             for p in packages],
                "settings_id": self._guid(),
                "ShipToAddress": {"id": self._guid(), "AddressLine1": line1, "AddressLine2": line2, "City": city,
                                  "State": state, "PostalCode": postal, "Country": country},
                "ShipToContact": {"id": self._guid(), "BusinessName": business_name, "Attention": attention,
                                  "Email": email, "Phone1": phone},
            }
            return nbr

    def modify_shipment(self, nbr: str, *, at: dt.datetime | None = None, **fields) -> None:
        """Change top-level fields (Status, ShipVia…; 'address'/'contact' dicts update the ship-to)
        and touch LastModifiedDateTime at the server wall time `at` (default: now)."""
        with self.lock:
            shipment = self.shipments[nbr]
            for key, value in fields.items():
                if key == "address":
                    shipment["ShipToAddress"].update(value)
                elif key == "contact":
                    shipment["ShipToContact"].update(value)
                else:
                    shipment[key] = value
            if "Status" in fields:
                shipment["Hold"] = fields["Status"] == "On Hold"
            shipment["LastModifiedDateTime"] = at or self.now_wall()

    def shipment(self, nbr: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.shipments[nbr])

    def packages(self, nbr: str) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self.shipments[nbr]["Packages"])

    def status(self, nbr: str) -> str:
        with self.lock:
            return self.shipments[nbr]["Status"]

    def numbers(self, *, status: str | None = None) -> list[str]:
        with self.lock:
            return [n for n, s in self.shipments.items() if status is None or s["Status"] == status]

    def live_tick(self) -> str:
        """One step of a live instance: a new Open shipment, or an update of an Open one."""
        with self.lock:
            open_ones = self.numbers(status="Open")
            if open_ones and self._rng.random() < 0.3:
                nbr = open_ones[self._rng.randrange(len(open_ones))]
                self.modify_shipment(nbr, ShipVia=SHIP_VIAS[self._rng.randrange(len(SHIP_VIAS))])
                return nbr
            customer = CUSTOMERS[self._rng.randrange(len(CUSTOMERS))]
            sku, name, uom = ITEMS[self._rng.randrange(len(ITEMS))]
            return self.add_shipment(
                customer_id=customer[0], business_name=customer[1], attention=customer[2], email=customer[3],
                phone=customer[4], address=customer[5], packages=1 + self._rng.randrange(2),
                details=[{"InventoryID": sku, "Description": name, "UOM": uom,
                          "ShippedQty": float(self._rng.choice((1, 2, 3)))}],
            )

    # -- rendering --
    def fmt_time(self, value: dt.datetime) -> str:
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += "." + f"{value.microsecond:06d}".rstrip("0")
        return text + self.timestamp_offset

    def render(self, s: dict, *, expand: set[str], select: list[str] | None, row: int = 1) -> dict:
        values = {
            "ShipmentNbr": s["ShipmentNbr"], "Type": s["Type"], "Operation": s["Operation"], "Status": s["Status"],
            "Hold": s["Hold"], "CustomerID": s["CustomerID"], "LocationID": s["LocationID"],
            "WarehouseID": s["WarehouseID"], "ShipVia": s["ShipVia"], "Description": s["Description"],
            "ShipmentDate": self.fmt_time(dt.datetime.combine(s["ShipmentDate"], dt.time())),
            "CreatedDateTime": self.fmt_time(s["CreatedDateTime"]),
            "LastModifiedDateTime": self.fmt_time(s["LastModifiedDateTime"]),
            "PackageCount": len(s["Packages"]),
        }
        out: dict[str, Any] = {"id": s["id"], "rowNumber": row, "note": {"value": ""}}
        for key in select or SHIPMENT_FIELDS:
            out[key] = _wrap(values[key])
        if "Details" in expand:
            out["Details"] = [
                {"id": d["id"], "rowNumber": n, "note": None,
                 **{k: _wrap(d.get(k)) for k in ("LineNbr", "InventoryID", "Description", "ShippedQty", "UOM",
                                                  "OrderType", "OrderNbr")},
                 "WarehouseID": _wrap(s["WarehouseID"]), "custom": {}}
                for n, d in enumerate(s["Details"], 1)
            ]
        if "Packages" in expand:
            out["Packages"] = [
                {"id": p["id"], "rowNumber": n, "note": None, "BoxID": _wrap(p["BoxID"]),
                 "TrackingNbr": _wrap(p["TrackingNbr"]), "Weight": _wrap(p["Weight"]), "custom": {}}
                for n, p in enumerate(s["Packages"], 1)
            ]
        settings = {}
        if expand & {"ShippingSettings", "ShippingSettings/ShipToAddress", "ShippingSettings/ShipToContact"}:
            settings = {"id": s["settings_id"], "rowNumber": 1, "note": None, "ShipSeparately": {"value": False}}
            if "ShippingSettings/ShipToAddress" in expand:
                a = s["ShipToAddress"]
                settings["ShipToAddress"] = {"id": a["id"], "rowNumber": 1, "note": None,
                                             **{k: _wrap(v) for k, v in a.items() if k != "id"}, "custom": {}}
            if "ShippingSettings/ShipToContact" in expand:
                c = s["ShipToContact"]
                settings["ShipToContact"] = {"id": c["id"], "rowNumber": 1, "note": None,
                                             **{k: _wrap(v) for k, v in c.items() if k != "id"}, "custom": {}}
            settings["custom"] = {}
            out["ShippingSettings"] = settings
        out["custom"] = {}
        return out

    def field_value(self, s: dict, name: str) -> Any:
        if name not in SHIPMENT_FIELDS:
            raise KeyError(name)
        if name == "PackageCount":
            return len(s["Packages"])
        if name == "ShipmentDate":
            return dt.datetime.combine(s["ShipmentDate"], dt.time())
        return s[name]


# --- OData $filter ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<dt>(?:datetimeoffset|datetime)'[^']*')|(?P<str>'(?:[^']|'')*')"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][\w/.]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_DATE_LITERAL = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:\d{2})?")


class FilterSyntaxError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterSyntaxError(f"syntax error at position {pos} in '{text}'")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _FilterParser:
    """expr := and ('or' and)* ; and := unary ('and' unary)* ; unary := 'not' unary | '(' expr ')' | cmp"""

    def __init__(self, text: str, state: AcumaticaSandboxState):
        self.tokens = _tokens(text)
        self.pos = 0
        self.state = state

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterSyntaxError("the filter ends too early")
        self.pos += 1
        return token

    def parse(self):
        node = self.expr()
        if self.peek() is not None:
            raise FilterSyntaxError(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self):
        nodes = [self.conj()]
        while self.peek() == ("word", "or"):
            self.take()
            nodes.append(self.conj())
        return ("or", nodes) if len(nodes) > 1 else nodes[0]

    def conj(self):
        nodes = [self.unary()]
        while self.peek() == ("word", "and"):
            self.take()
            nodes.append(self.unary())
        return ("and", nodes) if len(nodes) > 1 else nodes[0]

    def unary(self):
        token = self.peek()
        if token == ("word", "not"):
            self.take()
            return ("not", self.unary())
        if token and token[0] == "lp":
            self.take()
            node = self.expr()
            if self.take()[0] != "rp":
                raise FilterSyntaxError("a ')' is missing")
            return node
        kind, field = self.take()
        if kind != "word":
            raise FilterSyntaxError(f"a field name was expected, got {field!r}")
        if field not in SHIPMENT_FIELDS:
            raise KeyError(field)
        kind, op = self.take()
        if kind != "word" or op not in _OPS:
            raise FilterSyntaxError(f"an operator was expected after {field}, got {op!r}")
        return ("cmp", field, op, self.literal())

    def literal(self):
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return Decimal(text)
        if kind == "dt":
            body = text[text.index("'") + 1:-1]
            match = _DATE_LITERAL.fullmatch(body)
            if not match:
                raise FilterSyntaxError(f"bad date literal {text}")
            moment = dt.datetime.fromisoformat(match.group(1) + "T" + (match.group(2) or "00:00"))
            if match.group(3):  # an explicit offset: convert to this server's wall time
                offset = dt.datetime.fromisoformat("2000-01-01T00:00" + match.group(3).replace("Z", "+00:00"))
                moment = self.state.wall(moment.replace(tzinfo=offset.tzinfo))
            return moment
        if kind == "word" and text in ("true", "false"):
            return text == "true"
        if kind == "word" and text == "null":
            return None
        raise FilterSyntaxError(f"a value was expected, got {text!r}")


def _evaluate(node, state: AcumaticaSandboxState, s: dict) -> bool:
    kind = node[0]
    if kind == "or":
        return any(_evaluate(n, state, s) for n in node[1])
    if kind == "and":
        return all(_evaluate(n, state, s) for n in node[1])
    if kind == "not":
        return not _evaluate(node[1], state, s)
    _, field, op, literal = node
    value = state.field_value(s, field)
    if isinstance(value, int | float) and not isinstance(value, bool) and isinstance(literal, Decimal):
        value = Decimal(str(value))
    if op == "eq":
        return value == literal
    if op == "ne":
        return value != literal
    if value is None or literal is None:
        return False
    try:
        return {"gt": value > literal, "ge": value >= literal, "lt": value < literal, "le": value <= literal}[op]
    except TypeError:
        raise FilterSyntaxError(f"{field} cannot be compared with {literal!r}") from None


# --- HTTP --------------------------------------------------------------------------------------


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
                tree = _FilterParser(query["$filter"], state).parse() if query.get("$filter") else None
                rows = [s for s in state.shipments.values() if tree is None or _evaluate(tree, state, s)]
            except KeyError:
                return self.send_json(500, KEY_NOT_FOUND)
            except FilterSyntaxError as exc:
                return self.send_json(400, {"message": f"The query specified in the URI is not valid. {exc}"})
            rows = rows[skip:] if top is None else rows[skip:skip + top]
            out = [state.render(s, expand=expand, select=select, row=n) for n, s in enumerate(rows, skip + 1)]
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
            out = self.state.render(shipment, expand=parsed[0], select=parsed[1])
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

    def put_shipment(self, query: dict, body: bytes) -> None:
        state = self.state
        try:
            data = json.loads(body)
        except ValueError:
            return self.send_json(400, {"message": "The request is invalid.",
                                        "modelState": {"entity": ["The body is not JSON."]}})
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
                reply = state.render(shipment, expand=expand, select=None)
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
                        reply = state.render(shipment, expand=expand, select=None)
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
            out = state.render(shipment, expand=expand, select=None)
        self.send_json(200, out)

    def confirm(self, version: str, body: bytes) -> None:
        state = self.state
        try:
            data = json.loads(body)
        except ValueError:
            return self.send_json(400, {"message": "The request is invalid.",
                                        "modelState": {"entity": ["The body is not JSON."]}})
        with state.lock:
            shipment = self._find(data.get("entity") if isinstance(data, dict) else None)
            if shipment is None:
                return self.error_500("No entity satisfies the condition.",
                                      "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")
            if shipment["Status"] != "Open":
                reply = state.render(shipment, expand=set(), select=None)
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


class AcumaticaSandbox(RunningSandbox):
    """A running sandbox; with `live_every`, a thread keeps adding/updating shipments."""

    def __init__(self, state: AcumaticaSandboxState, *, host: str = "127.0.0.1", port: int = 0,
                 live_every: float | None = None):
        super().__init__(AcumaticaSandboxHandler, state, host=host, port=port)
        self._stop_live = threading.Event()
        self._live = None
        if live_every:
            self._live = threading.Thread(target=self._live_loop, args=(live_every,), daemon=True,
                                          name=f"acumatica-live-{self.port}")
            self._live.start()

    def _live_loop(self, every: float) -> None:
        while not self._stop_live.wait(every):
            self.state.live_tick()

    def stop(self) -> None:
        self._stop_live.set()
        if self._live is not None:
            self._live.join(timeout=5)
        # shutdown() waits for the accept loop's next poll (0.5 s): wake it with a connection
        stopper = threading.Thread(target=self.httpd.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
            except OSError:
                pass
            stopper.join(0.02)
        super().stop()


def start_acumatica_sandbox(port: int = 0, release: str = "2021 R2", server_timezone: str = "UTC",
                            shipments: int = 40, live_every: float | None = None, *, seed: int = 7,
                            host: str = "127.0.0.1", anchor: dt.datetime | None = None) -> AcumaticaSandbox:
    """Start a sandbox Acumatica on a loopback port (0: a free one). `anchor` is the server wall
    time the seeded data ends at (default: now, on the hour)."""
    state = AcumaticaSandboxState(release=release, server_timezone=server_timezone, shipments=shipments,
                                  seed=seed, anchor=anchor)
    return AcumaticaSandbox(state, host=host, port=port, live_every=live_every)
