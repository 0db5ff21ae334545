from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
