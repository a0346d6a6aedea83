"""Settings for `STACK_SCHEMA=models` in deploy/local-stack.sh: `migrate --run-syncdb` builds the
tables straight from the models, for a tree whose migrations have not been regenerated yet."""

from backend.settings import *  # noqa: F403


class _NoMigrations(dict):
    """Every app counts as one without migrations (the trick pytest-django's --nomigrations uses)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: object) -> None:
        return None


MIGRATION_MODULES = _NoMigrations()
