"""Tests of the fake Twilio server, driven by the real twilio client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .twilio_server import (
    FakeTwilio,
    count_segments,
    post_signed,
    twilio_client,
    twilio_signature,
)

SENDER = "+15550001111"
RECIPIENT = "+15550002222"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTwilio]:
    # One server for the module keeps the suite fast; `fake` resets it per test.
    with FakeTwilio(account_sid="ACtest", auth_token="secret") as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTwilio) -> FakeTwilio:
    server.reset()
    return server


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return twilio_client(fake, timeout=2)


def send(client: Client, to: str = RECIPIENT, **kwargs: Any) -> Any:
    kwargs.setdefault("from_", SENDER)
    return client.messages.create(to=to, body=kwargs.pop("body", "hello"), **kwargs)


class Receiver:
    """A tiny webhook receiver recording what a status callback looked like."""

    def __init__(self, status: int = 204) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.requests.append((dict(self.headers), dict(parse_qsl(body))))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        serve.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/status?x=1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def test_real_client_sends_and_fake_records(fake: FakeTwilio, client: Client) -> None:
    message = send(client, body="hi there", status_callback="http://cb.example/status")

    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_, message.body) == (RECIPIENT, SENDER, "hi there")
    assert message.num_segments == "1"
    assert message.date_created is not None and message.date_created.tzinfo is not None
    [recorded] = fake.messages
    assert recorded.sid == message.sid
    assert (recorded.to, recorded.from_, recorded.body) == (RECIPIENT, SENDER, "hi there")
    assert recorded.status_callback == "http://cb.example/status"
    assert fake.attempts == 1
    assert fake.rate_log == [recorded.received_at]


def test_messaging_service_send_is_accepted(fake: FakeTwilio, client: Client) -> None:
    message = client.messages.create(to=RECIPIENT, messaging_service_sid="MGabc", body="x")

    assert message.status == "accepted"
    assert message.from_ is None
    assert fake.messages[0].sender == "MGabc"


def test_wrong_credentials_get_401(fake: FakeTwilio) -> None:
    intruder = Client(fake.account_sid, "wrong", http_client=twilio_client(fake).http_client)

    with pytest.raises(TwilioRestException) as caught:
        send(intruder)

    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert fake.messages == [] and fake.attempts == 1


@pytest.mark.parametrize(
    ("status", "code", "expected_code"),
    [(500, None, 20500), (400, 21211, 21211), (400, 21610, 21610), (503, None, 20503)],
)
def test_fail_next_surfaces_as_twilio_error(
    fake: FakeTwilio, client: Client, status: int, code: int | None, expected_code: int
) -> None:
    fake.fail_next(2, status=status, code=code)

    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            send(client)
        assert (caught.value.status, caught.value.code) == (status, expected_code)
    send(client)  # faults are used up: back to normal

    assert fake.attempts == 3 and len(fake.messages) == 1


def test_429_carries_retry_after(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(1, status=429, retry_after=7)

    with pytest.raises(TwilioRestException) as caught:
        send(client)

    assert (caught.value.status, caught.value.code) == (429, 20429)
    response = client.http_client._test_only_last_response
    assert response is not None and response.headers["Retry-After"] == "7"


def test_rejected_numbers_fail_permanently(fake: FakeTwilio, client: Client) -> None:
    fake.reject_numbers({"+8613800000000": 21408, "+15550009999": 21610})

    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            send(client, to="+8613800000000")
        assert (caught.value.status, caught.value.code) == (400, 21408)
    with pytest.raises(TwilioRestException) as caught:
        send(client, to="+15550009999")
    assert caught.value.code == 21610
    send(client)  # other numbers are unaffected

    assert [m.to for m in fake.messages] == [RECIPIENT]


def test_invalid_number_is_21211(client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        send(client, to="not-a-number")

    assert (caught.value.status, caught.value.code) == (400, 21211)


def test_delay_provokes_client_timeout_but_message_is_sent(fake: FakeTwilio) -> None:
    fake.delay_next(1, 0.4)
    impatient = twilio_client(fake, timeout=0.1)

    with pytest.raises(requests.exceptions.Timeout):
        send(impatient)

    # Like real Twilio, the slow request still goes out: the reason retries can duplicate.
    assert len(fake.wait_for_messages(1, timeout=2)) == 1


def test_deliver_posts_signed_callback(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    message = send(client, status_callback=receiver.url)

    status = fake.deliver(message.sid, "undelivered", error_code=30003)

    assert status == 204
    [(headers, params)] = receiver.requests
    assert params["MessageSid"] == message.sid
    assert params["MessageStatus"] == params["SmsStatus"] == "undelivered"
    assert params["ErrorCode"] == "30003"
    assert (params["To"], params["From"], params["AccountSid"]) == (RECIPIENT, SENDER, "ACtest")
    validator = RequestValidator("secret")
    assert validator.validate(receiver.url, params, headers["X-Twilio-Signature"])
    assert not RequestValidator("other").validate(
        receiver.url, params, headers["X-Twilio-Signature"]
    )
    assert fake.message(message.sid).status == "undelivered"


def test_deliver_returns_receiver_error_status(fake: FakeTwilio, client: Client) -> None:
    refusing = Receiver(status=403)
    try:
        message = send(client, status_callback=refusing.url)
        assert fake.deliver(message.sid, "delivered") == 403
    finally:
        refusing.close()


def test_twilio_signature_matches_validator(receiver: Receiver) -> None:
    params = {"From": SENDER, "Body": "STOP", "MessageSid": "SM" + "0" * 32}

    signature = twilio_signature(receiver.url, params, "secret")

    assert RequestValidator("secret").validate(receiver.url, params, signature)
    assert post_signed(receiver.url, params, "secret") == 204
    assert receiver.requests[0][0]["X-Twilio-Signature"] == signature


def test_max_in_window_counts_per_sender(fake: FakeTwilio, client: Client) -> None:
    for sender in (SENDER, SENDER, "+15550003333"):
        send(client, from_=sender)

    assert fake.max_in_window(60, sender=SENDER) == 2
    assert fake.max_in_window(60) == 3
    assert len(fake.rate_log_for("+15550003333")) == 1


def test_concurrent_sends_are_all_recorded(fake: FakeTwilio, client: Client) -> None:
    threads = [threading.Thread(target=send, args=(client,)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fake.messages) == 20 and fake.attempts == 20
    assert len({m.sid for m in fake.messages}) == 20


def test_segments() -> None:
    assert count_segments("a" * 160) == 1
    assert count_segments("a" * 161) == 2
    assert count_segments("{" * 80) == 1  # extension chars cost two septets
    assert count_segments("é" * 160) == 1  # in the GSM basic set
    assert count_segments("ş" * 70) == 1
    assert count_segments("ş" * 71) == 2


def test_stop_releases_port_and_restarts() -> None:
    fake = FakeTwilio().start()
    first = fake.base_url
    fake.stop()
    with fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
    assert first.startswith("http://127.0.0.1:")
