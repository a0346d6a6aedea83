from django.apps import AppConfig


class SmsGatewayConfig(AppConfig):
    name = "sms_gateway"
