"""Customers and contacts from the reps' own spreadsheets (CSV or Excel), with django-import-export.

One service, `customers_import`, serves the admin and the `import_customers` command: a dry run
reports what would be created, updated, skipped or flagged as a conflict; errors name the
spreadsheet row (the header is row 1); nothing is half-imported. A customer that another rep
already has (same phone or normalised name) is created for the importing rep and flagged as a
conflict for the managers, exactly as the API and SMS do.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import Result
from tablib import Dataset

from backend.core.errors import ApplicationError
from backend.core.phones import to_e164
from backend.crm.models import BuyingRole, Contact, Customer
from backend.crm.normalise import name_key
from backend.crm.selectors import customer_owned_elsewhere
from backend.crm.services import conflict_open
from backend.org.models import Region, Role, User
from backend.org.scoping import can_manage, scope

FORMATS = {".csv": CSV, ".xlsx": XLSX}
# The spreadsheet's own numbering: row 1 is the header, so data row n is row n + 1.
HEADER_ROWS = 1


class ByKey(widgets.ForeignKeyWidget):
    """A reference by code or username; one that does not exist is the row's error, said plainly."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(
                _("No %(what)s “%(value)s”.") % {"what": self.model._meta.verbose_name, "value": value}
            ) from None


class YesNo(widgets.BooleanWidget):
    """Spreadsheets say yes/no, y/n, x, 是/否 as often as true/false."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "yes", "Yes", "YES", "y", "Y", "x", "X", "是"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "no", "No", "NO", "n", "N", "否"]

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        return bool(super().clean(value, row, **kwargs))  # an empty cell says "no"


def clean_phone(value: Any) -> str | None:
    """A phone cell as E.164. Excel stores numbers as floats; an impossible number is an error."""
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    phone = to_e164(str(value))
    if phone is None:
        raise ValidationError({"phone": _("“%(phone)s” is not a phone number.") % {"phone": value}})
    return phone


class FieldlineResource(resources.ModelResource):
    """What both resources share: the acting user, headers read leniently, phones cleaned,
    a progress callback per row."""

    required_columns: tuple[str, ...] = ("name",)

    def __init__(self, *, by: Any, owner: Any = None, progress: Callable[[], None] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.by = by
        self.default_owner = owner
        self.progress = progress
        self.flagged: list[Flag] = []

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        dataset.headers = [str(h or "").strip().lower() for h in dataset.headers or []]
        missing = [c for c in self.required_columns if c not in dataset.headers]
        if missing:
            del dataset[:]  # every row would only repeat the same complaint
            raise ValueError(_("The file has no “%(column)s” column.") % {"column": missing[0]})

    def before_import_row(self, row: dict, **kwargs: Any) -> None:
        row["phone"] = clean_phone(row.get("phone"))
        row["name"] = str(row.get("name") or "").strip()

    def after_import(self, dataset: Dataset, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        result.flagged = list(self.flagged)  # the admin's preview and the report read it here

    def import_row(self, row: dict, instance_loader: Any, **kwargs: Any) -> Any:
        result = super().import_row(row, instance_loader, **kwargs)
        if self.progress is not None:
            self.progress()
        return result


class CustomerResource(FieldlineResource):
    owner = fields.Field(attribute="owner", column_name="owner", widget=ByKey(User, "username"))
    region = fields.Field(attribute="region", column_name="region", widget=ByKey(Region, "code"))
    is_key_account = fields.Field(attribute="is_key_account", column_name="is_key_account", widget=YesNo())

    class Meta:
        model = Customer
        fields = ("name", "phone", "owner", "region", "address", "is_key_account", "payment_terms_days", "notes")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._owners: dict[str, User | None] = {}

    def before_import_row(self, row: dict, **kwargs: Any) -> None:
        super().before_import_row(row, **kwargs)
        row["owner"] = self._row_owner(str(row.get("owner") or "").strip()).username

    def _row_owner(self, username: str) -> User:
        """The rep whose list this row is: the row's `owner`, else the import's, else the importing rep."""
        if not username:
            fallback = self.default_owner or (self.by if self.by.role == Role.REP else None)
            if fallback is None:
                raise ValidationError({"owner": _("Say whose customer this is (an “owner” column or --owner).")})
            username = fallback.username
        if username not in self._owners:
            self._owners[username] = User.objects.filter(username=username, role=Role.REP, is_active=True).first()
        owner = self._owners[username]
        if owner is None or not (owner.pk == self.by.pk or can_manage(self.by, owner)):
            raise ValidationError({"owner": _("No rep “%(owner)s” in your team.") % {"owner": username}})
        return owner

    def get_instance(self, instance_loader: Any, row: dict) -> Customer | None:
        """The owner's own record of this customer (same phone or normalised name), to update."""
        match = Q(name_key=name_key(row["name"])) if row["name"] else Q(pk__in=[])
        if row["phone"]:
            match |= Q(phone=row["phone"])
        mine = Customer.objects.filter(owner__username=row["owner"], merged_into__isnull=True)
        return mine.filter(match).order_by("created_at").first()

    def before_save_instance(self, instance: Customer, row: dict, **kwargs: Any) -> None:
        instance._import_new = instance._state.adding
        instance._change_reason = "import"

    def after_save_instance(self, instance: Customer, row: dict, **kwargs: Any) -> None:
        if not instance._import_new:
            return
        clash = customer_owned_elsewhere(phone=instance.phone, key=instance.name_key, owner=instance.owner)
        if clash is None:
            return
        existing, matched_on = clash
        conflict = conflict_open(
            existing=existing, reported_by=instance.owner, source="import", matched_on=matched_on,
            candidate=instance, proposed={"name": instance.name, "phone": instance.phone or ""},
        )
        self.flagged.append(Flag(row=kwargs["row_number"] + HEADER_ROWS, name=instance.name, matched_on=matched_on,
                                 conflict_id=str(conflict.pk)))


