from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from backend.crm.selectors import contact_get, contact_list, customer_get
from backend.crm.services import contact_create, contact_update
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.routers.common import changes_of, current_on_mismatch, if_match
from mobile_api.schemas.common import ERRORS, ErrorOut, page_of
from mobile_api.schemas.crm import ContactIn, ContactOut, ContactPatch

router = Router(tags=["contacts"], auth=device_auth)
ContactPage = page_of(ContactOut)


@router.get("", response={200: ContactPage, **ERRORS}, summary="List contacts")
def contacts(request: HttpRequest, customer_id: UUID | None = None, cursor: str | None = None,
             limit: int = 50) -> object:
    """The people at my customers (or at one customer), with their buying roles."""
    customer = customer_get(user=request.auth, customer_id=customer_id) if customer_id else None
    return keyset_page(contact_list(user=request.auth, customer=customer), order=("name", "id"), cursor=cursor,
                       limit=limit)


@router.post("", response={201: ContactOut, **ERRORS}, summary="Add a contact", openapi_extra=IDEMPOTENT)
def create(request: HttpRequest, payload: ContactIn) -> Status:
    customer = customer_get(user=request.auth, customer_id=payload.customer_id)
    contact = contact_create(actor=request.auth, customer=customer, **payload.dict(exclude={"customer_id"}))
    return Status(201, contact)


@router.get("/{contact_id}", response={200: ContactOut, **ERRORS}, summary="One contact")
def detail(request: HttpRequest, contact_id: UUID) -> object:
    return contact_get(user=request.auth, contact_id=contact_id)


@router.patch("/{contact_id}", response={200: ContactOut, 412: ErrorOut, **ERRORS}, summary="Change a contact")
def update(request: HttpRequest, contact_id: UUID, payload: ContactPatch) -> object:
    """Send `If-Match: <version>`; a stale version answers 412 with the current record in `current`."""
    contact = contact_get(user=request.auth, contact_id=contact_id)
    with current_on_mismatch(ContactOut, lambda: contact_get(user=request.auth, contact_id=contact_id)):
        return contact_update(actor=request.auth, contact=contact, expected_version=if_match(request),
                              **changes_of(payload, frozenset({"phone", "last_contacted_at"})))
