from django.urls import path

from backend.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("data.json", views.dashboard_data, name="data"),
    path("csv/<slug:name>.csv", views.figure_csv, name="csv"),
]
