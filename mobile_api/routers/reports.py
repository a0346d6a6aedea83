"""The managers' figures on the phone: the same selectors as the dashboard, scoped to the caller
(a manager sees the team below them, an executive everything). Managers and executives only."""

from datetime import date
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router

from backend.reports import selectors as s
from mobile_api.auth import manager_auth
from mobile_api.schemas.common import ERRORS
from mobile_api.schemas.reports import (
    AccuracyOut,
    AlertOut,
    ConversionOut,
    CustomerValueOut,
    FallingAccountOut,
    ForecastOut,
    FulfilmentOut,
    FunnelOut,
    GrowthOut,
    HotProductOut,
    OpenConflictOut,
    RepDayOut,
    SalesMonthOut,
    StakeholderGapOut,
    StalledDealOut,
    TimeInStageOut,
    WinRateOut,
)

router = Router(tags=["reports"], auth=manager_auth)

Months = Query(12, ge=1, le=36, description="How many months back, the current one included")


@router.get("/rep-day", response={200: list[RepDayOut], **ERRORS}, summary="Each rep's day")
def rep_day(request: HttpRequest, day: date | None = None) -> object:
    """Sales and rewards, visits, new customers and deals moved per rep, for one day (default today)."""
    return s.rep_day(user=request.auth, day=day)


@router.get("/sales", response={200: list[SalesMonthOut], **ERRORS}, summary="Sales per month")
def sales(request: HttpRequest, by: Literal["region", "branch", "product", "division", "rep"] | None = None,
          months: int = Months) -> object:
    """Units, revenue, margin and reward spend per month, optionally per region, branch, product,
    division or rep; the current month is live."""
    return s.sales_by_month(user=request.auth, by=by, months=months)


@router.get("/growth", response={200: list[GrowthOut], **ERRORS}, summary="Growth week on week or month on month")
def growth(request: HttpRequest, grain: Literal["week", "month"] = "month",
           periods: int = Query(12, ge=1, le=36)) -> object:
    return s.growth(user=request.auth, grain=grain, periods=periods)


@router.get("/hot-products", response={200: list[HotProductOut], **ERRORS}, summary="Fastest growing products")
def hot_products(request: HttpRequest, days: int = Query(28, ge=1, le=180)) -> object:
    """Units in the last `days` days against the `days` before."""
    return s.hot_products(user=request.auth, days=days)


@router.get("/fulfilment", response={200: list[FulfilmentOut], **ERRORS}, summary="Order-to-receipt time")
def fulfilment(request: HttpRequest, by: Literal["branch", "month"] = "branch", months: int = Months) -> object:
    """Average days: order to shipment, shipment to the customer told, shipment to receipt, order to receipt."""
    return s.fulfilment_times(user=request.auth, by=by, months=months)


@router.get("/pipeline/forecast", response={200: list[ForecastOut], **ERRORS}, summary="Weighted forecast")
def forecast(request: HttpRequest) -> object:
    """Open deals per month of expected close: amount and amount x stage probability."""
    return s.pipeline_forecast(user=request.auth)


@router.get("/pipeline/funnel", response={200: list[FunnelOut], **ERRORS}, summary="Pipeline funnel")
def funnel(request: HttpRequest) -> object:
    return s.pipeline_funnel(user=request.auth)


@router.get("/pipeline/accuracy", response={200: list[AccuracyOut], **ERRORS}, summary="Forecast vs actual")
def accuracy(request: HttpRequest, months: int = Query(6, ge=1, le=36)) -> object:
    """Each month's snapshotted forecast against what was won, per rep, per team and in total."""
    return s.forecast_accuracy(user=request.auth, months=months)


@router.get("/pipeline/conversion", response={200: list[ConversionOut], **ERRORS}, summary="Stage conversion")
def conversion(request: HttpRequest, months: int = Months) -> object:
    """Of the deals that entered each stage in the last `months`, the share that went on."""
    return s.stage_conversion(user=request.auth, months=months)


@router.get("/pipeline/time-in-stage", response={200: list[TimeInStageOut], **ERRORS}, summary="Time in stage")
def time_in_stage(request: HttpRequest, months: int = Months) -> object:
    return s.time_in_stage(user=request.auth, months=months)


@router.get("/pipeline/win-rates", response={200: list[WinRateOut], **ERRORS}, summary="Win rate and cycle length")
def win_rates(request: HttpRequest, months: int = Months) -> object:
    return s.win_rates(user=request.auth, months=months)


@router.get("/stalled-deals", response={200: list[StalledDealOut], **ERRORS}, summary="Stalled deals")
def stalled_deals(request: HttpRequest, idle_days: int = Query(s.IDLE_DAYS, ge=1, le=365)) -> object:
    """No activity for `idle_days`, or far over the usual time in their stage; with a suggestion."""
    return s.stalled_deals(user=request.auth, idle_days=idle_days)


@router.get("/stakeholder-gaps", response={200: list[StakeholderGapOut], **ERRORS}, summary="Stakeholder gaps")
def stakeholder_gaps(request: HttpRequest, min_amount: Decimal | None = None) -> object:
    """Big open deals whose decision maker was not contacted for 60 days."""
    amount = min_amount if min_amount is not None else Decimal(settings.STAKEHOLDER_GAP_MIN_AMOUNT)
    return s.stakeholder_gaps(user=request.auth, min_amount=amount)


@router.get("/customers", response={200: list[CustomerValueOut], **ERRORS}, summary="Customer value")
def customers(request: HttpRequest, months: int = Months) -> object:
    """Revenue, margin and overdue payments per customer, most profitable first."""
    return s.customer_value(user=request.auth, months=months)


@router.get("/falling-accounts", response={200: list[FallingAccountOut], **ERRORS}, summary="Falling key accounts")
def falling_accounts(request: HttpRequest) -> object:
    return s.falling_key_accounts(user=request.auth)


@router.get("/alerts", response={200: list[AlertOut], **ERRORS}, summary="Recent alerts")
def alerts(request: HttpRequest) -> object:
    return s.recent_alerts(user=request.auth)


@router.get("/conflicts", response={200: list[OpenConflictOut], **ERRORS}, summary="Open duplicate-customer conflicts")
def conflicts(request: HttpRequest) -> object:
    return s.open_conflicts(user=request.auth)
