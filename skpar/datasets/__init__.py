"""Data for tests, benchmarks and examples: generators with known structure."""

from ._generators import make_correlated_regression

__all__ = ["make_correlated_regression"]
