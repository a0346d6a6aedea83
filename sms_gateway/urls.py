from django.urls import path

from sms_gateway import views

app_name = "sms_gateway"

urlpatterns = [
    path("twilio/inbound", views.twilio_inbound, name="twilio-inbound"),
    path("twilio/status", views.twilio_status, name="twilio-status"),
]
