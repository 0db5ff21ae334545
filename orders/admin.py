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
from django.utils.text import capfirst

from stores import admin as store_admin
from stores.forms import as_sentence
from stores.models import Merchant, OrderStatus, Store
from stores.scoping import MerchantScopedAdmin, scoped_queryset, user_merchant_id
from stores.selectors import next_refresh_words, store_state

from .changelist import DateRangeChangeList
from .forms import ManualOrderForm, ReimportForm, ShipForm, ShipmentCorrectionForm, ShipmentDetailsForm, manual_line_formset
from .importing import StoreUnavailable, store_queue_refresh, stores_queue_refresh
from .manual import ManualOrderError, manual_order_create, manual_order_delete
from .models import (NOTIFICATION_NOT_REQUESTED, ImportRun, ImportTrigger, NotificationAttempt, Order, OrderItem,
                     Product, ProductAlias, Shipment, ShipmentChange, ShipmentItem, StoreCorrection,
                     StoreNotification)
from .notifying import NotificationError, notification_resend
from .selectors import (TIMEZONE_WARNING, notification_for_shipment, order_deletable, order_desk_annotations,
                        order_repeat_notification_advice, order_shipping_lines, store_import_runs, store_notifications,
                        store_timezone_suspect)
from .shipping import (ShipDateError, ShippingError, orders_combine, orders_combine_check, shipment_create,
                       shipment_update, shipment_void)

log = logging.getLogger("shipbridge.admin")


def queue_refreshes(model_admin, request, stores) -> None:
    """"Refresh now" for each store, every outcome in words."""
    result = stores_queue_refresh(stores=stores, trigger=ImportTrigger.USER, user=request.user)
    for store, exc in result.failed:
        model_admin.message_user(
            request, f"{store.name}: the import could not be queued ({store_admin.first_line(exc)}).", messages.ERROR)
    if result.queued:
        model_admin.message_user(
            request, f"Import queued for {', '.join(s.name for s in result.queued)}; its run appears under Activity.",
            messages.SUCCESS)
    if result.inactive:
        model_admin.message_user(request, f"Inactive, left alone: {', '.join(s.name for s in result.inactive)}.",
                                 messages.WARNING)
    if result.not_imported:
        model_admin.message_user(
            request, f"Nothing to import, left alone: {', '.join(s.name for s in result.not_imported)} "
                     "(orders entered in ShipBridge).", messages.WARNING)


# --- stores: what their pages do with orders -----------------------------------------------


admin.site.unregister(Store)


