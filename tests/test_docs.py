"""The documentation builds with no warnings (``sphinx-build -W``), every gallery example runs and draws its plot.

Built in a copy of ``docs/`` and ``examples/`` so the tree stays clean; skipped where the ``docs`` extra is not
installed.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")
pytest.importorskip("pydata_sphinx_theme")
pytest.importorskip("myst_parser")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_without_warnings(tmp_path):
    for name in ("docs", "examples"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples"))
    out = tmp_path / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(tmp_path / "docs"), str(out)], capture_output=True, text=True, timeout=900,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert examples
    for stem in examples:
        assert list((tmp_path / "docs" / "auto_examples" / "images").glob(f"sphx_glr_{stem}_*.png")), stem
    for page in ("index", "api", "gpu", "benchmarks", "user_guide/sgd", "generated/skpar.ShotgunLasso"):
        assert (out / f"{page}.html").exists(), page
