"""Tracking numbers from a file: the CSV is read whatever tool exported it, each row says what it
would do (ship / already shipped / unknown order / ambiguous across stores / invalid), confirming
ships the good rows through the shipping service, a re-run ships nothing twice, and a file that
is not a CSV is one clear error with nothing written — in the admin and from `import_tracking`."""
import datetime as dt
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import Order, Shipment, StoreNotification
from orders.tracking import TrackingFileError, tracking_file_read, tracking_plan
from stores.models import OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory, UserFactory
from tests.utils import SHIP_DAY, import_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

TRACKING = reverse("admin:orders_order_tracking")


def order(store, number, **fields):
    made = OrderFactory(store=store, order_number=number, **fields)
    OrderItemFactory(order=made, quantity=1)
    return made


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("header, line", [
    ("Order Number,Tracking Number,Carrier,Service,Ship Date", "SO-1,1Z999AA10123456784,UPS,Ground,2024-05-31"),
    ("order number;TRACKING NUMBER;carrier;service;ship date", "SO-1;1Z999AA10123456784;ups;Ground;05/31/2024"),
    # ShipStation's shipment export
    ("Order - Number,Shipment - Tracking Number,Shipment - Carrier,Shipment - Service,Shipment - Ship Date",
     "SO-1,1Z999AA10123456784,UPS,Ground,5/31/2024 3:04:00 PM"),
    # UPS WorldShip: no carrier column, the tracking number says UPS
    ("Package Reference No. 1\tTracking No.\tService Type\tShip Date", "SO-1\t1Z999AA10123456784\tGround\t20240531"),
    # a marketplace upload file
    ('"Order Number","Shipping Carrier Used","Tracking Number","Shipping Service","Date Shipped"',
     '"SO-1","UPS","1Z999AA10123456784","Ground","2024-05-31"'),
])
def test_the_usual_exports_are_read_as_they_come(header, line):
    [row] = tracking_file_read(f"\ufeff{header}\r\n{line}\r\n".encode())
    assert (row.order_number, row.tracking_number, row.carrier, row.service, row.ship_date, row.problem) == (
        "SO-1", "1Z999AA10123456784", "UPS", "Ground", dt.date(2024, 5, 31), "")


def test_the_carrier_comes_from_the_tracking_number_when_the_file_has_none():
    rows = tracking_file_read(b"Reference,Tracking #\nA,9400111899223197428490\nB,123456789012\nC,XYZ\n")
    assert [(r.carrier, r.problem) for r in rows[:2]] == [("USPS", ""), ("FedEx", "")]
    assert "no carrier: add a Carrier column" in rows[2].problem


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7\x00\x00binary", "not a CSV file (it holds binary data"),
    (b"PK\x03\x04\x14\x00\x06\x00", "not a CSV file (it holds binary data"),
    (b"", "the file is empty"),
    (b"Name,Address\nAda,London\n", "it needs an order number column"),
    (b"Order Number,Carrier\nSO-1,UPS\n", "it needs a tracking number column"),
    (b'Order Number,Tracking Number\n"SO-1,1Z\n', "not a CSV file"),
])
def test_a_file_that_is_not_a_tracking_csv_is_one_clear_error(data, message):
    with pytest.raises(TrackingFileError) as err:
        tracking_file_read(data)
    assert message in str(err.value) and "\n" not in str(err.value)


# --- planning -----------------------------------------------------------------------------------


