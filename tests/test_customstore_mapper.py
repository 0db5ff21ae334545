"""Custom Store XML mapper: pure parsing and building, literal fixtures, no I/O."""
import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stores.connectors.base import Address, NoticeItem, ProtocolError, ShipmentNotice
from stores.connectors.customstore import mapper

UTC = dt.timezone.utc
FIXTURES = Path(__file__).parent / "fixtures" / "customstore"


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def order_xml(order_id="1", number="1001", *, date="03/05/2024 14:07", modified=None, status="paid",
              total="10.00", items=None, ship_to=True, extra=""):
    items = items if items is not None else (
        "<Item><LineItemID>L1</LineItemID><SKU>S1</SKU><Name>Thing</Name>"
        "<Quantity>1</Quantity><UnitPrice>10.00</UnitPrice></Item>"
    )
    ship = (
        "<ShipTo><Name>Ann</Name><Address1>1 Main St</Address1><City>Austin</City>"
        "<State>TX</State><PostalCode>73301</PostalCode><Country>US</Country></ShipTo>"
    ) if ship_to else ""
    return (
        f"<Order><OrderID>{order_id}</OrderID><OrderNumber>{number}</OrderNumber>"
        f"<OrderDate>{date}</OrderDate><LastModified>{modified or date}</LastModified>"
        f"<OrderStatus>{status}</OrderStatus><OrderTotal>{total}</OrderTotal>{extra}"
        f"<Customer><CustomerCode>c{order_id}</CustomerCode>{ship}</Customer>"
        f"<Items>{items}</Items></Order>"
    )


def doc(*orders, pages='pages="1"'):
    return (f'<?xml version="1.0" encoding="utf-8"?><Orders {pages}>' + "".join(orders) + "</Orders>").encode()


def one(data, **kwargs):
    pages, records, skipped = mapper.parse_export(data, **kwargs)
    assert not skipped, skipped
    assert len(records) == 1
    return records[0]


# --- a realistic page ---------------------------------------------------------------------


class TestFixturePage:
    @pytest.fixture
    def parsed(self):
        return mapper.parse_export((FIXTURES / "export_page.xml").read_bytes(), default_weight_units="grams")

    def test_pages_and_records(self, parsed):
        pages, records, skipped = parsed
        assert pages == 2
        assert [r.external_id for r in records] == ["23000123", "23000124"]
        assert skipped == []

    def test_order_fields(self, parsed):
        order = parsed[1][0]
        assert order.order_number == "SO00123"
        assert order.order_date == utc(2024, 3, 5, 14, 7)
        assert order.modified_at == utc(2024, 3, 5, 14, 9, 30)
        assert order.store_status == "finalized"
        assert order.currency == "USD"
        assert order.order_total == Decimal("86.40")
        assert order.tax_amount == Decimal("4.50")
        assert order.shipping_amount == Decimal("9.95")
        assert order.requested_service == "Express & Insured"
        assert order.payment_method == "Credit Card"
        assert order.gift is True
        assert order.gift_message == "Joyeux anniversaire, Zoë ! 🎉"
        assert order.customer_code == "zoe@example.test"
        assert order.customer_email == "billing@example.test"

    def test_cdata_split_ampersand_and_lt_survive(self, parsed):
        order = parsed[1][0]
        assert order.customer_notes == "Ring twice & leave <here>. Then ]]> done"
        assert order.internal_notes == "VIP & repeat <A-03>"
        assert order.lines[0].name == "Tea & Biscuits ]]> gift box"
        assert order.lines[0].image_url == "https://images.example.test/tea-001.jpg?w=100&h=100"

    def test_addresses(self, parsed):
        order = parsed[1][0]
        assert order.ship_to == Address(
            name="山田 太郎", street1="Marienplatz 8", street2="3. OG", city="München",
            postal_code="80331", country="DE", phone="+49 89 5678",
        )
        assert order.ship_to.missing_fields() == []
        assert order.bill_to.name == "Zoë Ångström"
        assert order.bill_to.company == "Müller & Söhne <GmbH>"
        assert order.bill_to.email == "billing@example.test"

    def test_lines_weights_options_adjustment(self, parsed):
        tea, kettle, discount = parsed[1][0].lines
        assert (tea.line_item_id, tea.sku, tea.quantity, tea.unit_price) == ("23000123-1", "TEA-001", 2, Decimal("19.90"))
        assert tea.weight_grams == Decimal("850")
        assert tea.location == "A-01-03"
        assert tea.options == (("Colour", "緑"), ("Size", "L"))
        assert kettle.name == "Электрический чайник"
        assert kettle.weight_grams == Decimal("1133.981")  # 2.5 lb
        assert discount.adjustment is True and discount.unit_price == Decimal("-7.40")
        assert discount.weight_grams is None
        assert tea.adjustment is False and kettle.adjustment is False

    def test_raw_has_write_back_data_and_no_po_number(self, parsed):
        order = parsed[1][0]
        assert order.raw == {
            "order_id": "23000123",
            "order_number": "SO00123",
            "customer_code": "zoe@example.test",
            "line_item_ids": ["23000123-1", "23000123-2", "23000123-adj"],
            "custom_fields": {"CustomField1": "wholesale"},
        }
        assert "PO-77123" not in repr(order)

    def test_am_pm_and_missing_ship_to(self, parsed):
        void = parsed[1][1]
        assert void.order_date == utc(2024, 12, 31, 23, 59)
        assert void.modified_at == utc(2025, 1, 1, 0, 1)
        assert void.ship_to is None
        assert void.customer_email == ""
        assert void.order_total == Decimal("12.00")
        assert void.bill_to.name == "Seán O'Brien"


