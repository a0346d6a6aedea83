"""Business metrics for Prometheus (django-prometheus adds HTTP latency and database counters).

Counters count status changes: `fieldline_sms_inbound_total{status="processed"}` is how many
inbound texts reached `processed`. A door registers its message models with `track_status`; the
counting and the log line that follows a message (with the request id of `backend.core.logging`)
happen here, on the model signals, so the door's code paths need no metric calls of their own.

Several processes (ASGI workers, Celery children) each count in memory unless
`PROMETHEUS_MULTIPROC_DIR` is set, in which case prometheus_client shares the counts through
files in that folder and one scrape sees them all.
"""

import logging
import os
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models.signals import post_init, post_save
from prometheus_client import CollectorRegistry, Counter, multiprocess, start_http_server

from backend.core.logging import request_id_for

SMS_INBOUND = Counter("fieldline_sms_inbound", "Inbound SMS that reached a status.", ["status"])
SMS_OUTBOUND = Counter("fieldline_sms_outbound", "Outbound SMS that reached a status.", ["status"])

log = logging.getLogger("fieldline.metrics")
_SEEN = "_metrics_seen_status"
_TRACKED: dict[type[models.Model], tuple[Counter, str]] = {}


def track_status(model: type[models.Model], counter: Counter, *, field: str = "status") -> None:
    """Count (and log) every save of `model` that gives `field` a new value.

    `QuerySet.update()` and bulk writes send no signal: code that moves a status that way calls
    `count_status`, or `count_written` with the rows.
    """

    def remember(sender: Any, instance: models.Model, **kwargs: Any) -> None:
        # __dict__, not getattr: a deferred field must not cost a query per loaded row.
        setattr(instance, _SEEN, instance.__dict__.get(field))

    def count(sender: Any, instance: models.Model, created: bool, **kwargs: Any) -> None:
        status = instance.__dict__.get(field)
        if status is not None and (created or status != getattr(instance, _SEEN, None)):
            count_status(counter, model._meta.label, instance.pk, status, about=instance)
        setattr(instance, _SEEN, status)

    _TRACKED[model] = (counter, field)
    uid = f"metrics:{model._meta.label}:{field}"
    post_init.connect(remember, sender=model, weak=False, dispatch_uid=uid)
    post_save.connect(count, sender=model, weak=False, dispatch_uid=uid)


def count_written(instances: Iterable[models.Model]) -> None:
    """Count rows of a tracked model written without a signal (`bulk_create`, `bulk_update`) as
    a save would have counted them."""
    for instance in instances:
        counter, field = _TRACKED[type(instance)]
        status = instance.__dict__.get(field)
        count_status(counter, instance._meta.label, instance.pk, status, about=instance)
        setattr(instance, _SEEN, status)


def count_status(counter: Counter, what: str, pk: Any, status: str, *, about: Any = None) -> None:
    """Count the status and log it; `about`: the object whose request the line belongs to (the row
    itself, or the text a reply answers), for `backend.core.logging.request_ids_by`."""
    counter.labels(status=status).inc()
    extra = {"object": what, "pk": str(pk), "status": status}
    if about is not None:
        extra["request_id"] = request_id_for(about)
    log.info("%s %s -> %s", what, pk, status, extra=extra)


def serve(port: int, addr: str = "127.0.0.1") -> None:
    """Expose /metrics on its own port, for processes that serve no HTTP (the Celery worker)."""
    registry = None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=addr, **({"registry": registry} if registry else {}))
