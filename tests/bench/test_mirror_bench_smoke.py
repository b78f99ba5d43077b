"""``python bench/mirror.py --smoke`` still runs end to end (tiny sizes; no number is checked).

It starts its own PostgreSQL (``tests/pgserver.py``): where that cannot start, the test skips,
except under ``CI=true``, where it fails like the mirror's other PostgreSQL tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.pgserver import start_for_tests

ROOT = Path(__file__).resolve().parents[2]


def test_the_mirror_benchmark_runs(tmp_path: Path) -> None:
    start_for_tests().stop()  # the benchmark starts its own; this one says if it can
    out = tmp_path / "results.md"
    out.write_text("# Results\n\n## Kept\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "mirror.py"), "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    for heading in ("## Kept", "## Mirror (issue 15)", "### M1. Ingest", "### M2.", "### M3."):
        assert heading in text, heading
    assert text.count("<!-- mirror:start -->") == 1
