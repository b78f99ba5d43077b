"""The exceptions sequin-orm raises.

Our exception hierarchy::

    SequinError
    ├── ConfigurationError            a setting or environment variable is missing or wrong
    ├── ModelError                    misuse of a model: unknown field, wrong type, deleted …
    │   ├── UnknownFieldError         (also an AttributeError): a query names no field
    │   ├── FieldTypeError            (also a TypeError)
    │   └── ReadOnlyFieldError        (also an AttributeError)
    ├── CommitError                   some request of a commit failed; carries the CommitResult
    └── APIError                      anything that went wrong talking to the Sequin API
        ├── APIConnectionError        no HTTP response (connection refused, dropped …)
        │   └── APITimeoutError       the request timed out
        ├── APIResponseValidationError  a 2xx answer we cannot use (bad JSON, wrong count)
        └── APIStatusError            the API answered with an error status
            ├── BadRequestError              400 (e.g. upstream validation)
            ├── AuthenticationError          401
            ├── PermissionDeniedError        403
            ├── NotFoundError                404
            ├── UnprocessableEntityError     422, with ``validation_errors``
            ├── RateLimitError               429, with ``retry_after``
            ├── AwaitConsumersTimeoutError   500 "Timed out waiting for consumers": applied
            ├── UpstreamTimeoutError         504
            └── InternalServerError          other 5xx

Warnings (``warnings.warn``; nothing is raised)::

    SequinWarning (a UserWarning)
    ├── ForeignRecordWarning          a records page held records of another collection
    └── KeyCasingWarning              record keys match declared fields only under another casing

Error messages carry the server's message, the request method and path; never headers, bodies
or the API token. Every exception pickles (Celery, multiprocessing): ``SequinError.__reduce__``
restores the arguments and attributes without calling ``__init__``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sequin_orm.results import CommitResult

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "AwaitConsumersTimeoutError",
    "BadRequestError",
    "CommitError",
    "ConfigurationError",
    "FieldTypeError",
    "ForeignRecordWarning",
    "InternalServerError",
    "KeyCasingWarning",
    "ModelError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadOnlyFieldError",
    "SequinError",
    "SequinWarning",
    "UnknownFieldError",
    "UnprocessableEntityError",
    "UpstreamTimeoutError",
    "status_error",
]


class SequinError(Exception):
    """Base class of every exception raised by sequin-orm."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without calling ``__init__``, whose keyword-only arguments pickle cannot pass;
        the chained cause (``raise … from``) travels too."""
        return (_rebuild, (type(self), self.args, self.__cause__), self.__dict__)


def _rebuild(
    cls: type[SequinError], args: tuple[Any, ...], cause: BaseException | None = None
) -> SequinError:
    """An unpickled error: its ``args`` and cause; its attributes are restored after."""
    error = cls.__new__(cls, *args)
    error.__cause__ = cause
    return error


class ConfigurationError(SequinError):
    """A required setting is missing or invalid; the message names what to set."""


class ModelError(SequinError):
    """A model was used in a way that cannot work (raised before any request)."""


class UnknownFieldError(ModelError, AttributeError):
    """A field name the model does not declare, in a mirror query (``filter(Emial=...)``).

    Assigning an undeclared attribute raises Python's own ``AttributeError``: models keep
    their attributes in slots, and type checkers flag the name first.
    """


class FieldTypeError(ModelError, TypeError):
    """A value of the wrong type was given to a typed field."""


class ReadOnlyFieldError(ModelError, AttributeError):
    """Assignment to a read-only field or to record metadata."""


class SequinWarning(UserWarning):
    """Base class of the warnings sequin-orm issues (filter them with ``warnings``)."""


class ForeignRecordWarning(SequinWarning):
    """A ``/v1/records`` page held records of another collection than the one asked for; they
    were skipped (``RecordPage.skipped`` counts them)."""


class KeyCasingWarning(SequinWarning):
    """Records of a collection use other key casings than its model declares (``activity_date``
    for ``ActivityDate``): the values land in ``obj.extra``. Generate a model from the records
    (``sequin-orm generate --from-records``)."""


class CommitError(SequinError):
    """Some requests of a commit failed; ``result`` has every object's outcome."""

    def __init__(self, message: str, result: CommitResult) -> None:
        super().__init__(message)
        self.result = result


