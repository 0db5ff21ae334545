"""Acumatica mapper: pure JSON ⇄ records, literal fixtures, no I/O."""
import copy
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from stores.connectors.acumatica import mapper
from stores.connectors.acumatica.connector import RELEASES, AcumaticaConnector
from stores.connectors.base import ConfigurationError, OrderRecord, ProtocolError

UTC = dt.timezone.utc
CHICAGO = ZoneInfo("America/Chicago")
FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "acumatica" / "shipment_000058.json").read_text())


def shipment(**changes):
    data = copy.deepcopy(FIXTURE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# --- release → endpoint version ------------------------------------------------------------


def test_every_release_has_an_endpoint_version_it_actually_offers():
    assert tuple(mapper.ENDPOINT_VERSION_BY_RELEASE) == RELEASES
    assert tuple(mapper.RELEASE_ENDPOINT_VERSIONS) == RELEASES
    for release, version in mapper.ENDPOINT_VERSION_BY_RELEASE.items():
        assert version in mapper.RELEASE_ENDPOINT_VERSIONS[release]


@pytest.mark.parametrize(
    "release, version",
    [("2018 R2", "18.200.001"), ("2019 R1", "18.200.001"), ("2019 R2", "18.200.001"), ("2020 R1", "18.200.001"),
     ("2020 R2", "20.200.001"), ("2021 R1", "20.200.001"), ("2021 R2", "20.200.001")],
)
def test_release_to_endpoint_version(release, version):
    assert mapper.endpoint_version(release) == version


def test_2018_r2_also_has_17_200_001_and_no_20_200_001():
    assert mapper.RELEASE_ENDPOINT_VERSIONS["2018 R2"] == ("17.200.001", "18.200.001")
    assert "20.200.001" not in mapper.RELEASE_ENDPOINT_VERSIONS["2020 R1"]


def test_unknown_release_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown Acumatica release '2022 R1'"):
        mapper.endpoint_version("2022 R1")


# --- $filter ---------------------------------------------------------------------------------


def test_filter_is_wall_clock_time_in_the_store_zone_without_offset():
    # 04:50–05:00 UTC on 16 July is 23:50–00:00 in Chicago (CDT, UTC−5)
    text = mapper.build_filter(
        start=dt.datetime(2021, 7, 16, 4, 50, tzinfo=UTC), end=dt.datetime(2021, 7, 16, 5, 0, tzinfo=UTC),
        tz=CHICAGO, statuses=["Open", "On Hold"],
    )
    assert text == (
        "LastModifiedDateTime ge datetimeoffset'2021-07-15T23:50:00' and "
        "LastModifiedDateTime le datetimeoffset'2021-07-16T00:00:00' and "
        "(Status eq 'Open' or Status eq 'On Hold')"
    )
    assert "+" not in text and "Z'" not in text


def test_filter_in_winter_uses_standard_time_and_gt_when_asked():
    text = mapper.build_filter(start=dt.datetime(2021, 1, 10, 12, 0, tzinfo=UTC), end=None, tz=CHICAGO,
                               start_inclusive=False)
    assert text == "LastModifiedDateTime gt datetimeoffset'2021-01-10T06:00:00'"


def test_filter_end_keeps_its_last_partial_second_start_rounds_down():
    text = mapper.build_filter(start=dt.datetime(2021, 7, 1, 10, 0, 0, 900_000, tzinfo=UTC),
                               end=dt.datetime(2021, 7, 1, 11, 0, 0, 100_000, tzinfo=UTC), tz=ZoneInfo("UTC"))
    assert "ge datetimeoffset'2021-07-01T10:00:00'" in text
    assert "le datetimeoffset'2021-07-01T11:00:01'" in text


def test_filter_status_quotes_are_doubled_and_duplicates_dropped():
    text = mapper.build_filter(start=None, end=None, tz=CHICAGO, statuses=["Open", "Ready 'n' waiting", "Open", ""])
    assert text == "(Status eq 'Open' or Status eq 'Ready ''n'' waiting')"


def test_filter_without_statuses_has_no_status_condition():
    assert mapper.build_filter(start=None, end=None, tz=CHICAGO, statuses=[]) == ""


def test_wall_literal_reads_a_naive_datetime_as_utc():
    assert mapper.wall_literal(dt.datetime(2021, 7, 1, 12, 0), CHICAGO) == "2021-07-01T07:00:00"


# --- Shipment → OrderRecord --------------------------------------------------------------------


def test_shipment_becomes_one_order_with_chicago_wall_time_read_as_utc():
    record = mapper.shipment_to_record(FIXTURE, tz=CHICAGO)
    assert record.external_id == record.order_number == "000058"
    # 23:55:12.13 in Chicago on 15 July (CDT, UTC−5) is 04:55:12.13 UTC on 16 July
    assert record.order_date == dt.datetime(2021, 7, 16, 4, 55, 12, 130_000, tzinfo=UTC)
    assert record.modified_at == dt.datetime(2021, 7, 16, 4, 58, 1, 500_000, tzinfo=UTC)
    assert record.order_date.tzinfo == UTC
    assert record.store_status == "Open"
    assert record.customer_code == "ABARTENDE"
    assert record.requested_service == "UPSGROUND"


def test_timestamps_ignore_the_offset_the_server_sends():
    data = shipment(CreatedDateTime={"value": "2021-07-15T23:55:12.13+00:00"})
    assert mapper.shipment_to_record(data, tz=CHICAGO).order_date == dt.datetime(
        2021, 7, 16, 4, 55, 12, 130_000, tzinfo=UTC)
    # a cloud instance (true UTC with +00:00) and a store zone of UTC stay right
    assert mapper.shipment_to_record(data, tz=ZoneInfo("UTC")).order_date == dt.datetime(
        2021, 7, 15, 23, 55, 12, 130_000, tzinfo=UTC)


def test_seven_digit_fractions_and_missing_seconds_are_read():
    assert mapper.wall_to_utc("2021-07-15T10:31:28.1234567", ZoneInfo("UTC")) == dt.datetime(
        2021, 7, 15, 10, 31, 28, 123_456, tzinfo=UTC)
    assert mapper.wall_to_utc("2021-07-15T10:31", ZoneInfo("UTC")) == dt.datetime(2021, 7, 15, 10, 31, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2021-07-15T00:00:00-05:00", "2021-07-15T00:00:00+03:00", "2021-07-15T00:00:00",
                                   "2021-07-15T23:30:00+00:00", "2021-07-15"])
