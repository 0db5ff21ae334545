"""Custom Store connector and QuickBooks Commerce preset, over loopback HTTP against the sandbox
store (stores/sandbox/customstore.py). Real requests, real replies; no mocks."""
import datetime as dt
import socket
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from stores.connectors.base import (
    Address,
    AuthError,
    ConfigurationError,
    NoticeItem,
    ProtocolError,
    ShipmentNotice,
    StoreRejected,
    TransientError,
    Window,
)
from stores.connectors import http
from stores.connectors.customstore.client import CustomStoreClient
from stores.connectors.customstore.connector import CustomStoreConnector, QuickBooksCommerceConnector
from stores.connectors.registry import get_connector_class
from stores.sandbox.customstore import (
    QBC_FULFILLED_ERROR,
    SANDBOX_PASSWORD,
    SANDBOX_PATH,
    SANDBOX_USERNAME,
    CustomStoreState,
    generate_orders,
)

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(minutes=5))


# The sandbox: a QuickBooks Commerce feed of 45 orders in pages of 10; CUSTOM_STORE marks the
# tests whose sandbox is a Custom Store of 25 orders instead.
pytestmark = [pytest.mark.usefixtures("fast_retries"), pytest.mark.retries(attempts=3),
              pytest.mark.sandbox("quickbooks_commerce", orders=45, page_size=10, now=NOW, seed=11)]
CUSTOM_STORE = pytest.mark.sandbox("custom_store", orders=25, page_size=10, now=NOW, seed=5)


def connector(sandbox, cls=QuickBooksCommerceConnector, *, url=None, password=SANDBOX_PASSWORD,
              tz="UTC", **settings):
    return cls(
        settings={"url": url or sandbox.endpoint, "username": SANDBOX_USERNAME, **settings},
        secrets={"password": password},
        timezone=ZoneInfo(tz),
    )


def fetch(conn, window=WINDOW):
    return list(conn.fetch_orders(window, statuses=["finalized"]))


def ids(pages):
    return [record.external_id for page in pages for record in page.records]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- export -------------------------------------------------------------------------------


def test_registry_names_the_two_connectors():
    assert get_connector_class("quickbooks_commerce") is QuickBooksCommerceConnector
    assert get_connector_class("custom_store") is CustomStoreConnector
    assert QuickBooksCommerceConnector.can_combine is False and QuickBooksCommerceConnector.can_split is False


def test_fetch_reads_every_page(sandbox):
    pages = fetch(connector(sandbox))
    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert all(p.total_pages == 5 for p in pages)
    assert [len(p.records) for p in pages] == [10, 10, 10, 10, 5]
    assert sorted(ids(pages)) == sorted(sandbox.state.orders)
    assert all(p.skipped == [] for p in pages)
    requests = sandbox.state.export_requests()
    assert [r.params["page"] for r in requests] == [["1"], ["2"], ["3"], ["4"], ["5"]]
    first = requests[0]
    assert first.action == "export"  # lower-case
    assert first.basic_user == SANDBOX_USERNAME and first.query_user == SANDBOX_USERNAME  # both forms
    assert first.params["SS-Password"] == [SANDBOX_PASSWORD]
    assert first.params["start_date"] == [WINDOW.start.strftime("%m/%d/%Y %H:%M")]
    assert first.params["end_date"] == [WINDOW.end.strftime("%m/%d/%Y %H:%M")]


def test_records_match_the_store(sandbox):
    records = {r.external_id: r.mapped() for page in fetch(connector(sandbox)) for r in page.records}
    for order in sandbox.state.orders.values():
        record = records[order.order_id]
        assert record.order_number == order.order_number
        assert record.store_status == order.status
        assert record.modified_at == order.last_modified.replace(second=0)
        assert record.order_total == order.order_total
        assert [line.line_item_id for line in record.lines] == [line.line_item_id for line in order.lines]
        assert [line.name for line in record.lines] == [line.name for line in order.lines]
        assert [line.adjustment for line in record.lines] == [line.adjustment for line in order.lines]
        assert all(line.weight_grams is not None for line in record.lines if not line.adjustment)
        if order.ship_to is None:
            assert record.ship_to is None
        else:
            assert record.ship_to.name == order.ship_to["Name"]
            assert record.ship_to.city == order.ship_to["City"]
        assert "PO-" not in repr(record)  # purchase-order numbers are not imported
    # the generated data exercises the awkward cases
    assert any(r.ship_to is None for r in records.values())
    assert any(r.ship_to and "city" in r.ship_to.missing_fields() for r in records.values())
    assert any(line.adjustment for r in records.values() for line in r.lines)
    assert any("]]>" in line.name for r in records.values() for line in r.lines)


