"""Acumatica connector against the sandbox Acumatica over loopback HTTP."""
import datetime as dt
import threading
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from stores.connectors.acumatica import connector as acumatica_connector
from stores.connectors.acumatica import mapper
from stores.connectors.acumatica.client import AcumaticaClient, _query
from stores.connectors.acumatica.connector import AcumaticaConnector
from stores.connectors.base import (
    Address, AuthError, ConfigurationError, NoticeItem, ShipmentNotice, StoreRejected, TransientError, Window,
)
from stores.sandbox.acumatica import SANDBOX_BRANCH, SANDBOX_PASSWORD, SANDBOX_TENANT, SANDBOX_USERNAME
from tests.utils import login_requests, shipment_requests, wait_for

UTC = dt.timezone.utc
CHICAGO = "America/Chicago"
WANTED = ["Open", "On Hold"]

pytestmark = [pytest.mark.usefixtures("fast_retries"), pytest.mark.retries(attempts=3),
              pytest.mark.sandbox("acumatica", release="2021 R2", shipments=40)]


def connect(sandbox, *, release=None, tz="UTC", page_size=100, **overrides) -> AcumaticaConnector:
    settings = {"base_url": sandbox.url, "username": SANDBOX_USERNAME, "company": SANDBOX_TENANT,
                "branch": SANDBOX_BRANCH, "version": release or sandbox.state.release}
    secrets = {"password": SANDBOX_PASSWORD}
    for key, value in overrides.items():
        (secrets if key == "password" else settings)[key] = value
    connector = AcumaticaConnector(settings=settings, secrets=secrets, timezone=ZoneInfo(tz))
    connector.page_size = page_size
    connector.confirm_poll_interval = 0.01
    return connector


def wide_window() -> Window:
    now = dt.datetime.now(UTC)
    return Window(start=now - dt.timedelta(days=60), end=now + dt.timedelta(days=1))


def fetch_all(connector, window=None, statuses=WANTED):
    return list(connector.fetch_orders(window or wide_window(), statuses=statuses))


def expected_numbers(state, statuses=WANTED):
    return {n for n, s in state.shipments.items()
            if s["Status"] in statuses and s["Type"] == "Shipment" and s["Operation"] == "Issue"}


def notice_for(nbr, raw=None, tracking="1Z999AA10123456784") -> ShipmentNotice:
    return ShipmentNotice(
        order_external_id=nbr, order_number=nbr, carrier="ups", service="ups_ground", tracking_number=tracking,
        ship_date=dt.date(2021, 7, 16), label_created_at=dt.datetime(2021, 7, 16, 15, 0, tzinfo=UTC),
        items=(NoticeItem("1", "AALEGO500", "Lego 500 piece set", 2),), recipient=Address(name="Maria Lopez"),
        order_raw=raw or {"ShipmentNbr": nbr},
    )


# --- fetching ------------------------------------------------------------------------------


@pytest.mark.parametrize("release, version", [("2018 R2", "18.200.001"), ("2021 R2", "20.200.001")])
def test_fetch_pages_every_wanted_shipment_once(sandboxes, release, version):
    sandbox = sandboxes("acumatica", release=release, shipments=40)
    connector = connect(sandbox, page_size=7)
    connector.page_overlap = 2

    pages = fetch_all(connector)

    ids = [r.external_id for p in pages for r in p.records]
    assert len(ids) == len(set(ids)), "duplicates across overlapping pages"
    assert set(ids) == expected_numbers(sandbox.state)
    assert {r.store_status for p in pages for r in p.records} == {"Open", "On Hold"}
    skipped = {s.external_id: s.reason for p in pages for s in p.skipped}
    assert skipped and all("transfer" in r or "receipt" in r for r in skipped.values())
    # the sandbox data has incomplete addresses; the engine skips them with missing_fields()
    missing = [r.ship_to.missing_fields() for p in pages for r in p.records if r.ship_to.missing_fields()]
    assert missing
    # paging: $top=7, $skip stepping by 7 - 2 overlap, on the release's endpoint version
    lists = shipment_requests(sandbox.state)
    assert {p for _, p, _ in lists} == {f"/entity/Default/{version}/Shipment"}
    assert [int(q["$skip"]) for _, _, q in lists] == list(range(0, 5 * len(lists), 5))
    assert all(q["$top"] == "7" and q["$expand"] == mapper.SHIPMENT_EXPAND for _, _, q in lists)
    assert sandbox.state.open_sessions == 0
    assert sandbox.state.logins == sandbox.state.logouts == 1


