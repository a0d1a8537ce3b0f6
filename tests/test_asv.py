"""Every asv suite runs: ``asv run --python=same --quick`` over all benchmarks on the tiny ``ci`` profile, and none
fails (asv's exit status is 2 when one does). Skipped where asv is not installed (it is in the test extra)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_asv_benchmark_runs(tmp_path):
    asv = shutil.which("asv", path=str(Path(sys.executable).parent)) or shutil.which("asv")
    if asv is None:
        pytest.skip("asv is not installed")
    # asv keeps its machine description in ~/.asv-machine.json: give it a home of its own
    env = {**os.environ, "HOME": str(tmp_path), "SKPAR_BENCH_PROFILE": "ci"}
    subprocess.run([asv, "machine", "--yes"], cwd=ROOT / "asv_bench", env=env, check=True, capture_output=True,
                   timeout=120)
    # forkserver: the benchmark modules (skpar, scikit-learn, dask) are imported once, not once per benchmark
    # (a third of the time of spawn here)
    out = subprocess.run([asv, "run", "--python=same", "--quick", "--dry-run", "--show-stderr", "--launch-method",
                          "forkserver"],
                         cwd=ROOT / "asv_bench", env=env, capture_output=True, text=True, timeout=900)
    log = out.stdout + out.stderr
    assert "failed" not in log and out.returncode == 0, log[-5000:]
    suites = {p.stem for p in (ROOT / "asv_bench" / "benchmarks").glob("*.py")} - {"__init__", "common", "datasets"}
    for suite in suites:
        assert f"{suite}." in log, f"suite {suite} did not run"
