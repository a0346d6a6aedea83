"""The managers' dashboard: one page, its data as JSON for the live refresh, and each figure
as a CSV download. Signed in through the admin's login page; managers and executives only."""

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from backend.core.errors import ApplicationError
from backend.org.models import Role
from backend.reports.figures import FIGURES, Params, as_dicts

# What the page draws and lists; every other figure is a CSV download away.
ON_PAGE = (
    "rep-day", "sales-by-region", "sales-by-product", "growth-monthly", "hot-products", "pipeline-funnel",
    "pipeline-forecast", "forecast-accuracy", "fulfilment-by-month", "stalled-deals", "customer-value", "alerts",
    "conflicts",
)


def managers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_superuser or user.role in (Role.MANAGER, Role.EXECUTIVE)):
            raise PermissionDenied(_("The dashboard is for managers and executives."))
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return JsonResponse({"detail": str(error.message), "code": error.code}, status=error.status)

    return guarded


def _bundle(request: HttpRequest) -> dict:
    params = Params.parse(request.GET)
    figures = {name: as_dicts(FIGURES[name].page_rows(request.user, params)) for name in ON_PAGE}
    return {"day": params.day, "months": params.months, "generated": timezone.now(), "figures": figures}


def _labels() -> dict[str, str]:
    """The words the page's script puts on charts and lists, in the reader's language."""
    return {
        "pipeline": _("Pipeline"), "weighted": _("Weighted"), "forecast": _("Forecast"), "actual": _("Actual (won)"),
        "order_to_ship": _("Order to ship"), "ship_to_told": _("Ship to customer told"),
        "ship_to_receipt": _("Ship to receipt"), "order_to_receipt": _("Order to receipt"),
        "units_change": _("Units growth"), "revenue_change": _("Revenue growth"), "new": _("new"),
        "live": _("live"), "offline": _("reconnecting…"), "no_rows": _("Nothing here."),
    }


@require_GET
@managers_only
def dashboard(request: HttpRequest) -> HttpResponse:
    downloads = [(name, figure.title) for name, figure in FIGURES.items()]
    context = {"bundle": _bundle(request), "downloads": downloads, "labels": _labels()}
    return render(request, "reports/dashboard.html", context)


@require_GET
@managers_only
def dashboard_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_bundle(request), encoder=DjangoJSONEncoder)


@require_GET
@managers_only
def figure_csv(request: HttpRequest, name: str) -> HttpResponse:
    figure = FIGURES.get(name)
    if figure is None:
        raise Http404(name)
    params = Params.parse(request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{params.day:%Y%m%d}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the UTF-8 names right
    writer = csv.DictWriter(response, fieldnames=figure.columns)
    writer.writeheader()
    for row in as_dicts(figure.rows(request.user, params)):
        writer.writerow({k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
    return response