def test_filter_travels_percent_encoded():
    query = _query({"$filter": "LastModifiedDateTime gt datetimeoffset'2021-07-15T10:31:28+00:00'", "$top": 1})
    assert query == "$filter=LastModifiedDateTime%20gt%20datetimeoffset'2021-07-15T10:31:28%2B00:00'&$top=1"


def test_status_filter_is_applied_by_the_server(sandbox):
    pages = fetch_all(connect(sandbox), statuses=["Canceled"])
    records = [r for p in pages for r in p.records]
    assert records and {r.store_status for r in records} == {"Canceled"}
    assert {r.external_id for r in records} == expected_numbers(sandbox.state, ["Canceled"])


def test_transient_503_during_fetch_is_retried(sandbox):
    sandbox.state.fail_next(2, 503, path_contains="/Shipment")
    pages = fetch_all(connect(sandbox))
    assert {r.external_id for p in pages for r in p.records} == expected_numbers(sandbox.state)
    assert sandbox.state.open_sessions == 0


def test_timeout_during_fetch_is_retried(sandbox, fast_retries):
    fast_retries.SHIPBRIDGE_HTTP_TIMEOUT = 0.3
    sandbox.state.slow_next(1, 1.0, path_contains="/Shipment")
    pages = fetch_all(connect(sandbox))
    assert {r.external_id for p in pages for r in p.records} == expected_numbers(sandbox.state)
    assert len(shipment_requests(sandbox.state)) == 2
    assert sandbox.state.open_sessions == 0


def test_optimizer_500_falls_back_to_keys_then_one_by_one(sandbox):
    sandbox.state.optimizer_error = True
    connector = connect(sandbox, page_size=10)

    pages = fetch_all(connector)

    records = {r.external_id: r for p in pages for r in p.records}
    assert set(records) == expected_numbers(sandbox.state)
    assert all(r.lines and r.ship_to.street1 for r in records.values())
    gets = shipment_requests(sandbox.state)
    key_lists = [q for _, p, q in gets if q.get("$select") == "ShipmentNbr"]
    assert key_lists and all("Status eq 'Open'" in q["$filter"] for q in key_lists)
    one_by_one = [p for _, p, q in gets if p.rsplit("/", 1)[1].isdigit()]
    assert len(one_by_one) == len(set(one_by_one)) >= len(records)
    assert sandbox.state.open_sessions == 0


def test_expired_session_is_renewed_once_mid_import(sandbox):
    connector = connect(sandbox, page_size=5)
    pages = connector.fetch_orders(wide_window(), statuses=WANTED)
    first = next(pages)
    sandbox.state.end_all_sessions()  # the server forgets the session (idle expiry)
    rest = list(pages)
    ids = {r.external_id for p in [first, *rest] for r in p.records}
    assert ids == expected_numbers(sandbox.state)
    assert sandbox.state.logins == 2 and sandbox.state.open_sessions == 0


# --- time zone -------------------------------------------------------------------------------


def late_day_shipment(sandbox) -> str:
    # 23:55 on 15 July on a server whose clock runs in Chicago (CDT, UTC−5) = 04:55 UTC on 16 July
    at = dt.datetime(2021, 7, 15, 23, 55, 12, 130_000)
    return sandbox.state.add_shipment(created_at=at, modified_at=at, ship_date=dt.date(2021, 7, 15))


# An incremental import run just after it: the window ends "now" = 05:00 UTC on 16 July.
JUST_AFTER = Window(start=dt.datetime(2021, 7, 16, 4, 50, tzinfo=UTC), end=dt.datetime(2021, 7, 16, 5, 0, tzinfo=UTC))