@admin.register(Store)
class StoreAdmin(store_admin.StoreAdmin):
    actions = ["refresh_now", *store_admin.StoreAdmin.actions]

    @property
    def products_description(self):
        return format_html('Products (SKU, name, weight, image, bin location) and SKU aliases are managed under '
                           '<a href="{}">Products</a>.', reverse("admin:orders_product_changelist"))

    def _panel_context(self, request, store):
        info = self.opts.app_label, self.opts.model_name
        return {
            **super()._panel_context(request, store),
            "timezone_warning": TIMEZONE_WARNING if store_timezone_suspect(store=store) else "",
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
            self.message_user(request, f"{store.name}: {' '.join(form.errors.get('since', []))}", messages.ERROR)
            return HttpResponseRedirect(self.change_url(store))
        since = dt.datetime.combine(form.cleaned_data["since"], dt.time.min, tzinfo=store.tz)
        try:
            store_queue_refresh(store=store, trigger=ImportTrigger.USER, user=request.user, since=since)
        except StoreUnavailable as exc:
            self.message_user(request, f"{store.name}: {exc}.", messages.WARNING)
        except Exception as exc:  # noqa: BLE001 - e.g. the task queue is unreachable
            log.exception("could not queue a re-import of store %s", store.pk)
            self.message_user(request, f"{store.name}: the import could not be queued ({store_admin.first_line(exc)}).",
                              messages.ERROR)
        else:
            self.message_user(request, f"Re-import of {store.name} from {form.cleaned_data['since']:%Y-%m-%d} queued; "
                                       "its run appears under Activity.", messages.SUCCESS)
        return HttpResponseRedirect(self.change_url(store))

    def activity_view(self, request, object_id):
        store = self.store_or_404(request, object_id, change=False)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Activity of {store.name}",
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
        label = (f"the notification of shipment {notification.shipment_id} "
                 f"(order {notification.shipment.order.order_number})")
        try:
            notification_resend(notification=notification, user=request.user)
        except NotificationError as exc:
            self.message_user(request, f"Not resent: {exc}.", messages.WARNING)
        except Exception as exc:  # noqa: BLE001 - e.g. the task queue is unreachable; logged in full
            log.exception("resend of notification %s failed", notification.pk)
            self.message_user(request, f"Could not resend {label}: {store_admin.first_line(exc)}", messages.ERROR)
        else:
            self.message_user(request, f"Resend of {label} queued.", messages.SUCCESS)
        return HttpResponseRedirect(activity)

    @admin.action(description="Refresh now (import orders)", permissions=["change"])
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


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, written by imports and services only: no add, no delete."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ("line_item_id", "sku", "name", "quantity", "unit_price", "weight_grams", "location", "adjustment")
    readonly_fields = fields


def _notification_state(shipment: Shipment) -> str:
    if not shipment.notify_store:
        return NOTIFICATION_NOT_REQUESTED.replace("_", " ")
    notification = getattr(shipment, "notification", None)
    return notification.get_status_display() if notification else "—"


class ShipmentInline(ReadOnlyInline):
    """The order's shipments with their store notification's state, error and advice."""

    model = Shipment
    fields = ("carrier", "service", "tracking_number", "ship_date", "cost", "notify_store", "items_shipped",
              "notification_status", "notification_error", "notification_advice", "group_key", "voided_at",
              "voided_by", "correct_link")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "shipments"

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("notification", "voided_by")
                .prefetch_related("items__order_item").order_by("id"))

    @admin.display(description="items")
    def items_shipped(self, obj):
        return ", ".join(f"{si.quantity} × {si.order_item.sku or si.order_item.name}" for si in obj.items.all())

    @admin.display(description="store notification")
    def notification_status(self, obj):
        return _notification_state(obj)

    @admin.display(description="error")
    def notification_error(self, obj):
        notification = getattr(obj, "notification", None)
        if notification is None:
            return ""
        return notification.error or notification.warning

    @admin.display(description="advice")
    def notification_advice(self, obj):
        notification = getattr(obj, "notification", None)
        return notification.advice if notification else ""

    @admin.display(description="correct")
    def correct_link(self, obj):
        if obj.pk is None or obj.voided_at is not None:
            return ""  # a void shipment cannot be corrected
        return format_html('<a href="{}" class="sb-correct-shipment">Correct</a>',
                           reverse("admin:orders_shipment_correct", args=[quote(obj.pk)]))


EDITABLE_SHIP_TO = ("ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_street3",
                    "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country", "ship_to_phone")


