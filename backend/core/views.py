"""Probes for the load balancer and the orchestrator.

`/healthz` says the process answers (restart it when it does not); `/readyz` says it can do its
work: the database and every Redis it uses (channel layer and cache, Celery broker) answer.
Neither needs a session, a signed-in user or a database write.
"""

from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

_TIMEOUT_SECONDS = 2


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    for name, url in _redis_urls().items():
        checks[name] = _redis(url)
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not ready"; the class name says which
        return type(error).__name__
    return "ok"


def _redis_urls() -> dict[str, str]:
    urls = {"redis": settings.REDIS_URL, "broker": settings.CELERY_BROKER_URL}
    wanted = {name: url for name, url in urls.items() if url and url.startswith(("redis://", "rediss://"))}
    if "broker" in wanted and wanted["broker"] == wanted.get("redis"):
        del wanted["broker"]
    return wanted


def _redis(url: str) -> str:
    client: Any = redis.Redis.from_url(url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS)
    try:
        client.ping()
    except Exception as error:  # as above
        return type(error).__name__
    finally:
        client.close()
    return "ok"
