"""Twilio's webhooks: verify the signature before anything, then store and dispatch."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sms_gateway import inbound, outbound
from sms_gateway.batching import batcher
from sms_gateway.providers.twilio import webhooks


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not webhooks.verify(request):
        return HttpResponseForbidden("Invalid signature.")
    fields = webhooks.parse_inbound(request)
    if fields is None:
        return HttpResponseBadRequest(f"A MessageSid of at most {webhooks.SID_MAX_LENGTH} characters is required.")
    reply = batcher.process(inbound.Text("twilio", fields.sid, fields.sender, fields.to, fields.body))
    return HttpResponse(webhooks.twiml(reply), content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not webhooks.verify(request):
        return HttpResponseForbidden("Invalid signature.")
    fields = webhooks.parse_status(request)
    if fields is None:
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    outbound.status_update(sid=fields.sid, provider_status=fields.status, error_code=fields.error_code, ref=fields.ref)
    return HttpResponse(status=204)