@CUSTOM_STORE
def test_both_auth_forms_work_alone(sandbox):
    conn = connector(sandbox, CustomStoreConnector)
    sandbox.state.accept_query_auth = False
    assert len(ids(fetch(conn))) == 25
    sandbox.state.accept_query_auth, sandbox.state.accept_basic = True, False
    assert len(ids(fetch(conn))) == 25


def test_unstable_paging_is_deduplicated(sandbox):
    sandbox.state.page_overlap = 4  # each page repeats the last 4 orders of the previous one
    found = ids(fetch(connector(sandbox)))
    assert len(found) == len(set(found)) == 45


def test_order_changed_between_pages_is_yielded_again_and_nothing_is_missed(sandbox):
    state = sandbox.state
    first_on_page_1 = state.orders_in(WINDOW.start, WINDOW.end)[0]
    changed_at = NOW - dt.timedelta(minutes=1)

    def change_order(st, page):
        if page == 2 and first_on_page_1.status != "void":
            st.set_status(first_on_page_1.order_id, "void", when=changed_at)

    state.on_export = change_order
    pages = fetch(connector(sandbox))
    versions = [(p.number, r.store_status, r.modified_at) for p in pages for r in p.records
                if r.external_id == first_on_page_1.order_id]
    assert versions[0][0] == 1 and versions[0][1] != "void"
    assert versions[-1] == (5, "void", changed_at)
    # the change shifted an unchanged order onto page 1, already read: a second pass found it
    assert set(ids(pages)) == set(state.orders)
    assert len(ids(pages)) == 46  # 45 orders, one of them twice (its newer version)
    assert [r.params["page"][0] for r in state.export_requests()] == list("12345") + list("12345")


def test_stock_location_in_the_merchant_url_is_kept(sandbox):
    url = sandbox.endpoint + "?stock_location_id[]=4101"
    found = set(ids(fetch(connector(sandbox, url=url))))
    expected = {o.order_id for o in sandbox.state.orders.values() if o.stock_location_id == "4101"}
    assert found == expected and 0 < len(found) < 45
    assert sandbox.state.export_requests()[0].params["stock_location_id[]"] == ["4101"]


def test_stock_location_setting_restricts_the_feed(sandbox):
    conn = connector(sandbox, stock_location_id="4102")
    found = set(ids(fetch(conn)))
    expected = {o.order_id for o in sandbox.state.orders.values() if o.stock_location_id == "4102"}
    assert found == expected and 0 < len(found) < 45
    assert sandbox.state.export_requests()[0].params["stock_location_id[]"] == ["4102"]


def test_store_time_zone_is_applied(sandboxes):
    sandbox = sandboxes("custom_store", orders=0, timezone="America/New_York", date_style="ampm")
    edge = NOW - dt.timedelta(hours=2)
    order = sandbox.state.add_order(when=edge)
    inside = Window(edge, edge + dt.timedelta(minutes=1))
    records = [r for p in fetch(connector(sandbox, CustomStoreConnector, tz="America/New_York"), inside)
               for r in p.records]
    assert [(r.external_id, r.modified_at) for r in records] == [(order.order_id, edge)]
    # ShipBridge's window is UTC; a store reading the bounds in its own zone still finds the order
    sent = sandbox.state.export_requests()[-1].params["start_date"][0]
    assert sent == (edge.astimezone(ZoneInfo("America/New_York"))).strftime("%m/%d/%Y %H:%M")


@CUSTOM_STORE
def test_empty_window_yields_one_empty_page(sandbox):
    pages = fetch(connector(sandbox, CustomStoreConnector), Window(NOW + dt.timedelta(days=1),
                                                                         NOW + dt.timedelta(days=2)))
    assert [(p.number, p.total_pages, p.records) for p in pages] == [(1, 0, [])]


