"""Typed errors of the domain packages.

Plain Python (no tornado): the handlers map ``status`` to the HTTP status code and send
``{"message": ..., "reason": ...}``. Messages are written for the user: they say what to fix.
"""


class EsapError(Exception):
    """Base of every error a user may see; ``status`` is the HTTP status it maps to."""

    status = 500
    reason = "internal-error"

    def __init__(self, message: str, *, reason: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status


class BadRequest(EsapError):
    status = 400
    reason = "bad-request"


class NotFound(EsapError):
    status = 404
    reason = "not-found"


class Conflict(EsapError):
    """A stale version, or a state that forbids the action (409)."""

    status = 409
    reason = "conflict"


class AuthenticationFailed(EsapError):
    """A remote service refused our credentials (the user's session itself is fine)."""

    status = 401
    reason = "remote-authentication-failed"


class RemoteError(EsapError):
    """A remote service (archive, Rucio, batch system) failed or could not be reached."""

    status = 502
    reason = "remote-error"

    def __init__(self, service: str, message: str, **kw):
        super().__init__(message, **kw)
        self.service = service


class RemoteTimeout(RemoteError):
    status = 504
    reason = "remote-timeout"
