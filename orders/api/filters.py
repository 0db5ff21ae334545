"""ShipStation's list filters, by its parameter names (django-filter). A date filter takes the
forms of formats.parse_datetime; a "...Start" bound is inclusive, an "...End" bound too."""
from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from orders.models import Order, OrderItem, Shipment
from stores.models import OrderStatus

from . import formats


class ApiDateTimeFormField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return formats.parse_datetime(value)
        except formats.DateError as exc:
            raise ValidationError(str(exc)) from None


class ApiDateFilter(django_filters.Filter):
    field_class = ApiDateTimeFormField


class ApiDayFormField(ApiDateTimeFormField):
    def to_python(self, value):
        value = forms.CharField.to_python(self, value)
        if not value:
            return None
        try:
            return formats.parse_day(value)
        except formats.DateError as exc:
            raise ValidationError(str(exc)) from None


class ApiDayFilter(django_filters.Filter):
    field_class = ApiDayFormField


class RefusedFormField(forms.CharField):
    """A parameter ShipBridge cannot honour: given, the request is refused with the reason."""

    def __init__(self, *args, reason: str = "", **kwargs):
        self.reason = reason
        super().__init__(*args, **kwargs)

    def clean(self, value):
        if value not in (None, ""):
            raise ValidationError(self.reason)
        return None


@extend_schema_field(OpenApiTypes.STR)
class RefusedFilter(django_filters.Filter):
    field_class = RefusedFormField

    def filter(self, qs, value):
        return qs


PAYMENT_DATE_REASON = ("ShipBridge does not know when orders were paid: filter by orderDate, createDate or "
                       "modifyDate instead")


class OrderFilter(django_filters.FilterSet):
    orderNumber = django_filters.CharFilter(field_name="order_number", lookup_expr="startswith",
                                            help_text='Orders whose number starts with this ("starts with" search).')
    orderStatus = django_filters.ChoiceFilter(field_name="status", choices=OrderStatus.choices)
    storeId = django_filters.NumberFilter(field_name="store_id")
    customerName = django_filters.CharFilter(method="filter_customer_name",
                                             help_text="Orders whose ship-to or bill-to name contains this.")
    itemKeyword = django_filters.CharFilter(method="filter_item_keyword",
                                            help_text="Orders with an item whose SKU, name or options contain this.")
    createDateStart = ApiDateFilter(field_name="imported_at", lookup_expr="gte")
    createDateEnd = ApiDateFilter(field_name="imported_at", lookup_expr="lte")
    modifyDateStart = ApiDateFilter(field_name="updated_at", lookup_expr="gte")
    modifyDateEnd = ApiDateFilter(field_name="updated_at", lookup_expr="lte")
    orderDateStart = ApiDateFilter(field_name="order_date", lookup_expr="gte")
    orderDateEnd = ApiDateFilter(field_name="order_date", lookup_expr="lte")
    paymentDateStart = RefusedFilter(reason=PAYMENT_DATE_REASON)
    paymentDateEnd = RefusedFilter(reason=PAYMENT_DATE_REASON)
    importBatch = django_filters.UUIDFilter(method="filter_import_batch",
                                            help_text="The orders of one ORDER_NOTIFY webhook (its resource_url).")

    class Meta:
        model = Order
        fields = []

    def filter_customer_name(self, queryset, name, value):
        return queryset.filter(Q(ship_to_name__icontains=value) | Q(bill_to_name__icontains=value))

    def filter_item_keyword(self, queryset, name, value):
        items = OrderItem.objects.filter(order=OuterRef("pk")).filter(
            Q(sku__icontains=value) | Q(name__icontains=value) | Q(options__icontains=value))
        return queryset.filter(Exists(items))

    def filter_import_batch(self, queryset, name, value):
        return queryset.filter(pk__in=_batch_rows("orders", value))


class ShipmentFilter(django_filters.FilterSet):
    recipientName = django_filters.CharFilter(field_name="order__ship_to_name", lookup_expr="icontains")
    recipientCountryCode = django_filters.CharFilter(field_name="order__ship_to_country", lookup_expr="iexact")
    orderNumber = django_filters.CharFilter(field_name="order__order_number", lookup_expr="startswith")
    orderId = django_filters.NumberFilter(field_name="order_id")
    carrierCode = django_filters.CharFilter(field_name="carrier", lookup_expr="iexact")
    serviceCode = django_filters.CharFilter(field_name="service", lookup_expr="iexact")
    trackingNumber = django_filters.CharFilter(field_name="tracking_number")
    createDateStart = ApiDateFilter(field_name="created_at", lookup_expr="gte")
    createDateEnd = ApiDateFilter(field_name="created_at", lookup_expr="lte")
    shipDateStart = ApiDayFilter(field_name="ship_date", lookup_expr="gte")
    shipDateEnd = ApiDayFilter(field_name="ship_date", lookup_expr="lte")
    voidDateStart = ApiDateFilter(field_name="voided_at", lookup_expr="gte")
    voidDateEnd = ApiDateFilter(field_name="voided_at", lookup_expr="lte")
    storeId = django_filters.NumberFilter(field_name="order__store_id")
    batchId = django_filters.NumberFilter(method="filter_batch",
                                          help_text="The shipments of one SHIP_NOTIFY webhook (its resource_url).")

    class Meta:
        model = Shipment
        fields = []

    def filter_batch(self, queryset, name, value):
        return queryset.filter(pk__in=_batch_rows("shipments", value))


def _batch_rows(kind: str, value):
    """The ids in a webhook batch (by its importBatch token or its batchId)."""
    from orders.models import WebhookBatch

    field = WebhookBatch._meta.get_field(kind)
    through = field.remote_field.through
    column = "order_id" if kind == "orders" else "shipment_id"
    lookup = {"webhookbatch__token": value} if kind == "orders" else {"webhookbatch_id": value}
    return through.objects.filter(**lookup).values(column)
