from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html

from .forms import CONNECTION_FIELD_NAMES, StoreAdminForm
from .models import Merchant, StatusMapping, Store, User
from .scoping import MerchantScopedAdmin, user_merchant_id


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    merchant_lookup = "pk"
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(BaseUserAdmin, MerchantScopedAdmin):
    list_display = ("username", "email", "merchant", "is_staff", "is_superuser", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "merchant", "groups")
    list_select_related = ("merchant",)
    fieldsets = BaseUserAdmin.fieldsets + (("Merchant", {"fields": ("merchant",)}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (("Merchant", {"fields": ("merchant",)}),)


class StatusMappingInline(admin.TabularInline):
    model = StatusMapping
    extra = 0
    fields = ("store_status", "status")


@admin.register(Store)
class StoreAdmin(MerchantScopedAdmin):
    form = StoreAdminForm
    list_display = ("name", "merchant", "connector", "active", "timezone", "last_refresh_status",
                    "last_refresh_at", "next_refresh_at")
    list_filter = ("connector", "active", "last_refresh_status", "merchant")
    search_fields = ("name", "merchant__name")
    list_select_related = ("merchant",)
    inlines = [StatusMappingInline]
    readonly_fields = ("last_refresh_at", "last_refresh_status", "last_refresh_error", "import_cursor",
                       "next_refresh_at", "last_connection_test_at", "last_connection_test_ok",
                       "last_connection_test_message")
    fieldsets = (
        ("Store setup", {"fields": ("merchant", "connector", "name", "active", "refresh_interval_minutes")}),
        ("Connection details", {"fields": CONNECTION_FIELD_NAMES,
                                "description": "Secrets are write-only: they are stored encrypted and never shown back."}),
        ("Time zone", {"fields": ("timezone",)}),
        ("Marketplace notifications", {"fields": ("notify_marketplace",)}),
        ("Customer notifications", {"fields": ("notify_customer",)}),
        ("Branding", {"fields": ("brand_company_name", "brand_logo", "brand_phone", "brand_email",
                                 "brand_website", "brand_return_address")}),
        ("Product management", {"fields": ("create_products", "update_products")}),
        ("Activity", {"fields": readonly_fields}),
    )

    actions = ["refresh_now", "test_connection"]

    @admin.display(description="Notice")
    def connector_notice(self, obj):
        notice = obj.connector_class.notice if obj and obj.connector else ""
        return format_html('<strong class="shipbridge-notice">{}</strong>', notice) if notice else "—"

    def get_readonly_fields(self, request, obj=None):
        return ("connector_notice", *super().get_readonly_fields(request, obj))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.connector_class.notice:
            setup = fieldsets[0]
            fieldsets = ((setup[0], {**setup[1], "fields": ("connector_notice", *setup[1]["fields"])}),
                         *fieldsets[1:])
        return fieldsets

    @admin.action(description="Refresh now (import orders)")
    def refresh_now(self, request, queryset):
        from orders.importing import store_queue_refresh
        from orders.models import ImportTrigger

        stores = list(queryset.filter(active=True))
        for store in stores:
            store_queue_refresh(store=store, trigger=ImportTrigger.USER, user=request.user)
        skipped = queryset.count() - len(stores)
        self.message_user(request, f"Import queued for {len(stores)} store(s)."
                          + (f" {skipped} inactive store(s) left alone." if skipped else ""), messages.SUCCESS)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        from .services import store_test_connection

        for store in queryset:
            ok, message = store_test_connection(store=store)
            self.message_user(request, f"{store.name}: {message}", messages.SUCCESS if ok else messages.ERROR)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if user_merchant_id(request) not in (None, -1):
            initial.setdefault("merchant", request.user.merchant_id)
        return initial


@admin.register(StatusMapping)
class StatusMappingAdmin(MerchantScopedAdmin):
    merchant_lookup = "store__merchant_id"
    list_display = ("store", "store_status", "status")
    list_filter = ("status", "store")
    search_fields = ("store_status", "store__name")
    list_select_related = ("store",)
