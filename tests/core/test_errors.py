"""Error mapping: both documented bodies, every status class, nothing secret in messages."""

from __future__ import annotations

from typing import Any

import pytest

from sequin_orm import errors
from sequin_orm.errors import status_error

MUTATION_400 = {"error": "Error: Salesforce validation error: `Invalid email`", "docs": ["d"]}
MUTATION_500 = {"error": "Error: Timed out waiting for consumers: c-1", "docs": []}
MUTATION_504 = {"error": "Error: Salesforce API timed out", "docs": []}
MANAGEMENT_422 = {"summary": "Validation failed", "validation_errors": {"name": ["is required"]}}


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


def test_rate_limit_keeps_retry_after_and_await_flag_maps_500() -> None:
    error = status_error(429, {}, method="GET", path="/v1/syncs", retry_after=2.5)
    assert isinstance(error, errors.RateLimitError) and error.retry_after == 2.5
    awaited = status_error(500, {"error": "boom"}, method="POST", path="/p", awaiting=True)
    assert isinstance(awaited, errors.AwaitConsumersTimeoutError)


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
