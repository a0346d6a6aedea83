import pytest
from django.utils import translation

from backend.reports import demo


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
