"""When to retry a failed request, and after how long (pure: no I/O, no clock).

Design §3: a request is retried only when re-sending it cannot apply a change twice.

- connection errors before the request was sent, 429 and 503: every request;
- read timeouts, dropped connections, 500, 502 and 504: idempotent requests only (updates,
  deletes, PATCH, reads) — never a create, whose outcome is then unknown;
- other 5xx: reads only; a 500 after awaiting consumers never (the write happened).
"""

from __future__ import annotations

import enum
from email.utils import parsedate_to_datetime
from time import time

from sequin_orm.config import RetryPolicy
from sequin_orm.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AwaitConsumersTimeoutError,
)


class Safety(enum.Enum):
    """How safe it is to send a request again."""

    READ = "read"  # GET: no effect on the server
    IDEMPOTENT = "idempotent"  # update, delete, PATCH, ack: same effect when repeated
    NOT_IDEMPOTENT = "not_idempotent"  # create: repeating may duplicate


_ALWAYS_RETRIED_STATUSES = frozenset({429, 503})
_IDEMPOTENT_RETRIED_STATUSES = frozenset({500, 502, 504})


def is_retryable(error: APIError, safety: Safety) -> bool:
    """Whether re-sending cannot apply the change twice (ignoring attempt counts)."""
    if isinstance(error, APIConnectionError):
        return not error.request_sent or safety is not Safety.NOT_IDEMPOTENT
    if not isinstance(error, APIStatusError) or isinstance(error, AwaitConsumersTimeoutError):
        return False
    status = error.status_code
    if status in _ALWAYS_RETRIED_STATUSES:
        return True
    if safety is Safety.NOT_IDEMPOTENT:
        return False
    if status in _IDEMPOTENT_RETRIED_STATUSES:
        return True
    return safety is Safety.READ and status >= 500


def retry_delay(
    error: APIError,
    safety: Safety,
    *,
    policy: RetryPolicy,
    retries_done: int,
    elapsed: float,
    jitter: float,
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    ``jitter`` is a random number in [0, 1); ``elapsed`` counts from the first attempt.
    """
    if retries_done >= policy.max_retries or not is_retryable(error, safety):
        return None
    hinted = error.retry_after if isinstance(error, APIStatusError) else None
    if hinted is not None and hinted > policy.max_retry_after:
        return None
    if hinted is not None:
        delay = hinted
    else:
        backoff = min(policy.initial_delay * 2**retries_done, policy.max_delay)
        delay = backoff * (0.75 + 0.25 * jitter)
    return None if elapsed + delay > policy.deadline else delay


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
