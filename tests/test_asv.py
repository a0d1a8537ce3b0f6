"""Every asv suite runs: asv discovers and accepts every benchmark (``asv check``), and every benchmark of every suite,
for every parameter combination, runs once on the tiny ``ci`` profile without an error.

The benchmarks run in this process, as asv's runner calls them (``setup_cache`` once a suite, its result through a
pickle round trip as asv stores it, then ``setup`` and the benchmark for each combination). ``asv run --quick``
did the same in 92 s of the suite's 10 minutes, most of it starting a process a suite and importing and loading the
compiled kernels in each; here it takes seconds. Skipped where asv is not installed (it is in the test extra).
"""

import importlib
import itertools
import math
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("time_", "peakmem_", "track_")


def _suites():
    """The benchmark modules of ``asv_bench/benchmarks`` (not their helpers)."""
    names = sorted(p.stem for p in (ROOT / "asv_bench" / "benchmarks").glob("*.py"))
    return [n for n in names if n not in {"__init__", "common", "datasets"}]


def _classes(module):
    """The module's benchmark classes: those defined in it with a benchmark method (asv's discovery rule)."""
    return [obj for name, obj in vars(module).items()
            if isinstance(obj, type) and obj.__module__ == module.__name__ and not name.startswith("_")
            and any(attr.startswith(KINDS) for attr in dir(obj))]


def test_asv_accepts_every_benchmark(tmp_path):
    asv = shutil.which("asv", path=str(Path(sys.executable).parent)) or shutil.which("asv")
    if asv is None:
        pytest.skip("asv is not installed")
    # asv keeps its machine description in ~/.asv-machine.json: give it a home of its own
    env = {**os.environ, "HOME": str(tmp_path), "SKPAR_BENCH_PROFILE": "ci"}
    out = subprocess.run([asv, "check", "--python=same"], cwd=ROOT / "asv_bench", env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and "No problems found" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # capped fits on the tiny profile
def test_every_asv_benchmark_runs(monkeypatch):
    pytest.importorskip("asv")
    monkeypatch.setenv("SKPAR_BENCH_PROFILE", "ci")  # read when the suites are imported and when they make data
    monkeypatch.syspath_prepend(str(ROOT / "asv_bench"))
    ran = set()
    for suite in _suites():
        module = importlib.import_module(f"benchmarks.{suite}")
        classes = _classes(module)
        assert classes, f"suite {suite} has no benchmark"
        for cls in classes:
            methods = sorted(a for a in dir(cls) if a.startswith(KINDS))
            cache = cls().setup_cache() if hasattr(cls, "setup_cache") else None
            cache = pickle.loads(pickle.dumps(cache))  # asv hands each run a stored copy
            params = cls.params if isinstance(cls.params, tuple) else (cls.params,)
            for combo in itertools.product(*params):
                for method in methods:
                    bench = cls()
                    args = ((cache,) if cache is not None else ()) + combo
                    try:
                        bench.setup(*args)
                    except NotImplementedError:  # asv's way to skip a combination (a set not on this machine)
                        continue
                    value = getattr(bench, method)(*args)
                    if method.startswith("track_"):
                        assert isinstance(value, float) and math.isfinite(value), (suite, cls.__name__, combo, value)
                    ran.add(f"{suite}.{cls.__name__}.{method}")
        assert any(name.startswith(f"{suite}.") for name in ran), f"suite {suite} did not run"
    assert len(ran) >= 30, sorted(ran)
