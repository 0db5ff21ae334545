"""Merchants kept apart in the admin: every model admin filters by the user's merchant."""
from __future__ import annotations

from django.contrib import admin


def user_merchant_id(request) -> int | None:
    """None for platform superusers (see everything); the merchant id otherwise (-1: none)."""
    user = request.user
    if user.is_superuser:
        return None
    return user.merchant_id or -1


class MerchantScopedAdmin(admin.ModelAdmin):
    """`merchant_lookup` is the lookup from this model to its merchant's id (e.g. "store__merchant_id")."""

    merchant_lookup: str = "merchant_id"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        merchant_id = user_merchant_id(request)
        if merchant_id is None:
            return qs
        return qs.filter(**{self.merchant_lookup: merchant_id})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        merchant_id = user_merchant_id(request)
        if merchant_id is not None:
            related = db_field.related_model
            path = _merchant_path_of(related)
            if path is not None:
                kwargs["queryset"] = related._default_manager.filter(**{path: merchant_id})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _merchant_path_of(model) -> str | None:
    from orders.models import ImportRun, Order, OrderItem, Product, Shipment, StoreNotification
    from stores.models import Merchant, Store

    return {
        Merchant: "pk",
        Store: "merchant_id",
        Order: "store__merchant_id",
        OrderItem: "order__store__merchant_id",
        Product: "merchant_id",
        Shipment: "order__store__merchant_id",
        ImportRun: "store__merchant_id",
        StoreNotification: "shipment__order__store__merchant_id",
    }.get(model)