class ContactResource(FieldlineResource):
    customer = fields.Field(attribute="customer", column_name="customer", widget=ByKey(Customer, "pk"))
    is_key = fields.Field(attribute="is_key", column_name="is_key", widget=YesNo())

    required_columns = ("customer", "name")

    class Meta:
        model = Contact
        fields = ("customer", "name", "title", "phone", "buying_role", "is_key", "purchase_criteria")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import_row(self, row: dict, **kwargs: Any) -> None:
        super().before_import_row(row, **kwargs)
        row["customer"] = self._row_customer(row).pk
        row["buying_role"] = buying_role_from(row.get("buying_role"))

    def _row_customer(self, row: dict) -> Customer:
        """The customer a contact row names, by phone or name, among those the importer sees."""
        hint = str(row.get("customer") or "").strip()
        candidates = scope(Customer.objects.filter(merged_into__isnull=True), self.by)
        if row.get("owner"):
            candidates = candidates.filter(owner__username=str(row["owner"]).strip())
        phone = to_e164(hint) if any(ch.isdigit() for ch in hint) else None
        found = list(candidates.filter(Q(phone=phone) if phone else Q(name_key=name_key(hint)))[:2])
        if len(found) == 1:
            return found[0]
        if found:
            message = _("Several customers match “%(hint)s”: add an “owner” column or use the phone.")
        else:
            message = _("No customer “%(hint)s”.")
        raise ValidationError({"customer": message % {"hint": hint}})

    def get_instance(self, instance_loader: Any, row: dict) -> Contact | None:
        match = Q(name__iexact=row["name"])
        if row["phone"]:
            match |= Q(phone=row["phone"])
        return Contact.objects.filter(customer_id=row["customer"]).filter(match).order_by("created_at").first()

    def before_save_instance(self, instance: Contact, row: dict, **kwargs: Any) -> None:
        instance._change_reason = "import"


def buying_role_from(value: Any) -> str:
    """`decision_maker`, `Decision maker` or `决策者`: codes and labels in either language."""
    text = str(value or "").strip()
    if not text:
        return BuyingRole.USER
    wanted = _role_key(text)
    for code, label in BuyingRole.choices:
        labels = {_role_key(code), _role_key(str(label))}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                labels.add(_role_key(str(label)))
        if wanted in labels:
            return code
    allowed = ", ".join(BuyingRole.values)
    raise ValidationError({"buying_role": _("“%(value)s” is not a buying role (%(allowed)s).") % {
        "value": text, "allowed": allowed}})


