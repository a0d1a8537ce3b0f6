"""What a regular (non-editable) install ships: every package directory is a package, and the data files exist.

An editable install imports a directory without ``__init__.py`` as a namespace package, so a missing one goes
unnoticed there; setuptools' package discovery would leave it out of a wheel.
"""

from pathlib import Path

import skpar

ROOT = Path(skpar.__file__).parent


def test_every_module_directory_is_a_package():
    missing = [str(d.relative_to(ROOT)) for d in ROOT.rglob("*") if d.is_dir() and d.name != "__pycache__"
               and any(d.glob("*.py")) and not (d / "__init__.py").exists()]
    assert not missing, f"directories with modules but no __init__.py: {missing}"


def test_shipped_data_loads():
    from skpar.datasets import load_mug32

    A, y = load_mug32()
    assert A.shape == (410, 1024) and y.shape == (410,)