def test_store_zone_set_to_the_server_clock_reads_and_filters_right(sandboxes):
    sandbox = sandboxes("acumatica", server_timezone=CHICAGO, shipments=0)
    nbr = late_day_shipment(sandbox)

    pages = fetch_all(connect(sandbox, tz=CHICAGO), window=JUST_AFTER)

    [record] = [r for p in pages for r in p.records]
    assert record.external_id == nbr
    assert record.order_date == dt.datetime(2021, 7, 16, 4, 55, 12, 130_000, tzinfo=UTC)
    assert record.modified_at == record.order_date
    assert record.ship_date == dt.date(2021, 7, 15)  # a calendar date, not shifted
    [(_, _, query)] = shipment_requests(sandbox.state)
    assert "datetimeoffset'2021-07-15T23:50:00'" in query["$filter"]
    assert "datetimeoffset'2021-07-16T00:00:00'" in query["$filter"]
    assert mapper.timestamps_in_future(record, JUST_AFTER.end) is False


def test_zone_left_at_utc_reproduces_the_shift_and_the_missed_late_order(sandboxes):
    sandbox = sandboxes("acumatica", server_timezone=CHICAGO, shipments=0)
    nbr = late_day_shipment(sandbox)
    connector = connect(sandbox, tz="UTC")

    # the late-day shipment falls outside a window computed in UTC: missed
    assert [r for p in fetch_all(connector, window=JUST_AFTER) for r in p.records] == []

    # and when it is read, its date is off by the server's offset (5 hours, and the day before)
    [record] = [r for p in fetch_all(connector, window=wide_window_2021()) for r in p.records]
    assert record.external_id == nbr
    right = dt.datetime(2021, 7, 16, 4, 55, 12, 130_000, tzinfo=UTC)
    assert right - record.order_date == dt.timedelta(hours=5)
    assert record.order_date.date() == dt.date(2021, 7, 15)
    assert sandbox.state.open_sessions == 0


def wide_window_2021() -> Window:
    return Window(start=dt.datetime(2021, 7, 1, tzinfo=UTC), end=dt.datetime(2021, 8, 1, tzinfo=UTC))


def test_cloud_instance_sending_utc_offset_with_zone_utc_stays_right(sandboxes):
    sandbox = sandboxes("acumatica", server_timezone="UTC", shipments=0)
    sandbox.state.timestamp_offset = "+00:00"
    at = dt.datetime(2021, 7, 15, 23, 55, 12)
    sandbox.state.add_shipment(created_at=at, modified_at=at)
    [record] = [r for p in fetch_all(connect(sandbox, tz="UTC"), window=wide_window_2021()) for r in p.records]
    assert record.order_date == dt.datetime(2021, 7, 15, 23, 55, 12, tzinfo=UTC)


# --- sessions are always closed ------------------------------------------------------------


def test_no_session_left_after_a_failed_login(sandbox):
    with pytest.raises(AuthError, match="wrong username or password"):
        fetch_all(connect(sandbox, password="nope"))
    assert sandbox.state.open_sessions == 0


def test_no_session_left_after_an_error_mid_import(sandbox):
    # the first page comes through, then the list calls fail for good
    sandbox.state.fail_next(100, 500, after=1, path_contains="/Shipment")
    connector = connect(sandbox, page_size=5)
    pages = []
    with pytest.raises(TransientError, match="HTTP 500"):
        for page in connector.fetch_orders(wide_window(), statuses=WANTED):
            pages.append(page)
    assert len(pages) == 1
    assert sandbox.state.open_sessions == 0
    assert sandbox.state.logouts == 1


def test_no_session_left_by_an_abandoned_fetch(sandbox):
    pages = connect(sandbox, page_size=5).fetch_orders(wide_window(), statuses=WANTED)
    next(pages)
    assert sandbox.state.open_sessions == 1
    pages.close()  # the caller stops early (or the generator is garbage-collected)
    assert sandbox.state.open_sessions == 0


# --- licence limit ----------------------------------------------------------------------------


