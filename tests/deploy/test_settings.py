"""Production settings: clean under `check --deploy`, and no start without the secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3y-for-the-deploy-check-" + "x7Q2v9L0pZ" * 5,
    "ALLOWED_HOSTS": "fieldline.example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "ALLOWED_HOSTS"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_passes_the_deploy_check_without_a_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_secret_or_hosts(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr
