"""Pages outside the model admins: the dashboard and the printable packing slip.
Both are wrapped by `admin.site.admin_view` (staff login) in shipbridge/urls.py."""
from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from stores.i18n import DEFAULT_LANGUAGE, render_for_customers
from stores.models import Store
from stores.scoping import scoped_queryset
from stores.selectors import next_refresh_words, store_state

from .barcodes import code128_svg
from .forms import MAX_BULK_ORDERS
from .models import Order
from .charts import IMPORTED_COLOUR, SHIPPED_COLOUR, daily_bars_svg
from .selectors import (CHART_DAYS, dashboard_daily, dashboard_totals, packing_slip_orders, running_imports,
                        stores_for_dashboard)


# Stores needing attention first: failing, then attention, then the rest.
STATE_ORDER = {"failing": 0, "attention": 1, "running": 2, "never": 3, "ok": 4, "inactive": 5}


def dashboard(request):
    """Totals, every store the user may see (the ones needing attention first: failing, skipped
    orders to fix, a suspect time zone, failed notifications), each with its last and next
    refresh, a running import's progress, and its orders imported and shipped per day over the
    last 30 days."""
    if not request.user.has_perm("stores.view_store"):
        raise PermissionDenied
    now = timezone.now()
    visible = scoped_queryset(Store, request)
    stores = stores_for_dashboard(stores=visible)
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now, tz)
    days = [today - dt.timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    since = dt.datetime.combine(days[0], dt.time.min, tzinfo=tz)
    daily = dashboard_daily(stores=visible, since=since, tz=tz)
    running = running_imports(stores=visible)
    rows = []
    for s in stores:
        connector = s.connector_class
        state = store_state(store=s, now=now)
        needs_attention = (state.code in ("failing", "attention") or s.timezone_suspect
                           or s.failed_notifications > 0)
        series = daily.get(s.pk, {"imported": {}, "shipped": {}})
        rows.append({"store": s, "connector": connector.label, "notice": connector.notice, "state": state,
                     "next_refresh": next_refresh_words(store=s, now=now), "needs_attention": needs_attention,
                     "run": running.get(s.pk),
                     "chart": daily_bars_svg(days=days, imported=series["imported"], shipped=series["shipped"]),
                     "imported_30": sum(series["imported"].values()), "shipped_30": sum(series["shipped"].values())})
    rows.sort(key=lambda r: (not r["needs_attention"], STATE_ORDER.get(r["state"].code, 9)))
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "rows": rows,
        "totals": {**dashboard_totals(stores=visible, today_start=dt.datetime.combine(today, dt.time.min, tzinfo=tz)),
                   "stores_attention": sum(1 for r in rows if r["needs_attention"])},
        "show_merchant": request.user.is_superuser,
        "failing": sum(1 for r in rows if r["state"].code == "failing"),
        "attention": sum(1 for r in rows if r["state"].code == "attention"),
        "any_running": bool(running),
        "can_view_orders": request.user.has_perm("orders.view_order"),
        "chart_days": CHART_DAYS,
        "imported_colour": IMPORTED_COLOUR, "shipped_colour": SHIPPED_COLOUR,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


def _slip(order: Order, items) -> dict:
    goods = [item for item in items if not item.adjustment]
    return {
        "order": order,
        "store": order.store,
        "items": goods,
        "units": sum(item.quantity for item in goods),
        # the order's date as the store's people know it: in the store's own zone
        "order_day": timezone.localtime(order.order_date, order.store.tz).date(),
        "barcode": code128_svg(order.order_number),  # what the packing page's scanner reads
        "language": order.store.language or DEFAULT_LANGUAGE,  # a customer document: the store's language
    }


def packing_slip(request, pk: int):
    """A printable packing slip for one order, with its store's branding and the order
    number's barcode, in the store's language (a customer document), whatever the clerk's."""
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    order = get_object_or_404(scoped_queryset(Order, request).select_related("store"), pk=pk)
    context = {**_slip(order, order.items.all()), "printed_at": timezone.now()}
    return render_for_customers(request, "admin/packing_slip.html", context, store=order.store)


def packing_slips(request):
    """One printable document for many orders (`?ids=1,2,3`, the orders desk's "Print packing
    slips"): one slip a page, in the order given; orders the user may not see are left out. Each
    slip is in its store's language; the document around them (title, print note) in the clerk's."""
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip().isdigit()]
    if not ids:
        raise Http404(_("No order chosen."))
    if len(ids) > MAX_BULK_ORDERS:
        raise SuspiciousOperation("too many packing slips at once")
    orders = {o.pk: o for o in packing_slip_orders(orders=scoped_queryset(Order, request), ids=ids)}
    slips = [_slip(orders[pk], orders[pk].items.all()) for pk in dict.fromkeys(ids) if pk in orders]
    if not slips:
        raise Http404(_("No order chosen."))
    return TemplateResponse(request, "admin/packing_slips.html", {"slips": slips, "printed_at": timezone.now()})
