"""The API's views: parse the call (serializers, filters), read through selectors.py, write
through the services, and answer ShipStation's JSON. Every id is looked up among the calling
key's merchant's rows only: another merchant's id is a 404, like an id that does not exist."""
from __future__ import annotations

import math
import uuid
from decimal import Decimal

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from orders import importing, webhooks
from orders.manual import ManualOrderError, manual_order_create, manual_order_update
from orders.models import ImportTrigger, Order, Shipment, WebhookSubscription
from orders.shipping import ShippingError, shipment_create
from stores.connectors.registry import connector_names_where
from stores.models import RefreshStatus

from . import formats, selectors
from . import serializers as s
from .errors import ApiRefusal, NotFoundHere, not_found_body
from .filters import OrderFilter, ShipmentFilter
from .ratelimit import count_request

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
ORDER_SORTS = {"orderdate": "order_date", "modifydate": "updated_at", "createdate": "imported_at"}
SHIPMENT_SORTS = {"shipdate": "ship_date", "createdate": "created_at"}
GRAMS_PER = {"grams": Decimal(1), "ounces": Decimal("28.349523125"), "pounds": Decimal("453.59237")}


# --- the common parts ------------------------------------------------------------------------


class ApiKeyRateThrottle(BaseThrottle):
    """SHIPBRIDGE_API_RATE_LIMIT requests a minute per key (ratelimit.py); the state is kept on
    the request for the reply's headers."""

    def allow_request(self, request, view):
        if request.auth is None:
            return True
        request.rate_state = count_request(request.auth.key)
        return request.rate_state.allowed

    def wait(self):
        return None


class ShipStationView(APIView):
    throttle_classes = [ApiKeyRateThrottle]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "rate_state", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
            if not state.allowed:
                response["Retry-After"] = str(state.reset)
        return response

    def throttled(self, request, wait):
        state = getattr(request, "rate_state", None)
        raise exceptions.Throttled(wait=state.reset if state is not None else wait)

    @property
    def merchant(self):
        return self.request.user.merchant


class ShipStationListView(ShipStationView, GenericAPIView):
    """A list with ShipStation's paging: page (from 1), pageSize (1 to 500), and its sort."""

    sorts: dict[str, str] = {}
    default_sort = ""

    def paging(self) -> tuple[int, int]:
        params = self.request.query_params
        errors = {}
        page = _whole(params.get("page"), default=1)
        size = _whole(params.get("pageSize"), default=DEFAULT_PAGE_SIZE)
        if page is None or page < 1:
            errors["page"] = ["page must be a whole number from 1"]
        if size is None or not 1 <= size <= MAX_PAGE_SIZE:
            errors["pageSize"] = [f"pageSize must be a whole number from 1 to {MAX_PAGE_SIZE}"]
        if errors:
            raise exceptions.ValidationError(errors)
        return page, size

    def ordering(self) -> list[str]:
        params = self.request.query_params
        sort_by = (params.get("sortBy") or self.default_sort).strip().lower()
        direction = (params.get("sortDir") or "ASC").strip().upper()
        errors = {}
        if sort_by not in self.sorts:
            errors["sortBy"] = [f"sortBy must be one of {', '.join(self.sort_names)}"]
        if direction not in ("ASC", "DESC"):
            errors["sortDir"] = ["sortDir must be ASC or DESC"]
        if errors:
            raise exceptions.ValidationError(errors)
        sign = "-" if direction == "DESC" else ""
        return [f"{sign}{self.sorts[sort_by]}", f"{sign}pk"]

    sort_names: tuple[str, ...] = ()

    def page_of(self, queryset: QuerySet) -> tuple[list, int, int, int]:
        page, size = self.paging()
        queryset = queryset.order_by(*self.ordering())
        total = queryset.count()
        rows = list(queryset[(page - 1) * size: page * size]) if total > (page - 1) * size else []
        return rows, total, page, max(1, math.ceil(total / size)) if total else 0


def _whole(value, *, default: int) -> int | None:
    if value in (None, ""):
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _flag(value, *, name: str, default: bool = False) -> bool:
    if value in (None, ""):
        return default
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise exceptions.ValidationError({name: [f"{name} must be true or false"]})


