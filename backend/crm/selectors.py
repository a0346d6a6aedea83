"""Reads of the CRM, always through the caller's scope."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from backend.core.errors import ApplicationError, NotFound
from backend.core.phones import to_e164
from backend.crm.models import Customer
from backend.org.scoping import scope


def customer_list(*, user: Any) -> QuerySet[Customer]:
    return scope(Customer.objects.all(), user).select_related("owner", "region")


def customer_get(*, user: Any, customer_id: Any) -> Customer:
    customer = customer_list(user=user).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."), code="not_found")
    return customer


def customer_owned_elsewhere(*, phone: str | None, key: str, owner: Any) -> tuple[Customer, str] | None:
    """Another rep's customer with the same phone or normalised name, and what matched."""
    others = Customer.objects.exclude(owner=owner)
    if phone:
        match = others.filter(phone=phone).first()
        if match:
            return match, "phone"
    if key:
        match = others.filter(name_key=key).first()
        if match:
            return match, "name"
    return None


def customer_for_hint(*, user: Any, hint: str) -> Customer:
    """The caller's customer that `hint` names: a phone number, or the start of a name.

    Raises NotFound (nothing matches), ApplicationError `ambiguous_customer` (several do).
    """
    mine = customer_list(user=user)
    phone = to_e164(hint) if any(ch.isdigit() for ch in hint) else None
    if phone:
        match = mine.filter(phone=phone).first()
        if match:
            return match
    matches = list(mine.filter(name__istartswith=hint.strip()).order_by("name")[:4])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches[:3])
        raise ApplicationError(
            _("Several customers match “%(hint)s”: %(names)s.") % {"hint": hint, "names": names},
            code="ambiguous_customer",
            extra={"names": [m.name for m in matches]},
        )
    raise NotFound(_("No customer of yours matches “%(hint)s”.") % {"hint": hint}, code="unknown_customer",
                   extra={"phone": phone})
