from django.apps import AppConfig


class SmsGatewayConfig(AppConfig):
    name = "sms_gateway"

    def ready(self) -> None:
        from backend.core.metrics import SMS_INBOUND, SMS_OUTBOUND, track_status
        from sms_gateway.models import InboundMessage, OutboundMessage

        # Texts counted by the status they reach, for Prometheus (backend/core/metrics.py).
        track_status(InboundMessage, SMS_INBOUND)
        track_status(OutboundMessage, SMS_OUTBOUND)
