from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from backend.sales.selectors import order_get, order_list
from backend.sales.services import shipment_acknowledge, shipment_receive, shipment_record
from mobile_api.auth import device_auth, integration_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.routers.common import door_of
from mobile_api.schemas.common import ERRORS, ErrorOut, page_of
from mobile_api.schemas.sales import OrderOut, ShipmentIn, ShipmentOut

router = Router(tags=["orders"], auth=device_auth)
shipments_router = Router(tags=["shipments"], auth=integration_auth)
OrderPage = page_of(OrderOut)


@router.get("", response={200: OrderPage, **ERRORS}, summary="List orders")
def orders(request: HttpRequest, status: str | None = None, customer_id: UUID | None = None,
           cursor: str | None = None, limit: int = 50) -> object:
    """Newest first, each with its lines and shipments."""
    found = order_list(user=request.auth, status=status, customer=customer_id)
    return keyset_page(found, order=("-ordered_at", "-id"), cursor=cursor, limit=limit)


@router.get("/{order_id}", response={200: OrderOut, **ERRORS}, summary="One order with its shipments")
def detail(request: HttpRequest, order_id: UUID) -> object:
    return order_get(user=request.auth, order_id=order_id)


@router.post("/{order_id}/acknowledge", response={200: OrderOut, **ERRORS},
             summary="I told the customer to prepare receiving", openapi_extra=IDEMPOTENT)
def acknowledge(request: HttpRequest, order_id: UUID) -> object:
    """The same as the SMS `OK <order>`: the time is recorded on the open shipment."""
    order = order_get(user=request.auth, order_id=order_id)
    shipment_acknowledge(rep=request.auth, order_number=order.number)
    return order_get(user=request.auth, order_id=order_id)


@router.post("/{order_id}/receive", response={200: OrderOut, **ERRORS}, summary="The customer received the goods",
             openapi_extra=IDEMPOTENT)
def receive(request: HttpRequest, order_id: UUID) -> object:
    """The same as the SMS `RECV <order>`: order-to-receipt time is now known."""
    order = order_get(user=request.auth, order_id=order_id)
    shipment_receive(user=request.auth, order_number=order.number)
    return order_get(user=request.auth, order_id=order_id)


@shipments_router.post("", response={201: ShipmentOut, 409: ErrorOut, **ERRORS},
                       summary="Record a shipment (warehouse or ERP)", openapi_extra=IDEMPOTENT)
def ship(request: HttpRequest, payload: ShipmentIn) -> Status:
    """With an API key of role logistics (or a manager's token): the same loop as the SMS `SHIP`,
    the order's rep is texted and pushed at once."""
    shipment = shipment_record(actor=request.auth, order_number=payload.order_number, carrier=payload.carrier,
                               tracking=payload.tracking, eta=payload.eta, channel=door_of(request), id=payload.id)
    return Status(201, shipment)