def test_each_row_says_what_it_would_do():
    shop, other = StoreFactory(name="Shop"), StoreFactory(name="Other")
    order(shop, "SO-1")
    order(shop, "SO-2", status=OrderStatus.SHIPPED)
    order(shop, "SO-3", status=OrderStatus.CANCELLED)
    order(shop, "SO-4")
    order(other, "SO-4")
    rows = tracking_file_read(b"Order Number,Tracking Number,Carrier,Ship Date\n"
                              b"SO-1,1ZA,UPS,2024-05-31\nSO-2,1ZB,UPS,\nSO-3,1ZC,UPS,\nSO-4,1ZD,UPS,\n"
                              b"NOPE,1ZE,UPS,\n,1ZF,UPS,\nSO-1,1ZG,UPS,\nSO-1,1ZH,UPS,31/31/2024\n")
    plan = tracking_plan(rows=rows, orders=Order.objects.all())
    assert [(r.row.line, r.result) for r in plan.rows] == [
        (2, "ship"), (3, "already_shipped"), (4, "invalid"), (5, "ambiguous"), (6, "unknown_order"), (7, "invalid"),
        (8, "already_shipped"), (9, "invalid")]
    assert "is cancelled" in plan.rows[2].message and "several stores (Other, Shop)" in plan.rows[3].message
    assert "line 2 of this file already ships this order" in plan.rows[6].message
    # one store chosen: no ambiguity
    plan = tracking_plan(rows=rows[3:4], orders=Order.objects.filter(store=shop))
    assert plan.rows[0].result == "ship"
    assert plan.as_dict() == {"shipped": 1, "skipped": 0, "errors": 0}


def test_planning_takes_a_constant_number_of_queries(django_assert_max_num_queries):
    store = StoreFactory()
    for i in range(30):
        order(store, f"SO-{i}")
    text = "Order Number,Tracking Number,Carrier\n" + "".join(f"SO-{i},1Z{i},UPS\n" for i in range(30))
    rows = tracking_file_read(text.encode())
    with django_assert_max_num_queries(2):
        tracking_plan(rows=rows, orders=Order.objects.all())


# --- the admin: upload, preview, confirm ----------------------------------------------------------


def upload(client, text, **fields):
    return client.post(TRACKING, {"file": SimpleUploadedFile("tracking.csv", text.encode(), "text/csv"),
                                  "notify_store": "on", **fields})


def test_the_admin_previews_then_ships_the_good_rows_once(sandboxes, admin_client_su, eager_celery,
                                                          django_capture_on_commit_callbacks):
    sandbox = sandboxes("custom_store", orders=0)
    store, (first, second) = import_orders(sandbox, 2)
    text = ("Order Number,Tracking Number,Carrier,Service,Ship Date\n"
            f"{first.order_number},1ZFILE1,UPS,Ground,{SHIP_DAY.isoformat()}\n"
            f"{second.order_number},1ZFILE2,FedEx,,\n"
            "NOPE-1,1ZFILE3,UPS,,\n"
            f"{first.order_number},,UPS,,\n")
    preview = upload(admin_client_su, text)
    html = preview.content.decode()
    assert preview.status_code == 200 and "2 orders will ship" in html and "2 errors" in html
    assert "Nothing is shipped until you confirm." in html and not Shipment.objects.exists()
    assert 'id="tracking-confirm"' in html
    content = preview.context["content"]
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client_su.post(TRACKING, {"content": content, "notify_store": "on", "_confirm": "Ship"})
    html = done.content.decode()
    assert "2 orders shipped" in html and "No order number NOPE-1" in html
    assert Shipment.objects.get(order=first).tracking_number == "1ZFILE1"
    assert Shipment.objects.get(order=second).carrier == "FedEx"
    assert StoreNotification.objects.filter(status="sent").count() == 2 and len(sandbox.state.notices) == 2
    # the same file again: nothing ships twice
    again = admin_client_su.post(TRACKING, {"content": content, "_confirm": "Ship"})
    assert "0 orders shipped" in again.content.decode() and "2 skipped" in again.content.decode()
    assert Shipment.objects.count() == 2 and len(sandbox.state.notices) == 2


def test_the_admin_refuses_a_file_that_is_not_a_csv(admin_client_su):
    store = StoreFactory()
    order(store, "SO-1")
    response = admin_client_su.post(TRACKING, {"file": SimpleUploadedFile("orders.xlsx", b"PK\x03\x04\x00\x00", "x")})
    html = response.content.decode()
    assert response.status_code == 200 and "The file is not a CSV file" in html and not Shipment.objects.exists()


def test_a_clerk_matches_the_rows_among_the_merchants_orders_only(client):
    mine = StoreFactory()
    order(mine, "SO-1")
    theirs = order(StoreFactory(), "SO-9")
    client.force_login(UserFactory(merchant=mine.merchant, groups=["shipping clerk"]))
    html = upload(client, "Order Number,Tracking Number,Carrier\nSO-1,1Z1,UPS\nSO-9,1Z9,UPS\n").content.decode()
    assert "1 order will ship" in html and "No order number SO-9" in html and theirs.store.name not in html


