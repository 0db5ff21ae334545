"""The sandbox Acumatica's data: the Shipment entity as the sandbox knows it (statuses, the
top-level fields `$filter`/`$select` may name, what `$expand` accepts) and its seed data
(customers, items, carriers, boxes, and the seeded shipments with their deliberate gaps: no
city, no postal code, a US address without a state, transfers and receipts)."""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

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


def seed_shipments(rng: random.Random, count: int, anchor: dt.datetime) -> Iterator[dict]:
    """`count` seeded shipments ending near the server wall time `anchor`, oldest first, as
    add_shipment() keyword arguments. Lazy: the caller draws its ids from the same `rng` between
    two shipments, so the data stays the same for a given seed."""
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
        yield dict(
            status=status, created_at=created, modified_at=modified,
            ship_date=(created + dt.timedelta(days=rng.randint(0, 2))).date(),
            customer_id=customer[0], business_name=customer[1], attention=customer[2], email=customer[3],
            phone=customer[4], address=tuple(address), packages=packages, details=details,
            ship_via=SHIP_VIAS[rng.randrange(len(SHIP_VIAS))],
            type="Transfer" if i % 17 == 8 else "Shipment",
            operation="Receipt" if i % 19 == 9 else "Issue",
        )