# --- paging -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, pages, count",
    [
        (doc(order_xml(), pages=""), 1, 1),  # missing pages attribute: one page
        (b'<Orders pages="0"/>', 0, 0),
        (b"<Orders/>", 0, 0),
        (b"<?xml version='1.0'?>\n<Orders>\n</Orders>", 0, 0),
        (b'<Orders pages="4"></Orders>', 4, 0),
        (doc(order_xml(), pages='pages=" 3 "'), 3, 1),
    ],
)
def test_page_counts(data, pages, count):
    got_pages, records, skipped = mapper.parse_export(data)
    assert (got_pages, len(records), skipped) == (pages, count, [])


def test_invalid_page_count():
    with pytest.raises(ProtocolError, match="not a page count"):
        mapper.parse_export(b'<Orders pages="many"></Orders>')


def test_duplicate_order_on_a_page_keeps_the_newest():
    data = doc(
        order_xml("7", modified="03/05/2024 10:00", status="paid"),
        order_xml("7", modified="03/05/2024 11:00", status="shipped"),
        order_xml("7", modified="03/05/2024 09:00", status="unpaid"),
    )
    pages, records, skipped = mapper.parse_export(data)
    assert [(r.external_id, r.store_status) for r in records] == [("7", "shipped")]


def test_bom_leading_whitespace_and_declared_encoding():
    latin = ('<?xml version="1.0" encoding="ISO-8859-1"?><Orders>' + order_xml(extra="<CustomerNotes>Crème</CustomerNotes>")
             + "</Orders>").encode("latin-1")
    assert one(b"\n\n  " + latin).customer_notes == "Crème"
    assert one(b"\xef\xbb\xbf" + doc(order_xml())).external_id == "1"


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("03/05/2024 14:07", utc(2024, 3, 5, 14, 7)),
        ("3/5/2024 14:07", utc(2024, 3, 5, 14, 7)),
        ("3/5/2024 2:07 PM", utc(2024, 3, 5, 14, 7)),
        ("3/5/2024 2:07:09 pm", utc(2024, 3, 5, 14, 7, 9)),
        ("03/05/2024 14:07:59", utc(2024, 3, 5, 14, 7, 59)),
        ("12/31/2024 12:00 AM", utc(2024, 12, 31, 0, 0)),
        ("12/31/2024 12:30 PM", utc(2024, 12, 31, 12, 30)),
        ("1/1/2025 11:59:59 P.M.", utc(2025, 1, 1, 23, 59, 59)),
        ("  3/5/2024   9:05  ", utc(2024, 3, 5, 9, 5)),
        ("3/5/2024", utc(2024, 3, 5)),
        ("2024-03-05T14:07:00+02:00", utc(2024, 3, 5, 12, 7)),
    ],
)
def test_tolerant_dates(text, expected):
    assert mapper.parse_store_datetime(text) == expected