# --- the command ---------------------------------------------------------------------------------


def import_tracking(path, *args):
    out = io.StringIO()
    call_command("import_tracking", str(path), *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_command_prints_a_line_per_row_and_a_summary(tmp_path):
    store = StoreFactory(notify_store=False)
    order(store, "SO-1")
    order(store, "SO-2", status=OrderStatus.SHIPPED)
    path = tmp_path / "t.csv"
    path.write_text("Order Number,Tracking Number,Carrier\nSO-1,1Z1,ups\nSO-2,1Z2,UPS\nSO-3,1Z3,UPS\n")
    *rows, summary = import_tracking(path, "--dry-run")
    assert [r["result"] for r in rows] == ["would_ship", "already_shipped", "unknown_order"]
    assert summary == {"shipped": 1, "skipped": 1, "errors": 1} and not Shipment.objects.exists()
    *rows, summary = import_tracking(path, "--store", str(store.pk), "--no-notify")
    assert rows[0]["result"] == "shipped" and rows[0]["shipment"] == Shipment.objects.get().pk
    assert rows[0]["carrier"] == "UPS" and rows[2]["error"] == "no order number SO-3"
    assert summary == {"shipped": 1, "skipped": 1, "errors": 1}
    with pytest.raises(CommandError, match="is not a CSV file"):
        (tmp_path / "x.pdf").write_bytes(b"%PDF\x00\x01")
        import_tracking(tmp_path / "x.pdf")
    with pytest.raises(CommandError, match="no store with id"):
        import_tracking(path, "--store", "999999")


def test_import_tracking_from_the_shell(tmp_path):
    # Given a ShipBridge of its own (a SQLite file in tmp_path) with two orders of a store that is not notified
    env = {**os.environ, "SHIPBRIDGE_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("CELERY_BROKER_URL", None)

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *map(str, args)], capture_output=True, text=True,
                              env=env, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    store_id = manage("add_store", "--connector", "custom_store", "--name", "Shell shop", "--set",
                      "url=http://127.0.0.1:9/x", "--set", "username=u", "--set", "password=p"
                      ).stdout.strip().splitlines()[-1]
    seed = (f"from orders.models import Order, OrderItem; from django.utils import timezone; now = timezone.now()\n"
            f"for n in ('SO-1', 'SO-2'):\n"
            f"    o = Order.objects.create(store_id={store_id}, external_id=n, order_number=n, order_date=now, "
            f"modified_at=now, status='awaiting_shipment', store_status='paid')\n"
            f"    OrderItem.objects.create(order=o, sku='A', quantity=1)\n")
    assert manage("shell", "-c", seed).returncode == 0
    good = tmp_path / "tracking.csv"
    good.write_text("Order Number,Tracking Number,Carrier,Ship Date\n"
                    f"SO-1,1ZSHELL1,UPS,{SHIP_DAY.isoformat()}\nSO-404,1ZSHELL2,UPS,\nSO-2,,UPS,\nSO-2,1ZSHELL3,FedEx,\n")
    # When the file is imported without notifying: good rows ship, bad rows are reported
    first = manage("import_tracking", good, "--no-notify")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert [line["result"] for line in lines[:-1]] == ["shipped", "unknown_order", "invalid", "shipped"]
    assert lines[-1] == {"shipped": 2, "skipped": 0, "errors": 2}
    # And a second run ships nothing
    second = manage("import_tracking", good, "--no-notify")
    lines = [json.loads(line) for line in second.stdout.splitlines()]
    assert [line["result"] for line in lines[:-1]] == ["already_shipped", "unknown_order", "invalid",
                                                       "already_shipped"]
    assert lines[-1] == {"shipped": 0, "skipped": 2, "errors": 2}
    # And a file that is not a CSV: one line, a non-zero exit, nothing written
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(b"%PDF-1.7\n\x00\x00\x00")
    refused = manage("import_tracking", pdf)
    assert refused.returncode != 0 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1 and "is not a CSV file" in refused.stderr
