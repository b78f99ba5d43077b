"""Signals of the Django integration.

``commit_failed`` is sent when the changes of a request could not be sent to Sequin after the
database had committed (nothing can be rolled back then). Keyword arguments: ``session``
(the ``RequestSession``; failed objects are still in it, dirty), ``error`` (the exception) and
``result`` (the ``CommitResult`` when some requests were made, else ``None``). Connect a
receiver that stores what failed for a later retry (an "outbox").
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["commit_failed"]

commit_failed = Signal()
