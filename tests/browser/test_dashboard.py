"""The dashboard in a real browser: Debian's headless Chromium, driven by Selenium through
Debian's chromedriver, against a real ASGI server (daphne, HTTP and websockets) on loopback,
with the demo data in a file SQLite database made for the test.

A manager signs in through the admin login page, sees the charts drawn, and a sale texted to the
Twilio webhook appears on the page within seconds without a reload."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "browser-test-twilio-token"
CHARTS = ("chart-region", "chart-product", "chart-funnel", "chart-forecast", "chart-fulfilment", "chart-growth")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"),
]

# The schema straight from the models (as the suite's --nomigrations does), then the demo data.
PREPARE = """
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
settings.MIGRATION_MODULES = {config.label: None for config in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, verbosity=0)
from backend.reports import demo
demo.seed()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (loopback)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """daphne (Django's runserver from the daphne app: ASGI, websockets, static files) on a free
    loopback port, over a fresh file database with the demo data."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings", "DEBUG": "1", "DJANGO_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('browser') / 'db.sqlite3'}",
        "REDIS_URL": "", "SMS_PROVIDER": "locmem", "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": base,
        "LANGUAGE_CODE": "en",
    }
    subprocess.run([sys.executable, "-c", PREPARE], cwd=ROOT, env=env, check=True, timeout=300)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"{base}/admin/login/")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,2400",
                "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _text_sms(base: str, sender: str, body: str) -> str:
    """What Twilio would post to the inbound webhook, signed with the test's auth token."""
    from twilio.request_validator import RequestValidator

    url = f"{base}/sms/twilio/inbound"
    params = {"MessageSid": f"SM{time.time_ns()}", "AccountSid": "AC" + "0" * 32, "From": sender,
              "To": "+15005550006", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),  # noqa: S310
                                     headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310  (loopback)
        return response.read().decode()


def _painted_pixels(driver, canvas_id: str) -> int:
    return driver.execute_script(
        """const c = document.getElementById(arguments[0]);
           const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
           let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n;""",
        canvas_id,
    )


def test_a_manager_sees_the_charts_and_a_texted_sale_arrives_live(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    browser.get(f"{server}/dashboard/")
    assert "/admin/login/" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys("wang")
    browser.find_element(By.NAME, "password").send_keys("demo-pass-123")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(lambda d: d.current_url.rstrip("/").endswith("/dashboard"))
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "connected")

    for chart in CHARTS:
        datasets = browser.execute_script("return Chart.getChart(arguments[0]).data.datasets.length", chart)
        assert datasets > 0, chart
        assert _painted_pixels(browser, chart) > 500, f"{chart} is blank"
    region_labels = browser.execute_script(
        "return Chart.getChart('chart-region').data.datasets.map(d => d.label)")
    assert region_labels == ["Hubei"]  # Wang's team is in Wuhan; Shanghai is not theirs
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#table-rep-day tbody tr")]
    assert [r.split(" WUH ")[0] for r in rows] == ["Na Li", "Wei Zhang"]
    units_before = int(browser.find_element(By.ID, "kpi-units").text)
    browser.save_screenshot(str(tmp_path / "dashboard.png"))

    reply = _text_sms(server, "+8613800000001", "SOLD CS75 LFV3A28K5L3012345")
    reference = re.search(r"\bS\d{4,}\b", reply).group(0)

    sale = WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'#live-sales li[data-reference="{reference}"]'))
    assert "Wei Zhang" in sale[0].text and "CS75" in sale[0].text
    wait.until(lambda d: int(d.find_element(By.ID, "kpi-units").text) == units_before + 1)
    zhang = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#table-rep-day tbody tr")
                 if r.text.startswith("Wei Zhang"))
    assert zhang.find_elements(By.TAG_NAME, "td")[2].text == "1"
    assert browser.execute_script("return performance.getEntriesByType('navigation').length") == 1  # no reload
