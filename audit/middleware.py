"""The admin is a door too: changes made there are stamped `admin` with the signed-in user."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import Door, acting


class HistoryDoorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/") and request.user.is_authenticated:
            with acting(user=request.user, door=Door.ADMIN):
                return self.get_response(request)
        return self.get_response(request)
