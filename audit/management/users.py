"""What the management commands share: people named on the command line."""

from django.core.management.base import CommandError

from backend.org.models import User


def user_named(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user {username!r}.")
    return user
