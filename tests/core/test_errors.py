"""Error mapping: both documented bodies, every status class, nothing secret in messages;
every exception pickles."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from sequin_orm import errors
from sequin_orm.errors import status_error
from sequin_orm.models import salesforce
from sequin_orm.results import CommitResult, ObjectOutcome, Outcome

MUTATION_400 = {"error": "Error: Salesforce validation error: `Invalid email`", "docs": ["d"]}
MUTATION_500 = {"error": "Error: Timed out waiting for consumers: c-1", "docs": []}
MUTATION_504 = {"error": "Error: Salesforce API timed out", "docs": []}
MANAGEMENT_422 = {"summary": "Validation failed", "validation_errors": {"name": ["is required"]}}
PATH = "/v1/mutations/run"
EXCEPTION_CLASSES = [
    cls
    for cls in (getattr(errors, name) for name in errors.__all__)
    if isinstance(cls, type) and issubclass(cls, BaseException) and not issubclass(cls, Warning)
]
WARNING_CLASSES = [errors.SequinWarning, errors.ForeignRecordWarning, errors.KeyCasingWarning]
ATTRIBUTES = (
    "status_code",
    "method",
    "path",
    "message",
    "docs",
    "body",
    "retry_after",
    "validation_errors",
    "request_sent",
    "outcome_unknown",
    "result",
)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, MUTATION_400, errors.BadRequestError),
        (401, {"summary": "Your API key is wrong"}, errors.AuthenticationError),
        (403, {"summary": "Forbidden"}, errors.PermissionDeniedError),
        (404, {"summary": "Not found"}, errors.NotFoundError),
        (422, MANAGEMENT_422, errors.UnprocessableEntityError),
        (429, {"summary": "Too many requests"}, errors.RateLimitError),
        (500, MUTATION_500, errors.AwaitConsumersTimeoutError),
        (500, {"summary": "Try again later"}, errors.InternalServerError),
        (502, "bad gateway", errors.InternalServerError),
        (504, MUTATION_504, errors.UpstreamTimeoutError),
        (418, None, errors.APIStatusError),
    ],
)
def test_status_maps_to_its_class(status: int, body: Any, cls: type[Exception]) -> None:
    error = status_error(status, body, method="POST", path="/v1/mutations/run")
    assert type(error) is cls
    assert isinstance(error, errors.APIStatusError) and isinstance(error, errors.SequinError)
    assert error.status_code == status
    assert "POST /v1/mutations/run" in str(error)


def test_mutation_error_body_gives_message_and_docs() -> None:
    error = status_error(400, MUTATION_400, method="POST", path="/v1/mutations/run")
    assert error.message == MUTATION_400["error"]
    assert error.docs == ["d"]


def test_management_422_exposes_validation_errors() -> None:
    error = status_error(422, MANAGEMENT_422, method="POST", path="/v1/syncs")
    assert isinstance(error, errors.UnprocessableEntityError)
    assert error.validation_errors == {"name": ["is required"]}
    assert "name: is required" in str(error)


def test_rate_limit_keeps_retry_after() -> None:
    error = status_error(429, {}, method="GET", path="/v1/syncs", retry_after=2.5)
    assert isinstance(error, errors.RateLimitError) and error.retry_after == 2.5


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (500, "Error: Timed out waiting for consumers: c-1", errors.AwaitConsumersTimeoutError),
        (500, "Error: Timed out waiting for consumers", errors.AwaitConsumersTimeoutError),
        (500, "Error: Internal server error", errors.InternalServerError),
        (500, "timed out waiting for consumers", errors.InternalServerError),
        (500, "Error: Timed out waiting for consumersX", errors.InternalServerError),
        (500, "Upstream said: Error: Timed out waiting for consumers", errors.InternalServerError),
        (502, "Error: Timed out waiting for consumers: c-1", errors.InternalServerError),
    ],
)
def test_only_the_documented_message_is_an_await_timeout(
    status: int, message: str, cls: type[Exception]
) -> None:
    """A plain 500 to a request that awaited consumers is not proof the write happened."""
    error = status_error(status, {"error": message, "docs": []}, method="POST", path=PATH)
    assert type(error) is cls


def _example(cls: type[errors.SequinError]) -> errors.SequinError:
    """An instance of ``cls`` with every attribute it has set to a value of its own."""
    error: errors.SequinError
    if issubclass(cls, errors.APIStatusError):
        error = cls(
            "Validation failed",
            status_code=422,
            method="POST",
            path=PATH,
            docs=["https://docs"],
            body=MANAGEMENT_422,
            outcome_unknown=True,
        )
        error.retry_after = 2.5
    elif issubclass(cls, errors.APIConnectionError):
        error = cls("Connection failed", method="POST", path=PATH, request_sent=False)
    elif issubclass(cls, errors.APIError):
        error = cls("Bad JSON", method="POST", path=PATH, outcome_unknown=True)
    elif issubclass(cls, errors.CommitError):
        error = cls("Commit incomplete", CommitResult(requests_sent=3))
    else:
        error = cls("No such field")
    if isinstance(error, errors.APIError):
        error.result = CommitResult(requests_sent=2)
    return error


def _assert_same(copy: BaseException, error: BaseException) -> None:
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.args == error.args
    assert vars(copy) == vars(error)
    for name in ATTRIBUTES:
        assert getattr(copy, name, None) == getattr(error, name, None), name


@pytest.mark.parametrize("cls", EXCEPTION_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_exception_pickles(cls: type[errors.SequinError], protocol: int) -> None:
    error = _example(cls)
    _assert_same(pickle.loads(pickle.dumps(error, protocol)), error)


def test_the_pickled_classes_are_every_exception_of_the_module() -> None:
    # all but status_error and the warnings
    assert len(EXCEPTION_CLASSES) == len(errors.__all__) - 1 - len(WARNING_CLASSES)
    assert all(issubclass(cls, errors.SequinError) for cls in EXCEPTION_CLASSES)
    assert all(issubclass(cls, errors.SequinWarning) for cls in WARNING_CLASSES)
    assert issubclass(errors.SequinWarning, UserWarning)


def _result_with_a_contact() -> tuple[CommitResult, errors.APIStatusError]:
    cause = status_error(400, MUTATION_400, method="POST", path=PATH)
    contact = salesforce.Contact(LastName="Atreides")
    return CommitResult((ObjectOutcome(contact, Outcome.FAILED, cause),), requests_sent=1), cause


def _assert_same_result(copy: CommitResult | None, cause: errors.APIStatusError) -> None:
    assert copy is not None and copy.requests_sent == 1
    ((obj, outcome, error),) = copy.outcomes
    assert type(obj) is salesforce.Contact and obj.LastName == "Atreides"
    assert outcome is Outcome.FAILED
    assert error is not None
    _assert_same(error, cause)


def test_commit_error_pickles_with_the_models_of_its_result() -> None:
    result, cause = _result_with_a_contact()
    error = errors.CommitError(f"Commit incomplete: {cause}", result)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.CommitError and str(copy) == str(error)
    _assert_same_result(copy.result, cause)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_commit_error_pickles_with_its_result(status: int) -> None:
    result, cause = _result_with_a_contact()
    error = status_error(status, {"summary": "Your API key is wrong"}, method="POST", path=PATH)
    assert error.result is None
    error.result = result
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    _assert_same_result(copy.result, cause)


def test_hierarchy_matches_the_design() -> None:
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert issubclass(errors.APIConnectionError, errors.APIError)
    assert issubclass(errors.UnknownFieldError, errors.ModelError)
    assert issubclass(errors.UnknownFieldError, AttributeError)
    assert issubclass(errors.FieldTypeError, TypeError)
    for name in ("ConfigurationError", "ModelError", "CommitError", "APIError"):
        assert issubclass(getattr(errors, name), errors.SequinError)
    tree = errors.__doc__ or ""
    exception_names = [n for n in errors.__all__ if n[0].isupper()]
    assert all(name in tree for name in exception_names)


def test_a_commit_error_keeps_its_cause_through_pickle() -> None:
    cause = status_error(500, {"error": "Error: Internal server error"}, method="POST", path="/x")
    try:
        raise errors.CommitError(f"{cause} (commit incomplete)", CommitResult()) from cause
    except errors.CommitError as error:
        copy = pickle.loads(pickle.dumps(error))
    assert type(copy.__cause__) is errors.InternalServerError
    assert str(copy.__cause__) == str(cause)