@CUSTOM_STORE
@pytest.mark.parametrize("field, words", [
    ("OrderTotal", "OrderTotal '12,34.5x' is not a number"),
    ("OrderDate", "OrderDate '13/45/2024 25:99' is not a real date/time"),
    ("Quantity", "Quantity 'two' is not a whole number"),
])
def test_an_order_with_invalid_values_is_skipped_naming_order_and_field(sandbox, field, words):
    sandbox.state.serve_invalid_values(field, page=2)
    gen = connector(sandbox, CustomStoreConnector).fetch_orders(WINDOW, statuses=[])
    assert len(next(gen).records) == 10
    second = next(gen)
    # one bad order does not block the others: it is skipped with its reason — when it is read
    # (its dates) or when the importer maps it (the rest: an unchanged order is never mapped)
    reasons = [skipped.reason for skipped in second.skipped]
    for record in second.records:
        try:
            record.mapped()
        except ProtocolError as exc:
            reasons.append(str(exc))
    assert len(second.records) + len(second.skipped) == 10 and len(reasons) == 1
    reason = reasons[0]
    assert words in reason and reason.startswith("order ") and "(OrderID " in reason


# --- transient failures -------------------------------------------------------------------


def test_a_503_on_one_page_is_retried(sandbox):
    sandbox.state.fail_next(1, status=503, page=2)
    pages = fetch(connector(sandbox))
    assert len(ids(pages)) == 45
    assert [r.params["page"][0] for r in sandbox.state.export_requests()] == ["1", "2", "2", "3", "4", "5"]
    assert [r.status for r in sandbox.state.export_requests()][:3] == [200, 503, 200]


def test_a_429_with_retry_after_is_retried(sandbox):
    sandbox.state.fail_next(2, status=429, page=1, retry_after="0")
    assert len(ids(fetch(connector(sandbox)))) == 45


def test_a_store_down_for_good_is_a_transient_error(sandbox):
    sandbox.state.fail_next(None, status=503)
    with pytest.raises(TransientError, match="HTTP 503") as err:
        fetch(connector(sandbox))
    assert err.value.status_code == 503
    assert len(sandbox.state.export_requests()) == 3  # SHIPBRIDGE_RETRY_ATTEMPTS


def test_unreachable_store_is_a_transient_error():
    url = f"http://127.0.0.1:{free_port()}{SANDBOX_PATH}"
    conn = QuickBooksCommerceConnector(settings={"url": url, "username": "u"}, secrets={"password": "hunter2-secret"},
                                       timezone=ZoneInfo("UTC"))
    with pytest.raises(TransientError) as err:
        fetch(conn)
    assert "cannot reach the store at 127.0.0.1" in str(err.value)
    assert "hunter2-secret" not in str(err.value)
    with pytest.raises(TransientError):
        conn.test_connection()


# --- refusals and broken replies ----------------------------------------------------------


def test_wrong_password_is_an_auth_error(sandbox):
    with pytest.raises(AuthError) as err:
        fetch(connector(sandbox, password="wrong-password"))
    assert "HTTP 401" in str(err.value) and "wrong-password" not in str(err.value)
    assert len(sandbox.state.export_requests()) == 1  # never retried


@pytest.mark.parametrize(
    "arm, message",
    [
        (lambda s: s.serve_html(), "the store answered HTML, not XML: check the URL"),
        (lambda s: s.serve_empty(), "the store answered an empty page, not XML: check the URL"),
        (lambda s: s.serve_xml_bomb(), "the store's XML declares entities (a possible XML bomb): refused"),
        (lambda s: s.serve_external_entity(), "declares entities"),
        (lambda s: s.serve_truncated_xml(), "the store's XML is truncated or invalid"),
        (lambda s: s.fail_next(1, status=404, body="Not Found"), "has no such page (HTTP 404): check the URL"),
    ],
)
def test_broken_replies_are_protocol_errors(sandbox, arm, message):
    arm(sandbox.state)
    with pytest.raises((ProtocolError, StoreRejected)) as err:
        fetch(connector(sandbox))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_truncated_later_page_fails_the_fetch(sandbox):
    sandbox.state.serve_truncated_xml(page=3)
    gen = connector(sandbox).fetch_orders(WINDOW, statuses=[])
    assert [next(gen).number, next(gen).number] == [1, 2]
    with pytest.raises(ProtocolError, match="truncated or invalid"):
        next(gen)


def test_oversized_reply_is_refused(sandbox, settings):
    settings.SHIPBRIDGE_MAX_REPLY_BYTES = 64 * 1024
    sandbox.state.serve_oversized(size=200 * 1024)
    with pytest.raises(ProtocolError, match="larger than the"):
        fetch(connector(sandbox))