def test_third_login_waits_for_a_seat_and_succeeds(sandbox, fast_retries):
    fast_retries.SHIPBRIDGE_RETRY_ATTEMPTS = 40
    first, second = sandbox.state.hold_session(), sandbox.state.hold_session()
    releaser = threading.Timer(0.3, sandbox.state.end_session, args=(first,))
    releaser.start()
    try:
        pages = fetch_all(connect(sandbox))
    finally:
        releaser.cancel()
    assert {r.external_id for p in pages for r in p.records} == expected_numbers(sandbox.state)
    assert sandbox.state.open_sessions == 1  # the other API user still holds its seat
    sandbox.state.end_session(second)


def test_idle_sessions_expire_and_free_their_seat(sandbox, fast_retries):
    fast_retries.SHIPBRIDGE_RETRY_ATTEMPTS = 40
    sandbox.state.session_idle_seconds = 0.3
    sandbox.state.hold_session(), sandbox.state.hold_session()
    assert fetch_all(connect(sandbox))
    assert sandbox.state.open_sessions == 0


@pytest.mark.parametrize("licence_status", [500, 429])
def test_licence_limit_gives_up_with_the_reason_never_hangs(sandbox, licence_status, fast_retries, monkeypatch):
    sandbox.state.licence_status = licence_status
    sandbox.state.hold_session(), sandbox.state.hold_session()
    slept = []  # the client's waits between logins, recorded instead of slept
    monkeypatch.setattr(acumatica_connector, "AcumaticaClient", partial(AcumaticaClient, sleep=slept.append))
    with pytest.raises(TransientError, match="the Acumatica licence's API user limit is reached") as info:
        fetch_all(connect(sandbox))
    assert "API Login Limit" in str(info.value)
    assert sandbox.state.open_sessions == 2 and sandbox.state.logins == 0
    # never hangs: SHIPBRIDGE_RETRY_ATTEMPTS logins, each wait between them within the back-off cap
    assert len(login_requests(sandbox.state)) == 3
    assert len(slept) == 2 and all(0 < s <= fast_retries.SHIPBRIDGE_RETRY_MAX_SECONDS for s in slept)


# --- test_connection --------------------------------------------------------------------------


def test_connection_ok_and_closed(sandbox):
    message = connect(sandbox).test_connection()
    assert message.startswith("ok: ")
    assert "Default/20.200.001" in message and "2021 R2" in message
    [(_, path, query)] = shipment_requests(sandbox.state)
    assert query == {"$top": "1"}
    assert sandbox.state.open_sessions == 0


def test_connection_unreachable(sandboxes):
    gone = sandboxes("acumatica", shipments=0)
    gone.stop()
    with pytest.raises(TransientError, match=r"^Acumatica is unreachable: cannot reach Acumatica at http://127"):
        connect(gone).test_connection()


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"password": "wrong"}, AuthError, "wrong username or password: Error: Invalid credentials. Please try again."),
        ({"username": "nobody"}, AuthError, "wrong username or password"),
        ({"company": "Nope"}, AuthError, "wrong company (tenant) or branch: Error: The proper company ID cannot be"),
        ({"branch": "NOPE"}, AuthError, "wrong branch: Error: The branch 'NOPE' cannot be found"),
    ],
)
def test_connection_says_which_login_part_is_wrong(sandbox, overrides, error, message):
    with pytest.raises(error) as info:
        connect(sandbox, **overrides).test_connection()
    assert str(info.value).startswith(message)
    assert sandbox.state.open_sessions == 0
    assert len(login_requests(sandbox.state)) == 1  # not retried


def test_connection_missing_endpoint_version(sandboxes):
    sandbox = sandboxes("acumatica", release="2018 R2", shipments=3)
    with pytest.raises(ConfigurationError) as info:
        connect(sandbox, release="2021 R2").test_connection()
    text = str(info.value)
    assert text.startswith("the endpoint version Default/20.200.001 is missing on this Acumatica instance")
    assert "release 2021 R2" in text and "No HTTP resource was found" in text
    assert sandbox.state.open_sessions == 0
    assert connect(sandbox, release="2018 R2").test_connection().startswith("ok: ")


