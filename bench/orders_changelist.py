"""Benchmark: the orders desk (the admin's order list) at 1,000 and at 100,000 orders.

    .venv/bin/python bench/orders_changelist.py [--small 1000] [--large 100000] [--repeat 7]
    DATABASE_URL=postgres://… .venv/bin/python bench/orders_changelist.py   # an empty, disposable database

For each size, the orders (each with two lines; most of them from the last six weeks, the others
over three years) are written in bulk, the database's statistics refreshed (ANALYZE), and the
desk's pages requested as a superuser through Django's test client, as a browser would: the first
page, a year of the date drill-down, a month of it, and a status filter — each a full page of 50
orders at both sizes. Prints the median time of each page at each size, the ratio large / small
(target ≤ 2) and the statements each page ran (target: the same at both sizes)."""
import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal

import _bench

TARGET = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    _bench.setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("collectstatic", interactive=False, verbosity=0)  # as a release does (hashed names)

    pages = None
    results = {}
    for size in (args.small, args.large):
        fill(size)
        pages = pages or desk_pages()
        results[size] = {name: measure(url, args.repeat) for name, url in pages.items()}
        print(f"  {size} orders measured", file=sys.stderr, flush=True)
    report(args, pages, results)


def fill(total: int) -> None:
    """Make the database hold `total` orders of one store (adding to what is there)."""
    from django.db import connection
    from django.utils import timezone

    from orders.bulk import insert_rows
    from orders.importing import ITEM_FIELDS, ORDER_FIELDS
    from orders.models import Order, OrderItem
    from stores.models import Store

    store = Store.objects.filter(name="Bench desk").first()
    if store is None:
        from stores.services import store_create

        store = store_create(connector="custom_store", name="Bench desk",
                             settings={"url": "https://shop.example.com/xml", "username": "u", "password": "p"})
    have = Order.objects.count()
    rng = random.Random(total)
    now = timezone.now()
    statuses = ["awaiting_shipment"] * 6 + ["awaiting_payment", "on_hold", "shipped", "cancelled"]
    batch = 5000
    for start in range(have, total, batch):
        orders = []
        for n in range(start, min(total, start + batch)):
            # most orders recent (every view below has full pages at both sizes), the rest over three years
            span = 45 if rng.random() < 0.8 else 3 * 365
            when = now - dt.timedelta(minutes=rng.randrange(span * 24 * 60))
            values = {name: "" for name in ORDER_FIELDS}
            values.update(order_number=f"{100000 + n}", order_date=when, modified_at=when,
                          status=rng.choice(statuses), store_status="paid", ship_date=None,
                          ship_to_name=f"Customer {n}", ship_to_street1=f"{n} Main Street", ship_to_city="Austin",
                          ship_to_state="TX", ship_to_postal_code="73301", ship_to_country="US",
                          currency="USD", order_total=None, tax_amount=None, shipping_amount=None, gift=False,
                          raw={}, updated_at=now)
            orders.append((store.pk, f"E{n}", now, *(values[name] for name in ORDER_FIELDS)))
        insert_rows(Order, ["store", "external_id", "imported_at", *ORDER_FIELDS], orders)
        ids = Order.objects.filter(store=store, external_id__in=[row[1] for row in orders]).values_list("pk", flat=True)
        items = [(order_id, f"{order_id}-{k}", f"SKU-{k}", "Product", 1 + k, Decimal("9.90"), None, "", "", False, [])
                 for order_id in ids for k in range(2)]
        insert_rows(OrderItem, ["order", "line_item_id", *ITEM_FIELDS], items)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def desk_pages() -> dict[str, str]:
    from django.urls import reverse

    from orders.models import Order

    newest = Order.objects.order_by("-order_date").values_list("order_date", flat=True).first()
    month = newest - dt.timedelta(days=21)  # a month well inside the busy six weeks, whatever today's date
    base = reverse("admin:orders_order_changelist")
    return {
        "first page": base,
        "a year": f"{base}?order_date__year={newest.year}",
        "a month": f"{base}?order_date__year={month.year}&order_date__month={month.month}",
        "awaiting shipment": f"{base}?status__exact=awaiting_shipment",
    }


def client():
    from django.test import Client

    from stores.models import User

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@example.com", "not-used-bench-password")
    browser = Client()
    browser.force_login(user)
    return browser


def measure(url: str, repeat: int) -> tuple[float, int]:
    browser = client()
    counter = _bench.StatementCounter()
    assert browser.get(url).status_code == 200  # warm
    times = []
    for _ in range(repeat):
        counter.count = 0
        with counter.counting():
            started = time.perf_counter()
            response = browser.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return _bench.median(times), counter.count


def report(args, pages, results):
    small, large = results[args.small], results[args.large]
    _bench.line("database:", _bench.database_words())
    for name in pages:
        (t_small, q_small), (t_large, q_large) = small[name], large[name]
        _bench.line(f"{name}:", f"{args.small} orders {t_small * 1000:.1f} ms · {args.large} orders "
                                f"{t_large * 1000:.1f} ms · ratio {t_large / t_small:.2f} (target ≤ {TARGET}) · "
                                f"statements {q_small} / {q_large}")


if __name__ == "__main__":
    main()
