"""deploy/nginx in front of the ASGI server, for real: HTTPS terminated by nginx, and Twilio's
signature still valid through the proxy headers (no PUBLIC_BASE_URL), websockets upgraded, one
request id. Needs Debian's nginx and openssl; skipped without them."""

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.fakes.twilio_server import twilio_signature

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "default.conf.template"
TOKEN = "proxy-test-token"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("nginx") and shutil.which("openssl")), reason="needs nginx and openssl"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def _site(tmp: Path, app_port: int, https_port: int, http_port: int) -> str:
    """The template as the nginx image renders it, moved to free loopback ports and temp files.
    (Debian's nginx predates `http2 on;`, the image's does not need the change.)"""
    conf = TEMPLATE.read_text().replace("${NGINX_SERVER_NAME}", "localhost")
    for old, new in [
        ("web:8000", f"127.0.0.1:{app_port}"), ("/etc/nginx/certs", str(tmp)), ("/var/log/nginx", str(tmp)),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"), ("listen [::]:443 ssl;", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""), ("http2 on;", ""),
    ]:
        conf = conf.replace(old, new)
    return conf


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The app (backend.serve, production settings, SQLite) behind nginx on loopback; yields the HTTPS base URL."""
    tmp = tmp_path_factory.mktemp("nginx")
    app_port, https_port, http_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ, "DJANGO_ENV": "production", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": "",
        "SMS_PROVIDER": "console", "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    schema = {**env, "DJANGO_SETTINGS_MODULE": "deploy.bench.schema_settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--run-syncdb", "-v0"], cwd=ROOT, env=schema, check=True,
                   timeout=300)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp / "privkey.pem"), "-out", str(tmp / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    (tmp / "site.conf").write_text(_site(tmp, app_port, https_port, http_port))
    (tmp / "nginx.conf").write_text(
        f"events {{}}\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nhttp {{ include {tmp}/site.conf; }}\n"
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "backend.serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "2",
         "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    subprocess.run(["nginx", "-c", str(tmp / "nginx.conf")], check=True, timeout=30)
    try:
        _wait(app_port)
        _wait(https_port)
        yield f"https://localhost:{https_port}"
    finally:
        subprocess.run(["nginx", "-c", str(tmp / "nginx.conf"), "-s", "quit"], check=False, timeout=30)
        app.terminate()
        app.wait(10)


def _post(url: str, params: dict, signature: str) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=urlencode(params).encode(), headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded",
    })
    context = ssl._create_unverified_context()  # the test's own self-signed certificate
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def test_twilio_signature_is_valid_through_the_proxy(proxied):
    url = f"{proxied}/sms/twilio/inbound"
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": "+8613800000099", "To": "+15005550006", "Body": "HELP"}
    status, body, headers = _post(url, params, twilio_signature(url, params, TOKEN))
    assert status == 200, body
    assert b"<Response>" in body  # the unknown number's polite reply
    assert len([k for k in headers if k.lower() == "x-request-id"]) == 1


def test_a_signature_for_another_url_is_refused_through_the_proxy(proxied):
    url = f"{proxied}/sms/twilio/inbound"
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "From": "+8613800000099", "To": "+15005550006", "Body": "HELP"}
    plain = url.replace("https://", "http://")  # what the app would see without the trusted headers
    status, _body, _headers = _post(url, params, twilio_signature(plain, params, TOKEN))
    assert status == 403


def test_metrics_are_not_served_to_the_internet(proxied):
    status, _body, _headers = _post(f"{proxied}/metrics", {}, "")
    assert status == 404
