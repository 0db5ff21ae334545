"""The orders desk, shipping pages, products, logs — and what the store pages do with
orders: "Refresh now", the activity log and resending notifications (this app's StoreAdmin
builds on the store settings admin of `stores`)."""
import datetime as dt
import logging

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from stores import admin as store_admin
from stores.forms import as_sentence
from stores.i18n import format_amount, translated
from stores.models import Merchant, OrderStatus, Store
from stores.scoping import MerchantScopedAdmin, scoped_queryset, user_merchant_id
from stores.selectors import next_refresh_words, store_state

from .changelist import DateRangeChangeList
from .forms import MAX_BULK_ORDERS, BulkShipForm, PackShipForm, TrackingUploadForm, carrier_initial, ManualOrderForm, ReimportForm, ShipForm, ShipmentCorrectionForm, ShipmentDetailsForm, manual_line_formset
from .importing import StoreUnavailable, store_queue_refresh, stores_queue_refresh
from .manual import ManualOrderError, manual_order_create, manual_order_delete
from .models import (NOTIFICATION_NOT_REQUESTED_LABEL, ImportRun, ImportTrigger, NotificationAttempt, NotificationStatus,
                     Order, OrderItem,
                     Product, ProductAlias, Shipment, ShipmentChange, ShipmentItem, StoreCorrection,
                     StoreNotification)
from .notifying import NotificationError, notification_resend
from .tracking import (RowResult, TrackingFileError, tracking_apply, tracking_file_read, tracking_file_text,
                       tracking_plan)
from .selectors import (TIMEZONE_WARNING, notification_for_shipment, order_deletable, order_desk_annotations,
                        order_failed_notifications, order_packing_lines, order_status_counts, orders_by_scan,
                        order_repeat_notification_advice, order_shipping_lines, store_import_runs, store_notifications,
                        store_timezone_suspect)
from .shipping import (SHIPPABLE_STATUSES, ShipDateError, ShippingError, order_ship_whole, orders_combine,
                       orders_combine_check, orders_ship_each,
                       shipment_create, shipment_update, shipment_void)

log = logging.getLogger("shipbridge.admin")


def queue_refreshes(model_admin, request, stores) -> None:
    """"Refresh now" for each store, every outcome in words."""
    result = stores_queue_refresh(stores=stores, trigger=ImportTrigger.USER, user=request.user)
    for store, exc in result.failed:
        model_admin.message_user(
            request, gettext("%(store)s: the import could not be queued (%(error)s).")
            % {"store": store.name, "error": translated(store_admin.first_line(exc))}, messages.ERROR)
    if result.queued:
        model_admin.message_user(
            request, gettext("Import queued for %(stores)s; its run appears under Activity.")
            % {"stores": ", ".join(s.name for s in result.queued)}, messages.SUCCESS)
    if result.inactive:
        model_admin.message_user(request, gettext("Inactive, left alone: %(stores)s.")
                                 % {"stores": ", ".join(s.name for s in result.inactive)}, messages.WARNING)
    if result.not_imported:
        model_admin.message_user(
            request, gettext("Nothing to import, left alone: %(stores)s (orders entered in ShipBridge).")
            % {"stores": ", ".join(s.name for s in result.not_imported)}, messages.WARNING)


# --- stores: what their pages do with orders -----------------------------------------------


admin.site.unregister(Store)


