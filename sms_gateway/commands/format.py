"""Numbers and times as a reply shows them."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _


def money(amount: Decimal) -> str:
    """200.00 → 200, 20.50 → 20.5: replies are short."""
    return f"{amount.normalize():f}"


def clock(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def duration(span: timedelta) -> str:
    days, hours = span.days, span.seconds // 3600
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": span.seconds % 3600 // 60}
