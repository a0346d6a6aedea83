from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import Door, acting
from backend.core.errors import ApplicationError
from backend.org.models import Role
from backend.org.services import api_key_issue


class Command(BaseCommand):
    help = "Create an API key for an integration (ERP, warehouse): prints it once (stored only as a hash)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", default=Role.LOGISTICS, choices=[Role.LOGISTICS, Role.MANAGER])

    def handle(self, *args: object, name: str, role: str, **options: object) -> None:
        try:
            with acting(user=None, door=Door.ADMIN):
                api_key, key = api_key_issue(name=name, role=role)
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        self.stderr.write(f"API key {api_key.name!r} with role {api_key.role}. The key is shown only now:")
        self.stdout.write(key)