@admin.register(Store)
class StoreAdmin(store_admin.StoreAdmin):
    actions = ["refresh_now", *store_admin.StoreAdmin.actions]

    @property
    def products_description(self):
        return format_html(gettext('Products (SKU, name, weight, image, bin location) and SKU aliases are managed '
                                   'under <a href="{}">Products</a>.'), reverse("admin:orders_product_changelist"))

    def _panel_context(self, request, store):
        info = self.opts.app_label, self.opts.model_name
        return {
            **super()._panel_context(request, store),
            "timezone_warning": gettext(TIMEZONE_WARNING) if store_timezone_suspect(store=store) else "",
            "refresh_url": self.refresh_url(store),
            "reimport_url": (reverse("admin:%s_%s_reimport" % info, args=[store.pk])
                             if store.connector_class.imports_orders else ""),
            "activity_url": reverse("admin:%s_%s_activity" % info, args=[store.pk]),
        }

    def refresh_url(self, store) -> str:
        """Where "Refresh now" posts ("" for a store type that imports nothing: no button)."""
        if not store.connector_class.imports_orders:
            return ""
        return reverse("admin:%s_%s_refresh" % (self.opts.app_label, self.opts.model_name), args=[store.pk])

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/refresh/", wrap(self.refresh_view), name="%s_%s_refresh" % info),
            path("<path:object_id>/reimport/", wrap(self.reimport_view), name="%s_%s_reimport" % info),
            path("<path:object_id>/activity/", wrap(self.activity_view), name="%s_%s_activity" % info),
            path("<path:object_id>/activity/resend/<int:notification_id>/", wrap(self.resend_view),
                 name="%s_%s_resend" % info),
        ] + super().get_urls()

    def refresh_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self.store_or_404(request, object_id, change=True)
        queue_refreshes(self, request, [store])
        return self.redirect_back(request, self.change_url(store))

    def reimport_view(self, request, object_id):
        """"Re-import from a date…": one refresh whose window starts that day (in the store's
        zone), the cursor left where it is (`refresh_store --since`)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self.store_or_404(request, object_id, change=True)
        form = ReimportForm(request.POST, tz=store.tz)
        if not form.is_valid():
            self.message_user(request, gettext("%(store)s: %(error)s") % {
                "store": store.name, "error": " ".join(form.errors.get("since", []))}, messages.ERROR)
            return HttpResponseRedirect(self.change_url(store))
        since = dt.datetime.combine(form.cleaned_data["since"], dt.time.min, tzinfo=store.tz)
        try:
            store_queue_refresh(store=store, trigger=ImportTrigger.USER, user=request.user, since=since)
        except StoreUnavailable as exc:
            self.message_user(request, gettext("%(store)s: %(error)s.") % {"store": store.name,
                                                                           "error": translated(exc)}, messages.WARNING)
        except Exception as exc:  # noqa: BLE001 - e.g. the task queue is unreachable
            log.exception("could not queue a re-import of store %s", store.pk)
            self.message_user(request, gettext("%(store)s: the import could not be queued (%(error)s).")
                              % {"store": store.name, "error": translated(store_admin.first_line(exc))},
                              messages.ERROR)
        else:
            self.message_user(request, gettext("Re-import of %(store)s from %(day)s queued; its run appears under "
                                               "Activity.") % {"store": store.name,
                                                               "day": date_format(form.cleaned_data["since"])},
                              messages.SUCCESS)
        return HttpResponseRedirect(self.change_url(store))

    def activity_view(self, request, object_id):
        store = self.store_or_404(request, object_id, change=False)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Activity of %(store)s") % {"store": store.name},
            "opts": self.opts,
            "original": store,
            "store": store,
            "store_state": store_state(store=store),
            "store_next_refresh": next_refresh_words(store=store),
            "runs": store_import_runs(store=store),
            "notifications": store_notifications(store=store),
            "can_retry": self.has_change_permission(request, store),
            "can_resend": request.user.has_perm("orders.change_shipment"),
            "has_view_permission": True,
            "refresh_url": self.refresh_url(store),
        }
        return TemplateResponse(request, "admin/stores/store/activity.html", context)

    def resend_view(self, request, object_id, notification_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self.store_or_404(request, object_id, change=False)
        notification = get_object_or_404(StoreNotification.objects.select_related("shipment__order"),
                                         pk=notification_id, shipment__order__store=store)
        if not request.user.has_perm("orders.change_shipment"):
            raise PermissionDenied
        activity = reverse("admin:stores_store_activity", args=[store.pk])
        names = {"id": notification.shipment_id, "number": notification.shipment.order.order_number}
        try:
            notification_resend(notification=notification, user=request.user)
        except NotificationError as exc:
            self.message_user(request, gettext("Not resent: %(error)s.") % {"error": translated(exc)}, messages.WARNING)
        except Exception as exc:  # noqa: BLE001 - e.g. the task queue is unreachable; logged in full
            log.exception("resend of notification %s failed", notification.pk)
            self.message_user(request, gettext("Could not resend the notification of shipment %(id)s (order "
                                               "%(number)s): %(error)s")
                              % {**names, "error": translated(store_admin.first_line(exc))}, messages.ERROR)
        else:
            self.message_user(request, gettext("Resend of the notification of shipment %(id)s (order %(number)s) queued.")
                              % names, messages.SUCCESS)
        return self.redirect_back(request, activity)  # the activity log, or the order page it was asked from

    @admin.action(description=_("Refresh now (import orders)"), permissions=["change"])
    def refresh_now(self, request, queryset):
        queue_refreshes(self, request, list(queryset))


# --- orders --------------------------------------------------------------------------------


class ReadOnlyAdmin(MerchantScopedAdmin):
    """Rows written by imports and services only: read-only here (no add, change or delete)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def kept_message(model, name: str):
    """A read-only column or field of `model` showing a message kept in English (an error, a
    warning, an advice, a skip reason: stores.i18n) in the reader's language."""

    @admin.display(description=model._meta.get_field(name).verbose_name)
    def show(self, obj):
        return translated(getattr(obj, name))

    show.__name__ = f"{name}_text"
    return show


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, written by imports and services only: no add, no delete."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ("line_item_id", "sku", "name", "quantity", "unit_price_amount", "weight_grams", "location", "adjustment")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")  # its currency, in one query

    @admin.display(description=_("unit price"))
    def unit_price_amount(self, obj):
        return format_amount(obj.unit_price, obj.order.currency)


def _notification_state(shipment: Shipment) -> str:
    if not shipment.notify_store:
        return str(NOTIFICATION_NOT_REQUESTED_LABEL)
    notification = getattr(shipment, "notification", None)
    return notification.get_status_display() if notification else "—"


class ShipmentInline(ReadOnlyInline):
    """The order's shipments with their store notification's state, error and advice."""

    model = Shipment
    fields = ("carrier", "service", "tracking_number", "ship_date", "cost_amount", "notify_store", "items_shipped",
              "notification_status", "notification_error", "notification_advice", "customer_email", "group_key",
              "voided_at", "voided_by", "correct_link")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("shipments")

    @admin.display(description=_("customer e-mail"))
    def customer_email(self, obj):
        """Pending, sent, failed (with the mail server's answer), or empty when not asked for."""
        if not obj.customer_email_status:
            return ""
        state = obj.get_customer_email_status_display()
        return f"{state}: {translated(obj.customer_email_error)}" if obj.customer_email_error else state

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("notification", "voided_by", "order")
                .prefetch_related("items__order_item").order_by("id"))

    @admin.display(description=_("cost"))
    def cost_amount(self, obj):
        return format_amount(obj.cost, obj.order.currency) or "—"

    @admin.display(description=_("items"))
    def items_shipped(self, obj):
        return ", ".join(f"{si.quantity} × {si.order_item.sku or si.order_item.name}" for si in obj.items.all())

    @admin.display(description=_("store notification"))
    def notification_status(self, obj):
        return _notification_state(obj)

    @admin.display(description=_("error"))
    def notification_error(self, obj):
        notification = getattr(obj, "notification", None)
        if notification is None:
            return ""
        return translated(notification.error or notification.warning)

    @admin.display(description=_("advice"))
    def notification_advice(self, obj):
        notification = getattr(obj, "notification", None)
        return translated(notification.advice) if notification else ""

    @admin.display(description=_("correct"))
    def correct_link(self, obj):
        if obj.pk is None or obj.voided_at is not None:
            return ""  # a void shipment cannot be corrected
        return format_html('<a href="{}" class="sb-correct-shipment">{}</a>',
                           reverse("admin:orders_shipment_correct", args=[quote(obj.pk)]), gettext("Correct"))


