"""The sandbox Acumatica's state: its shipments, login sessions (licence seats, idle expiry),
server clock and time zone, the switches and faults the tests set, and the records of what
happened (requests, logins, tracking updates, confirmations). Shared by the request threads
under one lock."""
from __future__ import annotations

import copy
import datetime as dt
import random
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo

from stores.connectors.acumatica.mapper import RELEASE_ENDPOINT_VERSIONS

from .data import BOXES, CUSTOMERS, ITEMS, SHIP_VIAS, SHIPMENT_FIELDS, seed_shipments

SANDBOX_USERNAME = "admin"
SANDBOX_PASSWORD = "sandbox-pass-123"
SANDBOX_TENANT = "Company"
SANDBOX_BRANCH = "HEADOFFICE"


class AcumaticaSandboxState:
    """Data, sessions and fault switches of one sandbox instance (shared by request threads).

    Switches (set them directly): `login_limit_reached` (every login answers the API Login Limit
    error), `optimizer_error` (list calls expanding Details fail with the optimizer's HTTP 500),
    `max_sessions` (licence seats, 2), `session_idle_seconds` (idle sessions expire),
    `confirm_polls` (how many 202s the ConfirmShipment status answers before its 204),
    `timestamp_offset` ('' = no offset; e.g. '+00:00' like a cloud instance), `licence_status`
    (HTTP status of the licence error: 500 or 429). Methods: fail_next(), echo_request(),
    slow_next()."""

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
        anchor = anchor or self.now_wall().replace(minute=0, second=0, microsecond=0)
        for shipment in seed_shipments(self._rng, shipments, anchor):
            self.add_shipment(**shipment)

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
                                 "retry_after": retry_after, "body": body, "echo": False})

    def echo_request(self, count: int = 1, status: int = 500, *,
                     path_contains: str | None = "/entity/auth/login") -> None:
        """Answer the next `count` requests to paths containing `path_contains` (default: the
        login) with HTTP `status` and an Acumatica error quoting the request back, like a
        debugging server: request line, Cookie header and body — the login's password, the
        session cookies. What must never get back into ShipBridge's records or logs."""
        with self.lock:
            self._faults.append({"count": count, "status": status, "after": 0, "path": path_contains,
                                 "retry_after": None, "body": None, "echo": True})

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

    def field_value(self, s: dict, name: str) -> Any:
        if name not in SHIPMENT_FIELDS:
            raise KeyError(name)
        if name == "PackageCount":
            return len(s["Packages"])
        if name == "ShipmentDate":
            return dt.datetime.combine(s["ShipmentDate"], dt.time())
        return s[name]
