"""``sequin_orm.progress``: a bar for ``commit(progress=...)``, drawn by tqdm or as plain lines."""

from __future__ import annotations

import io

import sequin_orm
from sequin_orm import Session
from sequin_orm.emulator import Emulator
from sequin_orm.models import salesforce
from sequin_orm.progress import ProgressBar, progress_bar

from ..conftest import SYNCS, TOKEN


def _commit_450(emulator: Emulator, bar: ProgressBar) -> None:
    with sequin_orm.Client(TOKEN, transport=emulator.transport(), syncs=SYNCS) as client:
        session = Session(client)
        for i in range(450):
            session.add(salesforce.Contact(LastName=f"Fremen {i}"))
        with bar:
            session.commit(progress=bar)


def test_a_tqdm_bar_counts_the_records_of_a_commit(emulator: Emulator) -> None:
    out = io.StringIO()
    _commit_450(emulator, progress_bar("contacts", file=out))
    assert "contacts: 100%" in out.getvalue() and "450/450" in out.getvalue()


def test_without_tqdm_plain_lines_tell_the_progress(emulator: Emulator) -> None:
    out = io.StringIO()
    _commit_450(emulator, ProgressBar("contacts", file=out, use_tqdm=False))
    lines = out.getvalue().splitlines()
    assert lines[-1] == "contacts: 450/450 (100%)"
    assert len(lines) == 3  # one per answer here (200, 400, 450 records: three tenths)