def test_shop_home_page_instead_of_the_endpoint(sandbox):
    with pytest.raises(ProtocolError, match="HTML, not XML"):
        connector(sandbox, url=sandbox.url + "/").test_connection()


# --- test_connection ----------------------------------------------------------------------


def test_test_connection_ok(sandbox):
    sandbox.state.orders.clear()
    assert connector(sandbox).test_connection() == "ok: the store answered with 0 order page(s)"
    sandbox.state.add_order()
    assert connector(sandbox).test_connection() == "ok: the store answered with 1 order page(s)"
    request = sandbox.state.export_requests()[-1]
    assert request.params["page"] == ["1"]
    start = dt.datetime.strptime(request.params["start_date"][0], "%m/%d/%Y %H:%M")
    end = dt.datetime.strptime(request.params["end_date"][0], "%m/%d/%Y %H:%M")
    assert dt.timedelta(minutes=4) <= end - start <= dt.timedelta(minutes=7)


@pytest.mark.parametrize(
    "arm, error, message",
    [
        (lambda s: setattr(s, "password", "rotated"), AuthError, "refused the credentials (HTTP 401)"),
        (lambda s: s.fail_next(1, status=503), TransientError, "answered HTTP 503"),
        (lambda s: s.serve_html(), ProtocolError, "HTML, not XML"),
        (lambda s: s.fail_next(1, status=403, body="Blocked by firewall"), StoreRejected, "firewall or host block"),
    ],
)
def test_test_connection_failures(sandbox, arm, error, message):
    arm(sandbox.state)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        connector(sandbox).test_connection()
    assert len(sandbox.state.export_requests()) == 1  # no retries in an interactive check


# --- settings and URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ({"url": "ftp://store.example/feed.xml"}, "http:// or https://"),
        ({"url": "store.example/feed.xml"}, "http:// or https://"),
        ({"url": "https://"}, "with a host"),
        ({"url": "https://store.example:99999/x"}, "invalid port"),
        ({"url": "https://store.example/feed.xml", "stock_location_id": "12a"}, "digits only"),
        ({"url": "https://store.example/feed.xml", "stock_location_id": "１２"}, "digits only"),
        ({"url": "https://store.example/feed.xml", "password": ""}, "missing required setting 'password'"),
    ],
)
def test_clean_settings_refuses(values, message):
    full = {"username": "u", "password": "p", **values}
    with pytest.raises(ConfigurationError, match=message):
        QuickBooksCommerceConnector.clean_settings(full)


def test_clean_settings_accepts_and_normalises():
    cleaned = QuickBooksCommerceConnector.clean_settings({
        "url": " https://shipstation.tradegecko.com/fulfillments/99999.xml?stock_location_id[]=12 ",
        "username": "u", "password": "p", "stock_location_id": " 4101 ",
    })
    assert cleaned["url"] == "https://shipstation.tradegecko.com/fulfillments/99999.xml?stock_location_id[]=12"
    assert cleaned["stock_location_id"] == "4101"
    with pytest.raises(ConfigurationError, match="unknown setting 'stock_location_id'"):
        CustomStoreConnector.clean_settings({"url": "https://s.example/x", "username": "u", "password": "p",
                                             "stock_location_id": "1"})


def test_urls_keep_the_merchant_query_and_drop_duplicates_of_ours():
    client = CustomStoreClient(
        url="https://shop.example/feed.xml?key=a%2Fb&action=EXPORT&stock_location_id[]=7&SS-Password=old#frag",
        username="shop user", password="p&ss=word", extra_query="stock_location_id%5B%5D=9",
    )
    url = client.build_url([("action", "export"), ("start_date", "03/05/2024 14:07"), ("page", "2")])
    assert url == (
        "https://shop.example/feed.xml?key=a%2Fb&stock_location_id[]=7&stock_location_id%5B%5D=9"
        "&action=export&start_date=03%2F05%2F2024%2014%3A07&page=2&SS-UserName=shop%20user&SS-Password=p%26ss%3Dword"
    )
    summary = client.describe([("action", "shipnotify"), ("order_number", "SO1")], "POST")
    assert "p%26ss" not in summary and "SS-" not in summary


