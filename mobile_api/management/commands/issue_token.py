from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import Door, acting
from backend.core.errors import ApplicationError
from backend.org.models import User
from backend.org.services import device_token_issue


class Command(BaseCommand):
    help = "Provision a company-managed handset: prints its token once (it is stored only as a hash)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--device", default="company handset", help="A name for the device")

    def handle(self, *args: object, username: str, device: str, **options: object) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            with acting(user=None, door=Door.ADMIN):
                handset, token = device_token_issue(user=user, name=device)
        except ApplicationError as error:
            raise CommandError(str(error.message)) from None
        self.stderr.write(f"Device {handset.pk} ({handset.name}) for {user.username}. The token is shown only now:")
        self.stdout.write(token)
