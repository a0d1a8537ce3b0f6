"""Data for tests, benchmarks and examples: generators with known structure, and the Shotgun paper's Mug32."""

from ._generators import make_correlated_regression, make_sparse_design
from ._real import load_mug32

__all__ = ["load_mug32", "make_correlated_regression", "make_sparse_design"]
