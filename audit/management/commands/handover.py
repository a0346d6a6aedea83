"""Hand customers over from the shell, through the same service as the admin and the API."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import Door, acting
from audit.management.users import user_named
from audit.services import handover_create
from backend.core.errors import ApplicationError
from backend.crm.selectors import customer_for_hint


class Command(BaseCommand):
    help = (
        "Hand customers over to other reps: every customer of --from, or each --customer "
        "(a phone or the start of a name), spread in turn across the --to reps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by", required=True, help="username of the manager who decides (history records them)")
        parser.add_argument("--to", required=True, action="append", help="username of a receiving rep (repeatable)")
        parser.add_argument("--from", dest="from_user", help="username of the rep whose customers all move")
        parser.add_argument("--customer", action="append", default=[], help="phone or name start (repeatable)")
        parser.add_argument("--reason", required=True, help="why (required; kept with the handover)")

    def handle(self, *args: Any, **options: Any) -> None:
        by = user_named(options["by"])
        to = [user_named(name) for name in options["to"]]
        from_user = user_named(options["from_user"]) if options["from_user"] else None
        try:
            with acting(user=by, door=Door.SYSTEM):
                customers = [customer_for_hint(user=by, hint=hint) for hint in options["customer"]] or None
                handover = handover_create(
                    by=by, to=to, customers=customers, from_user=from_user, reason=options["reason"],
                )
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        items = handover.items.select_related("customer", "to_user").order_by("customer__name")
        self.stdout.write(f"Handover {handover.pk}: {len(items)} customer(s) by {by}, reason: {handover.reason}")
        for item in items:
            moved = item.moved
            self.stdout.write(
                f"  {item.customer.name} → {item.to_user} ({len(moved['opportunities'])} open deal(s), "
                f"orders: {', '.join(moved['orders']) or '-'})"
            )
