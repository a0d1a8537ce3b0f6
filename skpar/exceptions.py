"""Warnings and errors raised by skpar."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceWarning(ConvergenceWarning):
    """A step size made the objective blow up; the fit went back, halved the step and went on."""


class DivergenceError(FloatingPointError):
    """The fit kept diverging after the step size was cut many times; no coefficients are returned."""


class CriticalBatchSizeWarning(UserWarning):
    """The global batch is far past the critical batch size: a larger batch buys no fewer steps, only more work."""


class SmallBlockWarning(UserWarning):
    """Blocks hold fewer rows than one-shot averaging needs (about kappa each); periodic averaging is safer."""


__all__ = ["ConvergenceWarning", "CriticalBatchSizeWarning", "DivergenceError", "DivergenceWarning",
           "SmallBlockWarning"]