def test_password_is_scrubbed_from_error_messages():
    err = TransientError("cannot reach the store: HTTPConnectionPool(...): /x?SS-UserName=u&SS-Password=s%C3%A9cret-pw")
    http.redact_error(err, ("sécret-pw",))
    assert str(err) == "cannot reach the store: HTTPConnectionPool(...): /x?SS-UserName=u&SS-Password=***"
    err = ProtocolError("invalid request: bad url https://h/x?p=sécret-pw")
    http.redact_error(err, ("sécret-pw",))
    assert "sécret" not in str(err)


# --- shipnotify ---------------------------------------------------------------------------


def open_order_with_lines(state, minimum=2):
    return next(o for o in state.orders.values()
                if o.status == "finalized" and len([x for x in o.lines if not x.adjustment]) >= minimum
                and o.ship_to is not None)


def notice_for(order, lines, **overrides):
    values = dict(
        order_external_id=order.order_id,
        order_number=order.order_number,
        carrier="UPS",
        service="Ground",
        tracking_number="1Z999AA10123456784",
        ship_date=dt.date(2024, 3, 6),
        label_created_at=dt.datetime(2024, 3, 6, 8, 30, tzinfo=UTC),
        items=tuple(NoticeItem(line_item_id=x.line_item_id, sku=x.sku, name=x.name, quantity=x.quantity)
                    for x in lines),
        recipient=Address(name=order.ship_to["Name"], street1=order.ship_to["Address1"],
                          city=order.ship_to["City"], postal_code=order.ship_to["PostalCode"],
                          country=order.ship_to["Country"]),
        shipping_cost=Decimal("7.25"),
        order_raw={"order_id": order.order_id, "customer_code": order.customer_code},
    )
    values.update(overrides)
    return ShipmentNotice(**values)


def test_shipnotify_is_received_with_params_body_and_only_this_shipments_items(sandbox):
    state = sandbox.state
    order = open_order_with_lines(state)
    first_line = order.lines[0]
    result = connector(sandbox).notify_shipment(notice_for(order, [first_line]))
    assert result.response_code == 200 and result.response_body == "OK"
    assert result.request_summary.startswith("POST " + sandbox.endpoint + "?action=shipnotify&order_number=")
    assert SANDBOX_PASSWORD not in result.request_summary
    [received] = state.notices
    assert received.params == {"action": "shipnotify", "order_number": order.order_number, "carrier": "UPS",
                               "service": "Ground", "tracking_number": "1Z999AA10123456784"}
    assert received.fields["OrderID"] == order.order_id
    assert received.fields["CustomerCode"] == order.customer_code
    assert received.fields["NotifyCustomer"] == "false"
    assert received.fields["LabelCreateDate"] == "03/06/2024 08:30"
    assert received.fields["ShipDate"] == "03/06/2024"
    assert received.fields["ShippingCost"] == "7.25"
    assert received.recipient["Name"] == order.ship_to["Name"]
    assert received.items == [{"SKU": first_line.sku, "Name": first_line.name, "Quantity": str(first_line.quantity),
                               "LineItemID": first_line.line_item_id}]
    request = state.requests[-1]
    assert request.method == "POST" and request.action == "shipnotify"
    assert request.basic_user == SANDBOX_USERNAME and request.query_user == SANDBOX_USERNAME
    # partial shipment: the store keeps the order open with one line packed
    assert first_line.unshipped == 0 and order.status == "finalized"


def test_partial_shipments_then_the_store_refuses_more(sandbox):
    state = sandbox.state
    order = open_order_with_lines(state)
    conn = connector(sandbox)
    products = [x for x in order.lines if not x.adjustment]
    for line in products:
        conn.notify_shipment(notice_for(order, [line], tracking_number=f"T-{line.line_item_id}"))
    assert order.status == "fulfilled"
    assert [n.items[0]["LineItemID"] for n in state.notices] == [x.line_item_id for x in products]
    with pytest.raises(StoreRejected) as err:
        conn.notify_shipment(notice_for(order, products[:1]))
    assert err.value.status_code == 422
    assert str(err.value) == '{"base":["Cannot create fulfilment on an order in the fulfilled state"]}'


def test_shipnotify_422_is_kept_verbatim(sandbox):
    sandbox.state.reject_shipnotify_422()
    order = open_order_with_lines(sandbox.state)
    with pytest.raises(StoreRejected) as err:
        connector(sandbox).notify_shipment(notice_for(order, order.lines[:1]))
    assert str(err.value) == QBC_FULFILLED_ERROR
    assert err.value.body == QBC_FULFILLED_ERROR
    assert err.value.status_code == 422
    assert len(sandbox.state.notices) == 1


