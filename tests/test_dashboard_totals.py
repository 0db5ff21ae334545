"""The dashboard to look at: totals, stores needing attention first, a running import's progress,
and 30-day charts per store drawn inline (no other site), in a constant number of queries."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import ImportRun, Shipment, StoreNotification
from stores.models import OrderStatus
from tests.factories import OrderFactory, StoreFactory

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("shipbridge_dashboard")


def test_totals_charts_attention_first_and_progress(admin_client_su):
    calm = StoreFactory(name="A calm shop", last_refresh_status="succeeded", last_refresh_at=timezone.now())
    broken = StoreFactory(name="Z broken shop", last_refresh_status="failed", last_refresh_error="HTTP 500",
                          last_refresh_at=timezone.now())
    for _ in range(3):
        OrderFactory(store=calm)
    shipped = OrderFactory(store=calm, status=OrderStatus.SHIPPED)
    shipment = Shipment.objects.create(order=shipped, carrier="UPS", ship_date=dt.date.today())
    StoreNotification.objects.create(shipment=shipment, status="failed", error="refused")
    ImportRun.objects.create(store=calm, trigger="schedule", started_at=timezone.now(), pages=3, imported=120,
                             updated=5)
    html = admin_client_su.get(DASHBOARD).content.decode()
    totals = {m[0]: int(m[1]) for m in re.findall(
        r'id="total-([a-z-]+)"[^>]*>\s*<div class="sb-total-value">(\d+)</div>', html)}
    assert totals == {"awaiting": 3, "shipped-today": 1, "failed": 1, "attention": 2}
    # both need attention (failing; a failed notification); the failing one first
    assert html.index('id="store-%d"' % broken.pk) < html.index('id="store-%d"' % calm.pk)
    assert "3 pages, 125 orders so far" in html and 'http-equiv="refresh"' in html
    assert html.count('class="sb-daily-chart"') == 2 and "<rect" in html
    assert "4 imported · 1 shipped" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another site


def test_the_dashboard_queries_do_not_grow_with_stores(admin_client_su):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client_su.get(DASHBOARD).status_code == 200
        return len(captured)

    StoreFactory()
    one = queries()
    for _ in range(5):
        OrderFactory(store=StoreFactory())
    assert queries() == one
