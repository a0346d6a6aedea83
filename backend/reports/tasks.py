"""Scheduled work of the read side (beat entries in settings.CELERY_BEAT_SCHEDULE). Every task
is safe to run twice: roll-ups rebuild, snapshots are taken once, alerts are unique per period."""

from celery import shared_task

from backend.reports import services


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

