"""The sandbox Custom Store's data: its two presets (QuickBooks Commerce and a generic Custom
Store), the order and line records it holds, and the generator of realistic, deterministic
orders. No HTTP and no Django here."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

UTC = dt.timezone.utc


# --- presets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    name: str
    statuses: tuple[tuple[str, int], ...]  # (status, relative frequency) for generated orders
    open_status: str  # status of new orders (paid / finalized)
    shipped_status: str  # status once everything shipped
    void_statuses: tuple[str, ...]  # no shipment accepted in these (QuickBooks Commerce rules)
    weight_units: tuple[str, ...]
    stock_locations: tuple[str, ...]
    currency: str
    strict_fulfilment: bool  # QuickBooks Commerce's 422 validation on shipnotify
    id_base: int
    number_format: str

    @property
    def status_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.statuses)


PRESETS = {
    "quickbooks_commerce": Preset(
        name="quickbooks_commerce",
        statuses=(("finalized", 60), ("fulfilled", 20), ("void", 10), ("deleted", 10)),
        open_status="finalized",
        shipped_status="fulfilled",
        void_statuses=("void", "deleted"),
        weight_units=("Grams",),
        stock_locations=("4101", "4102", "4103"),
        currency="USD",
        strict_fulfilment=True,
        id_base=23_000_000,
        number_format="SO{n:05d}",
    ),
    "custom_store": Preset(
        name="custom_store",
        statuses=(("paid", 45), ("unpaid", 15), ("on-hold", 10), ("shipped", 20), ("cancelled", 10)),
        open_status="paid",
        shipped_status="shipped",
        void_statuses=(),
        weight_units=("Grams", "g", "gm"),  # grams, spelt the ways real stores do
        stock_locations=("1", "2"),
        currency="EUR",
        strict_fulfilment=False,
        id_base=500,
        number_format="{n}",
    ),
}


# --- orders -------------------------------------------------------------------------------


@dataclass
class SandboxLine:
    line_item_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    weight: Decimal | None = None  # per unit, in weight_units
    weight_units: str = "Grams"
    location: str = ""
    adjustment: bool = False
    image_url: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    shipped: int = 0  # units already covered by accepted shipment notices

    @property
    def unshipped(self) -> int:
        return max(0, self.quantity - self.shipped)


@dataclass
class SandboxOrder:
    order_id: str
    order_number: str
    order_date: dt.datetime  # aware UTC
    last_modified: dt.datetime  # aware UTC
    status: str
    stock_location_id: str
    lines: list[SandboxLine]
    customer_code: str
    bill_to: dict[str, str]
    ship_to: dict[str, str] | None  # None: no <ShipTo> element at all
    currency: str = "USD"
    payment_method: str = "Credit Card"
    shipping_method: str = "Standard"
    tax_amount: Decimal = Decimal("0.00")
    shipping_amount: Decimal = Decimal("0.00")
    customer_notes: str = ""
    internal_notes: str = ""
    gift: bool = False
    gift_message: str = ""
    po_number: str = ""  # sent like the real feed did; ShipBridge must not import it

    @property
    def order_total(self) -> Decimal:
        goods = sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))
        return (goods + self.tax_amount + self.shipping_amount).quantize(Decimal("0.01"))

    def line(self, line_item_id: str) -> SandboxLine | None:
        return next((line for line in self.lines if line.line_item_id == line_item_id), None)


FIRST_NAMES = ("Zoë", "José", "Łukasz", "Søren", "Ana", "Björn", "Chloé", "Oluwaseun", "Mei", "Ahmed",
               "Nguyễn", "Σοφία", "Дмитрий", "太郎", "Priya", "Seán", "Ines", "Mark")
LAST_NAMES = ("Ångström", "Müller", "Żółć", "Kierkegaard", "O'Brien", "García", "Dvořák", "山田",
              "Иванова", "Παπαδόπουλος", "Smith & Sons", "Nakamura", "van der Berg", "Ng")
COMPANIES = ("", "", "", "Müller & Söhne GmbH", "Acme <Wholesale> Ltd", "Café ]]> Bar", "株式会社サンプル",
             "O'Reilly & Co", "")
PLACES = (
    ("US", "NY", "New York", "10001", "350 5th Ave"),
    ("US", "CA", "San Francisco", "94103", "1 Market St"),
    ("US", "TX", "Austin", "73301", "500 Congress Ave"),
    ("CA", "QC", "Montréal", "H2X 1Y4", "1234 Rue Saint-Denis"),
    ("GB", "", "London", "SW1A 1AA", "10 Downing Street"),
    ("DE", "", "München", "80331", "Marienplatz 8"),
    ("FR", "", "Paris", "75004", "4 Place de l'Hôtel de Ville"),
    ("JP", "", "東京都", "100-0001", "千代田1-1"),
    ("AU", "NSW", "Sydney", "2000", "1 Macquarie St"),
)
CATALOGUE = (
    ("TEA-001", "Tea & Biscuits gift box", "19.90", 850),
    ("CBL-USBC", "Cable <USB-C> 2 m", "9.99", 60),
    ("PST-CDATA", "Poster ]]> limited edition", "24.00", 300),
    ("KTL-RU", "Электрический чайник", "49.50", 1400),
    ("MTC-100", "抹茶 Matcha 100 g", "18.00", 120),
    ("CRM-KIT", "Crème brûlée kit", "32.00", 950),
    ("MUG-BLU", "Mug, blue \"Classic\"", "12.50", 350),
    ("SOCK-3", "Socks (3 pairs)", "14.00", 180),
    ("BTL-750", "Steel bottle 750 ml", "27.90", 410),
    ("NBK-A5", "Notebook A5 — dotted", "8.40", 220),
)
SERVICES = ("Standard", "Express", "Next Day", "Economy (5–7 days)", "")
NOTES = ("", "", "", "Leave at the door & ring twice", "Please use <fragile> tape", "Gift ]]> wrap please",
         "Ne pas plier — merci !", "請小心輕放")


def generate_orders(
    count: int,
    now: dt.datetime | None = None,
    seed: int = 1,
    *,
    preset: str = "quickbooks_commerce",
    first_number: int = 1,
    spread: dt.timedelta = dt.timedelta(days=10),
    status: str | None = None,
) -> list[SandboxOrder]:
    """`count` realistic orders, deterministic for a given (seed, now, first_number): modified
    during `spread` before `now`, statuses drawn from the preset (or all `status`).
    Every 11th has no ShipTo, every 13th no city, every 17th no postal code; one in 7 has a
    discount (adjustment) line; names carry unicode, `&`, `<` and `]]>`."""
    p = PRESETS[preset]
    now = _minute(now or dt.datetime.now(UTC))
    rng = random.Random(f"{seed}:{first_number}")
    names, weights = zip(*p.statuses)
    orders = []
    for i in range(count):
        n = first_number + i
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        full_name = f"{first} {last}"
        email = f"customer{n}@example.test"
        country, state, city, postal, street = rng.choice(PLACES)
        company = rng.choice(COMPANIES)
        ship_to = None
        if n % 11 != 3:
            ship_to = {
                "Name": full_name, "Company": company, "Address1": street,
                "Address2": rng.choice(("", "", "Apt 4B", "2nd floor")), "City": city, "State": state,
                "PostalCode": postal, "Country": country, "Phone": f"+1 555 01{n % 100:02d}",
            }
            if n % 13 == 5:
                ship_to["City"] = ""
            if n % 17 == 7:
                ship_to["PostalCode"] = ""
        lines = []
        for index, (sku, name, price, grams) in enumerate(rng.sample(CATALOGUE, rng.randint(1, 4)), start=1):
            units = rng.choice(p.weight_units)
            lines.append(SandboxLine(
                line_item_id=f"{p.id_base + n}-{index}",
                sku=sku, name=name, quantity=rng.randint(1, 3), unit_price=Decimal(price),
                weight=_from_grams(grams, units), weight_units=units,
                location=_bin_location(sku),
                image_url=f"https://images.example.test/{sku.lower()}.jpg",
                options=[("Colour", rng.choice(("Blue", "Rouge", "緑")))] if rng.random() < 0.3 else [],
            ))
        if n % 7 == 2:
            lines.append(SandboxLine(
                line_item_id=f"{p.id_base + n}-adj", sku="", name="Discount 10% & free <gift>", quantity=1,
                unit_price=Decimal("-5.00"), weight=None, adjustment=True,
            ))
        order_date = now - dt.timedelta(minutes=rng.randint(1, max(2, int(spread.total_seconds() // 60))))
        modified = min(now, order_date + dt.timedelta(minutes=rng.randint(0, 180)))
        order_status = status or rng.choices(names, weights)[0]
        if order_status == p.shipped_status:
            for line in lines:
                line.shipped = line.quantity
        orders.append(SandboxOrder(
            order_id=str(p.id_base + n),
            order_number=p.number_format.format(n=n),
            order_date=order_date,
            last_modified=modified,
            status=order_status,
            stock_location_id=rng.choice(p.stock_locations),
            lines=lines,
            customer_code=email,
            bill_to={"Name": full_name, "Company": company, "Phone": f"+1 555 02{n % 100:02d}", "Email": email},
            ship_to=ship_to,
            currency=p.currency,
            payment_method=rng.choice(("Credit Card", "PayPal", "Bank transfer")),
            shipping_method=rng.choice(SERVICES),
            tax_amount=Decimal(rng.randint(0, 900)) / 100,
            shipping_amount=Decimal(rng.choice((0, 495, 995))) / 100,
            customer_notes=rng.choice(NOTES),
            internal_notes=rng.choice(("", "", "VIP customer", "Check stock <A-03> first")),
            gift=n % 9 == 4,
            gift_message="Happy birthday, Zoë! ]]> 🎉" if n % 9 == 4 else "",
            po_number=f"PO-{70000 + n}" if p.strict_fulfilment else "",
        ))
    return orders


def _bin_location(sku: str) -> str:
    """A SKU lives in one bin, like in a real warehouse (stable across orders and runs)."""
    code = sum(ord(ch) * (i + 1) for i, ch in enumerate(sku))
    return f"{'ABC'[code % 3]}-{code % 12 + 1:02d}-{code % 6 + 1:02d}"


def _from_grams(grams: int, units: str) -> Decimal:
    key = units.lower()
    if key in ("pounds", "lb"):
        return (Decimal(grams) / Decimal("453.59237")).quantize(Decimal("0.01"))
    if key in ("ounces", "oz"):
        return (Decimal(grams) / Decimal("28.349523125")).quantize(Decimal("0.1"))
    return Decimal(grams)


def _aware(value: dt.datetime) -> dt.datetime:
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)


def _minute(value: dt.datetime) -> dt.datetime:
    """Sandbox timestamps are whole minutes: what the store holds is what it exports."""
    return _aware(value).replace(second=0, microsecond=0)
