"""The two drivers of a commit's flow (``flow.py``): they send its requests and report back.

Every rule of a commit lives in the flow; a driver only moves bytes and hands each answer, error
or interruption to ``settle()``, on the thread (or task) that runs the commit. ``drive()`` sends
one request at a time inline, or up to ``max_concurrency`` at once through a small thread pool
whose threads do nothing but send bytes; ``adrive()`` is the same loop with ``await`` and a
bounded set of asyncio tasks.

A request the flow hands out with a ``delay`` (a retry after 429 or 503) is waited for before
anything else goes out: the pause slows down the whole commit, not one request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Protocol

from sequin_orm.errors import APIError
from sequin_orm.flow import CommitFlow, Request
from sequin_orm.requestor import AsyncRequestor, Requestor

if TYPE_CHECKING:
    import asyncio

__all__ = ["Progress", "adrive", "drive", "settle"]

#: ``progress(done_records, total_records)``, called after each answer.
Progress = Callable[[int, int], None]


def drive(flow: CommitFlow, requestor: Requestor, progress: Progress | None = None) -> None:
    """Send the flow's requests until it is finished (hits the network)."""
    limit = min(requestor.concurrency_for(flow.sync_ids), flow.widest_stage)
    if limit <= 1:
        _drive_inline(flow, requestor, progress)
    else:
        _drive_pooled(flow, requestor, limit, progress)


def _drive_inline(flow: CommitFlow, requestor: Requestor, progress: Progress | None) -> None:
    """One request at a time, on this thread."""
    while (request := flow.next_request()) is not None:
        _pause(flow, request, requestor.http.sleep)
        try:
            answer: bytes | BaseException = _send(requestor, request)
        except BaseException as error:  # settle() re-raises all but an APIError
            answer = error
        settle(flow, request, answer, progress)


def _drive_pooled(
    flow: CommitFlow, requestor: Requestor, limit: int, progress: Progress | None
) -> None:
    """Up to ``limit`` requests in flight; threads send bytes, this thread does the rest."""
    pool = ThreadPoolExecutor(limit, thread_name_prefix="sequin-orm-send")
    out: dict[Future[bytes], Request] = {}
    try:
        while True:
            while len(out) < limit and (request := flow.next_request()) is not None:
                _pause(flow, request, requestor.http.sleep)
                out[pool.submit(_send, requestor, request)] = request
            if not out:
                return
            done, _ = wait(out, return_when=FIRST_COMPLETED)
            for future in done:
                settle(flow, out.pop(future), _outcome(future), progress)
    except BaseException as interruption:
        for future, request in out.items():
            if future.cancel():  # never started: it did not reach the server
                flow.interrupt(request, interruption, reached_server=False)
        raise  # the caller abandons the rest: they may have been sent
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


async def adrive(
    flow: CommitFlow, requestor: AsyncRequestor, progress: Progress | None = None
) -> None:
    """Send the flow's requests until it is finished (hits the network), up to
    ``max_concurrency`` at once as asyncio tasks."""
    # imported here, not with the module: a program that only commits synchronously never
    # loads asyncio (about 11 ms of `import sequin_orm`'s cost)
    import asyncio

    limit = requestor.concurrency_for(flow.sync_ids)
    out: dict[asyncio.Task[bytes], Request] = {}
    try:
        while True:
            while len(out) < limit and (request := flow.next_request()) is not None:
                await _apause(flow, request, requestor.http.sleep)
                out[asyncio.ensure_future(_asend(requestor, request))] = request
            if not out:
                return
            done, _ = await asyncio.wait(out, return_when=FIRST_COMPLETED)
            for task in done:
                settle(flow, out.pop(task), _outcome(task), progress)
    finally:
        for task in out:  # interrupted: the caller abandons them (they may have been sent)
            task.cancel()


def settle(
    flow: CommitFlow,
    request: Request,
    answer: bytes | BaseException,
    progress: Progress | None = None,
) -> None:
    """Hand what came of ``request`` to the flow: a 2xx body, an ``APIError``, or anything
    else (re-raised after the flow marked it an interruption)."""
    if isinstance(answer, APIError):
        flow.receive_error(request, answer)
    elif isinstance(answer, BaseException):
        flow.interrupt(request, answer, reached_server=True)
        raise answer
    else:
        try:
            flow.receive(request, answer)
        except BaseException as interruption:  # the answer may be half applied
            flow.interrupt(request, interruption, reached_server=True)
            raise
    if progress is not None:
        progress(flow.records_done, flow.records_total)


def _send(requestor: Requestor, request: Request) -> bytes:
    return requestor.send_mutation_once(
        request.content, await_timeout_ms=request.await_timeout_ms, label=request.label
    )


async def _asend(requestor: AsyncRequestor, request: Request) -> bytes:
    return await requestor.send_mutation_once(
        request.content, await_timeout_ms=request.await_timeout_ms, label=request.label
    )


def _pause(flow: CommitFlow, request: Request, sleep: Callable[[float], None]) -> None:
    """Wait the retry delay of ``request`` before it (or anything else) goes out."""
    if request.delay:
        try:
            sleep(request.delay)
        except BaseException as interruption:
            flow.interrupt(request, interruption, reached_server=False)
            raise


async def _apause(
    flow: CommitFlow, request: Request, sleep: Callable[[float], Awaitable[None]]
) -> None:
    if request.delay:
        try:
            await sleep(request.delay)
        except BaseException as interruption:
            flow.interrupt(request, interruption, reached_server=False)
            raise


class _Done(Protocol):
    """A finished ``concurrent.futures.Future`` or ``asyncio.Task``."""

    def exception(self) -> BaseException | None: ...
    def result(self) -> bytes: ...


def _outcome(done: _Done) -> bytes | BaseException:
    try:
        error = done.exception()
    except BaseException as cancelled:  # a cancelled future or task raises its CancelledError
        return cancelled
    return done.result() if error is None else error
