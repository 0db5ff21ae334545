"""ShipStation's JSON, field for field (camelCase, its date formats, null where ShipBridge has no
such value), read from ShipBridge's orders, shipments and stores; and the bodies of its calls
(createorder, markasshipped, subscribe), checked before any service is called.

The field lists follow ShipStation's API v1 models (Order, Address, OrderItem, AdvancedOptions,
Shipment, Store, Webhook) as its documentation's examples show them."""
from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.carriers import carrier_code
from orders.models import WebhookEvent
from stores.models import OrderStatus

from . import formats


@extend_schema_field({"type": "string", "nullable": True, "example": "2015-06-29T08:46:27.0000000"})
class ApiDateTimeField(serializers.Field):
    """"2015-06-29T08:46:27.0000000" out; the forms of formats.parse_datetime in."""

    def to_representation(self, value):
        return formats.format_datetime(value)

    def to_internal_value(self, data):
        try:
            return formats.parse_datetime(data)
        except formats.DateError as exc:
            raise serializers.ValidationError(str(exc)) from None


@extend_schema_field({"type": "string", "nullable": True, "example": "2015-07-05T00:00:00.0000000"})
class ApiDayAsDateTimeField(serializers.Field):
    """A day written as ShipStation writes shipByDate: "2015-07-05T00:00:00.0000000"."""

    def to_representation(self, value):
        return formats.format_day_as_datetime(value)

    def to_internal_value(self, data):
        try:
            return formats.parse_day(data)
        except formats.DateError as exc:
            raise serializers.ValidationError(str(exc)) from None


@extend_schema_field({"type": "string", "nullable": True, "example": "2015-07-02"})
class ApiDayField(ApiDayAsDateTimeField):
    """A day: "2015-07-02" (markasshipped's shipDate, a shipment's shipDate)."""

    def to_representation(self, value):
        return formats.format_day(value)