def test_shipnotify_502_is_transient_and_not_retried_inside(sandbox):
    state = sandbox.state
    state.fail_shipnotify(1, status=502)
    order = open_order_with_lines(state)
    conn = connector(sandbox)
    with pytest.raises(TransientError, match="HTTP 502") as err:
        conn.notify_shipment(notice_for(order, order.lines[:1]))
    assert err.value.status_code == 502
    assert len(state.notices) == 1
    result = conn.notify_shipment(notice_for(order, order.lines[:1]))  # the service's retry
    assert result.response_code == 200
    assert [n.status_code for n in state.notices] == [502, 200]


@CUSTOM_STORE
def test_shipnotify_wrong_password_and_unknown_order(sandbox):
    order = next(o for o in sandbox.state.orders.values() if o.ship_to)
    notice = notice_for(order, order.lines[:1])
    with pytest.raises(AuthError):
        connector(sandbox, CustomStoreConnector, password="nope").notify_shipment(notice)
    with pytest.raises(StoreRejected) as err:
        connector(sandbox, CustomStoreConnector).notify_shipment(
            notice_for(order, order.lines[:1], order_number="NO-SUCH"))
    assert err.value.status_code == 404 and str(err.value) == "Order 'NO-SUCH' not found"


def test_shipnotify_unreachable_is_transient():
    conn = CustomStoreConnector(settings={"url": f"http://127.0.0.1:{free_port()}/x", "username": "u"},
                                secrets={"password": "p"}, timezone=ZoneInfo("UTC"))
    order = generate_orders(1, NOW, preset="custom_store", status="paid")[0]
    order.ship_to = order.ship_to or {"Name": "A", "Address1": "B", "City": "C", "PostalCode": "D", "Country": "US"}
    with pytest.raises(TransientError, match="cannot reach"):
        conn.notify_shipment(notice_for(order, order.lines[:1]))


# --- the sandbox itself -------------------------------------------------------------------


def test_generated_orders_are_deterministic_and_varied():
    a = generate_orders(40, NOW, seed=3)
    b = generate_orders(40, NOW, seed=3)
    assert [(o.order_id, o.status, o.last_modified, o.lines[0].name) for o in a] == \
           [(o.order_id, o.status, o.last_modified, o.lines[0].name) for o in b]
    assert {o.status for o in a} == {"finalized", "fulfilled", "void", "deleted"}
    assert len({o.stock_location_id for o in a}) > 1
    assert any(o.ship_to is None for o in a)
    assert any(o.ship_to and not o.ship_to["PostalCode"] for o in a)
    generic = generate_orders(60, NOW, seed=3, preset="custom_store")
    assert {o.status for o in generic} == {"paid", "unpaid", "on-hold", "shipped", "cancelled"}


def test_live_mode_adds_orders_as_time_passes():
    clock = [NOW]
    state = CustomStoreState(preset="custom_store", orders=0, live_every=20, clock=lambda: clock[0])
    assert state.tick() == 0
    clock[0] = NOW + dt.timedelta(seconds=65)
    assert state.tick() == 3
    added = sorted(state.orders.values(), key=lambda o: o.order_date)
    assert [o.order_date for o in added] == [NOW, NOW, NOW + dt.timedelta(minutes=1)]  # whole minutes
    assert all(o.status == "paid" for o in added)
    assert len({o.order_number for o in added}) == 3


@CUSTOM_STORE
def test_sandbox_action_is_case_insensitive_and_auth_is_checked(sandbox):
    url = sandbox.endpoint + "?action=EXPORT&start_date=01/01/2000 00:00&end_date=01/01/2100 00:00"
    denied = requests.get(url, timeout=5)
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Basic")
    ok = requests.get(url + f"&SS-UserName={SANDBOX_USERNAME}&SS-Password={SANDBOX_PASSWORD}", timeout=5)
    assert ok.status_code == 200 and ok.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="3">')
    unknown = requests.get(sandbox.endpoint + "?action=nothing", auth=(SANDBOX_USERNAME, SANDBOX_PASSWORD),
                           timeout=5)
    assert unknown.status_code == 400
