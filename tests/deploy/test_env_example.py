"""deploy/.env.example names every setting backend/settings.py reads, and docker-compose is whole."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _example() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    return {name: value for name, value in pairs}


def test_every_setting_read_from_the_environment_is_in_the_example():
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z0-9_]+)"', (ROOT / "backend" / "settings.py").read_text()))
    assert read, "no settings found: the pattern no longer matches settings.py"
    assert read - set(_example()) == set()


def test_the_example_is_production_and_marks_its_secrets():
    example = _example()
    assert example["DJANGO_ENV"] == "production"
    assert example["DEBUG"] == "false"
    assert example["BENCH_FLOOR_ENDPOINT"] == "false"
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "TWILIO_AUTH_TOKEN"):
        assert example[secret] == "change-me"


def test_compose_runs_every_process_and_only_nginx_is_published():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "nginx"} <= set(services)
    assert [name for name, service in services.items() if "ports" in service] == ["nginx"]
    assert "backend.serve" in services["web"]["command"]
    assert any(arg.startswith("--workers") for arg in services["web"]["command"])
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]


def test_nginx_upgrades_websockets_and_sets_the_headers_the_app_trusts():
    conf = (DEPLOY / "nginx" / "templates" / "default.conf.template").read_text()
    websocket = conf.split("location /ws/")[1].split("}")[0]
    assert "proxy_set_header Upgrade    $http_upgrade;" in websocket
    assert "proxy_set_header Connection $connection_upgrade;" in websocket
    for block in (websocket, conf.split("location / {")[-1]):
        assert "proxy_set_header X-Forwarded-Proto $scheme;" in block
        assert "proxy_set_header Host              $http_host;" in block
        assert "proxy_set_header X-Request-ID      $request_id;" in block
    assert "ssl_certificate " in conf
