from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backend.core"
    label = "core"

    def ready(self) -> None:
        from celery import signals

        from backend.core import logging

        # The request id follows work handed to Celery (backend.core.logging).
        signals.before_task_publish.connect(logging.add_request_id_header)
        signals.task_prerun.connect(logging.restore_request_id)
        signals.task_postrun.connect(logging.forget_request_id)