@pytest.mark.parametrize("text", ["13/45/2024 25:99", "2/30/2024 10:00", "3/5/2024 13:00 PM", "3/5/2024 0:10 AM",
                                  "yesterday", "", "3/5/1850 10:00", "9999-12-31 23:59:59"])
def test_invalid_dates(text):
    with pytest.raises(ValueError):
        mapper.parse_store_datetime(text)


def test_dates_read_in_the_store_time_zone():
    ny = ZoneInfo("America/New_York")
    assert mapper.parse_store_datetime("07/01/2024 20:00", ny) == utc(2024, 7, 2, 0, 0)  # EDT, UTC-4
    assert mapper.parse_store_datetime("1/15/2024 8:00 PM", ny) == utc(2024, 1, 16, 1, 0)  # EST, UTC-5
    record = one(doc(order_xml(date="07/01/2024 20:00", modified="07/01/2024 23:30")), tz=ny)
    assert record.order_date == utc(2024, 7, 2, 0, 0)
    assert record.modified_at == utc(2024, 7, 2, 3, 30)
    assert record.modified_at.tzinfo is UTC
    tokyo = one(doc(order_xml(date="07/01/2024 08:00")), tz=ZoneInfo("Asia/Tokyo"))
    assert tokyo.order_date == utc(2024, 6, 30, 23, 0)


def test_missing_last_modified_falls_back_to_order_date():
    xml = doc(order_xml().replace("<LastModified>03/05/2024 14:07</LastModified>", ""))
    assert one(xml).modified_at == utc(2024, 3, 5, 14, 7)


def test_format_protocol_datetime():
    paris = dt.datetime(2024, 3, 5, 9, 7, 45, tzinfo=ZoneInfo("Europe/Paris"))
    assert mapper.format_protocol_datetime(paris) == "03/05/2024 08:07"
    assert mapper.format_protocol_datetime(dt.datetime(2024, 12, 1, 23, 5)) == "12/01/2024 23:05"


# --- weights and quantities ---------------------------------------------------------------


@pytest.mark.parametrize(
    "weight, units, grams",
    [
        ("1", "Pounds", "453.592"),
        ("1", "lb", "453.592"),
        ("2", "LBS", "907.185"),
        ("16", "Ounces", "453.592"),
        ("1", "oz", "28.350"),
        ("250", "Grams", "250"),
        ("250", "g", "250"),
        ("250", "gm", "250"),
        ("250", "gram", "250"),
        ("12.5", "grams", "12.5"),
        ("1.2", "kg", "1200.000"),
    ],
)
def test_weights_to_grams(weight, units, grams):
    items = (f"<Item><LineItemID>L1</LineItemID><SKU>S</SKU><Name>N</Name><Weight>{weight}</Weight>"
             f"<WeightUnits>{units}</WeightUnits><Quantity>1</Quantity><UnitPrice>1</UnitPrice></Item>")
    assert one(doc(order_xml(items=items))).lines[0].weight_grams == Decimal(grams)


def test_weight_without_units_uses_the_preset_default():
    items = "<Item><SKU>S</SKU><Name>N</Name><Weight>300</Weight><Quantity>1</Quantity><UnitPrice>1</UnitPrice></Item>"
    assert one(doc(order_xml(items=items)), default_weight_units="grams").lines[0].weight_grams == Decimal("300")
    assert one(doc(order_xml(items=items))).lines[0].weight_grams is None


def test_quantity_two_point_zero_is_a_whole_number():
    items = "<Item><SKU>S</SKU><Name>N</Name><Quantity>2.00</Quantity><UnitPrice>1</UnitPrice></Item>"
    assert one(doc(order_xml(items=items))).lines[0].quantity == 2


# --- bad orders: named, skipped, the others kept ------------------------------------------


@pytest.mark.parametrize(
    "order, field, detail",
    [
        (order_xml("9", "1009", total="12,34"), "OrderTotal", "'12,34' is not a number"),
        (order_xml("9", "1009", total="NaN"), "OrderTotal", "is not a number"),
        (order_xml("9", "1009", date="13/45/2024 25:99"), "OrderDate", "not a real date"),
        (order_xml("9", "1009", modified="soon"), "LastModified", "not a date"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU><Quantity>123456789012345678901234</Quantity></Item>"),
         "Item 1 (SKU S) Quantity", "not a plausible quantity"),
        (order_xml("9", "1009", date="12/31/9999 23:59"), "OrderDate", "not a plausible date"),
        (order_xml("9", "1009", total="123456789012345678901234.00"), "OrderTotal", "not a plausible amount"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU><Quantity>-2</Quantity></Item>"), "Quantity", "whole number"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU><Quantity>1.5</Quantity></Item>"), "Quantity", "whole number"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU><Quantity>two</Quantity></Item>"), "Quantity", "'two'"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU></Item>"), "Quantity", "whole number"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU><Quantity>1</Quantity><UnitPrice>$5</UnitPrice></Item>"),
         "UnitPrice", "not a number"),
        (order_xml("9", "1009", items="<Item><SKU>S</SKU><Quantity>1</Quantity><Weight>1</Weight>"
                                      "<WeightUnits>stone</WeightUnits></Item>"), "WeightUnits", "unknown weight unit"),
    ],
)
def test_bad_order_is_a_one_line_protocol_error_naming_order_and_field(order, field, detail):
    with pytest.raises(ProtocolError) as err:
        mapper.parse_export(doc(order_xml("1"), order, order_xml("2", "1002")))
    message = str(err.value)
    assert message.startswith("order 1009 (OrderID 9): ")
    assert field in message and detail in message
    assert "\n" not in message


def test_bad_orders_can_be_skipped_instead():
    bad = order_xml("9", "1009", total="12,34")
    pages, records, skipped = mapper.parse_export(doc(order_xml("1"), bad, order_xml("2", "1002")),
                                                  skip_bad_orders=True)
    assert [r.external_id for r in records] == ["1", "2"]
    assert [(s.external_id, s.order_number, s.reason) for s in skipped] == [
        ("9", "1009", "order 1009 (OrderID 9): OrderTotal '12,34' is not a number")]


def test_mapping_an_order_raises_protocol_error_naming_order_and_field():
    element = ET.fromstring(order_xml("9", "1009", total="ten"))
    with pytest.raises(ProtocolError) as err:
        mapper.map_order(mapper.order_fields(element))
    assert str(err.value) == "order 1009 (OrderID 9): OrderTotal 'ten' is not a number"


@pytest.mark.parametrize("order, reason", [
    (order_xml("9", ""), "OrderNumber is missing"),
    (order_xml("", "", total="bad"), "OrderNumber is missing"),
])
def test_unidentifiable_orders_are_skipped_not_fatal(order, reason):
    pages, records, skipped = mapper.parse_export(doc(order_xml("1"), order))
    assert [r.external_id for r in records] == ["1"]
    assert len(skipped) == 1 and reason in skipped[0].reason


def test_ship_to_absent_or_incomplete():
    no_ship = one(doc(order_xml(ship_to=False)))
    assert no_ship.ship_to is None
    partial = order_xml().replace("<City>Austin</City>", "").replace("<PostalCode>73301</PostalCode>", "<PostalCode/>")
    assert one(doc(partial)).ship_to.missing_fields() == ["city", "postal code"]


# --- hostile and broken documents ---------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Orders pages="1"><Order><OrderID>&lol4;</OrderID></Order></Orders>"""

QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "' + b"x" * 5000 + b'">]><Orders>'
             + b"&a;" * 2000 + b"</Orders>")

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE Orders [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<Orders><Order><OrderID>&xxe;</OrderID></Order></Orders>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Orders SYSTEM "http://attacker.example/evil.dtd">
<Orders pages="1"></Orders>"""


@pytest.mark.parametrize(
    "data, message",
    [
        (BILLION_LAUGHS, "declares entities (a possible XML bomb)"),
        (QUADRATIC, "declares entities"),
        (EXTERNAL, "declares entities"),
        (doc(order_xml(), order_xml("2"))[:-60], "truncated or invalid"),
        (b'<Orders pages="1"><Order><OrderID>1</Order></Orders>', "truncated or invalid"),
        (b"<Orders>\x00</Orders>", "truncated or invalid"),
        (b"<html><body>Welcome</body></html>", "starts with <html>, not <Orders>"),
        (b"<Error>Invalid credentials</Error>", "starts with <Error>"),
        (b"", "empty page"),
        (b"   \n", "empty page"),
        (b"Invalid username or password", "truncated or invalid"),
    ],
)
def test_hostile_or_broken_documents_are_one_line_protocol_errors(data, message):
    with pytest.raises(ProtocolError) as err:
        mapper.parse_export(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert len(str(err.value)) < 200


def test_external_dtd_is_never_fetched_and_harmless():
    assert mapper.parse_export(EXTERNAL_DTD) == (1, [], [])


@pytest.mark.parametrize("data, message", [
    # a parameter entity (pulling in an external DTD) and an unparsed entity are declarations too
    (b'<!DOCTYPE o [<!ENTITY % ext SYSTEM "http://attacker.example/x.dtd"> %ext;]><Orders/>', "declares entities"),
    (b'<!DOCTYPE o [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "x" NDATA n>]><Orders/>', "declares entities"),
    # declarations after comments and processing instructions, and after a byte-order mark
    (b'<?xml version="1.0"?><!-- c --><?pi x?>\n<!DOCTYPE o [<!ENTITY a "b">]><Orders>&a;</Orders>',
     "declares entities"),
    (b"\xef\xbb\xbf<!DOCTYPE o [<!ENTITY a 'b'>]><Orders>&a;</Orders>", "declares entities"),
    # an entity the external DTD (never read) would declare is not expanded: refused
    (EXTERNAL_DTD.replace(b"></Orders>", b"><Order><OrderNumber>&ext;</OrderNumber></Order></Orders>"),
     "truncated or invalid"),
    # a DOCTYPE anywhere but the prolog is not XML
    (b'<Orders><!DOCTYPE o [<!ENTITY a "b">]></Orders>', "truncated or invalid"),
])
def test_declarations_are_refused_before_the_document_is_parsed(data, message):
    with pytest.raises(ProtocolError, match=message.replace("(", r"\(")):
        mapper.parse_export(data)
    with pytest.raises(ProtocolError, match=message.replace("(", r"\(")):
        mapper.read_export(data)


def test_declaration_words_inside_the_orders_are_text():
    notes = "<![CDATA[<!DOCTYPE x [<!ENTITY a 'b'>]> &a;]]>"
    record = one(doc(order_xml(extra=f"<CustomerNotes>{notes}</CustomerNotes>")))
    assert record.customer_notes == "<!DOCTYPE x [<!ENTITY a 'b'>]> &a;"


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (b"", "text/xml", "empty page"),
        (b"  \r\n", "text/xml", "empty page"),
        (b"<!DOCTYPE html><html><body>Shop</body></html>", "text/html", "HTML, not XML"),
        (b"\n  <HTML><HEAD></HEAD></HTML>", "", "HTML, not XML"),
        (b"<p>Maintenance</p>", "text/html; charset=utf-8", "HTML, not XML"),
        (b"Invalid username or password", "text/plain", "text, not XML ('Invalid username or password')"),
    ],
)
def test_sniff_refuses_non_xml(body, content_type, message):
    with pytest.raises(ProtocolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mapper.sniff_reply(body, content_type)


@pytest.mark.parametrize("body, content_type", [
    (b'<?xml version="1.0"?><Orders/>', "text/html"),  # a store with a wrong content type
    (b"\xef\xbb\xbf<Orders pages=\"0\"/>", "application/xml"),
    (b"<Orders/>", ""),
])
def test_sniff_accepts_xml(body, content_type):
    # accepted: no ProtocolError, the bytes go on to the parser, which reads the Orders document
    assert mapper.sniff_reply(body, content_type) is None
    assert mapper.parse_document(body).tag == "Orders"


# --- ShipNotice ---------------------------------------------------------------------------


def make_notice(**overrides):
    values = dict(
        order_external_id="23000123",
        order_number="SO00123",
        carrier="UPS",
        service="Ground & <Saver>",
        tracking_number="1Z999AA10123456784",
        ship_date=dt.date(2024, 3, 6),
        label_created_at=dt.datetime(2024, 3, 6, 9, 30, 15, tzinfo=ZoneInfo("Europe/Paris")),
        items=(
            NoticeItem(line_item_id="23000123-2", sku="KTL-RU", name="Электрический чайник", quantity=1),
            NoticeItem(line_item_id="23000123-1", sku="TEA-001", name="Tea & Biscuits ]]> box", quantity=2),
        ),
        recipient=Address(name="山田 太郎", company="Müller & Söhne <GmbH>", street1="Marienplatz 8",
                          street2="3. OG", street3="Hinterhaus", city="München", postal_code="80331", country="DE"),
        shipping_cost=Decimal("7.5"),
        customer_code="",
        customer_notes="Ring twice & leave <here>\x0b",
        internal_notes="VIP",
        notify_customer=False,
        order_raw={"order_id": "23000123", "customer_code": "zoe@example.test"},
    )
    values.update(overrides)
    return ShipmentNotice(**values)


def test_ship_notice_fields():
    body = mapper.build_ship_notice(make_notice())
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<ShipNotice>')
    root = ET.fromstring(body)
    fields = {child.tag: child.text or "" for child in root if child.tag not in ("Recipient", "Items")}
    assert fields == {
        "OrderNumber": "SO00123",
        "OrderID": "23000123",
        "CustomerCode": "zoe@example.test",
        "CustomerNotes": "Ring twice & leave <here>",
        "InternalNotes": "VIP",
        "NotesToCustomer": "",
        "NotifyCustomer": "false",
        "LabelCreateDate": "03/06/2024 08:30",
        "ShipDate": "03/06/2024",
        "Carrier": "UPS",
        "Service": "Ground & <Saver>",
        "TrackingNumber": "1Z999AA10123456784",
        "ShippingCost": "7.50",
    }
    assert [child.tag for child in root][:13] == list(fields)  # protocol order
    recipient = {child.tag: child.text or "" for child in root.find("Recipient")}
    assert recipient == {
        "Name": "山田 太郎", "Company": "Müller & Söhne <GmbH>", "Address1": "Marienplatz 8",
        "Address2": "3. OG, Hinterhaus", "City": "München", "State": "", "PostalCode": "80331", "Country": "DE",
    }
    items = [{child.tag: child.text for child in item} for item in root.findall("Items/Item")]
    assert items == [
        {"SKU": "KTL-RU", "Name": "Электрический чайник", "Quantity": "1", "LineItemID": "23000123-2"},
        {"SKU": "TEA-001", "Name": "Tea & Biscuits ]]> box", "Quantity": "2", "LineItemID": "23000123-1"},
    ]


def test_ship_notice_is_escaped_not_raw():
    body = mapper.build_ship_notice(make_notice())
    assert b"Ground &amp; &lt;Saver&gt;" in body
    assert b"<here>" not in body
    assert "Электрический".encode() in body
    assert b"\x0b" not in body


def test_ship_notice_options():
    notice = make_notice(customer_code="C-9", notify_customer=True, shipping_cost=None, service="",
                         label_created_at=dt.datetime(2024, 3, 6, 23, 59), items=())
    root = ET.fromstring(mapper.build_ship_notice(notice))
    assert root.findtext("CustomerCode") == "C-9"
    assert root.findtext("NotifyCustomer") == "true"
    assert root.findtext("ShippingCost") == ""
    assert root.findtext("Service") == ""
    assert root.findtext("LabelCreateDate") == "03/06/2024 23:59"  # naive taken as UTC
    assert root.findall("Items/Item") == []


# --- what real producers send ---------------------------------------------------------------


def body_of(*orders, declaration='<?xml version="1.0" encoding="utf-8"?>') -> str:
    return declaration + '<Orders pages="1">' + "".join(orders) + "</Orders>"


@pytest.mark.parametrize("data", [
    body_of(order_xml(), declaration='<?xml version="1.0" encoding="utf-16"?>').encode("utf-8"),  # Magento
    b"\xef\xbb\xbf" + body_of(order_xml()).encode("utf-8"),
    "\ufeff".encode("utf-16-le") + body_of(order_xml(), declaration='<?xml version="1.0"?>').encode("utf-16-le"),
    body_of(order_xml(), declaration='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
])
def test_the_bytes_decide_not_a_declaration_that_contradicts_them(data):
    assert one(data).order_number == "1001"


def test_a_declared_single_byte_encoding_is_honoured():
    text = body_of(order_xml().replace("<Name>Ann</Name>", "<Name>Anaïs Müller</Name>"),
                   declaration='<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert one(text.encode("latin-1")).ship_to.name == "Anaïs Müller"
    with pytest.raises(ProtocolError, match="not valid UTF-8"):
        mapper.parse_export(text.replace("ISO-8859-1", "utf-8").encode("latin-1"))


def test_entities_are_still_refused_whatever_the_encoding():
    bomb = ('<?xml version="1.0" encoding="utf-16"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Orders pages="1">'
            "<Order><OrderNumber>&a;</OrderNumber></Order></Orders>")
    with pytest.raises(ProtocolError, match="entities"):
        mapper.parse_export(bomb.encode("utf-8"))
    with pytest.raises(ProtocolError, match="entities"):
        mapper.parse_export(b"\xff\xfe" + bomb.encode("utf-16-le"))


def test_default_namespace_and_element_names_in_another_case():
    text = body_of(order_xml()).replace("<Orders ", '<Orders xmlns="http://example.test/ns" ')
    assert one(text.encode()).order_number == "1001"
    lower = body_of(order_xml()).replace("<OrderNumber>", "<ordernumber>").replace("</OrderNumber>", "</ordernumber>")
    lower = lower.replace("<Items>", "<ITEMS>").replace("</Items>", "</ITEMS>")
    record = one(lower.encode())
    assert record.order_number == "1001" and [line.sku for line in record.lines] == ["S1"]


def test_no_order_id_makes_the_order_number_the_id():
    record = one(doc(order_xml(order_id="", number="000000123")))
    assert record.external_id == record.order_number == "000000123"


@pytest.mark.parametrize("country, state, expected", [
    ("United States", "Michigan", ("US", "MI")),
    ("us", "mi", ("US", "MI")),
    ("USA", "US-MI", ("US", "MI")),
    ("Canada", "Quebec", ("CA", "QC")),
    ("United Kingdom", "Greater London", ("GB", "Greater London")),  # free text stays as written
    ("Netherlands", "", ("NL", "")),
    ("UK", "", ("GB", "")), ("U.S.", "Ohio", ("US", "OH")), ("Bosnia &amp; Herzegovina", "", ("BA", "")),
    ("Hong Kong SAR China", "", ("HK", "")), ("St. Lucia", "", ("LC", "")), ("Russia", "", ("RU", "")),
    ("Japan", "Tokyo", ("JP", "Tokyo")),  # region codes only where labels need them (US, CA, AU, BR, MX)
])
def test_country_and_region_names_or_codes_become_iso_codes(country, state, expected):
    xml = order_xml().replace("<State>TX</State>", f"<State>{state}</State>").replace(
        "<Country>US</Country>", f"<Country>{country}</Country>")
    ship = one(doc(xml)).ship_to
    assert (ship.country, ship.state) == expected


def test_an_unknown_country_skips_that_order_with_its_reason():
    bad = order_xml("2", "1002").replace("<Country>US</Country>", "<Country>Narnia</Country>")
    pages, records, skipped = mapper.parse_export(doc(order_xml(), bad), skip_bad_orders=True)
    assert [r.order_number for r in records] == ["1001"]
    assert skipped[0].order_number == "1002" and "'Narnia' is not a country" in skipped[0].reason


def test_a_line_refunded_in_full_has_quantity_zero_and_the_order_imports():
    items = ("<Item><LineItemID>L1</LineItemID><SKU>A</SKU><Quantity>2</Quantity></Item>"
             "<Item><LineItemID>L2</LineItemID><SKU>B</SKU><Quantity>0</Quantity></Item>")
    assert [line.quantity for line in one(doc(order_xml(items=items))).lines] == [2, 0]


@pytest.mark.parametrize("text, expected", [
    ("3/5/2024 2:07 PM", dt.datetime(2024, 3, 5, 14, 7, tzinfo=UTC)),
    ("03/05/2024 14:07:09", dt.datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)),
    ("3/5/24 14:07", dt.datetime(2024, 3, 5, 14, 7, tzinfo=UTC)),  # the XSD allows 2-digit years
    ("2024-03-05 14:07:09", dt.datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)),  # Magento: the database's form
])
def test_dates_in_the_forms_real_producers_write(text, expected):
    assert mapper.parse_store_datetime(text) == expected


@pytest.mark.parametrize("body, refusal", [
    ("<?xml version='1.0' encoding='UTF-8'?><fault>\t\t<faultcode>400</faultcode>\n\t\t"
     "<faultstring>Order '000000999' does not exist</faultstring>\n</fault>", "Order '000000999' does not exist"),
    ('{"success":false,"data":"Invalid authentication key"}', "Invalid authentication key"),
    ('{"errors":{"base":["already fulfilled"]}}', '{"errors":{"base":["already fulfilled"]}}'),
    ("<Error><Message>No such order</Message></Error>", "No such order"),
    ("", None), ("success", None), ("<ok/>", None), ('{"success":true}', None), ("not <xml", None),
    ('{"success":true,"errors":[]}', None), ('{"error":null,"message":"Shipment created"}', None),
    ("<errors/>", None), ("<Error>0</Error>", None),
])
def test_a_shipnotify_reply_that_is_a_fault_document(body, refusal):
    assert mapper.shipnotify_fault(body) == refusal


@pytest.mark.parametrize("text", ["123456789012345678901234567890.5", "99999999999"])
def test_absurd_weights_and_amounts_are_unreadable_not_internal_errors(text):
    for xml in (order_xml(total=text),
                order_xml(items=f"<Item><SKU>S</SKU><Quantity>1</Quantity><Weight>{text}</Weight>"
                                "<WeightUnits>Grams</WeightUnits></Item>")):
        pages, records, skipped = mapper.parse_export(doc(xml), skip_bad_orders=True)
        assert not records and "not a plausible" in skipped[0].reason


def test_an_amount_that_rounds_past_the_column_is_unreadable():
    with pytest.raises(ValueError, match="not a plausible amount"):
        mapper.parse_amount("9999999999.995")


def test_odd_declarations_and_utf16_without_a_mark():
    assert one(body_of(order_xml(), declaration='<?xml version="1.0" encoding="undefined"?>').encode()).order_number
    no_mark = body_of(order_xml(), declaration='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-le")
    assert one(no_mark).order_number == "1001"
    assert one(body_of(order_xml(), declaration="<?xml version='1.0' encoding='utf-16' standalone='yes'?>")
               .encode()).order_number == "1001"


def test_the_page_count_is_read_whatever_the_attribute_case():
    pages, _, _ = mapper.parse_export(doc(order_xml(), pages='PAGES="3"'))
    assert pages == 3
