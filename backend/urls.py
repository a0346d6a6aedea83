from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from backend.core import views as core_views
from mobile_api.api import api, unknown_path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/v1/<path:rest>", unknown_path),  # after every route of the API
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("", include("django_prometheus.urls")),
    path("sms/", include("sms_gateway.urls")),
    path("dashboard/", include("backend.reports.urls")),
]

if settings.BENCH_FLOOR_ENDPOINT:  # deploy/bench only, never on by default
    from backend.core.bench_views import floor_inbound

    urlpatterns.append(path("bench/floor/inbound", floor_inbound))
