"""The admin pages of texts: filters by status, number and date, the object each created, scoping."""

import pytest
from django.urls import reverse
from django.utils import timezone

from sms_gateway.models import InboundMessage, OutboundMessage, OutboundStatus

pytestmark = pytest.mark.django_db

INBOUND_LIST = reverse("admin:sms_gateway_inboundmessage_changelist")
OUTBOUND_LIST = reverse("admin:sms_gateway_outboundmessage_changelist")


@pytest.fixture
def texted(people, text):
    text("+8613800000001", "SOLD BCD470 2")  # Zhang, Wang's team
    text("+8613800000003", "SOLD BCD470")  # Chen, Zhao's team
    text("+8613800000099", "HELLO")  # unknown sender
    return InboundMessage.objects.order_by("pk")


def listed(client, url: str, **params) -> list[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [str(row) for row in response.context["cl"].result_list]


def test_the_inbound_list_filters_by_status_number_and_date(client, people, texted):
    client.force_login(people["exec"])
    zhang, chen, stranger = texted

    assert len(listed(client, INBOUND_LIST)) == 3
    assert listed(client, INBOUND_LIST, status__exact="rejected") == [str(stranger)]
    assert listed(client, INBOUND_LIST, number="0003") == [str(chen)]
    day = timezone.localtime(zhang.received_at)
    assert len(listed(client, INBOUND_LIST, received_at__day=day.day, received_at__month=day.month,
                      received_at__year=day.year)) == 3


def test_the_inbound_page_links_what_the_text_created(client, people, texted):
    client.force_login(people["exec"])
    zhang = texted[0]

    response = client.get(reverse("admin:sms_gateway_inboundmessage_change", args=[zhang.pk]))

    sale_url = reverse("admin:sales_sale_change", args=[zhang.created_object.pk])
    assert response.status_code == 200 and sale_url.encode() in response.content


def test_a_manager_sees_the_texts_of_the_team_only(client, people, texted):
    client.force_login(people["wang"])

    assert listed(client, INBOUND_LIST) == [str(texted[0])]
    assert {m.to for m in OutboundMessage.objects.filter(pk__in=[
        m.pk for m in client.get(OUTBOUND_LIST).context["cl"].result_list])} == {"+8613800000001"}


def test_failed_texts_can_be_sent_again(client, people, outbox, django_capture_on_commit_callbacks):
    client.force_login(people["exec"])
    failed = OutboundMessage.objects.create(to="+8613800000001", body="hi", kind="alert",
                                            status=OutboundStatus.FAILED, attempts=6)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(OUTBOUND_LIST, {"action": "send_again", "_selected_action": [failed.pk]})

    failed.refresh_from_db()
    assert failed.status == OutboundStatus.SENT and [t.body for t in outbox] == ["hi"]
