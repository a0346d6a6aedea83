"""Every list pages with a cursor, caps the page size and runs a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.context import Door, current_actor
from backend.crm.models import Customer
from backend.notifications.services import notify
from mobile_api.pagination import MAX_PAGE_SIZE
from tests.factories import TipFactory

LISTS = ["/customers", "/contacts", "/opportunities", "/activities", "/orders", "/sales", "/notifications", "/tips",
         "/auth/devices"]


@pytest.fixture
def busy_manager(people, api_as):
    for n in range(3):
        notify(recipient=people["wang"], kind="alert", text=f"Alert {n}", sms=False)
        TipFactory(author=people["li"])
        api_as(people["wang"], f"tablet {n}")
    client = api_as(people["wang"])
    client.get("/me")  # the device's first "last seen" write is not the list's
    return client


@pytest.mark.parametrize("path", LISTS)
def test_the_page_size_does_not_change_the_query_count(busy_manager, path, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as one_row:
        small = busy_manager.get(path, {"limit": 1})
    assert small.status_code == 200 and len(small.json()["items"]) == 1 and small.json()["next_cursor"]
    with django_assert_max_num_queries(len(one_row)):
        big = busy_manager.get(path, {"limit": MAX_PAGE_SIZE})
    assert len(big.json()["items"]) > 1


@pytest.mark.parametrize("path", LISTS)
def test_pages_follow_each_other_without_repeats(busy_manager, path):
    whole = [row["id"] for row in busy_manager.get(path, {"limit": MAX_PAGE_SIZE}).json()["items"]]
    paged, cursor = [], None
    while len(paged) < len(whole):
        page = busy_manager.get(path, {"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        paged += [row["id"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged[:len(whole)] == whole


def test_the_page_size_is_capped(people, api_as):
    for n in range(MAX_PAGE_SIZE + 5):
        Customer.objects.create(name=f"Shop {n}", owner=people["zhang"])
    page = api_as(people["zhang"]).get("/customers", {"limit": 10_000}).json()
    assert len(page["items"]) == MAX_PAGE_SIZE and page["next_cursor"]


def test_the_acting_person_does_not_outlive_the_request(people, api_as):
    api_as(people["zhang"]).get("/customers")
    assert current_actor().user is None and current_actor().door == Door.SYSTEM
