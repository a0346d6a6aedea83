"""A worker keeps its database connections between tasks (Celery's Django fix-up would open a new
one for every task) and hands them back when a task ends, as a request does."""

from types import SimpleNamespace

from celery import signals

import backend.celery
from backend.celery import app


def test_the_fix_up_recycles_connections_only_every_thousand_tasks():
    assert app.conf.get("CELERY_DB_REUSE_MAX") == 1000


def test_a_task_run_by_a_worker_hands_its_connection_back_when_it_ends(monkeypatch):
    handed_back = []
    monkeypatch.setattr(backend.celery, "close_old_connections", lambda: handed_back.append(True))

    signals.task_postrun.send(sender=None, task=SimpleNamespace(request=SimpleNamespace(is_eager=False)))

    assert handed_back == [True]


def test_an_eager_task_leaves_its_callers_connection_alone(monkeypatch):
    handed_back = []
    monkeypatch.setattr(backend.celery, "close_old_connections", lambda: handed_back.append(True))

    signals.task_postrun.send(sender=None, task=SimpleNamespace(request=SimpleNamespace(is_eager=True)))

    assert handed_back == []