EDITABLE_SHIP_TO = ("ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_street3",
                    "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country", "ship_to_phone")


@admin.register(Order)
class OrderAdmin(MerchantScopedAdmin):
    """The orders desk: filter by store, status and date; search by order number, customer name
    or SKU; one query for the page whatever its number of rows."""

    change_list_template = "admin/orders/order/change_list.html"
    change_form_template = "admin/orders/order/change_form.html"
    list_display = ("order_number", "store", "ordered", "status_badge", "customer", "lines", "shipments_state",
                    "packing_slip")
    list_display_links = ("order_number",)
    list_filter = ("store", "order_date")  # the status: the tabs above the grid
    # The status tabs above the grid, in this order; a visit without filters opens the first.
    status_tabs = (OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD, OrderStatus.AWAITING_PAYMENT,
                   OrderStatus.SHIPPED, OrderStatus.CANCELLED)
    search_fields = ("order_number", "external_id", "ship_to_name", "bill_to_name", "customer_email", "items__sku")
    search_help_text = _("Order number, customer name or e-mail, or SKU.")
    list_select_related = ("store",)
    list_per_page = 50
    date_hierarchy = "order_date"
    # At any size the desk reads what it shows: one count of the listed orders (not of the whole
    # table again), and a date drill-down from the first and last order (DateRangeChangeList).
    show_full_result_count = False
    inlines = [OrderItemInline, ShipmentInline]
    fieldsets = (
        (_("Ship to"), {"fields": EDITABLE_SHIP_TO,
                        "description": _("Correct the address here before shipping (a typo, a missing apartment "
                                         "number): labels, packing slips and the store notification use it. A later "
                                         "change of the order in the store replaces it.")}),
        (_("Order"), {"fields": ("store", "order_number", "external_id", "order_date", "modified_at", "status",
                                 "store_status", "ship_date", "requested_service", "packing_slip"),
                      "description": _("From the store. The status changes by shipping (Ship, void) and by imports, "
                                       "not by hand.")}),
        (_("Customer and billing"), {"fields": ("customer_code", "customer_email", "bill_to_name", "bill_to_company",
                                                "bill_to_phone", "bill_to_email", "payment_method"),
                                     "classes": ("collapse",)}),
        (_("Amounts"), {"fields": ("currency", "order_total_amount", "tax_amount_money", "shipping_amount_money"),
                        "classes": ("collapse",)}),
        (_("Notes"), {"fields": ("customer_notes", "internal_notes", "gift", "gift_message"),
                      "description": _("Internal notes are yours to edit (the store's own internal notes are "
                                       "replaced when the store changes the order); the rest comes from the store.")}),
        (_("Import"), {"fields": ("imported_at", "updated_at", "raw"), "classes": ("collapse",)}),
    )
    # Everything but the ship-to address and the internal notes comes from the store (imports) or
    # changes through the shipping services: read-only here.
    readonly_fields = tuple(
        f for _, options in fieldsets for f in options["fields"] if f not in (*EDITABLE_SHIP_TO, "internal_notes")
    )
    actions = ["ship_selected", "print_packing_slips", "combine_orders", "refresh_stores"]
    # How the sections read for an order entered by hand (its store imports nothing), by their first field.
    entered_descriptions = {
        "store": _("Entered by hand (Add order). The status changes by shipping (Ship, void), not by hand."),
        "ship_to_name": _("Correct the address here before shipping: labels and packing slips use it."),
        "customer_notes": _("Internal notes are yours to edit."),
    }

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**order_desk_annotations())

    # -- amounts as the reader's language writes them ("$1,234.56", "1 234,56 $") --
    @admin.display(description=_("order total"))
    def order_total_amount(self, obj):
        return format_amount(obj.order_total, obj.currency) or "—"

    @admin.display(description=_("tax amount"))
    def tax_amount_money(self, obj):
        return format_amount(obj.tax_amount, obj.currency) or "—"

    @admin.display(description=_("shipping amount"))
    def shipping_amount_money(self, obj):
        return format_amount(obj.shipping_amount, obj.currency) or "—"

    def get_changelist(self, request, **kwargs):
        return DateRangeChangeList

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.store.connector_class.imports_orders:
            return fieldsets
        return [(name, {**options, "description": self.entered_descriptions.get(options["fields"][0],
                                                                                options.get("description"))})
                for name, options in fieldsets]

    # -- the desk: status tabs with counts (one query), Awaiting shipment by default --
    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not request.GET:
            request.GET = request.GET.copy()  # a plain visit opens the "Awaiting shipment" tab
            request.GET["status__exact"] = OrderStatus.AWAITING_SHIPMENT
            request.META["QUERY_STRING"] = request.GET.urlencode()
        extra_context = {**(extra_context or {}), "status_tabs": self._status_tabs(request),
                         "can_ship": self.has_ship_permission(request)}
        return super().changelist_view(request, extra_context)

    def _status_tabs(self, request) -> list[dict]:
        """Each status tab: its label, link, count (within the store chosen, if any) and whether
        it is the current one; "All" last."""
        current = request.GET.get("status__exact", "")
        keep = {k: v for k, v in request.GET.items() if k in ("store__id__exact", "q")}
        counts = order_status_counts(orders=scoped_queryset(Order, request),
                                     store_id=keep.get("store__id__exact"))
        tabs = []
        for status in self.status_tabs:
            query = urlencode({**keep, "status__exact": status.value})
            tabs.append({"status": status.value, "label": status.label, "count": counts.get(status.value, 0),
                         "url": f"?{query}", "current": current == status.value})
        tabs.append({"status": "all", "label": pgettext("orders", "All"), "count": sum(counts.values()),
                     "url": f"?{urlencode(keep)}" if keep else "?o=", "current": not current})
        return tabs

    # -- desk columns (from the annotations: no query per row) --
    @admin.display(description=_("order date"), ordering="order_date")
    def ordered(self, obj):
        return date_format(timezone.localtime(obj.order_date), "SHORT_DATETIME_FORMAT")


    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="sb-badge sb-badge-{}" title="{}">{}</span>', obj.status,
                           gettext("Store status: %(status)s") % {"status": obj.store_status}, obj.get_status_display())

    @admin.display(description=_("customer"), ordering="ship_to_name")
    def customer(self, obj):
        name = obj.ship_to_name or obj.bill_to_name or obj.customer_email
        if obj.ship_to_country:
            return format_html('{} <span class="sb-muted">{}</span>', name, obj.ship_to_country)
        return name

    @admin.display(description=_("lines / units"))
    def lines(self, obj):
        return f"{obj.desk_lines} / {obj.desk_units}"

    @admin.display(description=_("shipments · store told"))
    def shipments_state(self, obj):
        if not obj.desk_shipments:
            return "—"
        parts = [(obj.desk_notify_sent, ngettext("%(count)d sent", "%(count)d sent", obj.desk_notify_sent),
                  "sb-status-sent"),
                 (obj.desk_notify_pending, ngettext("%(count)d pending", "%(count)d pending", obj.desk_notify_pending),
                  "sb-status-pending"),
                 (obj.desk_notify_failed, ngettext("%(count)d failed", "%(count)d failed", obj.desk_notify_failed),
                  "sb-status-failed")]
        states = format_html_join(" ", '<span class="{}">{}</span>', ((c, w % {"count": n}) for n, w, c in parts if n))
        return format_html("{} · {}", obj.desk_shipments, states or gettext("not notified"))

    @admin.display(description=_("slip"))
    def packing_slip(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}" target="_blank" class="sb-packing-slip" title="{}">{}</a>',
                           reverse("shipbridge_packing_slip", args=[obj.pk]), gettext("Packing slip"), gettext("Slip"))

    # -- "Add order" enters an order by hand; only those may be deleted, while unshipped --
    def has_add_permission(self, request):
        return user_merchant_id(request) != -1 and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not order_deletable(order=obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # an order is deleted from its own page, if at all
        return actions

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(OrderItem._meta.verbose_name)  # an order's lines go with it
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        try:
            manual_order_delete(order=obj)
        except ManualOrderError as exc:  # shipped meanwhile
            raise PermissionDenied(str(exc)) from None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.store.connector_class.imports_orders:
            context["show_save_and_add_another"] = False  # its store's orders come from imports
        if obj is not None and obj.pk:
            lines = order_shipping_lines(order=obj)
            context.update(
                desk_lines=[line for line in lines if not line["item"].adjustment],
                desk_units_left=sum(line["remaining"] for line in lines),
                desk_can_ship=self.has_ship_permission(request, obj) and obj.status != OrderStatus.CANCELLED,
                failed_notifications=order_failed_notifications(order=obj),
                can_resend=request.user.has_perm("orders.change_shipment"),
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _add_merchant(self, request) -> Merchant | None:
        """Whose order the add page enters: the user's merchant; for a superuser the one chosen
        (`?merchant=<id>`), or the only one there is."""
        merchant_id = user_merchant_id(request)
        if merchant_id is not None:
            return Merchant.objects.filter(pk=merchant_id).first()
        chosen = request.GET.get("merchant", "")
        if chosen.isdigit():
            return Merchant.objects.filter(pk=int(chosen)).first()
        merchants = list(Merchant.objects.all()[:2])
        return merchants[0] if len(merchants) == 1 else None

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": gettext("Add order (entered by hand)"),
                   "opts": self.opts, "has_view_permission": self.has_view_permission(request)}
        merchant = self._add_merchant(request)
        if merchant is None:  # a superuser chooses the merchant first
            context.update(choose_merchant=True, merchants=Merchant.objects.order_by("name"))
            return TemplateResponse(request, "admin/orders/order/add_manual.html", context)
        rows = request.GET.get("lines", "")
        rows = min(int(rows), 50) if rows.isdigit() and int(rows) > 0 else 5
        data = request.POST if request.method == "POST" else None
        form = ManualOrderForm(data)
        lines = manual_line_formset(rows=rows)(data, prefix="lines", form_kwargs={
            "products": scoped_queryset(Product, request).filter(merchant=merchant).order_by("sku")})
        if data is not None and all([form.is_valid(), lines.is_valid()]):
            try:
                order = manual_order_create(merchant=merchant, lines=lines.lines(), user=request.user,
                                            **form.order_details())
            except ManualOrderError as exc:
                form.add_error(None, capfirst(translated(exc)))
            else:
                self.log_addition(request, order, [{"added": {}}])
                self.message_user(request, gettext("Order %(number)s added to %(store)s; it awaits shipment (ship it "
                                                   "from its page).") % {"number": order.order_number,
                                                                         "store": order.store.name}, messages.SUCCESS)
                if "_addanother" in request.POST:
                    return HttpResponseRedirect(request.get_full_path())
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[quote(order.pk)],
                                                    current_app=self.admin_site.name))
        context.update(merchant=merchant, form=form, lines=lines, more_rows=min(rows + 10, 50),
                       can_choose_merchant=user_merchant_id(request) is None and Merchant.objects.count() > 1)
        return TemplateResponse(request, "admin/orders/order/add_manual.html", context)

    # -- who may ship: shipping is adding shipments (clerks ship without editing orders) --
    def has_ship_permission(self, request, obj=None):
        opts = Shipment._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def has_refresh_permission(self, request, obj=None):
        return request.user.has_perm("stores.change_store")

    @admin.action(description=_("Refresh the selected orders' stores (import now)"), permissions=["refresh"])
    def refresh_stores(self, request, queryset):
        stores = scoped_queryset(Store, request).filter(pk__in=queryset.values("store_id")).order_by("name")
        queue_refreshes(self, request, list(stores))

    # -- the Ship page: admin/orders/order/<id>/ship/ --
    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("import-tracking/", self.admin_site.admin_view(self.tracking_view), name="%s_%s_tracking" % info),
            path("pack/", self.admin_site.admin_view(self.pack_view), name="%s_%s_pack" % info),
            path("<path:object_id>/ship/", self.admin_site.admin_view(self.ship_view), name="%s_%s_ship" % info),
            *super().get_urls(),
        ]

    def tracking_view(self, request):
        """"Tracking from a file": upload a CSV → what each row would do → confirm → each row's
        outcome. The rows are matched among the orders the user may see."""
        if not self.has_ship_permission(request):
            raise PermissionDenied
        stores = scoped_queryset(Store, request).order_by("name")
        form = TrackingUploadForm(request.POST or None, request.FILES or None, stores=stores)
        context = {**self.admin_site.each_context(request), "title": gettext("Tracking numbers from a file"),
                   "opts": self.opts, "form": form, "has_view_permission": True}
        if request.method == "POST" and form.is_valid():
            orders = scoped_queryset(Order, request)
            if form.cleaned_data["store"]:
                orders = orders.filter(store=form.cleaned_data["store"])
            data = form.data_bytes()
            try:
                rows = tracking_file_read(data)
            except TrackingFileError as exc:
                form.add_error("file", as_sentence(translated(exc)))
                return TemplateResponse(request, "admin/orders/order/import_tracking.html", context)
            summary = tracking_plan(rows=rows, orders=orders)
            confirmed = "_confirm" in request.POST
            if confirmed:
                summary = tracking_apply(plan=summary, notify_store=None if form.cleaned_data["notify_store"] else False,
                                         user=request.user)
            counts = summary.as_dict()
            context.update(summary=summary, counts=counts, confirmed=confirmed,
                           content=tracking_file_text(data),
                           to_ship=summary.count(RowResult.SHIP))
        return TemplateResponse(request, "admin/orders/order/import_tracking.html", context)

    def pack_view(self, request):
        """Scan to verify: scan the packing slip's barcode (the order number), then every unit's
        SKU or product barcode — checked on the page as they come, wrong items and extra units
        flagged — then ship from the same page, tracking number typed or scanned. Made for a
        keyboard-wedge scanner: every step is a field that takes Enter; no mouse needed."""
        if not self.has_ship_permission(request):
            raise PermissionDenied
        orders = scoped_queryset(Order, request)
        context = {**self.admin_site.each_context(request), "title": gettext("Scan to pack"), "opts": self.opts,
                   "has_view_permission": True}
        if request.method == "POST":
            order = get_object_or_404(orders.select_related("store"), pk=request.POST.get("order", ""))
            return self._pack_ship(request, order, context)
        code = request.GET.get("scan", "").strip()
        order_id = request.GET.get("order", "")
        if order_id.isdigit():
            found = [get_object_or_404(orders.select_related("store"), pk=int(order_id))]
        elif code:
            found = orders_by_scan(orders=orders, code=code)
        else:
            return TemplateResponse(request, "admin/orders/order/pack.html", context)
        context["scan"] = code
        if not found:
            context["scan_error"] = gettext("No order %(code)s: scan the barcode on the packing slip.") % {"code": code}
            return TemplateResponse(request, "admin/orders/order/pack.html", context)
        if len(found) > 1 and not order_id:
            context["choices"] = found
            return TemplateResponse(request, "admin/orders/order/pack.html", context)
        order = found[0]
        form = PackShipForm(initial={"carrier": "", "notify_store": order.store.notify_store
                                     and order.store.connector_class.notifies_store})
        return self._pack_page(request, order, form, context)

    def _pack_page(self, request, order, form, context, scanned=None):
        lines = order_packing_lines(order=order)
        for line in lines:
            line["scanned"] = (scanned or {}).get(line["item"].pk, 0)
        context.update(order=order, lines=lines, form=form,
                       shippable=order.status in SHIPPABLE_STATUSES and any(line["remaining"] for line in lines),
                       notifies_store=order.store.connector_class.notifies_store,
                       pack_codes=[{"line": line["item"].pk, "codes": line["codes"], "remaining": line["remaining"],
                                    "label": line["item"].sku or line["item"].name} for line in lines])
        return TemplateResponse(request, "admin/orders/order/pack.html", context)

    def _pack_ship(self, request, order, context):
        """Ship the packed order: every unit left to ship must have been scanned."""
        lines = order_packing_lines(order=order)
        scanned = {}
        for line in lines:
            value = request.POST.get(f"scanned_{line['item'].pk}", "0")
            scanned[line["item"].pk] = int(value) if value.isdigit() else 0
        form = PackShipForm(request.POST)
        valid = form.is_valid()
        if any(scanned[line["item"].pk] != line["remaining"] for line in lines):
            form.add_error(None, gettext("Not every unit was scanned: scan each item before shipping."))
            valid = False
        if valid:
            outcome = order_ship_whole(order=order, carrier=form.cleaned_data["carrier"],
                                       service=form.cleaned_data["service"],
                                       tracking_number=form.cleaned_data["tracking_number"],
                                       notify_store=form.cleaned_data["notify_store"], user=request.user)
            if outcome.shipped:
                self.message_user(request, gettext("Order %(number)s packed and shipped (shipment %(id)s). Scan the "
                                                   "next packing slip.") % {"number": order.order_number,
                                                                            "id": outcome.shipment.pk},
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_pack"))
            form.add_error(None, as_sentence(translated(outcome.error)))
        return self._pack_page(request, order, form, context, scanned=scanned)

    def ship_view(self, request, object_id):
        order = self.get_object(request, unquote(object_id))  # merchant-scoped: others' orders are not found
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_ship_permission(request, order):
            self.message_user(request, gettext("You may not ship orders."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
        additional = order.status == OrderStatus.SHIPPED
        lines = order_shipping_lines(order=order)
        for line in lines:
            line["initial"] = line["ordered"] if additional and not line["item"].adjustment else line["remaining"]
        store = order.store
        notifies = store.connector_class.notifies_store
        # A store that would refuse another notice for this order: "notify the store" unticked, the advice said.
        repeat_advice = order_repeat_notification_advice(order=order)
        if request.method == "POST":
            form = ShipForm(request.POST, lines=lines, notifies_store=notifies)
            if form.is_valid():
                try:
                    shipment = shipment_create(order=order, items=form.items(), user=request.user, **form.shipment_details())
                except ShipDateError as exc:
                    form.add_error("ship_date", as_sentence(exc))
                except ShippingError as exc:
                    self.message_user(request, translated(exc), messages.ERROR)
                else:
                    if shipment.notify_store:
                        told = gettext("Shipment %(id)s of order %(number)s created; the store will be notified.")
                    else:
                        told = gettext("Shipment %(id)s of order %(number)s created; the store is not notified.")
                    self.message_user(request, told % {"id": shipment.pk, "number": order.order_number},
                                      messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:orders_order_change", args=[quote(order.pk)], current_app=self.admin_site.name)
                    )
        else:
            form = ShipForm(lines=lines, notifies_store=notifies, initial={
                "service": order.requested_service,
                "ship_date": timezone.now().astimezone(store.tz).date(),
                "notify_store": store.notify_store and not additional and not repeat_advice,
                "notify_customer": store.notify_customer,
            })
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Ship order %(number)s") % {"number": order.order_number},
            "opts": self.model._meta,
            "original": order,
            "order": order,
            "form": form,
            "additional": additional,
            "connector_can_split": store.connector_class.can_split,
            "notifies_store": notifies,
            "repeat_notification_advice": repeat_advice,
        }
        return TemplateResponse(request, "admin/orders/order/ship.html", context)

    # -- "Ship selected orders": one page, one tracking number per order; each ships on its own --
    def _selected(self, request, queryset, too_many: str) -> list[Order] | None:
        """The selected orders (oldest first), or None (and a message) past MAX_BULK_ORDERS."""
        orders = list(queryset.select_related("store").order_by("order_date", "pk")[:MAX_BULK_ORDERS + 1])
        if len(orders) > MAX_BULK_ORDERS:
            self.message_user(request, too_many % {"max": MAX_BULK_ORDERS}, messages.ERROR)
            return None
        return orders

    @admin.action(description=_("Ship selected orders (a tracking number each)"), permissions=["ship"])
    def ship_selected(self, request, queryset):
        orders = self._selected(request, queryset, gettext("Choose at most %(max)d orders to ship at once."))
        if orders is None:
            return None
        if "apply" in request.POST:
            form = BulkShipForm(request.POST, orders=orders)
            if form.is_valid():
                outcomes = orders_ship_each(orders=orders, user=request.user, **form.ship_details())
                return self._bulk_result(request, outcomes)
        else:
            form = BulkShipForm(orders=orders, initial={"notify_store": True})
        context = {
            **self.admin_site.each_context(request),
            "title": ngettext("Ship %(count)d order", "Ship %(count)d orders", len(orders)) % {"count": len(orders)},
            "opts": self.model._meta,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "ship_selected",
            "awaiting": OrderStatus.AWAITING_SHIPMENT,
        }
        return TemplateResponse(request, "admin/orders/order/bulk_ship.html", context)

    @admin.action(description=_("Print packing slips of the selected orders (one document)"))
    def print_packing_slips(self, request, queryset):
        orders = self._selected(request, queryset, gettext("Choose at most %(max)d orders to print at once."))
        if orders is None:
            return None
        ids = ",".join(str(o.pk) for o in orders)
        return HttpResponseRedirect(f"{reverse('shipbridge_packing_slips')}?ids={ids}")

    def _bulk_result(self, request, outcomes):
        """Each order's outcome: its shipment and the store notification's state, or why not."""
        shipped = [o for o in outcomes if o.shipped]
        states = dict(StoreNotification.objects.filter(shipment_id__in=[o.shipment.pk for o in shipped])
                      .values_list("shipment_id", "status"))
        rows = [{"outcome": o, "notification": (NotificationStatus(states[o.shipment.pk]).label
                                                if o.shipped and o.shipment.pk in states else "")}
                for o in outcomes]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Bulk ship: %(shipped)d shipped, %(refused)d not shipped")
                     % {"shipped": len(shipped), "refused": len(outcomes) - len(shipped)},
            "opts": self.model._meta,
            "rows": rows,
            "shipped_count": len(shipped),
            "refused_count": len(outcomes) - len(shipped),
        }
        return TemplateResponse(request, "admin/orders/order/bulk_result.html", context)

    # -- "Combine selected orders": an intermediate page asks for the package's details --
    @admin.action(description=_("Combine selected orders (ship them in one package)"), permissions=["ship"])
    def combine_orders(self, request, queryset):
        orders = list(queryset.select_related("store").order_by("pk"))
        try:
            orders_combine_check(orders=orders)
        except ShippingError as exc:
            self.message_user(request, translated(exc), messages.ERROR)
            return None
        store = orders[0].store
        notifies = store.connector_class.notifies_store
        if "apply" in request.POST:
            form = ShipmentDetailsForm(request.POST, notifies_store=notifies)
            if form.is_valid():
                try:
                    shipments = orders_combine(orders=orders, user=request.user, **form.shipment_details())
                except ShipDateError as exc:
                    form.add_error("ship_date", as_sentence(exc))
                except ShippingError as exc:
                    self.message_user(request, translated(exc), messages.ERROR)
                    return None
                else:
                    numbers = ", ".join(s.order.order_number for s in shipments)
                    self.message_user(request, gettext("Orders %(numbers)s shipped together (%(count)d shipments, one "
                                                       "per order, one tracking number).")
                                      % {"numbers": numbers, "count": len(shipments)}, messages.SUCCESS)
                    return None
        else:
            form = ShipmentDetailsForm(notifies_store=notifies, initial={
                "ship_date": timezone.now().astimezone(store.tz).date(),
                "notify_store": store.notify_store,
                "notify_customer": store.notify_customer,
            })
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Combine orders into one shipment"),
            "opts": self.model._meta,
            "orders": orders,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "combine_orders",
        }
        return TemplateResponse(request, "admin/orders/order/combine.html", context)


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdmin):
    """Order lines come from imports: read-only here (no add, change or delete)."""

    list_display = ("order", "sku", "name", "quantity", "unit_price")
    search_fields = ("sku", "name", "order__order_number")
    list_select_related = ("order", "order__store")


