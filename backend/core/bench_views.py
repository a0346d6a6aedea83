"""The floor of the inbound SMS benchmark (deploy/bench): what the stack itself can do.

It does the least a webhook must: check the Twilio signature and store the message in one
insert, then answer empty TwiML. The real pipeline's throughput is quoted as a ratio to this,
measured in the same run on the same processes. Mounted only when `BENCH_FLOOR_ENDPOINT` is
true, never by default; its table is made on first use, so production's schema knows nothing of it.
"""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

TABLE = "bench_floor_inbound"
_table_ready = False


@csrf_exempt
@require_POST
def floor_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden()
    _ensure_table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (sid, sender, body, received_at) VALUES (%s, %s, %s, %s)",  # noqa: S608  (constant)
            [request.POST.get("MessageSid", ""), request.POST.get("From", ""), request.POST.get("Body", ""),
             timezone.now()],
        )
    return HttpResponse("<Response/>", content_type="text/xml")


def _signed(request: HttpRequest) -> bool:
    # The same URL rule as the real webhook (SMS_COMMANDS.md), so both pay the same for it.
    token = settings.TWILIO_AUTH_TOKEN
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    url = base + request.get_full_path() if base else request.build_absolute_uri()
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(token) and RequestValidator(token).validate(url, request.POST, signature)


def _ensure_table() -> None:
    global _table_ready
    if _table_ready:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (sid VARCHAR(64) PRIMARY KEY, sender VARCHAR(32) NOT NULL, "
            "body TEXT NOT NULL, received_at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
    _table_ready = True
