"""Who owned which customer from when to when, as CSV or Excel, from the history rows."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.management.users import user_named
from audit.selectors import customers_ever_owned_by, ownership_dataset, ownership_timeline
from backend.core.errors import ApplicationError
from backend.crm.models import Customer
from backend.crm.selectors import customer_for_hint
from backend.org.scoping import scope


class Command(BaseCommand):
    help = "Export ownership periods (customer, owner, from, to, changed by, door, reason) as CSV or .xlsx."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by", help="export only what this user may see (default: everything)")
        parser.add_argument("--customer", help="one customer: a phone or the start of a name (needs --by)")
        parser.add_argument("--rep", help="username: only this rep's periods, across every customer they owned")
        parser.add_argument("--output", "-o", help="file to write (.csv or .xlsx); default: CSV on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        by = user_named(options["by"]) if options["by"] else None
        customers = Customer.objects.all() if by is None else scope(Customer.objects.all(), by)
        if options["customer"]:
            if by is None:
                raise CommandError("--customer needs --by (whose customers to search).")
            try:
                customers = customers.filter(pk=customer_for_hint(user=by, hint=options["customer"]).pk)
            except ApplicationError as error:
                raise CommandError(str(error.message)) from None
        rep = user_named(options["rep"]) if options["rep"] else None
        if rep is not None:
            customers = customers.filter(pk__in=customers_ever_owned_by(rep).values("pk"))
        dataset = ownership_dataset(ownership_timeline(customers=customers, rep=rep))
        output = options["output"]
        if not output:
            self.stdout.write(dataset.export("csv"), ending="")
            return
        if output.endswith(".xlsx"):
            with open(output, "wb") as file:
                file.write(dataset.export("xlsx"))
        else:
            with open(output, "w", encoding="utf-8", newline="") as file:
                file.write(dataset.export("csv"))
        self.stderr.write(f"{len(dataset)} period(s) written to {output}")
