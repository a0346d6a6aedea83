import os

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("fieldline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_postrun.connect
def _hand_back_connections(task: object = None, **kwargs: object) -> None:
    """Between the recycles of CELERY_DB_REUSE_MAX, a task hands its connection back (to the pool,
    or closed if broken or old) when it ends, as a web request does."""
    if not getattr(getattr(task, "request", None), "is_eager", False):  # eager: the caller's own transaction
        close_old_connections()


@signals.worker_init.connect
def _settle_heap(**kwargs: object) -> None:
    """The tasks are loaded by now: a prefork pool's processes are forked with the heap settled."""
    from backend.core import heap

    heap.settle()


@signals.worker_ready.connect
def _serve_metrics(**kwargs: object) -> None:
    """The worker answers no HTTP, so it serves its Prometheus metrics on a port of its own."""
    from django.conf import settings

    if settings.WORKER_METRICS_PORT:
        from backend.core.metrics import serve

        serve(settings.WORKER_METRICS_PORT, addr=settings.WORKER_METRICS_ADDR)
