import re

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

from orders import views as order_views
from shipbridge import health, language

def favicon(request):
    """/favicon.ico → the static favicon (its hashed name is known only once collectstatic ran)."""
    return HttpResponsePermanentRedirect(static("shipbridge/favicon.svg"))


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", favicon),
    path("admin/dashboard/", admin.site.admin_view(order_views.dashboard), name="shipbridge_dashboard"),
    path("admin/orders/order/<int:pk>/packing-slip/", admin.site.admin_view(order_views.packing_slip),
         name="shipbridge_packing_slip"),
    path("admin/orders/order/packing-slips/", admin.site.admin_view(order_views.packing_slips),
         name="shipbridge_packing_slips"),
    path("language/", language.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # the ShipStation-compatible API, its OpenAPI schema (schema/) and docs pages (docs/, redoc/)
    path("api/v1/", include("orders.api.urls")),
    # unauthenticated health endpoints (shipbridge/health.py)
    path("health/live/", health.live, name="health_live"),
    path("health/ready/", health.ReadinessView.as_view(), name="health_ready"),
]
if settings.SHIPBRIDGE_SERVE_MEDIA:
    # Uploaded logos, in development and in the embedded run (which runs with DEBUG off, so
    # django.conf.urls.static.static() would add nothing); in production the proxy serves them.
    urlpatterns += [re_path(r"^%s(?P<path>.*)$" % re.escape(settings.MEDIA_URL.lstrip("/")), serve,
                            {"document_root": settings.MEDIA_ROOT})]
