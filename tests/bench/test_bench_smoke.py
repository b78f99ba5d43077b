"""``python bench/run.py --smoke`` still runs end to end (tiny sizes; no number is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmarks_run(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    for heading in (
        "## Machine",
        "## 1. Commit overhead",
        "## 2. Requests for one commit",
        "## 3. Dirty tracking and loading",
        "## 4. Memory",
        "## 5. Import time",
        "## 6. Emulator throughput",
    ):
        assert heading in text, heading
    assert "CPU:" in text and "Python:" in text


def test_every_commit_phase_runs_for_instruction_counts() -> None:
    script = str(ROOT / "bench" / "phases.py")
    for phase in ("construct", "save", "plan", "payloads", "http", "commit", "raw"):
        done = subprocess.run(
            [
                sys.executable,
                script,
                phase,
                "450",
            ]  # 3 requests, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, phase + done.stderr[-2000:]
    refused = subprocess.run([sys.executable, script, "teleport", "1"], capture_output=True)
    assert refused.returncode != 0 and b"usage" in refused.stderr
