from django.http import HttpRequest
from ninja import Router

from mobile_api.auth import device_auth
from mobile_api.schemas.common import ERRORS
from mobile_api.schemas.sync import SyncOut
from mobile_api.sync import pull

router = Router(tags=["sync"], auth=device_auth)


@router.get("", response={200: SyncOut, **ERRORS}, summary="Pull what changed since my cursor")
def sync(request: HttpRequest, cursor: str | None = None, limit: int = 200) -> dict:
    """Without a cursor: everything in your sight. Deletions and records that left your sight
    (a customer handed to another rep) come as `deleted` ids. Page with `cursor` while
    `has_more`; the last cursor is the one to keep."""
    return pull(user=request.auth, cursor=cursor, limit=limit)
