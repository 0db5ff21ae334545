"""Pages outside the model admins: the dashboard and the printable packing slip.
Both are wrapped by `admin.site.admin_view` (staff login) in shipbridge/urls.py."""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone

from stores.models import Store
from stores.scoping import scoped_queryset
from stores.selectors import next_refresh_words, store_state

from .models import Order
from .selectors import stores_for_dashboard


def dashboard(request):
    """Every store the user may see: last and next refresh, state, last error in words."""
    if not request.user.has_perm("stores.view_store"):
        raise PermissionDenied
    now = timezone.now()
    stores = stores_for_dashboard(stores=scoped_queryset(Store, request))
    rows = []
    for s in stores:
        connector = s.connector_class
        rows.append({"store": s, "connector": connector.label, "notice": connector.notice,
                     "state": store_state(store=s, now=now), "next_refresh": next_refresh_words(store=s, now=now)})
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "rows": rows,
        "show_merchant": request.user.is_superuser,
        "failing": sum(1 for r in rows if r["state"].code == "failing"),
        "attention": sum(1 for r in rows if r["state"].code == "attention"),
        "can_view_orders": request.user.has_perm("orders.view_order"),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


def packing_slip(request, pk: int):
    """A printable packing slip for one order, with its store's branding."""
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    order = get_object_or_404(scoped_queryset(Order, request).select_related("store"), pk=pk)
    items = [item for item in order.items.all() if not item.adjustment]
    context = {
        "order": order,
        "store": order.store,
        "items": items,
        "units": sum(item.quantity for item in items),
        "printed_at": timezone.now(),
        # the order's date as the store's people know it: in the store's own zone
        "order_day": timezone.localtime(order.order_date, order.store.tz).date(),
    }
    return TemplateResponse(request, "admin/packing_slip.html", context)