def _store_id(value, *, name: str = "storeId") -> int | None:
    if value in (None, ""):
        return None
    number = _whole(value, default=0)
    if number is None:
        raise exceptions.ValidationError({name: [f"{name} must be a store's id (a whole number)"]})
    return number


PAGING = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
    OpenApiParameter("pageSize", OpenApiTypes.INT, description="Results per page: 1 to 500 (default 100)."),
    OpenApiParameter("sortDir", OpenApiTypes.STR, enum=["ASC", "DESC"], description="Default ASC."),
]


# --- stores ----------------------------------------------------------------------------------


class StoreListView(ShipStationView):
    @extend_schema(summary="List Stores", responses=s.StoreSerializer(many=True), parameters=[
        OpenApiParameter("showInactive", OpenApiTypes.BOOL, description="Inactive stores too."),
        OpenApiParameter("marketplaceId", OpenApiTypes.INT, description="ShipBridge has no marketplace ids: "
                         "given, the list is empty."),
    ])
    def get(self, request):
        show_inactive = _flag(request.query_params.get("showInactive"), name="showInactive")
        stores = selectors.api_stores(merchant=self.merchant, show_inactive=show_inactive)
        if request.query_params.get("marketplaceId") not in (None, ""):
            stores = stores.none()
        return Response(s.StoreSerializer(stores, many=True).data)


class StoreDetailView(ShipStationView):
    @extend_schema(summary="Get Store", responses=s.StoreDetailSerializer)
    def get(self, request, store_id: int):
        store = selectors.api_store(merchant=self.merchant, store_id=store_id)
        if store is None:
            raise NotFoundHere(f"No store with id {store_id}.")
        return Response(s.StoreDetailSerializer(store).data)


class StoreRefreshView(ShipStationView):
    """Refresh Store: one store (storeId) or every store of the merchant that imports; from
    refreshDate (in SHIPBRIDGE_API_TIMEZONE) when given. Query string or JSON body."""

    @extend_schema(summary="Refresh Store", request=s.RefreshStoreSerializer, responses=s.SuccessSerializer,
                   parameters=[OpenApiParameter("storeId", OpenApiTypes.INT),
                               OpenApiParameter("refreshDate", OpenApiTypes.STR,
                                                description="2020-05-29 15:05:02 (the API's zone)")])
    def post(self, request):
        values = {k: v for k, v in request.query_params.items()}
        if isinstance(request.data, dict):
            values.update({k: v for k, v in request.data.items() if v not in (None, "")})
        body = s.RefreshStoreSerializer(data={k: values.get(k) for k in ("storeId", "refreshDate") if k in values})
        body.is_valid(raise_exception=True)
        store_id, since = body.validated_data.get("storeId"), body.validated_data.get("refreshDate")
        if store_id is None:
            stores = list(selectors.api_stores(merchant=self.merchant))
            result = importing.stores_queue_refresh(stores=stores, trigger=ImportTrigger.API)
            if not result.queued:
                return Response({"success": False, "message": "No store of this account imports orders: nothing "
                                                              "to refresh."})
            return Response({"success": True, "message": "A store refresh has been initiated for Store IDs "
                             + ", ".join(str(st.pk) for st in result.queued)})
        store = selectors.api_store(merchant=self.merchant, store_id=store_id)
        if store is None:
            raise NotFoundHere(f"No store with id {store_id}.")
        try:
            importing.store_queue_refresh(store=store, trigger=ImportTrigger.API, since=since)
        except importing.StoreUnavailable as exc:
            return Response({"success": False, "message": f"Store ID {store.pk} cannot be refreshed: {exc}"})
        return Response({"success": True, "message": f"A store refresh has been initiated for Store ID {store.pk}"})


REFRESH_STATES = {
    RefreshStatus.RUNNING: (2, "Updating orders"),
    RefreshStatus.FAILED: (3, "Failed"),
}