def test_connection_licence_limit_answers_at_once(sandbox):
    sandbox.state.login_limit_reached = True
    with pytest.raises(TransientError, match="licence's API user limit is reached"):
        connect(sandbox).test_connection()
    assert len(login_requests(sandbox.state)) == 1


# --- notify_shipment --------------------------------------------------------------------------


@pytest.mark.parametrize("release", ["2018 R2", "2021 R2"])
def test_tracking_lands_on_the_existing_package_before_confirmation(sandboxes, release):
    sandbox = sandboxes("acumatica", release=release, shipments=0)
    nbr = sandbox.state.add_shipment(packages=1)
    [package] = sandbox.state.packages(nbr)
    [record] = [r for p in fetch_all(connect(sandbox)) for r in p.records]

    result = connect(sandbox).notify_shipment(notice_for(nbr, raw=record.raw))

    assert result.warning == ""
    assert sandbox.state.operations == [("tracking", nbr, package["id"], "1Z999AA10123456784"), ("confirm", nbr)]
    [after] = sandbox.state.packages(nbr)
    assert after["id"] == package["id"] and after["TrackingNbr"] == "1Z999AA10123456784"
    assert sandbox.state.status(nbr) == "Confirmed"
    assert result.response_code == 204
    assert "ConfirmShipment" in result.request_summary
    [put] = [q for m, p, q in sandbox.state.requests if m == "PUT"]
    assert put == {"$expand": "Packages"}
    assert sandbox.state.open_sessions == 0


def test_no_package_confirms_only_inserts_nothing_and_warns(sandbox):
    nbr = sandbox.state.add_shipment(packages=0)

    result = connect(sandbox).notify_shipment(notice_for(nbr))

    assert result.warning == "the shipment has no package in Acumatica: status updated, no tracking number written"
    assert sandbox.state.operations == [("confirm", nbr)]
    assert sandbox.state.packages(nbr) == []
    assert sandbox.state.status(nbr) == "Confirmed"
    assert not [r for r in sandbox.state.requests if r[0] == "PUT"]
    assert sandbox.state.open_sessions == 0


def test_several_packages_tracking_goes_on_the_first_without_one(sandbox):
    nbr = sandbox.state.add_shipment(packages=[{"BoxID": "LARGE", "TrackingNbr": "1ZEARLIER"},
                                              {"BoxID": "SMALL", "TrackingNbr": ""}])
    first, second = sandbox.state.packages(nbr)
    connect(sandbox).notify_shipment(notice_for(nbr, tracking="1ZNEW"))
    assert [p["TrackingNbr"] for p in sandbox.state.packages(nbr)] == ["1ZEARLIER", "1ZNEW"]
    assert sandbox.state.operations[0] == ("tracking", nbr, second["id"], "1ZNEW")


def test_repeated_notification_writes_and_confirms_once(sandbox):
    nbr = sandbox.state.add_shipment(packages=1)
    connector = connect(sandbox)
    connector.notify_shipment(notice_for(nbr))
    again = connector.notify_shipment(notice_for(nbr))
    assert len(sandbox.state.operations) == 2
    assert "already" in again.request_summary
    assert len(sandbox.state.packages(nbr)) == 1


def test_store_refusal_422_keeps_the_store_words(sandbox):
    nbr = sandbox.state.add_shipment(packages=1)
    sandbox.state.modify_shipment(nbr, Status="Canceled")
    with pytest.raises(StoreRejected) as info:
        connect(sandbox).notify_shipment(notice_for(nbr))
    assert info.value.status_code == 422
    assert "The Packages grid cannot be changed because the shipment has the Canceled status." in str(info.value)
    assert sandbox.state.operations == [] and sandbox.state.status(nbr) == "Canceled"
    assert sandbox.state.open_sessions == 0


def test_server_error_during_notification_is_transient_and_not_retried_here(sandbox):
    nbr = sandbox.state.add_shipment(packages=1)
    sandbox.state.fail_next(1, 503, path_contains="ConfirmShipment")
    with pytest.raises(TransientError, match="HTTP 503"):
        connect(sandbox).notify_shipment(notice_for(nbr))
    assert len([r for r in sandbox.state.requests if r[1].endswith("/ConfirmShipment")]) == 1
    assert sandbox.state.open_sessions == 0
    # the notification service's retry then completes it without writing the tracking twice
    connect(sandbox).notify_shipment(notice_for(nbr))
    assert [op[0] for op in sandbox.state.operations] == ["tracking", "confirm"]


