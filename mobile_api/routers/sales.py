from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Status

from backend.crm.selectors import customer_get
from backend.sales.selectors import sale_list, tally
from backend.sales.services import report_undo, sale_report
from mobile_api.auth import device_auth
from mobile_api.idempotency import IDEMPOTENT
from mobile_api.pagination import keyset_page
from mobile_api.routers.common import door_of
from mobile_api.schemas.common import ERRORS, ErrorOut, page_of
from mobile_api.schemas.sales import SaleIn, SaleOut, SaleReportOut, TallyOut, UndoIn, UndoOut

router = Router(tags=["sales"], auth=device_auth)
SalePage = page_of(SaleOut)


@router.get("", response={200: SalePage, **ERRORS}, summary="List sales")
def sales(request: HttpRequest, customer_id: UUID | None = None, cursor: str | None = None, limit: int = 50) -> object:
    """Newest first, voided ones included (with `voided_at`)."""
    found = sale_list(user=request.auth, customer=customer_id)
    return keyset_page(found, order=("-sold_at", "-id"), cursor=cursor, limit=limit)


@router.post("", response={201: SaleReportOut, 409: ErrorOut, **ERRORS}, summary="Report a sale",
             openapi_extra=IDEMPOTENT)
def report(request: HttpRequest, payload: SaleIn) -> Status:
    """The same service and rules as the SMS `SOLD`: a serial already reported answers 409 naming
    the report that holds it; the reply has the reference and the reward."""
    customer = customer_get(user=request.auth, customer_id=payload.customer_id) if payload.customer_id else None
    result = sale_report(
        rep=request.auth, product_code=payload.product, quantity=payload.quantity, serials=payload.serials,
        customer_hint=payload.customer, customer=customer, channel=door_of(request), sold_at=payload.sold_at,
        ids=payload.ids,
    )
    return Status(201, result)


@router.post("/undo", response={200: UndoOut, **ERRORS}, summary="Undo my last (or a named) report",
             openapi_extra=IDEMPOTENT)
def undo(request: HttpRequest, payload: UndoIn) -> object:
    """Under 30 minutes old; the sale is voided and its reward cancelled, history keeps both."""
    report = report_undo(user=request.auth, reference=payload.reference)
    return {"reference": report.reference, "voided_at": report.voided_at}


@router.get("/tally", response={200: TallyOut, **ERRORS}, summary="Today's and this month's sales and rewards")
def my_tally(request: HttpRequest) -> object:
    return tally(user=request.auth)