class ProductAliasInline(admin.TabularInline):
    model = ProductAlias
    extra = 0
    fk_name = "product"


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    list_display = ("sku", "name", "merchant", "barcode", "weight_grams", "bin_location", "updated_at")
    list_filter = ("merchant",)
    search_fields = ("sku", "name", "barcode", "aliases__sku")
    list_select_related = ("merchant",)
    inlines = [ProductAliasInline]


@admin.register(ProductAlias)
class ProductAliasAdmin(MerchantScopedAdmin):
    list_display = ("sku", "product", "store")
    search_fields = ("sku", "product__sku")
    list_select_related = ("product", "store")


class ShipmentItemInline(ReadOnlyInline):
    model = ShipmentItem
    raw_id_fields = ("order_item",)
    fields = ("order_item", "quantity")
    readonly_fields = fields


def _resend(model_admin, request, notifications) -> None:
    queued = 0
    for notification in notifications:
        try:
            notification_resend(notification=notification, user=request.user)
        except NotificationError as exc:
            model_admin.message_user(request, translated(exc), messages.ERROR)
        else:
            queued += 1
    if queued:
        model_admin.message_user(request, gettext("%(count)d store notification(s) queued again.") % {"count": queued},
                                 messages.SUCCESS)


class ShipmentChangeInline(ReadOnlyInline):
    """The shipment's history: every correction, who made it, old → new, what the store was told."""

    model = ShipmentChange
    fields = ("changed_at", "changed_by", "field", "old_value", "new_value", "store_correction", "store_note_text")
    readonly_fields = fields
    verbose_name_plural = _("history (corrections)")
    store_note_text = kept_message(ShipmentChange, "store_note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


@admin.register(Shipment)
class ShipmentAdmin(MerchantScopedAdmin):
    """Shipments are made from the order page ("Ship"); here their package details (carrier,
    service, tracking number, ship date) are corrected on the "Correct" page, every change kept
    in the history, the store told when it can take it. Nothing else is edited: what the store
    was told must match what is recorded."""

    list_display = ("id", "order", "carrier", "service", "tracking_number", "ship_date", "notify_store",
                    "notification_status", "voided_at")
    list_filter = ("carrier", "notify_store", "ship_date")
    search_fields = ("tracking_number", "order__order_number")
    list_select_related = ("order", "order__store", "notification")
    raw_id_fields = ("order",)
    inlines = [ShipmentItemInline, ShipmentChangeInline]
    readonly_fields = ("order", "carrier", "service", "tracking_number", "ship_date", "cost_amount", "notify_store",
                       "notify_customer", "created_at", "created_by", "voided_at", "voided_by", "group_key",
                       "notification_status")
    fields = readonly_fields
    actions = ["resend_notification", "void_shipments"]

    def has_delete_permission(self, request, obj=None):
        return False  # what the store was told must match what is recorded: void or correct instead

    def has_add_permission(self, request):
        return False  # ship from the order page

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/correct/", self.admin_site.admin_view(self.correct_view),
                 name="%s_%s_correct" % info),
            *super().get_urls(),
        ]

    def correct_view(self, request, object_id):
        """The "Correct" page: the package's details to change; before saving, what the store
        will be told (or why it keeps the old values and what to do instead); after, the same."""
        shipment = self.get_object(request, unquote(object_id))  # merchant-scoped: others' are not found
        if not self.has_change_permission(request, shipment):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:orders_shipment_change", args=[quote(shipment.pk)]))
        try:
            outlook = shipment_update(shipment=shipment, dry_run=True)
        except ShippingError as exc:
            self.message_user(request, as_sentence(exc), messages.ERROR)
            return back
        offer_notify = outlook.store.state == StoreCorrection.QUEUED
        if request.method == "POST":
            form = ShipmentCorrectionForm(request.POST, offer_notify=offer_notify)
            if form.is_valid():
                try:
                    result = shipment_update(shipment=shipment, user=request.user, **form.corrections())
                except ShipDateError as exc:
                    form.add_error("ship_date", as_sentence(exc))
                except ShippingError as exc:
                    form.add_error(None, translated(exc))
                else:
                    self._report_correction(request, result)
                    return back
        else:
            form = ShipmentCorrectionForm(offer_notify=offer_notify, initial={
                **carrier_initial(shipment.carrier), "service": shipment.service,
                "tracking_number": shipment.tracking_number, "ship_date": shipment.ship_date,
            })
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Correct shipment %(id)s of order %(number)s") % {
                "id": shipment.pk, "number": shipment.order.order_number},
            "opts": self.opts,
            "original": shipment,
            "shipment": shipment,
            "form": form,
            "store_outlook": outlook.store,
            "store_keeps_old_values": outlook.store.state == StoreCorrection.NOT_SENT,
            "package": [item.shipment for item in outlook.corrected[1:]],
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/orders/shipment/correct.html", context)

    def _report_correction(self, request, result) -> None:
        if not result.changed:
            self.message_user(request, gettext("Nothing changed: shipment %(id)s already has these values.")
                              % {"id": result.shipment.pk}, messages.INFO)
            return
        for item in result.corrected:
            if not item.changes:
                continue
            none = gettext("(none)")
            changes = gettext("; ").join(gettext("%(field)s %(old)s → %(new)s") % {
                "field": c.get_field_display(), "old": c.old_value or none, "new": c.new_value or none}
                for c in item.changes)
            kept = item.store.state == StoreCorrection.NOT_SENT
            self.message_user(request, gettext("Shipment %(id)s corrected (%(changes)s). %(store)s") % {
                "id": item.shipment.pk, "changes": changes, "store": translated(item.store.message)},
                messages.WARNING if kept else messages.SUCCESS)

    @admin.display(description=_("store notification"))
    def notification_status(self, obj):
        return _notification_state(obj)

    @admin.display(description=_("cost"))
    def cost_amount(self, obj):
        return format_amount(obj.cost, obj.order.currency) or "—"

    @admin.action(description=_("Resend store notification"), permissions=["change"])
    def resend_notification(self, request, queryset):
        notifications = []
        for shipment in queryset.order_by("pk"):
            notification = notification_for_shipment(shipment=shipment)
            if notification is None:
                self.message_user(request, gettext('Shipment %(id)s was made with "do not notify the store": there '
                                                   'is nothing to send.') % {"id": shipment.pk}, messages.ERROR)
            else:
                notifications.append(notification)
        _resend(self, request, notifications)

    @admin.action(description=_("Void shipment (the store is not told)"), permissions=["change"])
    def void_shipments(self, request, queryset):
        voided = []
        for shipment in queryset.order_by("pk"):
            try:
                shipment = shipment_void(shipment=shipment, user=request.user)
            except ShippingError as exc:
                self.message_user(request, translated(exc), messages.ERROR)
            else:
                voided.append(shipment)
        if voided:
            self.message_user(
                request,
                gettext("Voided shipment(s) %(ids)s; their orders await shipment again and the store is not told.")
                % {"ids": ", ".join(str(s.pk) for s in voided)},
                messages.SUCCESS,
            )