class StoreRefreshStatusView(ShipStationView):
    @extend_schema(summary="Get Store Refresh Status", responses=s.RefreshStatusSerializer,
                   parameters=[OpenApiParameter("storeId", OpenApiTypes.INT, required=True)],
                   description="refreshStatusId: 1 Idle, 2 Updating orders, 3 Failed (with the error).")
    def get(self, request):
        store_id = _store_id(request.query_params.get("storeId"))
        if store_id is None:
            raise exceptions.ValidationError({"storeId": ["storeId is required"]})
        store = selectors.api_store(merchant=self.merchant, store_id=store_id)
        if store is None:
            raise NotFoundHere(f"No store with id {store_id}.")
        number, words = REFRESH_STATES.get(store.last_refresh_status, (1, "Idle"))
        if store.last_refresh_status == RefreshStatus.FAILED and store.last_refresh_error:
            words = f"Failed: {store.last_refresh_error}"
        return Response({"storeId": store.pk, "refreshStatusId": number, "refreshStatus": words,
                         "lastRefreshAttempt": formats.format_datetime(store.last_refresh_at),
                         "refreshDate": formats.format_datetime(store.import_cursor)})


# --- orders ----------------------------------------------------------------------------------


class OrderListView(ShipStationListView):
    filterset_class = OrderFilter
    sorts = ORDER_SORTS
    sort_names = ("OrderDate", "ModifyDate", "CreateDate")
    default_sort = "orderdate"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document is being made
            return Order.objects.none()
        return selectors.api_orders(merchant=self.merchant)

    @extend_schema(summary="List Orders", responses=s.OrderListSerializer, filters=True, parameters=[
        *PAGING, OpenApiParameter("sortBy", OpenApiTypes.STR, enum=["OrderDate", "ModifyDate", "CreateDate"],
                                  description="Default OrderDate.")])
    def get(self, request):
        rows, total, page, pages = self.page_of(self.filter_queryset(self.get_queryset()))
        return Response({"orders": s.OrderSerializer(rows, many=True).data, "total": total, "page": page,
                         "pages": pages})


class OrderDetailView(ShipStationView):
    @extend_schema(summary="Get Order", responses=s.OrderSerializer, operation_id="orders_get")
    def get(self, request, order_id: int):
        order = selectors.api_order(merchant=self.merchant, order_id=order_id)
        if order is None:
            raise NotFoundHere(f"No order with id {order_id}.")
        return Response(s.OrderSerializer(order).data)


def _grams(weight, line: int) -> Decimal | None:
    if not weight or weight.get("value") in (None, ""):
        return None
    units = str(weight.get("units") or "ounces").strip().lower()
    if units not in GRAMS_PER:
        raise exceptions.ValidationError({f"items[{line}].weight.units": ["units must be pounds, ounces or grams"]})
    try:
        return (Decimal(str(weight["value"])) * GRAMS_PER[units]).quantize(Decimal("0.001"))
    except ArithmeticError:
        raise exceptions.ValidationError({f"items[{line}].weight.value": ["value must be a number"]}) from None


def _order_arguments(data: dict) -> dict:
    """createorder's body as manual_order_create's / manual_order_update's arguments."""
    ship = data["shipTo"]
    bill = data["billTo"]
    lines = []
    for index, item in enumerate(data["items"]):
        lines.append({
            "sku": item.get("sku") or "", "name": item.get("name") or "", "quantity": item["quantity"],
            "unit_price": item.get("unitPrice"), "line_item_id": item.get("lineItemKey") or "",
            "adjustment": item.get("adjustment", False), "image_url": item.get("imageUrl") or "",
            "location": item.get("warehouseLocation") or "", "weight_grams": _grams(item.get("weight"), index),
            "options": item.get("options") or [],
        })
    details = {
        "order_date": data["orderDate"], "ship_date": data.get("shipByDate"),
        "bill_to_name": bill.get("name") or "", "bill_to_company": bill.get("company") or "",
        "bill_to_phone": bill.get("phone") or "", "customer_code": data.get("customerUsername") or "",
        "customer_notes": data.get("customerNotes") or "", "gift": bool(data.get("gift")),
        "gift_message": data.get("giftMessage") or "", "payment_method": data.get("paymentMethod") or "",
        "requested_service": data.get("requestedShippingService") or "", "order_total": data.get("amountPaid"),
        "tax_amount": data.get("taxAmount"), "shipping_amount": data.get("shippingAmount"),
    }
    return {
        "order_number": data["orderNumber"],
        "ship_to": {"name": ship.get("name") or "", "company": ship.get("company") or "",
                    "street1": ship.get("street1") or "", "street2": ship.get("street2") or "",
                    "street3": ship.get("street3") or "", "city": ship.get("city") or "",
                    "state": ship.get("state") or "", "postal_code": ship.get("postalCode") or "",
                    "country": ship.get("country") or "", "phone": ship.get("phone") or ""},
        "lines": lines, "customer_email": data.get("customerEmail") or "",
        "notes": data.get("internalNotes") or "", "status": data["orderStatus"], "details": details,
    }