def _role_key(text: str) -> str:
    return text.casefold().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class Flag:
    """A row created for its rep but already served by another: a conflict for the managers."""

    row: int
    name: str
    matched_on: str
    conflict_id: str


@dataclass(frozen=True)
class RowProblem:
    row: int | None  # None: the file as a whole (a missing column)
    messages: list[str]


@dataclass
class ImportOutcome:
    kind: str  # customers | contacts
    new: int = 0
    updated: int = 0
    skipped: int = 0
    conflicts: list[Flag] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @classmethod
    def of(cls, kind: str, result: Result) -> "ImportOutcome":
        totals = result.totals
        return cls(
            kind=kind, new=totals["new"], updated=totals["update"], skipped=totals["skip"],
            conflicts=list(getattr(result, "flagged", [])), problems=_problems(result),
        )


@dataclass
class ImportReport:
    dry_run: bool
    outcomes: list[ImportOutcome]

    @property
    def ok(self) -> bool:
        return not any(outcome.problems for outcome in self.outcomes)

    @property
    def saved(self) -> bool:
        return self.ok and not self.dry_run


def _problems(result: Result) -> list[RowProblem]:
    problems = [RowProblem(row=None, messages=[str(e.error)]) for e in result.base_errors]
    for number, errors in result.row_errors():
        problems.append(RowProblem(row=number + HEADER_ROWS, messages=[str(e.error) for e in errors]))
    for invalid in result.invalid_rows:
        messages = [
            message if column == NON_FIELD_ERRORS else f"{column}: {message}"
            for column, column_messages in invalid.error_dict.items()
            for message in column_messages
        ]
        problems.append(RowProblem(row=invalid.number + HEADER_ROWS, messages=messages))
    return sorted(problems, key=lambda p: p.row or 0)


def dataset_from_file(name: str, content: bytes) -> Dataset:
    """A CSV (UTF-8, with or without Excel's byte-order mark) or .xlsx file as a dataset."""
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise ApplicationError(_("Import a .csv or .xlsx file."), code="bad_format")
    file_format = FORMATS[suffix]()
    try:
        return file_format.create_dataset(content.decode("utf-8-sig") if suffix == ".csv" else content)
    except (UnicodeDecodeError, ValueError, KeyError) as error:
        raise ApplicationError(
            _("%(name)s could not be read: %(error)s") % {"name": name, "error": error}, code="unreadable_file"
        ) from None


def customers_import(
    *, by: Any, customers: Dataset | None = None, contacts: Dataset | None = None, owner: Any = None,
    dry_run: bool = False, progress: Callable[[], None] | None = None,
) -> ImportReport:
    """Import customers, then contacts (which may name the customers just imported), all or
    nothing. A dry run does the same work and rolls it back, conflicts and notices included."""
    outcomes = []
    with transaction.atomic():
        for kind, resource_class, dataset in (
            ("customers", CustomerResource, customers), ("contacts", ContactResource, contacts),
        ):
            if dataset is None:
                continue
            resource = resource_class(by=by, owner=owner, progress=progress)
            result = resource.import_data(
                dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False,
            )
            outcomes.append(ImportOutcome.of(kind, result))
            if outcomes[-1].problems:
                break  # contacts of customers that failed would only repeat the same errors
        report = ImportReport(dry_run=dry_run, outcomes=outcomes)
        if not report.saved:
            transaction.set_rollback(True)
    return report


class SpreadsheetImportAdmin(ImportMixin):
    """The admin's Import button: the library's upload, preview (a dry run) and confirm steps,
    run as the signed-in person, with the conflicts the import would open listed as warnings."""

    import_formats = [CSV, XLSX]
    from_encoding = "utf-8-sig"

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict:
        return {"by": request.user}

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)
        result = getattr(response, "context_data", {}).get("result")
        for flag in getattr(result, "flagged", []):
            messages.warning(request, _("Row %(row)s: %(name)s is already served by another rep (same %(on)s); "
                                        "importing opens a conflict for the managers.")
                             % {"row": flag.row, "name": flag.name, "on": flag.matched_on})
        return response