@admin.register(ShipmentChange)
class ShipmentChangeAdmin(ReadOnlyAdmin):
    """Every shipment correction, read-only: the history is written by the correction only."""

    list_display = ("changed_at", "shipment", "field", "old_value", "new_value", "changed_by", "store_correction")
    list_filter = ("field", "store_correction")
    search_fields = ("old_value", "new_value", "shipment__order__order_number")
    list_select_related = ("shipment", "shipment__order", "changed_by")
    raw_id_fields = ("shipment",)
    readonly_fields = ("shipment", "changed_at", "changed_by", "field", "old_value", "new_value",
                       "store_correction", "store_note_text")
    fields = readonly_fields
    date_hierarchy = "changed_at"
    store_note_text = kept_message(ShipmentChange, "store_note")


@admin.register(ShipmentItem)
class ShipmentItemAdmin(MerchantScopedAdmin):
    list_display = ("shipment", "order_item", "quantity")
    list_select_related = ("shipment", "shipment__order", "order_item")
    raw_id_fields = ("shipment", "order_item")
    search_fields = ("order_item__sku", "shipment__order__order_number")
    readonly_fields = ("shipment", "order_item", "quantity")

    def has_add_permission(self, request):
        return False  # shipment lines are written with their shipment

    def has_delete_permission(self, request, obj=None):
        return False  # what the store was told must match what is recorded: void the shipment instead


