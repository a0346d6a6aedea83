from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from backend.core.errors import Forbidden, NotFound
from backend.crm.selectors import customer_by_phone, customer_get, customer_search
from backend.crm.services import customer_create, customer_update
from backend.org.models import Role
from backend.org.scoping import visible_users
from backend.org.selectors import region_by_code
from backend.sales.selectors import customer_overview
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.routers.common import changes_of, current_on_mismatch, door_of, if_match
from mobile_api.schemas.common import ERRORS, ErrorOut, page_of
from mobile_api.schemas.crm import CustomerIn, CustomerOut, CustomerPatch
from mobile_api.schemas.overview import CallerOut, CustomerOverviewOut

router = Router(tags=["customers"], auth=device_auth)
CustomerPage = page_of(CustomerOut)
ORDER = ("name", "id")


@router.get("", response={200: CustomerPage, **ERRORS}, summary="Search my customers")
def customers(
    request: HttpRequest, q: str | None = None, phone: str | None = None, region: str | None = None,
    cursor: str | None = None, limit: int = 50,
) -> object:
    """By name (`q`, any part, legal forms ignored), phone (any notation) or region code; by name."""
    found = customer_search(user=request.auth, q=q, phone=phone, region=region)
    return keyset_page(found, order=ORDER, cursor=cursor, limit=limit)


@router.post("", response={201: CustomerOut, 409: ErrorOut, **ERRORS}, summary="Create a customer",
             openapi_extra=IDEMPOTENT)
def create(request: HttpRequest, payload: CustomerIn) -> Status:
    """409 `duplicate_customer` with a `conflict_id` when another rep already has this phone or
    name: nothing about that customer is revealed, and your manager is asked to decide."""
    fields = payload.dict(exclude={"id", "owner_id", "region"})
    customer = customer_create(
        actor=request.auth, owner=_owner(request, payload.owner_id), source=door_of(request), id=payload.id,
        region=region_by_code(payload.region), **fields,
    )
    return Status(201, customer_get(user=request.auth, customer_id=customer.pk))


def _owner(request: HttpRequest, owner_id: int | None) -> object:
    if owner_id is None or owner_id == request.auth.pk:
        return request.auth
    if request.auth.role == Role.REP:
        raise Forbidden(_("A rep creates customers for themselves."), code="forbidden")
    owner = visible_users(request.auth).filter(pk=owner_id, role=Role.REP, is_active=True).first()
    if owner is None:
        raise NotFound(_("Person not found."), code="not_found")
    return owner


@router.get("/lookup", response={200: CallerOut, **ERRORS}, summary="Who is calling (call-centre pop-up)")
def lookup(request: HttpRequest, phone: str) -> dict:
    """The customer whose number, or whose contact's number, it is, with the whole picture."""
    match = customer_by_phone(user=request.auth, phone=phone)
    return {"matched_contact": match.contact, "overview": customer_overview(user=request.auth, customer=match.customer)}


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="One customer")
def detail(request: HttpRequest, customer_id: UUID) -> object:
    return customer_get(user=request.auth, customer_id=customer_id)


@router.get("/{customer_id}/overview", response={200: CustomerOverviewOut, **ERRORS},
            summary="A customer's whole picture in one call")
def overview(request: HttpRequest, customer_id: UUID) -> object:
    """Contacts and their buying roles, open deals, orders and shipments, recent visits and
    sales, and who owned the customer before."""
    return customer_overview(user=request.auth, customer=customer_get(user=request.auth, customer_id=customer_id))


@router.patch("/{customer_id}", response={200: CustomerOut, 409: ErrorOut, 412: ErrorOut, **ERRORS},
              summary="Change a customer")
def update(request: HttpRequest, customer_id: UUID, payload: CustomerPatch) -> object:
    """Send `If-Match: <version>`; a stale version answers 412 with the current record in `current`."""
    customer = customer_get(user=request.auth, customer_id=customer_id)
    changes = changes_of(payload, frozenset({"phone", "region", "latitude", "longitude"}))
    if "region" in changes:
        changes["region"] = region_by_code(changes["region"])
    with current_on_mismatch(CustomerOut, lambda: customer_get(user=request.auth, customer_id=customer_id)):
        customer_update(actor=request.auth, customer=customer, source=door_of(request),
                        expected_version=if_match(request), **changes)
    return customer_get(user=request.auth, customer_id=customer_id)
