"""A progress bar for long commits: ``session.commit(progress=progress_bar())``.

With ``tqdm`` installed (``pip install 'sequin-orm[progress]'``) it draws a tqdm bar; without,
it writes a plain line per tenth of the way to stderr (a line per call when the total is not
known, as in a mirror's backfill). Either way it is a callable ``(done_records,
total_records)``, which is all ``commit(progress=...)`` asks for: any function of that shape
works as well.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Protocol

_tqdm: Any
try:  # an optional extra: the fallback below draws without it
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - exercised by forcing the fallback
    _tqdm = None

__all__ = ["ProgressBar", "Stream", "progress_bar"]


class Stream(Protocol):
    """Where a bar is drawn: a text stream (stderr by default)."""

    def write(self, text: str, /) -> Any: ...
    def flush(self) -> Any: ...


class ProgressBar:
    """``callback(done, total)`` that draws a bar; close it (or use ``with``) when done."""

    def __init__(
        self, description: str = "records", *, file: Stream | None = None, use_tqdm: bool = True
    ) -> None:
        self.description = description
        self._file = file
        self._use_tqdm = use_tqdm and _tqdm is not None
        self._bar: Any = None
        self._shown = -1  # the last tenth written by the plain fallback

    def __call__(self, done: int, total: int | None = None) -> None:
        """Show ``done`` of ``total`` records (``total`` None: not known)."""
        if self._use_tqdm:
            self._draw_tqdm(done, total)
        else:
            self._draw_plain(done, total)

    def close(self) -> None:
        """End the bar (a new line after it)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _draw_tqdm(self, done: int, total: int | None) -> None:
        assert _tqdm is not None
        if self._bar is None:
            self._bar = _tqdm(
                total=total, desc=self.description, unit="record", file=self._file, leave=True
            )
        self._bar.total = total
        self._bar.update(done - self._bar.n)

    def _draw_plain(self, done: int, total: int | None) -> None:
        file = self._file if self._file is not None else sys.stderr
        if total is None:
            file.write(f"{self.description}: {done:,} records\n")
        else:
            tenth = 10 if total <= 0 else done * 10 // total
            if tenth == self._shown:
                return
            self._shown = tenth
            percent = 100 if total <= 0 else done * 100 // total
            file.write(f"{self.description}: {done:,}/{total:,} ({percent}%)\n")
        file.flush()


def progress_bar(description: str = "records", *, file: Stream | None = None) -> ProgressBar:
    """A ``ProgressBar`` for ``commit(progress=...)``: tqdm when installed, else plain lines."""
    return ProgressBar(description, file=file)