def test_ship_date_keeps_the_date_part_whatever_the_zone(value):
    data = shipment(ShipmentDate={"value": value})
    for tz in (CHICAGO, ZoneInfo("Asia/Tokyo"), ZoneInfo("UTC")):
        assert mapper.shipment_to_record(data, tz=tz).ship_date == dt.date(2021, 7, 15)


def test_ship_to_name_falls_back_to_business_name():
    record = mapper.shipment_to_record(FIXTURE, tz=CHICAGO)
    ship = record.ship_to
    assert ship.name == "USA Bartending School"  # Attention is empty ({})
    assert ship.company == "USA Bartending School"
    assert (ship.street1, ship.street2, ship.city, ship.state, ship.postal_code, ship.country) == (
        "201 Lower Wacker Dr", "Suite 4", "Chicago", "IL", "60601", "US")
    assert ship.phone == "+1 (312) 555-0101" and ship.email == "orders@bartending.example"
    assert record.customer_email == "orders@bartending.example"
    assert ship.missing_fields() == []


def test_ship_to_name_is_attention_when_given():
    data = shipment()
    data["ShippingSettings"]["ShipToContact"]["Attention"] = {"value": "Maria Lopez"}
    ship = mapper.shipment_to_record(data, tz=CHICAGO).ship_to
    assert ship.name == "Maria Lopez" and ship.company == "USA Bartending School"


def test_empty_fields_give_an_incomplete_address_not_an_error():
    data = shipment()
    data["ShippingSettings"]["ShipToAddress"]["City"] = {}
    data["ShippingSettings"]["ShipToAddress"]["State"] = {}
    assert mapper.shipment_to_record(data, tz=CHICAGO).ship_to.missing_fields() == ["city", "state"]
    no_settings = mapper.shipment_to_record(shipment(ShippingSettings=None), tz=CHICAGO)
    assert no_settings.ship_to.missing_fields() == ["street", "city", "postal code", "country"]


def test_lines_fractional_rounded_up_and_noted_zero_dropped():
    record = mapper.shipment_to_record(FIXTURE, tz=CHICAGO)
    assert [(line.line_item_id, line.sku, line.name, line.quantity) for line in record.lines] == [
        ("1", "AALEGO500", "Lego 500 piece set", 2),
        ("2", "COFFEEBEAN", "Coffee beans, 1 kg", 2),
    ]
    assert "line 2 (COFFEEBEAN): quantity 1.5 rounded up to 2" in record.internal_notes
    assert "line 3 (PENBLACK) dropped" in record.internal_notes
    assert record.raw["notes"] == record.internal_notes.split("; ")