class CreateOrderView(ShipStationView):
    """Create/Update Order: an order entered in ShipBridge (a manual order), in the merchant's
    Manual orders store or the one advancedOptions.storeId names (a store that takes orders
    entered here). An orderKey (or orderId) already known updates that order."""

    @extend_schema(summary="Create/Update Order", request=s.CreateOrderSerializer, responses=s.OrderSerializer)
    def post(self, request):
        body = s.CreateOrderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        merchant = self.merchant
        store = None
        store_id = (data.get("advancedOptions") or {}).get("storeId")
        if store_id is not None:
            store = selectors.api_store(merchant=merchant, store_id=store_id)
            if store is None:
                raise NotFoundHere(f"No store with id {store_id}.")
        key = (data.get("orderKey") or "").strip()
        existing = None
        if data.get("orderId") is not None:
            existing = Order.objects.filter(store__merchant=merchant, pk=data["orderId"]).first()
            if existing is None:
                raise NotFoundHere(f"No order with id {data['orderId']}.")
        elif key:
            existing = (Order.objects.filter(store__merchant=merchant, external_id=key,
                                             store__connector__in=connector_names_where(lambda c: c.manual_entry))
                        .filter(**({"store": store} if store is not None else {})).order_by("pk").first())
        arguments = _order_arguments(data)
        try:
            if existing is not None:
                order = manual_order_update(order=existing, **arguments)
            else:
                order = manual_order_create(merchant=merchant, store=store, order_key=key or _new_key(), **arguments)
        except ManualOrderError as exc:
            raise ApiRefusal(str(exc), kind="ShipBridge.ManualOrderError") from None
        return Response(s.OrderSerializer(selectors.api_order(merchant=merchant, order_id=order.pk)).data)


def _new_key() -> str:
    """ShipStation's orderKey for an order given none: a new GUID."""
    return str(uuid.uuid4())


class MarkShippedView(ShipStationView):
    """Mark an Order as Shipped: a shipment of everything the order has left to ship, made by the
    same service as the admin's Ship page. notifySalesChannel: the store is told (when its type
    is ever told); notifyCustomer: the customer is e-mailed."""

    @extend_schema(summary="Mark an Order as Shipped", request=s.MarkShippedSerializer,
                   responses=s.MarkShippedResultSerializer)
    def post(self, request):
        body = s.MarkShippedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order = Order.objects.select_related("store").filter(store__merchant=self.merchant,
                                                             pk=data["orderId"]).first()
        if order is None:
            raise NotFoundHere(f"No order with id {data['orderId']}.")
        notify_store = bool(data["notifySalesChannel"]) and order.store.connector_class.notifies_store
        try:
            shipment_create(order=order, carrier=data["carrierCode"], tracking_number=data.get("trackingNumber") or "",
                            ship_date=data.get("shipDate"), notify_store=notify_store,
                            notify_customer=bool(data["notifyCustomer"]))
        except ShippingError as exc:
            raise ApiRefusal(str(exc), kind="ShipBridge.ShippingError") from None
        return Response({"orderId": order.pk, "orderNumber": order.order_number})


# --- shipments -------------------------------------------------------------------------------


