"""Data for tests, benchmarks and examples: generators with known structure."""

from ._generators import make_correlated_regression, make_sparse_design

__all__ = ["make_correlated_regression", "make_sparse_design"]