def test_raw_keeps_what_the_write_back_needs_and_is_json_safe():
    record = mapper.shipment_to_record(FIXTURE, tz=CHICAGO)
    assert json.loads(json.dumps(record.raw)) == record.raw
    assert record.raw["id"] == "5f2b8c6e-7d0a-4c1e-9f3b-2a6d1e4c8b90"
    assert record.raw["ShipmentNbr"] == "000058"
    assert record.raw["packages"] == [
        {"id": "b7c8d9e0-0001-4000-8000-0000000000a1", "BoxID": "LARGE", "TrackingNbr": "1Z999AA10123456784"},
        {"id": "b7c8d9e0-0002-4000-8000-0000000000a2", "BoxID": "SMALL", "TrackingNbr": ""},
    ]
    assert record.raw["lines"][0] == {"LineNbr": "1", "InventoryID": "AALEGO500", "OrderType": "SO",
                                      "OrderNbr": "SO003045", "UOM": "EA"}
    assert record.raw["lines"][2]["OrderNbr"] == "SO003046"  # dropped lines still listed


def test_missing_created_falls_back_to_last_modified():
    record = mapper.shipment_to_record(shipment(CreatedDateTime={}), tz=CHICAGO)
    assert record.order_date == record.modified_at


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ShipmentNbr": {}}, "a shipment without ShipmentNbr"),
        ({"ShipmentNbr": "000058"}, "field ShipmentNbr is not a {\"value\": …} object"),
        ({"CreatedDateTime": {}, "LastModifiedDateTime": {}}, "neither CreatedDateTime nor LastModifiedDateTime"),
        ({"CreatedDateTime": {"value": "yesterday"}}, "CreatedDateTime is not a timestamp"),
        ({"CreatedDateTime": {"value": "2021-02-30T10:00:00"}}, "not a valid timestamp"),
        ({"Status": {"value": {"nested": 1}}}, "field Status should be text"),
        ({"Details": {"LineNbr": 1}}, "Details should be a list of JSON objects"),
        ({"Packages": [{"id": 5}]}, "package 1 has a non-text id"),
        ({"ShippingSettings": []}, "ShippingSettings should be a JSON object"),
    ],
)
def test_malformed_shipment_is_a_one_line_protocol_error(changes, message):
    with pytest.raises(ProtocolError) as info:
        mapper.shipment_to_record(shipment(**changes), tz=CHICAGO)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_quantity_is_a_protocol_error():
    data = shipment()
    data["Details"][0]["ShippedQty"] = {"value": "two"}
    with pytest.raises(ProtocolError, match="line 1: field ShippedQty should be a number"):
        mapper.shipment_to_record(data, tz=CHICAGO)


def test_not_an_object_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="should be a JSON object"):
        mapper.shipment_to_record(["000058"], tz=CHICAGO)


def test_transfers_and_receipts_are_not_customer_shipments():
    assert mapper.skip_reason(FIXTURE) is None
    assert "transfer" in mapper.skip_reason(shipment(Type={"value": "Transfer"}))
    assert "receipt" in mapper.skip_reason(shipment(Operation={"value": "Receipt"}))


# --- replies ---------------------------------------------------------------------------------


def test_parse_json_errors_are_one_line():
    with pytest.raises(ProtocolError, match=r"is not JSON \(an HTML page\)"):
        mapper.parse_json(b"<html><title>Login</title></html>")
    with pytest.raises(ProtocolError, match="is empty"):
        mapper.parse_json(b"")
    assert mapper.parse_json(b'[{"ShipmentNbr": {"value": "1"}}]') == [{"ShipmentNbr": {"value": "1"}}]


def test_shipment_list_and_keys():
    assert mapper.shipment_numbers([{"id": "x", "ShipmentNbr": {"value": "000001"}},
                                    {"ShipmentNbr": {"value": "000002"}}]) == ["000001", "000002"]
    with pytest.raises(ProtocolError, match="should be a JSON array"):
        mapper.shipment_list({"value": []})
    with pytest.raises(ProtocolError, match="item 2 has no ShipmentNbr"):
        mapper.shipment_numbers([{"ShipmentNbr": {"value": "1"}}, {"ShipmentNbr": {}}])


def test_error_words_keep_the_store_words():
    assert mapper.error_words(json.dumps({
        "message": "An error has occurred.", "exceptionMessage": "Error: Invalid credentials. Please try again.",
        "exceptionType": "PX.Data.PXException", "stackTrace": "   at PX\r\n   at Y"})) == (
        "Error: Invalid credentials. Please try again.")
    assert mapper.error_words(json.dumps({
        "message": "The request is invalid.",
        "modelState": {"entity.Packages[0].TrackingNbr": ["The value is too long."]}})) == (
        "The request is invalid.; entity.Packages[0].TrackingNbr: The value is too long.")
    words = mapper.error_words(json.dumps({
        "id": "x", "Packages": [{"id": "p", "TrackingNbr": {"value": "1Z", "error": "The grid is read-only."}}],
        "error": "Updating 'Shipment' record raised at least one error."}))
    assert words == ("Updating 'Shipment' record raised at least one error.; "
                     "Packages[1].TrackingNbr: The grid is read-only.")
    assert mapper.error_words("<html><title>502 Bad Gateway</title></html>") == "an HTML page (502 Bad Gateway)"


