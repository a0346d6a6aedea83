from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "backend.sales"
    label = "sales"
