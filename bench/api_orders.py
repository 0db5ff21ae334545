"""Benchmark: GET /api/v1/orders?pageSize=500 against a plain ORM read of the same rows.

    .venv/bin/python bench/api_orders.py [--orders 2000] [--items 3] [--repeat 3]

Makes `--orders` orders (each with `--items` lines, a third of them shipped) for one merchant,
then pages through them with the API (HTTP Basic with an API key, the rate limit raised out of
the way) and with the ORM alone (the same orders in the same order, their items and shipments
prefetched, no JSON). Prints the time per order of each, their ratio, and the queries of one API
request at pageSize 50 and 500 (the same: constant per page). ShipBridge runs with DEBUG off.
Uses a throw-away SQLite database unless DATABASE_URL is set (then that database must be empty
and disposable)."""
import argparse
import base64
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal

import _bench


def setup_django() -> None:
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SHIPBRIDGE_API_RATE_LIMIT"] = "1000000"  # the rate limit out of the way
    _bench.setup_django()


def make_orders(count: int, items: int):
    from django.utils import timezone

    from orders.apikeys import api_key_create
    from orders.models import Order, OrderItem, Shipment, ShipmentItem
    from stores.models import Merchant, OrderStatus
    from stores.services import store_create

    merchant = Merchant.objects.create(name="Bench Goods")
    store = store_create(connector="custom_store", name="Bench shop", merchant=merchant,
                         settings={"url": "https://shop.example.test/feed", "username": "u", "password": "p"})
    now = timezone.now()
    orders = Order.objects.bulk_create([
        Order(store=store, external_id=f"B{n}", order_number=f"{100000 + n}", order_date=now - dt.timedelta(minutes=n),
              modified_at=now, status=OrderStatus.AWAITING_SHIPMENT, store_status="paid", ship_to_name=f"Customer {n}",
              ship_to_street1=f"{n} Main Street", ship_to_city="Springfield", ship_to_state="IL",
              ship_to_postal_code="62701", ship_to_country="US", customer_email=f"c{n}@example.test",
              order_total=Decimal("42.50"), currency="USD")
        for n in range(count)], batch_size=500)
    lines = OrderItem.objects.bulk_create([
        OrderItem(order=order, line_item_id=f"{order.external_id}-{i}", sku=f"SKU-{i}", name=f"Product {i}",
                  quantity=i + 1, unit_price=Decimal("9.99"), weight_grams=Decimal("250"), options=[["Size", "M"]])
        for order in orders for i in range(items)], batch_size=1000)
    shipped = orders[::3]
    shipments = Shipment.objects.bulk_create([
        Shipment(order=order, carrier="ups", tracking_number=f"1Z{order.pk}", ship_date=now.date(), notify_store=False)
        for order in shipped], batch_size=500)
    first_line = {line.order_id: line for line in lines}
    ShipmentItem.objects.bulk_create([ShipmentItem(shipment=s, order_item=first_line[s.order_id], quantity=1)
                                      for s in shipments], batch_size=500)
    made = api_key_create(merchant=merchant, label="bench")
    return merchant, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.api.selectors import api_orders

    merchant, made = make_orders(args.orders, args.items)
    client = Client()
    auth = "Basic " + base64.b64encode(f"{made.key}:{made.secret}".encode()).decode()
    size = 500
    pages = -(-args.orders // size)

    def api_pass() -> int:
        seen = 0
        for page in range(1, pages + 1):
            reply = client.get("/api/v1/orders", {"pageSize": size, "page": page}, HTTP_AUTHORIZATION=auth)
            assert reply.status_code == 200, reply.content[:300]
            seen += len(reply.json()["orders"])
        return seen

    def orm_pass() -> int:
        seen = 0
        for page in range(1, pages + 1):
            rows = list(api_orders(merchant=merchant).order_by("order_date", "pk")[(page - 1) * size: page * size])
            for order in rows:  # what the API reads: the prefetched items and shipments
                list(order.items.all())
                list(order.live_shipments)
            seen += len(rows)
        return seen

    def timed(run) -> float:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            count = run()
            times.append(time.perf_counter() - start)
            assert count == args.orders, (count, args.orders)
        return statistics.median(times)

    api_pass()  # warm up (the key's last use, the rate window, the caches)
    api_time, orm_time = timed(api_pass), timed(orm_pass)

    def queries(page_size: int) -> int:
        client.get("/api/v1/orders", {"pageSize": page_size}, HTTP_AUTHORIZATION=auth)  # the rate window open
        with CaptureQueriesContext(connection) as captured:
            client.get("/api/v1/orders", {"pageSize": page_size}, HTTP_AUTHORIZATION=auth)
        return len(captured.captured_queries)

    per_api = api_time / args.orders * 1000
    per_orm = orm_time / args.orders * 1000
    print(f"database: {connection.vendor}; {args.orders} orders × {args.items} items, pageSize {size}, "
          f"median of {args.repeat}")
    print(f"API  GET /api/v1/orders: {api_time:.3f} s  = {per_api:.3f} ms per order")
    print(f"ORM  same rows (prefetched, no JSON): {orm_time:.3f} s  = {per_orm:.3f} ms per order")
    print(f"ratio API / ORM: {api_time / orm_time:.1f}")
    print(f"queries per request: pageSize=50 → {queries(50)}, pageSize=500 → {queries(500)}")


if __name__ == "__main__":
    main()