def test_embedded_error_words_survive_truncation():
    text = ('Acumatica at http://x answered HTTP 500: {"message":"An error has occurred.",'
            '"exceptionMessage":"Error: The proper company ID cannot be determined. Please ensure that the comp…')
    assert mapper.embedded_error_words(text).startswith("Error: The proper company ID cannot be determined.")


# --- write-back ------------------------------------------------------------------------------


def test_tracking_payload_names_the_existing_package_and_never_a_row_without_id():
    assert mapper.tracking_payload(shipment_id="S1", shipment_nbr="000058", package_id="P1", tracking="1Z") == {
        "id": "S1", "Packages": [{"id": "P1", "TrackingNbr": {"value": "1Z"}}]}
    assert mapper.tracking_payload(shipment_id="", shipment_nbr="000058", package_id="P1", tracking="1Z")[
        "ShipmentNbr"] == {"value": "000058"}
    with pytest.raises(ValueError):
        mapper.tracking_payload(shipment_id="S1", shipment_nbr="000058", package_id="", tracking="1Z")
    assert mapper.confirm_payload("000058") == {"entity": {"ShipmentNbr": {"value": "000058"}}, "parameters": {}}


def test_choose_package():
    a = {"id": "A", "BoxID": "LARGE", "TrackingNbr": "1ZOLD"}
    b = {"id": "B", "BoxID": "SMALL", "TrackingNbr": ""}
    assert mapper.choose_package([], "1ZNEW") == (None, False)
    assert mapper.choose_package([b], "1ZNEW") == (b, False)
    assert mapper.choose_package([a, b], "1ZNEW") == (b, False)  # the first without tracking
    assert mapper.choose_package([a], "1ZNEW") == (a, False)  # a single package: that one
    assert mapper.choose_package([a, b], "1ZOLD") == (a, True)  # already written: nothing to do


# --- time-zone warning -----------------------------------------------------------------------


def _record(created: dt.datetime, modified: dt.datetime) -> OrderRecord:
    return OrderRecord(external_id="1", order_number="1", order_date=created, modified_at=modified,
                       store_status="Open", ship_to=None)


def test_timestamps_in_future_flags_a_server_ahead_of_the_store_zone():
    now = dt.datetime(2021, 7, 15, 12, 0, tzinfo=UTC)
    # a server in Paris (UTC+2) wrote 13:30 wall time at 11:30 UTC; read with the zone left at UTC
    wall = {"value": "2021-07-15T13:30:00"}
    data = shipment(CreatedDateTime=wall, LastModifiedDateTime=wall)
    wrong = mapper.shipment_to_record(data, tz=ZoneInfo("UTC"))
    right = mapper.shipment_to_record(data, tz=ZoneInfo("Europe/Paris"))
    assert mapper.timestamps_in_future(wrong, now) is True
    assert mapper.timestamps_in_future(right, now) is False
    # within the tolerance (clock skew) is not a warning
    assert mapper.timestamps_in_future(_record(now, now + dt.timedelta(minutes=2)), now) is False
    assert mapper.timestamps_in_future(_record(now, now + dt.timedelta(minutes=2)), now,
                                       tolerance=dt.timedelta(0)) is True


# --- settings --------------------------------------------------------------------------------

GOOD = {"base_url": "https://erp.example.com/AcumaticaERP/", "username": "u", "password": "p", "company": "C",
        "branch": "B", "version": "2020 R2"}


def test_clean_settings_strips_the_trailing_slash():
    assert AcumaticaConnector.clean_settings(GOOD)["base_url"] == "https://erp.example.com/AcumaticaERP"


@pytest.mark.parametrize("url", ["erp.example.com", "ftp://erp.example.com", "https://", "https://x.example/?a=1"])
def test_clean_settings_refuses_a_bad_base_url(url):
    with pytest.raises(ConfigurationError, match="base_url"):
        AcumaticaConnector.clean_settings({**GOOD, "base_url": url})


def test_clean_settings_refuses_an_unknown_release():
    with pytest.raises(ConfigurationError, match="'version' must be one of: 2018 R2"):
        AcumaticaConnector.clean_settings({**GOOD, "version": "2022 R1"})
