"""Websocket routes. The consumer authenticates itself (token in a header, a subprotocol or the
first message; never the URL), so no cookie or session middleware wraps it."""

from django.urls import path

from mobile_api import dashboard_consumer
from mobile_api.consumers import EventStream

websocket_urlpatterns = [
    path("ws/v1/stream", EventStream.as_asgi()),
    path("ws/v1/dashboard", dashboard_consumer.application),  # session-signed managers' dashboards
]