class ShipmentListView(ShipStationListView):
    filterset_class = ShipmentFilter
    sorts = SHIPMENT_SORTS
    sort_names = ("ShipDate", "CreateDate")
    default_sort = "createdate"

    def include_items(self) -> bool:
        return _flag(self.request.query_params.get("includeShipmentItems"), name="includeShipmentItems")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document is being made
            return Shipment.objects.none()
        return selectors.api_shipments(merchant=self.merchant, include_items=self.include_items())

    @extend_schema(summary="List Shipments", responses=s.ShipmentListSerializer, filters=True, parameters=[
        *PAGING, OpenApiParameter("sortBy", OpenApiTypes.STR, enum=["ShipDate", "CreateDate"],
                                  description="Default CreateDate."),
        OpenApiParameter("includeShipmentItems", OpenApiTypes.BOOL, description="Each shipment's items too.")])
    def get(self, request):
        rows, total, page, pages = self.page_of(self.filter_queryset(self.get_queryset()))
        data = s.ShipmentSerializer(rows, many=True, context={"include_items": self.include_items()}).data
        return Response({"shipments": data, "total": total, "page": page, "pages": pages})


# --- webhooks --------------------------------------------------------------------------------


class WebhookListView(ShipStationView):
    @extend_schema(summary="List Webhooks", responses=s.WebhookListSerializer)
    def get(self, request):
        return Response({"webhooks": s.WebhookSerializer(selectors.api_webhooks(merchant=self.merchant),
                                                         many=True).data})


class WebhookSubscribeView(ShipStationView):
    @extend_schema(summary="Subscribe to Webhook", request=s.SubscribeSerializer, responses=s.SubscribeResultSerializer)
    def post(self, request):
        body = s.SubscribeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        store_id = data.get("store_id")
        if store_id is not None and selectors.api_store(merchant=self.merchant, store_id=store_id) is None:
            raise NotFoundHere(f"No store with id {store_id}.")
        try:
            made = webhooks.subscription_create(merchant=self.merchant, event=data["event"],
                                                target_url=data["target_url"], store=store_id,
                                                friendly_name=data.get("friendly_name") or "", api_key=request.auth)
        except webhooks.WebhookError as exc:
            raise ApiRefusal(str(exc), kind="ShipBridge.WebhookError") from None
        return Response({"id": made.subscription.pk, "signing_secret": made.secret})


class WebhookDeleteView(ShipStationView):
    @extend_schema(summary="Unsubscribe to Webhook", responses={200: None})
    def delete(self, request, webhook_id: int):
        subscription = WebhookSubscription.objects.filter(merchant=self.merchant, pk=webhook_id).first()
        if subscription is None:
            raise NotFoundHere(f"No webhook with id {webhook_id}.")
        webhooks.subscription_delete(subscription=subscription)
        return Response(status=200)


# --- calls ShipBridge does not answer ---------------------------------------------------------

UNSUPPORTED = (
    (("createlabel", "createlabelfororder", "voidlabel"),
     "ShipBridge does not buy or void shipping labels: create the label with your carrier, then record the "
     "shipment with POST /orders/markasshipped."),
    (("getrates", "carriers", "listcarriers", "listservices", "listpackages"),
     "ShipBridge does not quote carrier rates or list carrier services: ask your carrier."),
    (("createorders",),
     "ShipBridge creates orders one at a time: call POST /orders/createorder for each."),
)
GENERIC = ("ShipBridge answers ShipStation API v1's stores, orders, shipments and webhooks calls only "
           "(see /api/v1/docs/ for the list).")


class UnsupportedView(ShipStationView):
    """Any other path under /api/v1/: ShipStation's answer to a call it has not (404 with
    "No HTTP resource was found..."), saying why and what to do instead."""

    schema = None  # not in the OpenAPI document

    def _answer(self, request, *args, **kwargs):
        path = request.path.lower()
        detail = next((words for names, words in UNSUPPORTED if any(f"/{n}" in path for n in names)), GENERIC)
        return Response(not_found_body(request.build_absolute_uri(), detail), status=404)

    get = post = put = patch = delete = _answer

