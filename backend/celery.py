import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("fieldline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_ready.connect
def _serve_metrics(**kwargs: object) -> None:
    """The worker answers no HTTP, so it serves its Prometheus metrics on a port of its own."""
    from django.conf import settings

    if settings.WORKER_METRICS_PORT:
        from backend.core.metrics import serve

        serve(settings.WORKER_METRICS_PORT, addr=settings.WORKER_METRICS_ADDR)
