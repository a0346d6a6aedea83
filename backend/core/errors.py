"""The one domain error. Services raise it; each door turns it into its own answer
(a JSON error with a status in the API, a reply in the SMS language)."""

from typing import Any


class ApplicationError(Exception):
    """A rule of the domain said no. `message` is user-facing (already translated lazily)."""

    status = 400

    def __init__(self, message: Any, *, code: str, status: int | None = None, extra: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}


class NotFound(ApplicationError):
    """Missing, or outside the caller's scope: the two must look the same."""

    status = 404


class Forbidden(ApplicationError):
    """The caller's role may not do this."""

    status = 403


class Conflict(ApplicationError):
    status = 409