class APIError(SequinError):
    """An error talking to the Sequin API.

    ``method`` and ``path`` name the request; ``outcome_unknown`` is True when the request may
    have been applied by the server although no usable answer came back. ``result`` is the
    ``CommitResult`` when a session re-raises the error for a whole commit (401, 403), else
    None.
    """

    result: CommitResult | None = None

    def __init__(
        self, message: str, *, method: str, path: str, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return f"{self.message} ({self.method} {self.path})"


class APIConnectionError(APIError):
    """No HTTP response was received.

    ``request_sent`` is False when the request never left (e.g. connection refused): then the
    server certainly did not apply it.
    """

    def __init__(self, message: str, *, method: str, path: str, request_sent: bool = True) -> None:
        super().__init__(message, method=method, path=path, outcome_unknown=request_sent)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIResponseValidationError(APIError):
    """A successful response that cannot be used (malformed JSON, wrong number of records)."""


class APIStatusError(APIError):
    """The API answered with an error status.

    Attributes: ``status_code``, ``message`` (the server's ``error`` or ``summary``), ``docs``
    (links the API sent along), ``body`` (the decoded error body), ``retry_after`` (the
    server's ``Retry-After`` in seconds, if it sent one).
    """

    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        path: str,
        docs: list[Any] | None = None,
        body: Any = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message, method=method, path=path, outcome_unknown=outcome_unknown)
        self.status_code = status_code
        self.docs = docs or []
        self.body = body

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message} ({self.method} {self.path})"


class BadRequestError(APIStatusError):
    """400: the request is invalid, e.g. an upstream validation error."""


class AuthenticationError(APIStatusError):
    """401: the API token is missing or wrong."""


class PermissionDeniedError(APIStatusError):
    """403: the token may not do this."""


class NotFoundError(APIStatusError):
    """404: no such object."""


class UnprocessableEntityError(APIStatusError):
    """422: validation failed; ``validation_errors`` maps field names to reasons."""

    @property
    def validation_errors(self) -> dict[str, list[str]]:
        body = self.body if isinstance(self.body, Mapping) else {}
        errors = body.get("validation_errors")
        return dict(errors) if isinstance(errors, Mapping) else {}

    def __str__(self) -> str:
        details = "; ".join(
            f"{k}: {', '.join(map(str, v))}" for k, v in self.validation_errors.items()
        )
        base = super().__str__()
        return f"{base} [{details}]" if details else base


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""


class AwaitConsumersTimeoutError(APIStatusError):
    """500 while awaiting consumers: the mutation was applied; consumers did not catch up."""


class UpstreamTimeoutError(APIStatusError):
    """504: the upstream API (Salesforce, Stripe …) timed out; the outcome is unknown."""


class InternalServerError(APIStatusError):
    """Any other 5xx."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    504: UpstreamTimeoutError,
}

#: The documented message of a 500 after the mutation was applied (the seeds' mutation page):
#: ``Error: Timed out waiting for consumers: {consumer_id}``.
_AWAIT_TIMEOUT_MESSAGE = re.compile(r"Error: Timed out waiting for consumers(?::|$)")


def status_error(
    status_code: int,
    body: Any,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> APIStatusError:
    """Build the exception for an error response (pure: no I/O).

    Both documented error bodies are understood: ``{"error", "docs"}`` (Mutation API) and
    ``{"summary", "validation_errors"}`` (Management API). A 500 is an
    ``AwaitConsumersTimeoutError`` only with the documented message; any other 500, awaiting
    or not, is an ``InternalServerError`` (the outcome is unknown).
    """
    message, docs = _message_and_docs(status_code, body)
    cls = _STATUS_CLASSES.get(status_code) or _class_by_range(status_code, message)
    error = cls(message, status_code=status_code, method=method, path=path, docs=docs, body=body)
    error.retry_after = retry_after
    return error


def _class_by_range(status_code: int, message: str) -> type[APIStatusError]:
    if status_code == 500 and _AWAIT_TIMEOUT_MESSAGE.match(message):
        return AwaitConsumersTimeoutError
    return InternalServerError if status_code >= 500 else APIStatusError


def _message_and_docs(status_code: int, body: Any) -> tuple[str, list[Any]]:
    if isinstance(body, Mapping):
        message = body.get("error") or body.get("summary") or body.get("message")
        docs = body.get("docs")
        return (
            str(message) if message else f"HTTP {status_code}",
            list(docs) if isinstance(docs, list) else [],
        )
    if isinstance(body, str) and body.strip():
        return body.strip()[:500], []
    return f"HTTP {status_code}", []
