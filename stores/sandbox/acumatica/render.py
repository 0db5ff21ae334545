"""How the sandbox Acumatica writes a Shipment in the contract-based REST format: values
wrapped as {"value": ...}, timestamps as server wall time (with the configured offset, if any),
the Details / Packages / ShippingSettings sub-entities when expanded, `$select` honoured."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .data import SHIPMENT_FIELDS


def _wrap(value: Any) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, Decimal):
        value = float(value)
    return {"value": value}


def fmt_time(value: dt.datetime, offset: str = "") -> str:
    """A naive server wall time as the API writes it ("2021-07-15T17:45:12.13"), `offset` appended."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += "." + f"{value.microsecond:06d}".rstrip("0")
    return text + offset


def render_shipment(s: dict, *, expand: set[str], select: list[str] | None, row: int = 1,
                    offset: str = "") -> dict:
    """Shipment `s` as the API returns it; `offset`: appended to its timestamps."""
    values = {
        "ShipmentNbr": s["ShipmentNbr"], "Type": s["Type"], "Operation": s["Operation"], "Status": s["Status"],
        "Hold": s["Hold"], "CustomerID": s["CustomerID"], "LocationID": s["LocationID"],
        "WarehouseID": s["WarehouseID"], "ShipVia": s["ShipVia"], "Description": s["Description"],
        "ShipmentDate": fmt_time(dt.datetime.combine(s["ShipmentDate"], dt.time()), offset),
        "CreatedDateTime": fmt_time(s["CreatedDateTime"], offset),
        "LastModifiedDateTime": fmt_time(s["LastModifiedDateTime"], offset),
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
