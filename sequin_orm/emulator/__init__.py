"""An embedded, in-memory Sequin v1 API for development and tests.

Usage::

    from sequin_orm.emulator import Emulator

    emu = Emulator(seed="demo")
    client = httpx.Client(transport=emu.transport(), base_url="http://sequin.test")
    with emu.serve() as url:  # or a real HTTP server on 127.0.0.1
        ...
"""

from __future__ import annotations

from sequin_orm.emulator.emulator import Emulator, RecordedRequest
from sequin_orm.emulator.faults import Fault
from sequin_orm.emulator.protocol import Response
from sequin_orm.emulator.providers import BATCH_LIMITS, DEFAULT_BATCH_LIMIT, batch_limit

__all__ = [
    "BATCH_LIMITS",
    "DEFAULT_BATCH_LIMIT",
    "Emulator",
    "Fault",
    "RecordedRequest",
    "Response",
    "batch_limit",
]
