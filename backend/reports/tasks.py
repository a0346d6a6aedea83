"""Scheduled work of the read side (beat entries in settings.CELERY_BEAT_SCHEDULE). Every task
is safe to run twice: roll-ups rebuild, snapshots are taken once, alerts are unique per period."""

from celery import shared_task

from backend.reports import services
from backend.sales.models import Sale


@shared_task(name="reports.refresh_rollups")
def refresh_rollups() -> int:
    return len(services.rollup_refresh())


@shared_task(name="reports.snapshot_forecasts")
def snapshot_forecasts() -> int:
    return services.forecast_snapshot_take()


@shared_task(name="reports.flag_falling_accounts")
def flag_falling_accounts() -> int:
    return len(services.alerts_falling_accounts())


@shared_task(name="reports.flag_stalled_deals")
def flag_stalled_deals() -> int:
    return len(services.alerts_stalled_deals())


@shared_task(name="reports.flag_stakeholder_gaps")
def flag_stakeholder_gaps() -> int:
    return len(services.alerts_stakeholder_gaps())


@shared_task(name="reports.send_digests")
def send_digests() -> int:
    return services.digest_send()


@shared_task(name="reports.push_sale_recorded", ignore_result=True)
def push_sale_recorded(sale_ids: list[str]) -> None:
    """The live dashboards' "sale recorded", pushed by the worker rather than by the request that
    recorded the sale: the channel layer's round trips cost that request half its time."""
    sales = list(Sale.objects.filter(pk__in=sale_ids).select_related("rep", "product", "customer"))
    services.dashboard_sale_recorded(sales=sales)
