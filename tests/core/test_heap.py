"""Server processes leave what they load at start out of the garbage collector's walks."""

import subprocess
import sys

import pytest
from django.conf import settings

from backend.core import heap

CHECK = "import gc; print(gc.get_freeze_count() > 1000, gc.get_threshold()[0])"


def _python(code: str) -> str:
    """The last line `code` prints, run in a fresh interpreter (this one's heap is the tests')."""
    env = {"DJANGO_SETTINGS_MODULE": "backend.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                          cwd=settings.BASE_DIR, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("start", [
    "import backend.asgi",  # each web worker
    "from celery import signals; import backend.celery; signals.worker_init.send(sender=None)",  # the worker
])
def test_a_server_process_settles_its_heap_once_started(start):
    assert _python(f"{start}; {CHECK}") == f"True {heap.YOUNG_THRESHOLD}"
