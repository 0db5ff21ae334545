from django.contrib import admin

from stores.scoping import MerchantScopedAdmin

from .models import (ImportRun, NotificationAttempt, Order, OrderItem, Product, ProductAlias, Shipment,
                     ShipmentItem, StoreNotification)


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    fields = ("line_item_id", "sku", "name", "quantity", "unit_price", "weight_grams", "location", "adjustment")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(MerchantScopedAdmin):
    merchant_lookup = "store__merchant_id"
    list_display = ("order_number", "store", "order_date", "status", "store_status", "ship_to_name",
                    "ship_to_country")
    list_filter = ("status", "store", "order_date")
    search_fields = ("order_number", "external_id", "ship_to_name", "customer_email", "items__sku")
    list_select_related = ("store",)
    date_hierarchy = "order_date"
    inlines = [OrderItemInline]
    readonly_fields = ("store", "external_id", "imported_at", "updated_at", "raw")

    def get_search_results(self, request, queryset, search_term):
        qs, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return qs, may_have_duplicates


@admin.register(OrderItem)
class OrderItemAdmin(MerchantScopedAdmin):
    merchant_lookup = "order__store__merchant_id"
    list_display = ("order", "sku", "name", "quantity", "unit_price")
    search_fields = ("sku", "name", "order__order_number")
    list_select_related = ("order", "order__store")
    raw_id_fields = ("order",)


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
    merchant_lookup = "product__merchant_id"
    list_display = ("sku", "product", "store")
    search_fields = ("sku", "product__sku")
    list_select_related = ("product", "store")


class ShipmentItemInline(admin.TabularInline):
    model = ShipmentItem
    extra = 0
    raw_id_fields = ("order_item",)


@admin.register(Shipment)
class ShipmentAdmin(MerchantScopedAdmin):
    merchant_lookup = "order__store__merchant_id"
    list_display = ("id", "order", "carrier", "service", "tracking_number", "ship_date", "notify_store",
                    "voided_at")
    list_filter = ("carrier", "notify_store", "ship_date")
    search_fields = ("tracking_number", "order__order_number")
    list_select_related = ("order", "order__store")
    raw_id_fields = ("order",)
    inlines = [ShipmentItemInline]


@admin.register(ShipmentItem)
class ShipmentItemAdmin(MerchantScopedAdmin):
    merchant_lookup = "shipment__order__store__merchant_id"
    list_display = ("shipment", "order_item", "quantity")
    list_select_related = ("shipment", "order_item")
    raw_id_fields = ("shipment", "order_item")
    search_fields = ("order_item__sku", "shipment__order__order_number")


@admin.register(ImportRun)
class ImportRunAdmin(MerchantScopedAdmin):
    merchant_lookup = "store__merchant_id"
    list_display = ("store", "trigger", "status", "started_at", "finished_at", "imported", "updated",
                    "unchanged", "skipped", "failed", "error")
    list_filter = ("status", "trigger", "store")
    search_fields = ("store__name", "error")
    list_select_related = ("store",)
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False


class NotificationAttemptInline(admin.TabularInline):
    model = NotificationAttempt
    extra = 0
    readonly_fields = ("number", "started_at", "finished_at", "outcome", "request_summary", "response_code",
                       "message")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StoreNotification)
class StoreNotificationAdmin(MerchantScopedAdmin):
    merchant_lookup = "shipment__order__store__merchant_id"
    list_display = ("shipment", "status", "attempts", "error", "warning", "sent_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("shipment__order__order_number", "error")
    list_select_related = ("shipment", "shipment__order")
    inlines = [NotificationAttemptInline]
    raw_id_fields = ("shipment",)

    def has_add_permission(self, request):
        return False


@admin.register(NotificationAttempt)
class NotificationAttemptAdmin(MerchantScopedAdmin):
    merchant_lookup = "notification__shipment__order__store__merchant_id"
    list_display = ("notification", "number", "started_at", "outcome", "response_code", "message")
    list_filter = ("outcome",)
    list_select_related = ("notification",)
    search_fields = ("message",)

    def has_add_permission(self, request):
        return False
