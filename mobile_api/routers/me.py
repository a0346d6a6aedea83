from django.http import HttpRequest
from ninja import Router

from mobile_api.auth import device_auth
from mobile_api.schemas.auth import MeOut
from mobile_api.schemas.common import ERRORS

router = Router(tags=["me"], auth=device_auth)


@router.get("", response={200: MeOut, **ERRORS}, summary="Who I am")
def me(request: HttpRequest) -> object:
    return request.auth
