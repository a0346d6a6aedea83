from sms_gateway.providers.twilio.provider import TwilioProvider

__all__ = ["TwilioProvider"]
