"""Sign-in by a code texted to the user's phone (API.md). Codes are kept only as keyed hashes,
expire after 5 minutes and die after 5 wrong tries; requests and tries are rate-limited per
phone and per client address, and the texts a phone can cost per hour are capped."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError
from backend.core.phones import to_e164
from backend.notifications.services import in_language_of, send_text
from backend.org.models import Device, User
from backend.org.services import device_token_issue
from mobile_api.models import OtpCode
from mobile_api.throttle import throttle_hit

CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
HOUR = timedelta(hours=1)
CODE_REQUESTS_PER_PHONE = 5
CODE_REQUESTS_PER_ADDRESS = 20
# Each text costs money: beyond this a request is answered as usual and nothing is sent.
TEXTS_PER_PHONE = 3
TOKEN_TRIES_PER_PHONE = 10
TOKEN_TRIES_PER_ADDRESS = 30


def client_address(request: HttpRequest) -> str:
    header = settings.CLIENT_IP_HEADER
    forwarded = request.META.get(header, "") if header else ""
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR") or "unknown")[:128]


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _limit(scope: str, key: str, limit: int) -> None:
    if not throttle_hit(scope=scope, key=key, limit=limit, window=HOUR):
        raise ApplicationError(_("Too many attempts; please try again later."), code="throttled", status=429)


def otp_request(*, phone: str, address: str) -> None:
    """Text a code to a registered, active user's phone. Unknown phones get the same answer."""
    e164 = to_e164(phone)
    if e164 is None:
        raise ApplicationError(_("“%(phone)s” is not a phone number.") % {"phone": phone}, code="bad_phone")
    _limit("otp_address", address, CODE_REQUESTS_PER_ADDRESS)
    _limit("otp_phone", e164, CODE_REQUESTS_PER_PHONE)
    user = User.objects.filter(phone=e164, is_active=True).first()
    if user is None or not throttle_hit(scope="otp_text", key=e164, limit=TEXTS_PER_PHONE, window=HOUR):
        return
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        # Only the newest code works: asking again does not multiply the tries.
        OtpCode.objects.filter(phone=e164, used_at__isnull=True).update(used_at=now)
        OtpCode.objects.create(phone=e164, user=user, code_hash=_code_hash(e164, code), expires_at=now + CODE_TTL)
        with in_language_of(user):
            body = _("Your Fieldline sign-in code is %(code)s. It expires in 5 minutes; never share it.") % {
                "code": code
            }
        send_text(to=e164, body=body, kind="otp", user=user)


def _invalid() -> ApplicationError:
    return ApplicationError(_("The code is wrong or has expired; ask for a new one."), code="invalid_code")


def otp_verify(*, phone: str, code: str, device_name: str, address: str) -> tuple[Device, str]:
    """Exchange a code for a device token. Every try counts, the right one included."""
    e164 = to_e164(phone) or phone
    _limit("token_address", address, TOKEN_TRIES_PER_ADDRESS)
    _limit("token_phone", e164, TOKEN_TRIES_PER_PHONE)
    now = timezone.now()
    live = OtpCode.objects.filter(phone=e164, used_at__isnull=True, expires_at__gt=now, attempts__lt=MAX_TRIES)
    otp = live.select_related("user").order_by("-created_at").first()
    # The try is counted before the code is compared, atomically: parallel guesses cannot exceed the limit.
    if otp is None or not live.filter(pk=otp.pk).update(attempts=F("attempts") + 1):
        raise _invalid()
    if not hmac.compare_digest(otp.code_hash, _code_hash(e164, code.strip())):
        raise _invalid()
    with transaction.atomic():
        if not OtpCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(used_at=now):
            raise _invalid()  # used by a parallel request a moment ago
        return device_token_issue(user=otp.user, name=device_name)
