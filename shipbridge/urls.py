from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from orders import views as order_views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/dashboard/", admin.site.admin_view(order_views.dashboard), name="shipbridge_dashboard"),
    path("admin/orders/order/<int:pk>/packing-slip/", admin.site.admin_view(order_views.packing_slip),
         name="shipbridge_packing_slip"),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
