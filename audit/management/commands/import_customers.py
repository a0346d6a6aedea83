"""Customers and contacts from CSV or Excel, all or nothing, with a dry run and a progress bar."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from audit.context import Door, acting
from audit.management.users import user_named
from backend.core.errors import ApplicationError
from backend.crm.imports import ImportReport, customers_import, dataset_from_file


class Command(BaseCommand):
    help = (
        "Import customers (name, phone, owner, region, address, is_key_account, payment_terms_days, notes) "
        "and/or contacts (customer, name, title, phone, buying_role, is_key, purchase_criteria) from .csv "
        "or .xlsx. Customers another rep already has are imported and flagged as conflicts for the managers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("customers", nargs="?", help="customers file (.csv or .xlsx)")
        parser.add_argument("--contacts", help="contacts file (.csv or .xlsx), imported after the customers")
        parser.add_argument("--by", required=True, help="username of who imports (history records them)")
        parser.add_argument("--owner", help="username of the rep whose list it is, for rows without an owner")
        parser.add_argument("--dry-run", action="store_true", help="report what would happen; save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["customers"] and not options["contacts"]:
            raise CommandError("Give a customers file, a --contacts file, or both.")
        by = user_named(options["by"])
        owner = user_named(options["owner"]) if options["owner"] else None
        try:
            customers, contacts = (_read(options[name]) for name in ("customers", "contacts"))
            rows = sum(len(dataset) for dataset in (customers, contacts) if dataset is not None)
            with acting(user=by, door=Door.SYSTEM), tqdm(
                total=rows, unit="row", desc="import", disable=options["verbosity"] == 0,
            ) as bar:
                report = customers_import(
                    by=by, customers=customers, contacts=contacts, owner=owner, dry_run=options["dry_run"],
                    progress=bar.update,
                )
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        self._print(report)
        if not report.ok:
            raise CommandError("Nothing was imported: fix the rows above and run again.")

    def _print(self, report: ImportReport) -> None:
        for outcome in report.outcomes:
            self.stdout.write(
                f"{outcome.kind}: {outcome.new} new, {outcome.updated} updated, {outcome.skipped} unchanged, "
                f"{len(outcome.conflicts)} conflict(s)"
            )
            for flag in outcome.conflicts:
                self.stdout.write(
                    f"  row {flag.row}: {flag.name} is already served by another rep (same {flag.matched_on}): "
                    f"conflict {flag.conflict_id if report.saved else '(would be opened)'}"
                )
            for problem in outcome.problems:
                where = f"row {problem.row}" if problem.row else "file"
                for message in problem.messages:
                    self.stdout.write(self.style.ERROR(f"  {where}: {message}"))
        if report.ok:
            self.stdout.write("Dry run: nothing was saved." if report.dry_run else self.style.SUCCESS("Imported."))


def _read(path: str | None) -> Any:
    if not path:
        return None
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"No file {path}.")
    return dataset_from_file(file.name, file.read_bytes())
