"""Domain errors. The HTTP layer maps each class to one status code and a problem+json body."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class NotAuthenticated(DomainError):
    status = 401
    title = "Not authenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request is well-formed but the current state does not allow it."""

    status = 409
    title = "Conflict"


class DeadlinePassed(Conflict):
    title = "Ballot closed"


class UnsupportedUpload(DomainError):
    """The upload is not a Word file we accept (wrong format, unsafe, damaged)."""

    status = 415
    title = "Unsupported upload"


class TooManyAttempts(DomainError):
    """Wrong passwords came too fast: the next one is checked after `retry_after` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class UploadTooLarge(DomainError):
    """The upload would inflate beyond a limit of the operator's (named in `limit`)."""

    status = 413
    title = "Upload too large"
