"""Races on PostgreSQL with real threads (issue 8.3), each through the real doors (the API and the
signed SMS webhook): every race ends with exactly one effect and no 500."""

import threading
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connections
from django.test import Client

from audit.models import HandoverItem
from backend.crm.models import Customer
from backend.reports import demo
from backend.sales.models import Reward, Sale
from mobile_api.models import IdempotencyRecord
from sms_gateway.models import InboundMessage, OutboundMessage
from tests.factories import CustomerFactory
from tests.fakes.twilio_server import signed_headers
from tests.mobile_api.conftest import ApiClient
from tests.trust.conftest import make_persona

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VIN = "LFV3A28K5L3012345"
AUTH_TOKEN = "race-secret"


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in as many threads, released together; an exception is returned, not raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - a crash is a result the test reports
            results[index] = error
        finally:
            close_old_connections()
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def statuses(results: list[object]) -> Counter:
    """How many of each HTTP status; a crash counts as 500."""
    return Counter(500 if isinstance(r, Exception) else r.status_code for r in results)


@pytest.fixture
def world(settings):
    settings.SMS_PROVIDER = "locmem"
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = ""
    demo.seed()
    from backend.org.models import User

    return {u.username: u for u in User.objects.all()}


def _sms(sender: str, body: str, sid: str) -> Callable[[], object]:
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}
    headers = signed_headers("http://testserver/sms/twilio/inbound", params, AUTH_TOKEN)

    def post():
        return Client().post("/sms/twilio/inbound", params, HTTP_X_TWILIO_SIGNATURE=headers["X-Twilio-Signature"])

    return post


def test_twenty_simultaneous_reports_of_one_vin_give_one_sale(world):
    """Ten reps' phones by SMS and ten app devices, all at the same instant."""
    app = [make_persona(name, world) for name in ("owner", "peer", "stranger")]
    calls = [_sms(phone, f"SOLD CS75 {VIN}", f"SMvin{i}")
             for i, phone in enumerate(["+8613800000001", "+8613800000002", "+8613800000003"] * 4)][:10]
    calls += [lambda c=app[i % 3]: c.post("/sales", {"product": "CS75", "serials": [VIN]}) for i in range(10)]

    results = at_once(calls)

    assert statuses(results)[500] == 0, [r for r in results if isinstance(r, Exception)]
    [sale] = Sale.objects.filter(serial=VIN, voided_at__isnull=True)
    assert Reward.objects.filter(sale__serial=VIN).count() == 1
    api_answers = Counter(r.status_code for r in results[10:])
    sms_replies = [r.content.decode() for r in results[:10]]
    recorded_by_sms = sum(f"{sale.reference}: 1 CS75 recorded" in reply for reply in sms_replies)
    refused_by_sms = sum(f"already reported ({sale.reference})" in reply for reply in sms_replies)
    assert api_answers[201] + recorded_by_sms == 1
    assert api_answers[409] + refused_by_sms == 19
    assert all(r.json()["reference"] == sale.reference for r in results[10:] if r.status_code == 409)
    assert InboundMessage.objects.count() == 10  # every text kept, the refused ones too


ROUNDS = 4


def test_a_sale_reported_while_its_customer_is_handed_over(world):
    """Both happen once: the handover moves the customer; the sale is either recorded (credited
    to the rep who made it, before the customer left) or refused as out of sight. Never half."""
    zhang, wang = make_persona("owner", world), make_persona("manager", world)
    for _ in range(ROUNDS):
        customer = CustomerFactory(owner=world["zhang"])
        sale_body = {"product": "BCD470", "quantity": 2, "customer_id": str(customer.pk)}
        handover_body = {"reason": "race", "customer_ids": [str(customer.pk)], "to_user_ids": [world["li"].pk]}

        sold, handed = at_once([lambda: zhang.post("/sales", sale_body),
                                lambda: wang.post("/ownership/handovers", handover_body)])

        assert not isinstance(sold, Exception) and not isinstance(handed, Exception), (sold, handed)
        assert handed.status_code == 201, handed.content
        assert sold.status_code in (201, 404), sold.content
        customer.refresh_from_db()
        assert customer.owner == world["li"]
        assert HandoverItem.objects.filter(customer=customer).count() == 1
        sales = Sale.objects.filter(customer=customer)
        assert sales.count() == (2 if sold.status_code == 201 else 0)
        assert set(sales.values_list("rep__username", flat=True)) <= {"zhang"}
        assert Reward.objects.filter(sale__customer=customer).count() == sales.count()


def test_two_devices_editing_one_customer_with_if_match(world):
    """Ten devices (the owner's two phones, his manager, the executive…) all edit version v:
    one change lands, the others get 412 with the current record to merge."""
    customer = Customer.objects.get(name="Wuhan Motors Ltd")
    version = customer.version
    clients = [make_persona(name, world) for name in ("owner", "owner", "manager", "executive", "owner")] * 2
    calls = [lambda c=c, i=i: c.patch(f"/customers/{customer.pk}", {"notes": f"edit {i}"},
                                      headers={"If-Match": f'"{version}"'})
             for i, c in enumerate(clients)]

    results = at_once(calls)

    assert statuses(results) == Counter({200: 1, 412: 9})
    customer.refresh_from_db()
    assert customer.version == version + 1
    [winner] = [r for r in results if r.status_code == 200]
    assert customer.notes == winner.json()["notes"]
    for loser in (r for r in results if r.status_code == 412):
        assert loser.json()["current"]["notes"] == customer.notes
    assert customer.history.filter(notes__startswith="edit ").count() == 1


def test_the_same_idempotency_key_sent_at_once(world):
    """Eight copies of one offline POST arrive together: one effect, eight identical answers."""
    zhang = make_persona("owner", world)
    for path, body, new_sales, new_customers in [
        ("/sales", {"product": "BCD470", "quantity": 3}, 3, 0),
        ("/customers", {"name": "Idempotent Trading", "phone": "+862787009999"}, 0, 1),
    ]:
        key = str(uuid.uuid4())
        sales, customers = Sale.objects.count(), Customer.objects.count()
        copies = [ApiClient(zhang.token) for _ in range(8)]

        results = at_once([lambda c=c: c.post(path, body, headers={"Idempotency-Key": key}) for c in copies])

        assert statuses(results) == Counter({201: 8}), path
        assert len({r.content for r in results}) == 1
        assert (Sale.objects.count() - sales, Customer.objects.count() - customers) == (new_sales, new_customers)
        assert IdempotencyRecord.objects.filter(key=key).count() == 1


def test_the_same_message_sid_delivered_at_once(world):
    """Twilio retries a webhook while the first delivery is still running, eight times over."""
    results = at_once([_sms("+8613800000001", "SOLD BCD470 2", "SMsame")] * 8)

    assert statuses(results) == Counter({200: 8})
    message = InboundMessage.objects.get(provider_id="SMsame")
    assert Sale.objects.filter(reference=message.reference).count() == 2
    assert Reward.objects.filter(sale__reference=message.reference).count() == 2
    # One reply recorded; every answer is that reply or an empty one (a parallel copy still running).
    assert OutboundMessage.objects.filter(in_reply_to=message).count() == 1
    assert {r.content.decode() for r in results} <= {
        f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{message.reply}</Message></Response>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />",
    }
