"""The worker loop of a mirror: pull batches until stopped, back off on errors."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from sequin_orm.errors import SequinError
from sequin_orm.mirror.rows import ApplyResult

__all__ = ["Worker"]

logger = logging.getLogger("sequin_orm.mirror")

FIRST_PAUSE = 0.5
MAX_PAUSE = 30.0


class Worker:
    """Runs ``pull_batch(batch_size, wait_for)`` in a loop until ``stop()``: batches while
    there are messages, a long poll when there are none.

    A batch that raised (the API or the database is down) is logged and tried again after a
    pause that doubles up to ``MAX_PAUSE``; a refused record is logged and the loop goes on.
    """

    def __init__(self, pull_batch: Callable[[int, int], ApplyResult]) -> None:
        self._pull_batch = pull_batch
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Make ``run()`` return after the batch in hand."""
        self._stopping.set()

    def run(self, batch_size: int, wait_for: int, *, handle_signals: bool) -> None:
        """Loop until ``stop()`` (or SIGINT/SIGTERM on the main thread with ``handle_signals``)."""
        self._stopping.clear()
        on_main = threading.current_thread() is threading.main_thread()
        with self._signals() if handle_signals and on_main else contextlib.nullcontext():
            pause = FIRST_PAUSE
            while not self._stopping.is_set():
                try:
                    result = self._pull_batch(batch_size, 0)
                    if not result.acked and not result.refused:
                        # long-poll for ONE message: back as soon as there is one (a batch
                        # would wait for batch_size of them), then drain at once
                        result = self._pull_batch(1, wait_for)
                    pause = FIRST_PAUSE
                except SequinError as error:
                    logger.warning("mirror: %s; trying again in %.1f s", error, pause)
                    self._stopping.wait(pause)
                    pause = min(pause * 2, MAX_PAUSE)
                    continue
                for what, why in result.refused:
                    logger.warning("mirror: refused %s: %s (not acked)", what, why)

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the loop (the previous handlers come back after)."""

        def handle(signum: int, frame: FrameType | None) -> None:
            logger.info("mirror: signal %s, stopping after this batch", signum)
            self.stop()

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
