from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from backend.core.errors import NotFound
from backend.org.scoping import visible_users
from backend.org.selectors import device_get, device_list
from backend.org.services import device_revoke
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.otp import client_address, otp_request, otp_verify
from mobile_api.pagination import keyset_page
from mobile_api.schemas.auth import AcceptedOut, DeviceOut, OtpIn, TokenIn, TokenOut
from mobile_api.schemas.common import ERRORS, ErrorOut, ValidationErrorOut, page_of

router = Router(tags=["auth"])
DevicePage = page_of(DeviceOut)


@router.post("/otp", auth=None, response={202: AcceptedOut, 400: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut},
             summary="Text a sign-in code to a phone")
def request_code(request: HttpRequest, payload: OtpIn) -> Status:
    """Answers 202 whether or not the phone is registered; rate-limited per phone and address."""
    otp_request(phone=payload.phone, address=client_address(request))
    return Status(202, {"detail": _("If this phone is registered, a code is on its way.")})


@router.post("/token", auth=None, response={200: TokenOut, 400: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut},
             summary="Exchange a texted code for a device token")
def exchange_code(request: HttpRequest, payload: TokenIn) -> dict:
    """The token goes in `Authorization: Bearer <token>` from then on; it is shown only now."""
    device, token = otp_verify(
        phone=payload.phone, code=payload.code, device_name=payload.device_name, address=client_address(request)
    )
    return {"token": token, "device_id": device.pk}


@router.get("/devices", auth=device_auth, response={200: DevicePage, **ERRORS}, summary="List signed-in devices")
def devices(request: HttpRequest, user_id: int | None = None, cursor: str | None = None, limit: int = 50) -> object:
    """Your devices, or (for a manager) those of someone in your team."""
    owner = None
    if user_id is not None:
        owner = visible_users(request.auth).filter(pk=user_id).first()
        if owner is None:
            raise NotFound(_("Person not found."), code="not_found")
    return keyset_page(device_list(user=request.auth, owner=owner), order=("-created_at", "-id"), cursor=cursor,
                       limit=limit)


@router.post("/devices/{device_id}/revoke", auth=device_auth, response={200: DeviceOut, **ERRORS},
             summary="Sign a device out (yours, or a lost phone of your team)", openapi_extra=IDEMPOTENT)
def revoke(request: HttpRequest, device_id: int) -> object:
    """Its next request gets 401 and its open websockets close."""
    return device_revoke(device=device_get(user=request.auth, device_id=device_id), by=request.auth)
