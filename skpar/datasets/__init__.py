"""Data for tests, benchmarks and examples: generators with known structure, the Shotgun paper's Mug32 and a9a."""

from ._generators import make_correlated_regression, make_sparse_design
from ._real import load_a9a, load_mug32

__all__ = ["load_a9a", "load_mug32", "make_correlated_regression", "make_sparse_design"]
