"""Twilio's side of the webhooks: who signed it, what it says, and the TwiML answer."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from sms_gateway.models import InboundMessage

SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"


@dataclass(frozen=True)
class Inbound:
    sid: str
    sender: str
    to: str
    body: str


@dataclass(frozen=True)
class Status:
    sid: str
    status: str
    error_code: str
    ref: str  # our row's id, which the send put in the callback URL (outbound.deliver)


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio called. Behind a proxy that terminates HTTPS the request's own URL is only
    right when the proxy headers are trusted, so PUBLIC_BASE_URL wins when it is set."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def verify(request: HttpRequest) -> bool:
    signature = request.META.get(SIGNATURE_HEADER)
    if not settings.TWILIO_AUTH_TOKEN or not signature or request.method != "POST":
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(signed_url(request), request.POST, signature)


# Twilio's ids are 34 characters; a longer one could not be stored.
SID_MAX_LENGTH = InboundMessage._meta.get_field("provider_id").max_length


def parse_inbound(request: HttpRequest) -> Inbound | None:
    """The text's fields, or None when its MessageSid is missing or could not be stored."""
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    if not sid or len(sid) > SID_MAX_LENGTH or "\x00" in sid:
        return None
    return Inbound(sid=sid, sender=request.POST.get("From", ""), to=request.POST.get("To", ""),
                   body=request.POST.get("Body", ""))


def parse_status(request: HttpRequest) -> Status | None:
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    if not sid or not status:
        return None
    return Status(sid=sid, status=status, error_code=request.POST.get("ErrorCode", ""), ref=request.GET.get("ref", ""))


def twiml(reply: str | None) -> str:
    """`<Response><Message>reply</Message></Response>`, or an empty `<Response/>`."""
    response = MessagingResponse()
    if reply:
        response.message(reply)
    return str(response)
