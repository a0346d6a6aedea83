import pytest
from django.db import connection
from django.utils import translation

from backend.reports import demo


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need real concurrency; SQLite serialises writers."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); CI runs it")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Real hashing costs ~0.3 s a password by design; tests need none of that."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _own_redis_namespace(worker_id):
    """Parallel workers share one Redis but not their websocket groups (user ids repeat across
    the workers' databases). The cache stays in process so each test can start from an empty
    one without flushing the Redis the channel layer is using."""
    from django.conf import settings

    if "redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{worker_id}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True, scope="session")
def _each_text_in_its_request():
    """A test's data lives in its own uncommitted transaction, which the batch thread's
    connection cannot see: tests of batching turn it on with committed data."""
    from django.conf import settings

    settings.SMS_INBOUND_BATCH = 1


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    from backend.reports.services import _audiences

    cache.clear()
    _audiences.clear()  # user ids repeat from test to test
    yield


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English, whatever a previous one activated."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def demo_data(db):
    """The demo data set of DEMO_DATA.md."""
    demo.seed()
    return demo


@pytest.fixture
def people(demo_data):
    from backend.org.models import User

    return {u.username: u for u in User.objects.all()}
