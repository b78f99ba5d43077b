"""``RequestSession``: the unit of work of one request, in step with the database.

Sequin writes cannot take part in a database transaction, so the rule is the next best one:
**a change is sent only if the database work around it committed.**

- A change enqueued (``obj.save()``, ``obj.delete()``) outside any ``transaction.atomic()``
  block is *confirmed* at once.
- A change enqueued inside an atomic block (your own, or ``ATOMIC_REQUESTS``) is confirmed by a
  ``transaction.on_commit`` callback, so it is confirmed only if that block, and every block
  around it, commits. Django drops the callbacks of a rolled-back block or savepoint.
- ``commit_request_session()`` drops unconfirmed changes and commits the rest. The middleware
  calls it when the response is done or, when the request itself runs inside an atomic block
  (Django's ``TestCase``), from one more ``on_commit`` callback registered after the others.

Python objects are not transactional: an object confirmed once is sent with all its changes.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from sequin_orm.contrib import BoundSession
from sequin_orm.contrib.django.signals import commit_failed
from sequin_orm.errors import CommitError
from sequin_orm.model import Model
from sequin_orm.results import CommitResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from sequin_orm.plan import WriteKwargs

__all__ = ["RequestSession", "commit_request_session", "finish_request_session"]

logger = logging.getLogger("sequin_orm.contrib.django")


class RequestSession(BoundSession):
    """The session the middleware opens for one request (``request.sequin_session``).

    ``using`` is the database alias whose transactions gate its changes (``SEQUIN['DATABASE']``).
    """

    def __init__(self, *, using: str = "default", sync_id: str | None = None) -> None:
        super().__init__(sync_id=sync_id)
        self.using = using
        #: Set by the middleware when the view raised.
        self.failed = False
        self._confirmed: set[Model] = set()

    def add(self, obj: Model, **options: Unpack[WriteKwargs]) -> None:
        super().add(obj, **options)
        self._confirm_on_commit(obj)

    def delete(self, obj: Model, **options: Unpack[WriteKwargs]) -> None:
        super().delete(obj, **options)
        self._confirm_on_commit(obj)

    def is_confirmed(self, obj: Model) -> bool:
        """True when ``obj``'s changes may be sent (its database work committed)."""
        return obj in self._confirmed

    def discard_unconfirmed(self) -> list[Model]:
        """Stop tracking changes whose atomic block rolled back (or has not committed)."""
        dropped = [o for o in (*self.new, *self.dirty, *self.deleted) if o not in self._confirmed]
        for obj in dropped:
            self.expunge(obj)
        return dropped

    def _confirm_on_commit(self, obj: Model) -> None:
        from django.db import transaction

        if obj in self._confirmed:
            return  # once confirmed, an object is sent with all its changes
        if transaction.get_connection(self.using).in_atomic_block:
            transaction.on_commit(partial(self._confirmed.add, obj), using=self.using)
        else:
            self._confirmed.add(obj)


def finish_request_session(session: RequestSession, *, succeeded: bool) -> None:
    """End of a request: roll back, commit now, or commit when the open transaction commits.

    Runs in a thread that may use the database (``sync_to_async`` for async requests).
    """
    from django.db import transaction

    if not succeeded:
        session.rollback()
        return
    if not session.has_pending:
        return
    if transaction.get_connection(session.using).in_atomic_block:
        # The request ran inside a transaction (a TestCase, or a caller's atomic block): send
        # only if it commits. Registered last, it runs after the confirmations.
        transaction.on_commit(partial(commit_request_session, session), using=session.using)
    else:
        commit_request_session(session)


def commit_request_session(session: RequestSession) -> CommitResult | None:
    """Send the confirmed changes; failures are logged and signalled, never raised.

    By now the database has committed, so a failure cannot be undone: it is logged at ERROR
    with the commit summary and ``commit_failed`` is sent (hook an outbox or retry queue
    there). Returns the result, or None when nothing was sent.
    """
    dropped = session.discard_unconfirmed()
    if dropped:
        logger.info(
            "Sequin: %d change(s) not sent because their database transaction rolled back",
            len(dropped),
        )
    if not session.has_pending:
        return None
    try:
        return session.commit()
    except CommitError as error:
        logger.error(
            "Sequin commit failed after the database committed: %s. The failed objects were "
            "not written; record them for a retry (see the outbox advice in docs/django.md).",
            error.result.summary(),
            exc_info=error,
        )
        _send_failure(session, error, error.result)
        return error.result
    except Exception as error:  # raised before any request (configuration, bad objects)
        logger.error(
            "Sequin commit failed after the database committed; nothing was sent: %s",
            error,
            exc_info=error,
        )
        _send_failure(session, error, None)
        return None


def _send_failure(session: RequestSession, error: Exception, result: Any) -> None:
    commit_failed.send_robust(sender=RequestSession, session=session, error=error, result=result)
