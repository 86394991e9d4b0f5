"""One rooted hierarchy for everything that can go wrong talking to a platform.

Each connector classifies its platform's responses into these classes in one place (its ``errors.py``); the
pipeline decides what to do from the class alone: retry later, pause the connection for re-consent, or stop
and ask a human.
"""
from __future__ import annotations


class SyncError(Exception):
    """Root of all sync failures. Carries what staff and the sync log need.

    ``code`` is our stable error code, ``platform_code`` the platform's own (e.g. QBO "6140"), ``hint`` a
    plain-language next step.
    """

    default_code = "sync_error"

    def __init__(self, message: str, *, code: str | None = None, platform_code: str = "", hint: str = "",
                 http_status: int | None = None, raw: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.platform_code = platform_code
        self.hint = hint
        self.http_status = http_status
        self.raw = raw


class RetryableError(SyncError):
    """Raised for transient failures (5xx, timeouts, connection resets): the entry is retried with backoff."""

    default_code = "retryable"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    """Raised on HTTP 429: the whole connection pauses for ``retry_after`` seconds, other connections go on."""

    default_code = "rate_limited"


class DependencyPendingError(RetryableError):
    """Raised when a document's dependency is being synced by another worker right now: try again shortly."""

    default_code = "dependency_pending"


class AuthError(SyncError):
    """Raised when consent is expired or revoked (401, ``invalid_grant``): the connection needs reconnecting."""

    default_code = "auth"


class PermanentError(SyncError):
    """Raised when retrying cannot help until someone changes something: the entry needs attention."""

    default_code = "permanent"


class ValidationFailed(PermanentError):
    """Raised when the platform rejects the document (duplicate number, archived account, closed period...)."""

    default_code = "validation"


class DuplicateError(ValidationFailed):
    """Raised when the platform refuses a create because the number or name is taken (QBO 6140/6240, Xero
    "must be unique"). The pipeline then searches for the document by our number and adopts it if it is ours."""

    default_code = "duplicate"


class PostingRefused(ValidationFailed):
    """Raised when a platform with a draft -> posted life cycle (``connectors.lifecycle``) took the document as a
    draft but refused to post, reset or cancel it (a locked period, an unbalanced entry, a reconciled payment).
    The message says which step was refused and why; the draft it made was withdrawn, so nothing is left half
    done (``draft_left`` says when withdrawing it failed too)."""

    default_code = "posting_refused"

    def __init__(self, message: str, *, draft_left: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.draft_left = draft_left


class RemoteNotFound(PermanentError):
    """Raised when the remote object we hold a reference to no longer exists on the platform."""

    default_code = "remote_not_found"


class ConflictError(PermanentError):
    """Raised when the remote object changed since we read it and re-applying would overwrite someone's edit."""

    default_code = "conflict"


class ConfigurationError(PermanentError):
    """Raised by preflight when a mapping or setting is missing (unmapped account, unknown tax code...)."""

    default_code = "configuration"


class DataError(PermanentError):
    """Raised by preflight when the local document itself is invalid (no lines, bad currency, no name...)."""

    default_code = "invalid_document"