class MoneyField(serializers.DecimalField):
    """Amounts as JSON numbers (99.99), as ShipStation writes them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return float(value) if value is not None else None


def _text_or_null(value: str):
    return value if value else None


class NullableText(serializers.CharField):
    """Text out, null when empty (ShipStation's null for an absent value)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return _text_or_null(super().to_representation(value))


@extend_schema_field({"type": "string", "nullable": True})
class NullText(serializers.Field):
    """A ShipStation field ShipBridge has no value for: always null."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value):
        return None


@extend_schema_field({"type": "boolean", "nullable": True})
class NullFlag(NullText):
    pass


class ShipToSerializer(serializers.Serializer):
    """ShipStation's Address, from an order's ship-to columns."""

    name = NullableText(source="ship_to_name", read_only=True)
    company = NullableText(source="ship_to_company", read_only=True)
    street1 = NullableText(source="ship_to_street1", read_only=True)
    street2 = NullableText(source="ship_to_street2", read_only=True)
    street3 = NullableText(source="ship_to_street3", read_only=True)
    city = NullableText(source="ship_to_city", read_only=True)
    state = NullableText(source="ship_to_state", read_only=True)
    postalCode = NullableText(source="ship_to_postal_code", read_only=True)
    country = NullableText(source="ship_to_country", read_only=True)
    phone = NullableText(source="ship_to_phone", read_only=True)
    residential = NullFlag()
    addressVerified = NullText()


class BillToSerializer(serializers.Serializer):
    """ShipStation's Address for the bill-to: ShipBridge keeps its name, company and phone."""

    name = NullableText(source="bill_to_name", read_only=True)
    company = NullableText(source="bill_to_company", read_only=True)
    street1 = NullText()
    street2 = NullText()
    street3 = NullText()
    city = NullText()
    state = NullText()
    postalCode = NullText()
    country = NullText()
    phone = NullableText(source="bill_to_phone", read_only=True)
    residential = NullFlag()
    addressVerified = NullText()


class WeightSerializer(serializers.Serializer):
    value = serializers.FloatField()
    units = serializers.CharField()
    WeightUnits = serializers.IntegerField(required=False)


def _weight(grams: Decimal | None):
    return {"value": float(grams), "units": "grams", "WeightUnits": 3} if grams is not None else None


class ItemOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField(allow_blank=True)


class OrderItemSerializer(serializers.Serializer):
    orderItemId = serializers.IntegerField(source="pk", read_only=True)
    lineItemKey = NullableText(source="line_item_id", read_only=True)
    sku = NullableText(read_only=True)
    name = serializers.CharField(read_only=True)
    imageUrl = NullableText(source="image_url", read_only=True)
    weight = serializers.SerializerMethodField()
    quantity = serializers.IntegerField(read_only=True)
    unitPrice = MoneyField(source="unit_price", read_only=True)
    taxAmount = serializers.SerializerMethodField()
    shippingAmount = serializers.SerializerMethodField()
    warehouseLocation = NullableText(source="location", read_only=True)
    options = serializers.SerializerMethodField()
    productId = serializers.SerializerMethodField()
    fulfillmentSku = serializers.SerializerMethodField()
    adjustment = serializers.BooleanField(read_only=True)
    upc = serializers.SerializerMethodField()
    createDate = serializers.SerializerMethodField()
    modifyDate = serializers.SerializerMethodField()

    @extend_schema_field(WeightSerializer(allow_null=True))
    def get_weight(self, item):
        return _weight(item.weight_grams)

    @extend_schema_field(ItemOptionSerializer(many=True))
    def get_options(self, item):
        return [{"name": str(pair[0]), "value": str(pair[1])} for pair in item.options or []
                if isinstance(pair, (list, tuple)) and len(pair) == 2]

    def get_taxAmount(self, item) -> float | None:
        return None

    get_shippingAmount = get_taxAmount

    def get_productId(self, item) -> int | None:
        return None

    def get_fulfillmentSku(self, item) -> str | None:
        return None

    get_upc = get_fulfillmentSku

    def get_createDate(self, item) -> str | None:
        return formats.format_datetime(item.order.imported_at) if "order" in item._state.fields_cache else None

    def get_modifyDate(self, item) -> str | None:
        return formats.format_datetime(item.order.updated_at) if "order" in item._state.fields_cache else None


@extend_schema_field(OrderItemSerializer(many=True))
class OrderItemsField(serializers.Field):
    """An order's items: one OrderItemSerializer, made once, for every item of every order (a
    serializer made per order would copy its fields each time)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.child = OrderItemSerializer()

    def to_representation(self, order):
        rows = []
        for item in order.items.all():
            item.order = order  # the item's dates are its order's
            rows.append(self.child.to_representation(item))
        return rows


class AdvancedOptionsSerializer(serializers.Serializer):
    warehouseId = serializers.IntegerField(allow_null=True, required=False)
    nonMachinable = serializers.BooleanField(required=False)
    saturdayDelivery = serializers.BooleanField(required=False)
    containsAlcohol = serializers.BooleanField(required=False)
    mergedOrSplit = serializers.BooleanField(required=False)
    mergedIds = serializers.ListField(child=serializers.IntegerField(), required=False)
    parentId = serializers.IntegerField(allow_null=True, required=False)
    storeId = serializers.IntegerField(allow_null=True, required=False)
    customField1 = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    customField2 = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    customField3 = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    source = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    billToParty = serializers.CharField(allow_null=True, required=False)
    billToAccount = serializers.CharField(allow_null=True, required=False)
    billToPostalCode = serializers.CharField(allow_null=True, required=False)
    billToCountryCode = serializers.CharField(allow_null=True, required=False)
    billToMyOtherAccount = serializers.IntegerField(allow_null=True, required=False)


def _advanced_options(store_id: int) -> dict:
    return {"warehouseId": None, "nonMachinable": False, "saturdayDelivery": False, "containsAlcohol": False,
            "mergedOrSplit": False, "mergedIds": [], "parentId": None, "storeId": store_id, "customField1": None,
            "customField2": None, "customField3": None, "source": None, "billToParty": None, "billToAccount": None,
            "billToPostalCode": None, "billToCountryCode": None, "billToMyOtherAccount": None}


class InsuranceOptionsSerializer(serializers.Serializer):
    provider = serializers.CharField(allow_null=True)
    insureShipment = serializers.BooleanField()
    insuredValue = serializers.FloatField()


class InternationalOptionsSerializer(serializers.Serializer):
    contents = serializers.CharField(allow_null=True)
    customsItems = serializers.ListField(allow_null=True)
    nonDelivery = serializers.CharField(allow_null=True)


class OrderSerializer(serializers.Serializer):
    """ShipStation's Order. orderKey is the order's id in its store (for orders made through
    the API: the orderKey they were given)."""

    orderId = serializers.IntegerField(source="pk")
    orderNumber = serializers.CharField(source="order_number")
    orderKey = serializers.CharField(source="external_id")
    orderDate = ApiDateTimeField(source="order_date")
    createDate = ApiDateTimeField(source="imported_at")
    modifyDate = ApiDateTimeField(source="updated_at")
    paymentDate = serializers.SerializerMethodField()
    shipByDate = ApiDayAsDateTimeField(source="ship_date")
    orderStatus = serializers.CharField(source="status")
    customerId = serializers.SerializerMethodField()
    customerUsername = serializers.SerializerMethodField()
    customerEmail = NullableText(source="customer_email")
    billTo = BillToSerializer(source="*")
    shipTo = ShipToSerializer(source="*")
    items = OrderItemsField()
    orderTotal = MoneyField(source="order_total")
    amountPaid = MoneyField(source="order_total")
    taxAmount = MoneyField(source="tax_amount")
    shippingAmount = MoneyField(source="shipping_amount")
    customerNotes = NullableText(source="customer_notes")
    internalNotes = NullableText(source="internal_notes")
    gift = serializers.BooleanField()
    giftMessage = NullableText(source="gift_message")
    paymentMethod = NullableText(source="payment_method")
    requestedShippingService = NullableText(source="requested_service")
    carrierCode = serializers.SerializerMethodField()
    serviceCode = serializers.SerializerMethodField()
    packageCode = serializers.SerializerMethodField()
    confirmation = serializers.SerializerMethodField()
    shipDate = serializers.SerializerMethodField()
    holdUntilDate = serializers.SerializerMethodField()
    weight = serializers.SerializerMethodField()
    dimensions = serializers.SerializerMethodField()
    insuranceOptions = serializers.SerializerMethodField()
    internationalOptions = serializers.SerializerMethodField()
    advancedOptions = serializers.SerializerMethodField()
    tagIds = serializers.SerializerMethodField()
    userId = serializers.SerializerMethodField()
    externallyFulfilled = serializers.SerializerMethodField()
    externallyFulfilledBy = serializers.SerializerMethodField()
    labelMessages = serializers.SerializerMethodField()

    def get_paymentDate(self, order) -> str | None:
        return None

    def get_customerId(self, order) -> int | None:
        return None

    def get_customerUsername(self, order) -> str | None:
        return order.customer_code or order.customer_email or None

    def _last_shipment(self, order):
        shipments = getattr(order, "live_shipments", None)
        if shipments is None:
            shipments = list(order.shipments.filter(voided_at__isnull=True).order_by("-ship_date", "-pk"))
        return shipments[0] if shipments else None

    def get_carrierCode(self, order) -> str | None:
        shipment = self._last_shipment(order)
        return carrier_code(shipment.carrier) if shipment else None

    def get_serviceCode(self, order) -> str | None:
        shipment = self._last_shipment(order)
        return (shipment.service or None) if shipment else None

    def get_packageCode(self, order) -> str | None:
        return None

    get_confirmation = get_packageCode
    get_holdUntilDate = get_packageCode
    get_userId = get_packageCode
    get_externallyFulfilledBy = get_packageCode
    get_labelMessages = get_packageCode

    def get_shipDate(self, order) -> str | None:
        shipment = self._last_shipment(order)
        return formats.format_day(shipment.ship_date) if shipment else formats.format_day(order.ship_date)

    @extend_schema_field(WeightSerializer)
    def get_weight(self, order):
        grams = sum((item.weight_grams * item.quantity for item in order.items.all()
                     if item.weight_grams is not None and not item.adjustment), Decimal(0))
        return _weight(grams)

    @extend_schema_field({"type": "object", "nullable": True})
    def get_dimensions(self, order):
        return None

    @extend_schema_field(InsuranceOptionsSerializer)
    def get_insuranceOptions(self, order):
        return {"provider": None, "insureShipment": False, "insuredValue": 0.0}

    @extend_schema_field(InternationalOptionsSerializer)
    def get_internationalOptions(self, order):
        return {"contents": None, "customsItems": None, "nonDelivery": None}

    @extend_schema_field(AdvancedOptionsSerializer)
    def get_advancedOptions(self, order):
        return _advanced_options(order.store_id)

    def get_tagIds(self, order) -> list[int] | None:
        return None

    def get_externallyFulfilled(self, order) -> bool:
        return False


class OrderListSerializer(serializers.Serializer):
    orders = OrderSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    """ShipStation's Shipment. marketplaceNotified: the store was told (its notification sent);
    notifyErrorMessage: why it was not, verbatim."""

    shipmentId = serializers.IntegerField(source="pk")
    orderId = serializers.IntegerField(source="order_id")
    orderKey = serializers.CharField(source="order.external_id")
    userId = serializers.SerializerMethodField()
    customerEmail = NullableText(source="order.customer_email")
    orderNumber = serializers.CharField(source="order.order_number")
    createDate = ApiDateTimeField(source="created_at")
    shipDate = ApiDayField(source="ship_date")
    shipmentCost = MoneyField(source="cost")
    insuranceCost = serializers.SerializerMethodField()
    trackingNumber = NullableText(source="tracking_number")
    isReturnLabel = serializers.SerializerMethodField()
    batchNumber = serializers.SerializerMethodField()
    carrierCode = serializers.SerializerMethodField()
    serviceCode = NullableText(source="service")
    packageCode = serializers.SerializerMethodField()
    confirmation = serializers.SerializerMethodField()
    warehouseId = serializers.SerializerMethodField()
    voided = serializers.SerializerMethodField()
    voidDate = ApiDateTimeField(source="voided_at")
    marketplaceNotified = serializers.SerializerMethodField()
    notifyErrorMessage = serializers.SerializerMethodField()
    shipTo = ShipToSerializer(source="order")
    weight = serializers.SerializerMethodField()
    dimensions = serializers.SerializerMethodField()
    insuranceOptions = serializers.SerializerMethodField()
    advancedOptions = serializers.SerializerMethodField()
    shipmentItems = serializers.SerializerMethodField()
    labelData = serializers.SerializerMethodField()
    formData = serializers.SerializerMethodField()

    def get_userId(self, shipment) -> str | None:
        return None

    get_batchNumber = get_userId
    get_packageCode = get_userId
    get_confirmation = get_userId
    get_labelData = get_userId
    get_formData = get_userId

    def get_warehouseId(self, shipment) -> int | None:
        return None

    def get_insuranceCost(self, shipment) -> float:
        return 0.0

    def get_carrierCode(self, shipment) -> str:
        return carrier_code(shipment.carrier)

    def get_isReturnLabel(self, shipment) -> bool:
        return False

    def get_voided(self, shipment) -> bool:
        return shipment.voided_at is not None

    def _notification(self, shipment):
        return getattr(shipment, "notification", None) if shipment.notify_store else None

    def get_marketplaceNotified(self, shipment) -> bool:
        notification = self._notification(shipment)
        return notification is not None and notification.status == "sent"

    def get_notifyErrorMessage(self, shipment) -> str | None:
        notification = self._notification(shipment)
        return (notification.error or None) if notification is not None else None

    @extend_schema_field(WeightSerializer(allow_null=True))
    def get_weight(self, shipment):
        return None

    @extend_schema_field({"type": "object", "nullable": True})
    def get_dimensions(self, shipment):
        return None

    @extend_schema_field(InsuranceOptionsSerializer(allow_null=True))
    def get_insuranceOptions(self, shipment):
        return None

    @extend_schema_field(AdvancedOptionsSerializer)
    def get_advancedOptions(self, shipment):
        return _advanced_options(shipment.order.store_id)

    @extend_schema_field(OrderItemSerializer(many=True, allow_null=True))
    def get_shipmentItems(self, shipment):
        if not self.context.get("include_items"):
            return None
        rows = []
        child = self.__dict__.setdefault("_item_serializer", OrderItemSerializer())  # one for every shipment
        for shipment_item in shipment.items.all():
            item = shipment_item.order_item
            item.order = shipment.order
            data = dict(child.to_representation(item))
            data["quantity"] = shipment_item.quantity  # what this shipment carries of the line
            rows.append(data)
        return rows


class ShipmentListSerializer(serializers.Serializer):
    shipments = ShipmentSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


class StatusMappingSerializer(serializers.Serializer):
    orderStatus = serializers.CharField(source="status")
    statusKey = serializers.CharField(source="store_status")


class StoreSerializer(serializers.Serializer):
    """ShipStation's Store. marketplaceName is the store type; integrationUrl the store's address."""

    storeId = serializers.IntegerField(source="pk")
    storeName = serializers.CharField(source="name")
    marketplaceId = serializers.SerializerMethodField()
    marketplaceName = serializers.SerializerMethodField()
    accountName = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    integrationUrl = serializers.SerializerMethodField()
    active = serializers.BooleanField()
    companyName = serializers.CharField(source="brand_company_name")
    phone = serializers.CharField(source="brand_phone")
    publicEmail = serializers.CharField(source="brand_email")
    website = serializers.CharField(source="brand_website")
    refreshDate = ApiDateTimeField(source="import_cursor")
    lastRefreshAttempt = ApiDateTimeField(source="last_refresh_at")
    createDate = ApiDateTimeField(source="created_at")
    modifyDate = ApiDateTimeField(source="updated_at")
    autoRefresh = serializers.SerializerMethodField()

    def get_marketplaceId(self, store) -> int | None:
        return None

    def get_marketplaceName(self, store) -> str:
        return store.connector_class.label

    def get_accountName(self, store) -> str | None:
        return None

    get_email = get_accountName

    def get_integrationUrl(self, store) -> str | None:
        keys = getattr(store.connector_class, "address_keys", ()) or ()
        return next((str(store.settings.get(key)) for key in keys if store.settings.get(key)), None)

    def get_autoRefresh(self, store) -> bool:
        return bool(store.active and store.connector_class.imports_orders)


class StoreDetailSerializer(StoreSerializer):
    statusMappings = StatusMappingSerializer(source="status_mappings.all", many=True)


class RefreshStatusSerializer(serializers.Serializer):
    storeId = serializers.IntegerField()
    refreshStatusId = serializers.IntegerField()
    refreshStatus = serializers.CharField()
    lastRefreshAttempt = serializers.CharField(allow_null=True)
    refreshDate = serializers.CharField(allow_null=True)


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class WebhookSerializer(serializers.Serializer):
    """ShipStation's List Webhooks entry (its own PascalCase names)."""

    IsLabelAPIHook = serializers.SerializerMethodField()
    WebHookID = serializers.IntegerField(source="pk")
    SellerID = serializers.IntegerField(source="merchant_id")
    StoreID = serializers.IntegerField(source="store_id", allow_null=True)
    HookType = serializers.CharField(source="event")
    MessageFormat = serializers.SerializerMethodField()
    Url = serializers.CharField(source="target_url")
    Name = NullableText(source="friendly_name")
    BulkCopyBatchID = serializers.SerializerMethodField()
    BulkCopyRecordID = serializers.SerializerMethodField()
    Active = serializers.BooleanField(source="active")
    WebhookLogs = serializers.SerializerMethodField()
    Seller = serializers.SerializerMethodField()
    Store = serializers.SerializerMethodField()

    def get_IsLabelAPIHook(self, hook) -> bool:
        return False

    def get_MessageFormat(self, hook) -> str:
        return "Json"

    def get_BulkCopyBatchID(self, hook) -> int | None:
        return None

    get_BulkCopyRecordID = get_BulkCopyBatchID
    get_Seller = get_BulkCopyBatchID
    get_Store = get_BulkCopyBatchID

    def get_WebhookLogs(self, hook) -> list:
        return []


class WebhookListSerializer(serializers.Serializer):
    webhooks = WebhookSerializer(many=True)


# --- request bodies ------------------------------------------------------------------------


class AddressInSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    company = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    street1 = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    street2 = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    street3 = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    city = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    state = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    postalCode = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    country = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    phone = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    residential = serializers.BooleanField(allow_null=True, required=False)


class ItemInSerializer(serializers.Serializer):
    lineItemKey = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    sku = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    name = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    imageUrl = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    weight = serializers.DictField(allow_null=True, required=False)
    quantity = serializers.IntegerField(min_value=1)
    unitPrice = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    warehouseLocation = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    options = serializers.ListField(child=serializers.DictField(), allow_null=True, required=False)
    adjustment = serializers.BooleanField(required=False, default=False)


class CreateOrderSerializer(serializers.Serializer):
    """Create/Update Order's body: ShipStation's Order. Fields ShipBridge does not keep (carrier
    and package choices, dimensions, insurance, customs) are accepted and ignored, as ShipStation
    ignores what a store does not use."""

    orderId = serializers.IntegerField(required=False, allow_null=True)
    orderNumber = serializers.CharField(max_length=100)
    orderKey = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    orderDate = ApiDateTimeField()
    paymentDate = ApiDateTimeField(required=False, allow_null=True)
    shipByDate = ApiDayAsDateTimeField(required=False, allow_null=True)
    orderStatus = serializers.ChoiceField(choices=[s for s in OrderStatus.values if s != OrderStatus.SHIPPED])
    customerUsername = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    customerEmail = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    billTo = AddressInSerializer()
    shipTo = AddressInSerializer()
    items = ItemInSerializer(many=True, allow_empty=False)
    amountPaid = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    taxAmount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    shippingAmount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False)
    customerNotes = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    internalNotes = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    gift = serializers.BooleanField(allow_null=True, required=False)
    giftMessage = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    paymentMethod = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    requestedShippingService = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    advancedOptions = AdvancedOptionsSerializer(required=False, allow_null=True)


class MarkShippedSerializer(serializers.Serializer):
    orderId = serializers.IntegerField()
    carrierCode = serializers.CharField(max_length=100)
    shipDate = ApiDayField(required=False, allow_null=True)
    trackingNumber = serializers.CharField(max_length=100, allow_blank=True, allow_null=True, required=False)
    notifyCustomer = serializers.BooleanField(required=False, default=False)
    notifySalesChannel = serializers.BooleanField(required=False, default=False)


class MarkShippedResultSerializer(serializers.Serializer):
    orderId = serializers.IntegerField()
    orderNumber = serializers.CharField()


class SubscribeSerializer(serializers.Serializer):
    target_url = serializers.CharField(max_length=1000)
    event = serializers.ChoiceField(choices=WebhookEvent.values)
    store_id = serializers.IntegerField(required=False, allow_null=True)
    friendly_name = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)


class SubscribeResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    signing_secret = serializers.CharField(help_text="ShipBridge's own: the key of the X-ShipBridge-Signature "
                                                     "header's HMAC-SHA256, shown at subscription only.")


class RefreshStoreSerializer(serializers.Serializer):
    storeId = serializers.IntegerField(required=False, allow_null=True)
    refreshDate = ApiDateTimeField(required=False, allow_null=True)