@admin.register(Order)
class OrderAdmin(MerchantScopedAdmin):
    """The orders desk: filter by store, status and date; search by order number, customer name
    or SKU; one query for the page whatever its number of rows."""

    list_display = ("order_number", "store", "order_date", "status", "store_status", "customer", "ship_to_country",
                    "lines", "shipments_state", "packing_slip")
    list_display_links = ("order_number",)
    list_filter = ("status", "store", "order_date")
    search_fields = ("order_number", "external_id", "ship_to_name", "bill_to_name", "customer_email", "items__sku")
    search_help_text = "Order number, customer name or e-mail, or SKU."
    list_select_related = ("store",)
    list_per_page = 50
    date_hierarchy = "order_date"
    # At any size the desk reads what it shows: one count of the listed orders (not of the whole
    # table again), and a date drill-down from the first and last order (DateRangeChangeList).
    show_full_result_count = False
    inlines = [OrderItemInline, ShipmentInline]
    fieldsets = (
        ("Order", {"fields": ("store", "order_number", "external_id", "order_date", "modified_at", "status",
                              "store_status", "ship_date", "requested_service", "packing_slip"),
                   "description": "From the store. The status changes by shipping (Ship, void) and by imports, "
                                  "not by hand."}),
        ("Ship to", {"fields": EDITABLE_SHIP_TO,
                     "description": "Correct the address here before shipping (a typo, a missing apartment "
                                    "number): labels, packing slips and the store notification use it. A later "
                                    "change of the order in the store replaces it."}),
        ("Customer and billing", {"fields": ("customer_code", "customer_email", "bill_to_name", "bill_to_company",
                                             "bill_to_phone", "bill_to_email", "payment_method")}),
        ("Amounts", {"fields": ("currency", "order_total", "tax_amount", "shipping_amount")}),
        ("Notes", {"fields": ("customer_notes", "internal_notes", "gift", "gift_message"),
                   "description": "Internal notes are yours to edit (the store's own internal notes are "
                                  "replaced when the store changes the order); the rest comes from the store."}),
        ("Import", {"fields": ("imported_at", "updated_at", "raw"), "classes": ("collapse",)}),
    )
    # Everything but the ship-to address and the internal notes comes from the store (imports) or
    # changes through the shipping services: read-only here.
    readonly_fields = tuple(
        f for _, options in fieldsets for f in options["fields"] if f not in (*EDITABLE_SHIP_TO, "internal_notes")
    )
    actions = ["combine_orders", "refresh_stores"]
    # How the sections read for an order entered by hand (its store imports nothing).
    entered_descriptions = {
        "Order": "Entered by hand (Add order). The status changes by shipping (Ship, void), not by hand.",
        "Ship to": "Correct the address here before shipping: labels and packing slips use it.",
        "Notes": "Internal notes are yours to edit.",
    }

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**order_desk_annotations())

    def get_changelist(self, request, **kwargs):
        return DateRangeChangeList

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.store.connector_class.imports_orders:
            return fieldsets
        return [(name, {**options, "description": self.entered_descriptions.get(name, options.get("description"))})
                for name, options in fieldsets]

    # -- desk columns (from the annotations: no query per row) --
    @admin.display(description="customer", ordering="ship_to_name")
    def customer(self, obj):
        return obj.ship_to_name or obj.bill_to_name or obj.customer_email

    @admin.display(description="lines / units")
    def lines(self, obj):
        return f"{obj.desk_lines} / {obj.desk_units}"

    @admin.display(description="shipments · store notified")
    def shipments_state(self, obj):
        if not obj.desk_shipments:
            return "—"
        parts = [(obj.desk_notify_sent, "sent", "sb-status-sent"), (obj.desk_notify_pending, "pending",
                                                                     "sb-status-pending"),
                 (obj.desk_notify_failed, "failed", "sb-status-failed")]
        states = format_html_join(" ", '<span class="{}">{} {}</span>', ((c, n, w) for n, w, c in parts if n))
        return format_html("{} · {}", obj.desk_shipments, states or "not notified")

    @admin.display(description="packing slip")
    def packing_slip(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}" target="_blank" class="sb-packing-slip">Packing slip</a>',
                           reverse("shipbridge_packing_slip", args=[obj.pk]))

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
        context = {**self.admin_site.each_context(request), "title": "Add order (entered by hand)",
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
                form.add_error(None, capfirst(str(exc)))
            else:
                self.log_addition(request, order, [{"added": {}}])
                self.message_user(request, f"Order {order.order_number} added to {order.store.name}; it awaits "
                                           "shipment (ship it from its page).", messages.SUCCESS)
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

    @admin.action(description="Refresh the selected orders' stores (import now)", permissions=["refresh"])
    def refresh_stores(self, request, queryset):
        stores = scoped_queryset(Store, request).filter(pk__in=queryset.values("store_id")).order_by("name")
        queue_refreshes(self, request, list(stores))

    # -- the Ship page: admin/orders/order/<id>/ship/ --
    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("<path:object_id>/ship/", self.admin_site.admin_view(self.ship_view), name="%s_%s_ship" % info),
            *super().get_urls(),
        ]

    def ship_view(self, request, object_id):
        order = self.get_object(request, unquote(object_id))  # merchant-scoped: others' orders are not found
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_ship_permission(request, order):
            self.message_user(request, "You may not ship orders.", messages.ERROR)
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
                    self.message_user(request, str(exc), messages.ERROR)
                else:
                    told = ("the store will be notified" if shipment.notify_store
                            else "the store is not notified")
                    self.message_user(request, f"Shipment {shipment.pk} of order {order.order_number} created; {told}.",
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
            "title": f"Ship order {order.order_number}",
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

    # -- "Combine selected orders": an intermediate page asks for the package's details --
    @admin.action(description="Combine selected orders (ship them in one package)", permissions=["ship"])
    def combine_orders(self, request, queryset):
        orders = list(queryset.select_related("store").order_by("pk"))
        try:
            orders_combine_check(orders=orders)
        except ShippingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
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
                    self.message_user(request, str(exc), messages.ERROR)
                    return None
                else:
                    numbers = ", ".join(s.order.order_number for s in shipments)
                    self.message_user(request, f"Orders {numbers} shipped together ({len(shipments)} shipments, "
                                      "one per order, one tracking number).", messages.SUCCESS)
                    return None
        else:
            form = ShipmentDetailsForm(notifies_store=notifies, initial={
                "ship_date": timezone.now().astimezone(store.tz).date(),
                "notify_store": store.notify_store,
                "notify_customer": store.notify_customer,
            })
        context = {
            **self.admin_site.each_context(request),
            "title": "Combine orders into one shipment",
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
    list_display = ("sku", "name", "merchant", "weight_grams", "bin_location", "updated_at")
    list_filter = ("merchant",)
    search_fields = ("sku", "name", "aliases__sku")
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
            model_admin.message_user(request, str(exc), messages.ERROR)
        else:
            queued += 1
    if queued:
        model_admin.message_user(request, f"{queued} store notification(s) queued again.", messages.SUCCESS)


class ShipmentChangeInline(ReadOnlyInline):
    """The shipment's history: every correction, who made it, old → new, what the store was told."""

    model = ShipmentChange
    fields = ("changed_at", "changed_by", "field", "old_value", "new_value", "store_correction", "store_note")
    readonly_fields = fields
    verbose_name_plural = "history (corrections)"

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
    readonly_fields = ("order", "carrier", "service", "tracking_number", "ship_date", "cost", "notify_store",
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
                    form.add_error(None, str(exc))
                else:
                    self._report_correction(request, result)
                    return back
        else:
            form = ShipmentCorrectionForm(offer_notify=offer_notify, initial={
                "carrier": shipment.carrier, "service": shipment.service,
                "tracking_number": shipment.tracking_number, "ship_date": shipment.ship_date,
            })
        context = {
            **self.admin_site.each_context(request),
            "title": f"Correct shipment {shipment.pk} of order {shipment.order.order_number}",
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
            self.message_user(request, f"Nothing changed: shipment {result.shipment.pk} already has these values.",
                              messages.INFO)
            return
        for item in result.corrected:
            if not item.changes:
                continue
            changes = "; ".join(f"{c.get_field_display()} {c.old_value or '(none)'} → {c.new_value or '(none)'}"
                                for c in item.changes)
            kept = item.store.state == StoreCorrection.NOT_SENT
            self.message_user(request, f"Shipment {item.shipment.pk} corrected ({changes}). {item.store.message}",
                              messages.WARNING if kept else messages.SUCCESS)

    @admin.display(description="store notification")
    def notification_status(self, obj):
        return _notification_state(obj)

    @admin.action(description="Resend store notification", permissions=["change"])
    def resend_notification(self, request, queryset):
        notifications = []
        for shipment in queryset.order_by("pk"):
            notification = notification_for_shipment(shipment=shipment)
            if notification is None:
                self.message_user(request, f"shipment {shipment.pk} was made with \"do not notify the store\": "
                                           "there is nothing to send", messages.ERROR)
            else:
                notifications.append(notification)
        _resend(self, request, notifications)

    @admin.action(description="Void shipment (the store is not told)", permissions=["change"])
    def void_shipments(self, request, queryset):
        voided = []
        for shipment in queryset.order_by("pk"):
            try:
                shipment = shipment_void(shipment=shipment, user=request.user)
            except ShippingError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                voided.append(shipment)
        if voided:
            self.message_user(
                request,
                "Voided shipment(s) " + ", ".join(str(s.pk) for s in voided)
                + "; their orders await shipment again and the store is not told.",
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
                       "store_correction", "store_note")
    fields = readonly_fields
    date_hierarchy = "changed_at"


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
                    "unchanged", "skipped", "error", "warning")
    list_filter = ("status", "trigger", "store")
    search_fields = ("store__name", "error")
    list_select_related = ("store",)
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False


class NotificationAttemptInline(ReadOnlyInline):
    model = NotificationAttempt
    readonly_fields = ("number", "started_at", "finished_at", "outcome", "request_summary", "response_code",
                       "message")


@admin.register(StoreNotification)
class StoreNotificationAdmin(MerchantScopedAdmin):
    list_display = ("shipment", "order_link", "status", "attempts", "error", "warning", "advice", "sent_at",
                    "next_attempt_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("shipment__order__order_number", "error")
    list_select_related = ("shipment", "shipment__order", "shipment__order__store")
    inlines = [NotificationAttemptInline]
    raw_id_fields = ("shipment",)
    readonly_fields = ("shipment", "status", "attempts", "error", "warning", "advice", "next_attempt_at", "sent_at",
                       "created_at", "updated_at")
    fields = readonly_fields
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="order")
    def order_link(self, obj):
        order = obj.shipment.order
        url = reverse("admin:orders_order_change", args=[quote(order.pk)])
        return format_html('<a href="{}">{}</a>', url, order.order_number)

    @admin.action(description="Resend store notification", permissions=["change"])
    def resend(self, request, queryset):
        _resend(self, request, list(queryset.order_by("pk")))


@admin.register(NotificationAttempt)
class NotificationAttemptAdmin(MerchantScopedAdmin):
    list_display = ("notification", "number", "started_at", "outcome", "response_code", "message")
    list_filter = ("outcome",)
    list_select_related = ("notification",)
    search_fields = ("message",)

    def has_add_permission(self, request):
        return False