def test_notification_for_a_deleted_shipment_is_rejected(sandbox):
    with pytest.raises(StoreRejected, match="shipment 999999 no longer exists in Acumatica"):
        connect(sandbox).notify_shipment(notice_for("999999"))
    assert sandbox.state.open_sessions == 0


def test_confirmation_waits_for_the_long_running_action(sandbox):
    sandbox.state.confirm_polls = 3
    nbr = sandbox.state.add_shipment(packages=1)
    connect(sandbox).notify_shipment(notice_for(nbr))
    polls = [p for m, p, _ in sandbox.state.requests if "/ConfirmShipment/status/" in p]
    assert len(polls) == 4  # three 202s, then 204


# --- the sandbox itself ------------------------------------------------------------------------


def test_live_sandbox_keeps_producing_shipments(sandboxes):
    sandbox = sandboxes("acumatica", shipments=5, live_every=0.02)
    wait_for(lambda: len(sandbox.state.shipments) >= 8, timeout=3, interval=0.02)
    assert len(sandbox.state.shipments) >= 8


def test_sandbox_data_is_seeded_and_realistic(sandboxes):
    anchor = dt.datetime(2021, 7, 15, 12, 0)
    one = sandboxes("acumatica", shipments=40, anchor=anchor).state
    two = sandboxes("acumatica", shipments=40, anchor=anchor).state
    assert one.shipments == two.shipments
    statuses = {s["Status"] for s in one.shipments.values()}
    assert statuses == {"Open", "On Hold", "Confirmed", "Completed", "Canceled"}
    assert any(not s["Packages"] for s in one.shipments.values())
    assert any(len(s["Packages"]) > 1 for s in one.shipments.values())
    assert any(not s["ShipToAddress"]["City"] for s in one.shipments.values())
    assert any(not s["ShipToAddress"]["PostalCode"] for s in one.shipments.values())
    assert any(len(s["Details"]) > 1 for s in one.shipments.values())
    assert max(s["LastModifiedDateTime"] for s in one.shipments.values()) <= anchor


def test_sandbox_filter_errors_look_like_acumatica(sandbox):
    import requests

    session = requests.Session()
    session.post(f"{sandbox.url}/entity/auth/login", json={"name": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD,
                                                          "company": SANDBOX_TENANT, "branch": SANDBOX_BRANCH})
    try:
        base = f"{sandbox.url}/entity/Default/20.200.001/Shipment"
        reply = session.get(base, params={"$filter": "NoSuchField eq 'x'"})
        assert reply.status_code == 500 and "KeyNotFoundException" in reply.json()["exceptionType"]
        reply = session.get(base, params={"$filter": "(Status eq 'Open' or Status eq 'On Hold') and "
                                                     "LastModifiedDateTime lt datetimeoffset'2100-01-01T00:00:00'",
                                          "$select": "ShipmentNbr,Status", "$top": "3", "$skip": "1"})
        rows = reply.json()
        assert len(rows) == 3 and set(rows[0]) == {"id", "rowNumber", "note", "ShipmentNbr", "Status", "custom"}
        assert session.get(f"{sandbox.url}/entity/Default/17.200.001/Shipment").status_code == 404
        # a package row without id inserts a package, as the real API does
        nbr = sandbox.state.add_shipment(packages=1)
        reply = session.put(base, params={"$expand": "Packages"},
                            json={"ShipmentNbr": {"value": nbr}, "Packages": [{"TrackingNbr": {"value": "1ZX"}}]})
        assert reply.status_code == 200 and len(reply.json()["Packages"]) == 2
        assert sandbox.state.operations[-1][0] == "insert_package"
    finally:
        session.post(f"{sandbox.url}/entity/auth/logout")
    assert sandbox.state.open_sessions == 0
