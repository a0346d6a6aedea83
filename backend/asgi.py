"""One ASGI application for HTTP and websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django_asgi_app = get_asgi_application()

from importlib import import_module  # noqa: E402

from django.conf import settings  # noqa: E402

# Build the URLs (and the API with its schemas) now, not on a worker's first request: that takes
# a second or two of CPU, which would otherwise land on whoever calls first.
import_module(settings.ROOT_URLCONF)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from backend.core import heap  # noqa: E402
from mobile_api.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

heap.settle()  # all of the above lives as long as the process
