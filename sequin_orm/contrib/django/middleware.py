"""``SequinSessionMiddleware``: one unit of work per request.

::

    MIDDLEWARE = [
        ...,
        "sequin_orm.contrib.django.middleware.SequinSessionMiddleware",
    ]

For each request it opens a ``RequestSession`` and makes it the current session (a
``ContextVar``: concurrent requests, threads or asyncio tasks, never share one), so
``contact.save()`` in a view only enqueues. Then:

- the view raised, or the response is an error (status >= 400): nothing is sent (rollback);
- otherwise the pending changes are committed as the fewest mutation requests, and only those
  whose database transaction committed (see ``session.py``); when the request itself runs in
  an atomic block (Django's ``TestCase``) the commit waits for ``transaction.on_commit``.

A commit that fails once the database has committed is logged at ERROR and signalled
(``signals.commit_failed``). To handle Sequin errors in the view instead, call
``request.sequin_session.commit()`` there: the middleware then has nothing left to send.

Works in sync (WSGI) and async (ASGI) stacks; for async requests the commit runs in a thread
(``sync_to_async``) because Django's transactions and sequin-orm's HTTP client are sync.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async

from sequin_orm.contrib.django.conf import ensure_configured, sequin_settings
from sequin_orm.contrib.django.session import RequestSession, finish_request_session

__all__ = ["SequinSessionMiddleware"]

#: Attribute of the request that holds its session.
REQUEST_ATTRIBUTE = "sequin_session"


class SequinSessionMiddleware:
    """Open a ``RequestSession`` per request; commit it after a successful response."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        session = self._open(request)
        if session is None:
            return self.get_response(request)
        session.bind()
        try:
            response = self.get_response(request)
        except BaseException:
            session.unbind()
            session.rollback()
            raise
        session.unbind()
        finish_request_session(session, succeeded=_succeeded(session, response))
        return response

    async def __acall__(self, request: Any) -> Any:
        get_response: Callable[[Any], Awaitable[Any]] = self.get_response
        session = self._open(request)
        if session is None:
            return await get_response(request)
        session.bind()
        try:
            response = await get_response(request)
        except BaseException:
            session.unbind()
            session.rollback()
            raise
        session.unbind()
        succeeded = _succeeded(session, response)
        if succeeded and not session.has_pending:
            return response  # nothing to send: no thread hop
        await sync_to_async(finish_request_session, thread_sensitive=True)(
            session, succeeded=succeeded
        )
        return response

    def process_exception(self, request: Any, exception: Exception) -> None:
        """The view raised: never commit this request, even if a handler answers 2xx."""
        session = getattr(request, REQUEST_ATTRIBUTE, None)
        if isinstance(session, RequestSession):
            session.failed = True

    @staticmethod
    def _open(request: Any) -> RequestSession | None:
        ensure_configured()
        if not sequin_settings.SESSION_PER_REQUEST:
            return None
        session = RequestSession(using=sequin_settings.DATABASE)
        setattr(request, REQUEST_ATTRIBUTE, session)
        return session


def _succeeded(session: RequestSession, response: Any) -> bool:
    status = getattr(response, "status_code", 500)
    return not session.failed and isinstance(status, int) and status < 400
