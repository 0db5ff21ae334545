"""/api/v1/: ShipStation API v1's paths (as ShipStation spells them, without a final slash), the
aliases real clients call although ShipStation's documentation does not list them
(/orders/list, /orders/markshipped, /stores/refresh), the OpenAPI schema and its docs pages."""
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views


def route(pattern: str, view, name: str):
    return path(pattern, view.as_view(), name=name)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    route("stores", views.StoreListView, "api_stores"),
    route("stores/<int:store_id>", views.StoreDetailView, "api_store"),
    route("stores/refreshstore", views.StoreRefreshView, "api_store_refresh"),
    route("stores/refresh", views.StoreRefreshView, "api_store_refresh_alias"),
    route("stores/getrefreshstatus", views.StoreRefreshStatusView, "api_store_refresh_status"),
    route("orders", views.OrderListView, "api_orders"),
    route("orders/list", views.OrderListView, "api_orders_alias"),
    route("orders/<int:order_id>", views.OrderDetailView, "api_order"),
    route("orders/createorder", views.CreateOrderView, "api_create_order"),
    route("orders/markasshipped", views.MarkShippedView, "api_mark_shipped"),
    route("orders/markshipped", views.MarkShippedView, "api_mark_shipped_alias"),
    route("shipments", views.ShipmentListView, "api_shipments"),
    route("webhooks", views.WebhookListView, "api_webhooks"),
    route("webhooks/subscribe", views.WebhookSubscribeView, "api_webhook_subscribe"),
    route("webhooks/<int:webhook_id>", views.WebhookDeleteView, "api_webhook"),
    re_path(r"^.*$", views.UnsupportedView.as_view(), name="api_unsupported"),
]