@admin.register(ImportRun)
class ImportRunAdmin(MerchantScopedAdmin):
    list_display = ("store", "trigger", "status", "started_at", "finished_at", "imported", "updated",
                    "unchanged", "skipped", "error_text", "warning_text")
    list_filter = ("status", "trigger", "store")
    search_fields = ("store__name", "error")
    list_select_related = ("store",)
    date_hierarchy = "started_at"
    error_text = kept_message(ImportRun, "error")
    warning_text = kept_message(ImportRun, "warning")

    def has_add_permission(self, request):
        return False


class NotificationAttemptInline(ReadOnlyInline):
    model = NotificationAttempt
    fields = ("number", "started_at", "finished_at", "outcome", "request_summary_text", "response_code",
              "message_text")
    readonly_fields = fields
    request_summary_text = kept_message(NotificationAttempt, "request_summary")
    message_text = kept_message(NotificationAttempt, "message")


@admin.register(StoreNotification)
class StoreNotificationAdmin(MerchantScopedAdmin):
    list_display = ("shipment", "order_link", "status", "attempts", "error_text", "warning_text", "advice_text",
                    "sent_at", "next_attempt_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("shipment__order__order_number", "error")
    list_select_related = ("shipment", "shipment__order", "shipment__order__store")
    inlines = [NotificationAttemptInline]
    raw_id_fields = ("shipment",)
    readonly_fields = ("shipment", "status", "attempts", "error_text", "warning_text", "advice_text",
                       "next_attempt_at", "sent_at", "created_at", "updated_at")
    fields = readonly_fields
    actions = ["resend"]
    error_text = kept_message(StoreNotification, "error")
    warning_text = kept_message(StoreNotification, "warning")
    advice_text = kept_message(StoreNotification, "advice")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("order"))
    def order_link(self, obj):
        order = obj.shipment.order
        url = reverse("admin:orders_order_change", args=[quote(order.pk)])
        return format_html('<a href="{}">{}</a>', url, order.order_number)

    @admin.action(description=_("Resend store notification"), permissions=["change"])
    def resend(self, request, queryset):
        _resend(self, request, list(queryset.order_by("pk")))


@admin.register(NotificationAttempt)
class NotificationAttemptAdmin(MerchantScopedAdmin):
    list_display = ("notification", "number", "started_at", "outcome", "response_code", "message_text")
    message_text = kept_message(NotificationAttempt, "message")
    list_filter = ("outcome",)
    list_select_related = ("notification",)
    search_fields = ("message",)

    def has_add_permission(self, request):
        return False

from . import admin_api  # noqa: E402,F401 - the API keys and webhooks pages
