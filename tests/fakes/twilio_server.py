"""A Twilio-compatible REST server on loopback, for tests and benchmarks.

It lets tests drive the real ``twilio`` client end to end (HTTP, basic auth, JSON parsing, error
mapping to ``TwilioRestException``) while scripting the failures production will see: 5xx, 429
with Retry-After, permanent 4xx codes and slow responses. It also plays Twilio's side of status
callbacks, signed exactly like Twilio signs them.

Stdlib only (plus ``twilio`` itself for the signature), so it can run anywhere the tests run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MAX_BODY_CHARS = 1600

# Texts as Twilio returns them, so logs and assertions on `msg` look like production.
ERROR_MESSAGES: dict[int, str] = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service is unavailable. Please try again later",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
# Used when fail_next() gets a status but no code.
_DEFAULT_CODES: dict[int, int] = {
    400: 21211,
    401: 20003,
    404: 20404,
    429: 20429,
    500: 20500,
    503: 20503,
}

# GSM 03.38: body length in segments decides cost, so num_segments should be realistic.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


# --------------------------------------------------------------------------- client hook


class BaseUrlHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends every request to ``base_url`` instead of *.twilio.com.

    Example of the hook the provider uses for ``TWILIO_API_BASE_URL``; twilio builds absolute
    https://api.twilio.com/... URLs, and ``HttpClient.request`` is the one place they all pass.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return super().request(method, f"{self.base_url}{parts.path}{query}", *args, **kwargs)


def twilio_client(fake: FakeTwilio, timeout: float | None = None) -> Client:
    """A real twilio Client wired to ``fake`` with its credentials."""
    http_client = BaseUrlHttpClient(fake.base_url, timeout=timeout)
    return Client(fake.account_sid, fake.auth_token, http_client=http_client)


# --------------------------------------------------------------------------- signatures


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The X-Twilio-Signature Twilio would send for a form POST of ``params`` to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def signed_headers(url: str, params: Mapping[str, str], auth_token: str) -> dict[str, str]:
    """Headers of a Twilio webhook POST, for tests that post inbound webhooks themselves."""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        SIGNATURE_HEADER: twilio_signature(url, params, auth_token),
        "User-Agent": "TwilioProxy/1.1",
    }


def post_signed(url: str, params: Mapping[str, str], auth_token: str, timeout: float = 5.0) -> int:
    """POST ``params`` form-encoded to ``url`` signed like Twilio; return the HTTP status."""
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        headers=signed_headers(url, params, auth_token),
        method="POST",
    )
    # No proxies: a proxy from the environment must never intercept loopback test traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# --------------------------------------------------------------------------- records


def count_segments(body: str) -> int:
    """Number of SMS segments Twilio bills for ``body`` (GSM-7 or UCS-2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


@dataclass
class SentMessage:
    """A message the fake accepted (answered 201 to)."""

    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    received_at: float  # time.monotonic(), same clock as rate_log
    date_created: datetime
    num_segments: int
    status: str
    params: dict[str, str] = field(default_factory=dict)  # raw form, for other parameters

    @property
    def sender(self) -> str:
        """What Twilio rate-limits on: the From number, else the messaging service."""
        return self.from_ or self.messaging_service_sid or ""


@dataclass(frozen=True)
class _Fault:
    status: int | None  # None: answer normally, after the delay
    code: int | None = None
    delay: float = 0.0
    retry_after: float | None = None
    message: str | None = None


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _error(
    status: int, code: int, message: str | None = None, headers: dict[str, str] | None = None
) -> _Reply:
    payload = {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return _Reply(status, payload, dict(headers or {}))


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except ValueError:  # covers binascii.Error and UnicodeDecodeError
        return None
    return user, password


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)  # "Thu, 24 Aug 2023 05:01:45 +0000", as Twilio sends


# --------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive like the real API, so the client's connection pooling is exercised too.
    protocol_version = "HTTP/1.1"
    timeout = 30  # drop idle keep-alive connections instead of holding threads forever
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        reply = self.server.fake._handle(self.command, self.path, self.headers, body)
        data = json.dumps(reply.payload).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. timed out during delay_next); nothing left to tell it.
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck in a delay must not block interpreter exit

    def __init__(self, fake: FakeTwilio) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut keep-alive connections so their handler threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients dropping connections (timeouts, stop()) are expected; anything else is a bug.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class FakeTwilio:
    """Twilio Messages API on http://127.0.0.1:<ephemeral port>, with scriptable misbehaviour.

    Use as a context manager, or call start()/stop(). Point the twilio client at ``base_url``.
    Scheduled faults (fail_next/delay_next) are consumed in the order they were scheduled, one
    per authenticated request.
    """

    def __init__(
        self,
        account_sid: str = "ACtest",
        auth_token: str = "secret",
        *,
        validate_numbers: bool = True,
        service_number: str = "+15005550006",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.validate_numbers = validate_numbers  # reject non-E.164 'To' with 21211
        self.service_number = service_number  # 'From' reported for messaging-service sends
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # fast stop() in tests
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in delay_next
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeTwilio is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    def reset(self) -> None:
        """Forget messages, attempts, faults and rejected numbers (e.g. between tests)."""
        with self._lock:
            self._messages: list[SentMessage] = []
            self._attempts = 0
            self._faults: deque[_Fault] = deque()
            self._rejected: dict[str, int] = {}

    # ---------------------------------------------------------------- misbehaviour

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        code: int | None = None,
        *,
        retry_after: float | None = 1,
        message: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``n`` requests with a Twilio error; nothing is recorded for them.

        ``code`` defaults per status (400 -> 21211, 429 -> 20429, 500 -> 20500, ...).
        ``retry_after`` (seconds) is only sent with 429 and 503, like Twilio; None omits it.
        """
        fault = _Fault(
            status=status,
            code=code if code is not None else _DEFAULT_CODES.get(status, 20500),
            delay=delay,
            retry_after=retry_after if status in (429, 503) else None,
            message=message,
        )
        with self._lock:
            self._faults.extend([fault] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        """Answer the next ``n`` requests only after ``seconds``.

        The message is still accepted and recorded, as Twilio does when the client times out
        first; that is exactly the case where a retrying client sends a duplicate.
        """
        with self._lock:
            self._faults.extend([_Fault(status=None, delay=seconds)] * n)

    def reject_numbers(self, numbers: Mapping[str, int] | Iterable[str], code: int = 21211) -> None:
        """Permanently answer 400 with the given Twilio code for these 'To' numbers.

        Takes {number: code}, or numbers that all get ``code``. Adds to earlier rejections.
        """
        mapping = dict(numbers) if isinstance(numbers, Mapping) else dict.fromkeys(numbers, code)
        with self._lock:
            self._rejected.update(mapping)

    def clear_faults(self) -> None:
        """Drop scheduled faults and rejected numbers; recorded traffic is kept."""
        with self._lock:
            self._faults.clear()
            self._rejected.clear()

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    # ---------------------------------------------------------------- observation

    @property
    def messages(self) -> list[SentMessage]:
        """Snapshot of accepted messages, in acceptance order."""
        with self._lock:
            return list(self._messages)

    @property
    def attempts(self) -> int:
        """Every HTTP request received, including rejected and failed ones."""
        with self._lock:
            return self._attempts

    @property
    def rate_log(self) -> list[float]:
        """time.monotonic() of each accepted message, in order."""
        with self._lock:
            return [m.received_at for m in self._messages]

    def rate_log_for(self, sender: str) -> list[float]:
        """Acceptance times for one From number or MessagingServiceSid."""
        with self._lock:
            return [m.received_at for m in self._messages if m.sender == sender]

    def max_in_window(self, window: float = 1.0, sender: str | None = None) -> int:
        """Most messages accepted within any ``window`` seconds (for a sender, if given)."""
        times = self.rate_log if sender is None else self.rate_log_for(sender)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[SentMessage]:
        """Block until ``count`` messages were accepted (for sends done by other threads)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)}/{count} messages after {timeout}s")
            return list(self._messages)

    def message(self, sid: str) -> SentMessage:
        with self._lock:
            for candidate in self._messages:
                if candidate.sid == sid:
                    return candidate
        raise KeyError(sid)

    # ---------------------------------------------------------------- status callbacks

    def callback_params(
        self, message: SentMessage, status: str, error_code: int | None = None
    ) -> dict[str, str]:
        """The form Twilio POSTs to a message's StatusCallback."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or self.service_number,
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    def deliver(
        self,
        sid: str,
        status: str = "delivered",
        error_code: int | None = None,
        *,
        url: str | None = None,
        timeout: float = 5.0,
    ) -> int:
        """POST a signed status callback for message ``sid``; return the receiver's HTTP status.

        Goes to the message's StatusCallback unless ``url`` is given.
        """
        message = self.message(sid)
        target = url or message.status_callback
        if not target:
            raise ValueError(f"message {sid} has no StatusCallback and no url was given")
        with self._lock:
            message.status = status
        params = self.callback_params(message, status, error_code)
        return post_signed(target, params, self.auth_token, timeout)

    # ---------------------------------------------------------------- request handling

    def _handle(self, method: str, path: str, headers: Mapping[str, str], body: str) -> _Reply:
        with self._lock:
            self._attempts += 1
        if _basic_auth(headers.get("Authorization")) != (self.account_sid, self.auth_token):
            return _error(401, 20003, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
        match = _MESSAGES_PATH.match(urlsplit(path).path)
        if method != "POST" or not match or match["account"] != self.account_sid:
            return _error(404, 20404, f"The requested resource {path} was not found")
        fault = self._next_fault()
        if fault is not None and self._stopping.wait(fault.delay):
            return _error(503, 20503)  # server stopping; the client is not listening anyway
        if fault is not None and fault.status is not None:
            return self._fault_reply(fault)
        return self._create_message(dict(parse_qsl(body, keep_blank_values=True)))

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        assert fault.status is not None and fault.code is not None
        reply = _error(fault.status, fault.code, fault.message)
        if fault.retry_after is not None:
            reply.headers["Retry-After"] = f"{fault.retry_after:g}"
        return reply

    def _validation_error(self, form: Mapping[str, str]) -> _Reply | None:
        to = form.get("To", "")
        checks = [
            (not to, 21604),
            (not (form.get("From") or form.get("MessagingServiceSid")), 21603),
            (not form.get("Body"), 21602),
            (len(form.get("Body", "")) > _MAX_BODY_CHARS, 21617),
            (self.validate_numbers and bool(to) and not _E164.match(to), 21211),
        ]
        code = next((code for failed, code in checks if failed), None)
        if code is None:
            return None
        if code == 21211:
            return _error(400, code, f"The 'To' number {to} is not a valid phone number.")
        return _error(400, code)

    def _create_message(self, form: dict[str, str]) -> _Reply:
        with self._lock:
            rejected_code = self._rejected.get(form.get("To", ""))
        if rejected_code is not None:
            return _error(400, rejected_code)
        invalid = self._validation_error(form)
        if invalid is not None:
            return invalid
        message = SentMessage(
            sid="SM" + uuid.uuid4().hex,
            to=form["To"],
            from_=form.get("From") or None,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
            body=form["Body"],
            status_callback=form.get("StatusCallback") or None,
            received_at=0.0,  # stamped under the lock below
            date_created=datetime.now(UTC).replace(microsecond=0),
            num_segments=count_segments(form["Body"]),
            # Twilio says 'accepted' when a messaging service still has to pick the sender.
            status="queued" if form.get("From") else "accepted",
            params=form,
        )
        with self._changed:
            # Stamping under the lock keeps rate_log sorted even with concurrent requests.
            message.received_at = time.monotonic()
            self._messages.append(message)
            self._changed.notify_all()
        return _Reply(201, self._resource(message))

    def _resource(self, message: SentMessage) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        created = _rfc2822(message.date_created)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(message.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }
