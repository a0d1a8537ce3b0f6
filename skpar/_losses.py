"""Loss functions, each defined once: a compiled scalar function that every CPU kernel calls, its CUDA text for the
GPU kernels, and the facts the drivers need about it.

A loss ``l(p, y)`` is a function of the prediction ``p = x . w + b`` and the target ``y`` (regression), or of the
margin ``z = y p`` with ``y`` in {-1, +1} (classification, ``margin = True``). Each loss is a small frozen dataclass
(picklable: plans carry it to Dask workers) whose class holds:

``kernel``
    a numba function (the class's ``_kernel``) ``(p, y, param) -> (l(p, y), dl/dp)`` with ``param`` the loss's one
    scalar parameter (``epsilon``, or ``quantile``; unused where the loss has none). The kernels take it as an
    argument, so numba compiles each kernel once per loss, with the loss's body in its inner loop. The NumPy
    methods :meth:`Loss.value` and :meth:`Loss.derivative` run the same function elementwise.
``cuda``
    C statements that set ``*l`` and ``*g`` from ``double p, y, eps``: the body of the GPU kernels' ``loss_deriv``
    (:mod:`skpar.kernels._cuda_source`), which the GPU compiles for each loss.
``dual``
    for the losses that dual coordinate ascent solves (:mod:`skpar.kernels._dcd`), ``(D C, bounded)``: the dual of
    :math:`C \\ell` has the box :math:`0 \\le \\alpha \\le C` where ``bounded``, else :math:`\\alpha \\ge 0`, and the
    quadratic term :math:`\\tfrac{D}{2}\\alpha^2` with :math:`D = (D C) / C`.

Adding a loss is adding a class here (and naming it in the estimator's ``loss`` parameter's docstring): the
estimators read their choices from :data:`LOSSES` (the regressor) and :data:`CLASSIFIER_LOSSES` (the classifiers).
A regression loss is a classifier's loss too, as scikit-learn's ``SGDClassifier`` takes it: with ``y`` in
{-1, +1}, ``(p - y)^2 = (1 - y p)^2`` and ``|p - y| = |1 - y p|``, so each is a function of the margin; its twin
(:func:`_for_classes`) is the same function with ``margin = True``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
from numba import njit, types
from numba.core.registry import CPUDispatcher

#: every loss by its ``loss`` parameter's name, filled as the classes below are defined: the regression losses and
#: the margin losses
LOSSES: dict[str, type[Loss]] = {}
#: the classifiers' losses by name: the margin losses and the regression losses' twins for classes
CLASSIFIER_LOSSES: dict[str, type[Loss]] = {}


def _stable_identity(fn, name):
    """Give the compiled function ``fn`` the same identity in every process, and a new one when its code changes.

    A kernel that takes a compiled function as an argument is compiled for that function's type, and numba's
    on-disk cache keys the compiled kernel by it. A numba function unpickled from the cache's index is matched to a
    live one by a random UUID drawn in each process, so without a fixed one no process finds the kernels compiled
    by another and every fit in a fresh process recompiles them (seconds). The UUID is the loss's name and a digest
    of its function's code: the cached kernels load, and a kernel compiled with an earlier body of the loss is never
    loaded for a new one (numba checks only the kernel's own file). Set with numba's ``_set_uuid``, the hook its own
    deserialisation uses; without it caching is lost, never correctness.
    """
    code = fn.py_func.__code__
    digest = hashlib.sha1(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16]
    try:
        fn._set_uuid(f"{name}:{digest}")
    except (AttributeError, AssertionError):  # another numba, or an identity already drawn
        pass


class _TypedOnce(CPUDispatcher):
    """A loss's compiled function that gives numba its type from a memo.

    A kernel called with the loss as an argument has numba type the argument at every call; for a compiled
    function that builds a new ``types.Dispatcher`` each time (its name from the function's repr, then interned),
    about 5 us a call against 0.75 with the memo, 1.4-2.5% of a default fit on Reuters (docs/benchmarks.md). The
    memo holds the interned type numba would build, so the kernels compiled for it are the ones found."""

    @property
    def _numba_type_(self):
        typ = self.__dict__.get("_skpar_numba_type")
        if typ is None:
            typ = self.__dict__["_skpar_numba_type"] = types.Dispatcher(self)
        return typ


@njit(nogil=True, cache=True)
def _elementwise(fn, p, y, param):
    lv = np.empty(p.shape[0])
    g = np.empty(p.shape[0])
    for i in range(p.shape[0]):
        lv[i], g[i] = fn(p[i], y[i], param)
    return lv, g


@dataclass(frozen=True)
class Loss:
    """A loss ``l(p, y)``; the subclasses are the losses (see the module's docstring).

    Parameters
    ----------
    epsilon : float
        The loss's threshold, for those that have one (scikit-learn's ``SGDRegressor`` meaning).
    """

    name: ClassVar[str] = ""
    #: a classification loss of the margin ``y p``, ``y`` in {-1, +1}
    margin: ClassVar[bool] = False
    #: the curvature that ``eta0='auto'`` sets the step for, ``0.5 / (c E||x||^2)``
    step_curvature: ClassVar[float] = 1.0
    _kernel: ClassVar = None
    cuda: ClassVar[str] = ""
    dual: ClassVar[tuple | None] = None
    #: the estimator's parameters the loss takes (its fields; a margin loss's ``epsilon`` is a constant)
    takes: ClassVar[tuple[str, ...]] = ("epsilon",)

    epsilon: float = 0.1

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.margin:
                CLASSIFIER_LOSSES[cls.name] = cls
            # a regression loss's twin for classes keeps the name, which stays the regression loss's here
            LOSSES.setdefault(cls.name, cls)
            _stable_identity(cls._kernel, f"{cls.__module__}.{cls.__qualname__}")
            if type(cls._kernel) is CPUDispatcher:  # (another numba's dispatcher class: left as it is)
                cls._kernel.__class__ = _TypedOnce

    @classmethod
    def from_params(cls, **params):
        """The loss built from the estimator's parameters (those it does not take are ignored)."""
        return cls(**{f.name: float(params[f.name]) for f in fields(cls) if f.name in params and f.name in cls.takes})

    @property
    def kernel(self):
        """The compiled scalar function ``(p, y, param) -> (l, dl/dp)`` that the kernels take."""
        return type(self)._kernel

    @property
    def param(self) -> float:
        """The scalar parameter passed to :attr:`kernel`."""
        return float(self.epsilon)

    def _apply(self, p, y):
        p, y = np.broadcast_arrays(np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64))
        lv, g = _elementwise(self.kernel, np.ascontiguousarray(p).ravel(), np.ascontiguousarray(y).ravel(),
                             self.param)
        return lv.reshape(p.shape), g.reshape(p.shape)

    def value(self, p, y):
        """Elementwise loss (``y`` in {-1, +1} for a margin loss)."""
        return self._apply(p, y)[0]

    def derivative(self, p, y):
        """Elementwise derivative with respect to ``p``."""
        return self._apply(p, y)[1]


# ---- regression losses ------------------------------------------------------------------------------------------

@njit(inline="always", nogil=True, cache=True)
def _squared_error(p, y, eps):
    r = p - y
    return 0.5 * r * r, r


@dataclass(frozen=True)
class SquaredError(Loss):
    """:math:`\\tfrac12 (p - y)^2`."""

    name = "squared_error"
    _kernel = _squared_error
    cuda = "double r = p - y; *l = 0.5 * r * r; *g = r;"


@njit(inline="always", nogil=True, cache=True)
def _huber(p, y, eps):
    r = p - y
    a = abs(r)
    if a <= eps:
        return 0.5 * r * r, r
    return eps * a - 0.5 * eps * eps, (eps if r > 0 else -eps)


@dataclass(frozen=True)
class Huber(Loss):
    """:math:`\\tfrac12 r^2` for :math:`|r| \\le \\epsilon`, :math:`\\epsilon |r| - \\tfrac12 \\epsilon^2` beyond,
    :math:`r = p - y`."""

    name = "huber"
    _kernel = _huber
    cuda = ("double r = p - y, a = fabs(r);"
            "if (a <= eps) { *l = 0.5 * r * r; *g = r; }"
            "else { *l = eps * a - 0.5 * eps * eps; *g = r > 0 ? eps : -eps; }")


@njit(inline="always", nogil=True, cache=True)
def _epsilon_insensitive(p, y, eps):
    r = p - y
    z = abs(r) - eps
    if z <= 0.0:
        return 0.0, 0.0
    return z, (1.0 if r > 0 else -1.0)


@dataclass(frozen=True)
class EpsilonInsensitive(Loss):
    """:math:`\\max(0, |p - y| - \\epsilon)`."""

    name = "epsilon_insensitive"
    _kernel = _epsilon_insensitive
    cuda = ("double r = p - y, z = fabs(r) - eps;"
            "if (z <= 0.0) { *l = 0.0; *g = 0.0; } else { *l = z; *g = r > 0 ? 1.0 : -1.0; }")


@njit(inline="always", nogil=True, cache=True)
def _squared_epsilon_insensitive(p, y, eps):
    r = p - y
    z = abs(r) - eps
    if z <= 0.0:
        return 0.0, 0.0
    return z * z, (2.0 * z if r > 0 else -2.0 * z)


@dataclass(frozen=True)
class SquaredEpsilonInsensitive(Loss):
    """:math:`\\max(0, |p - y| - \\epsilon)^2`."""

    name = "squared_epsilon_insensitive"
    _kernel = _squared_epsilon_insensitive
    cuda = ("double r = p - y, z = fabs(r) - eps;"
            "if (z <= 0.0) { *l = 0.0; *g = 0.0; } else { *l = z * z; *g = r > 0 ? 2.0 * z : -2.0 * z; }")


@njit(inline="always", nogil=True, cache=True)
def _pinball(p, y, q):
    r = y - p
    if r > 0.0:
        return q * r, -q
    return (q - 1.0) * r, 1.0 - q


@dataclass(frozen=True)
class Pinball(Loss):
    """The pinball loss of the ``quantile`` :math:`q`: :math:`\\max(q (y - p), (q - 1)(y - p))`. Its minimiser
    over a constant is the :math:`q`-quantile of ``y``, so the model predicts the conditional quantile (the
    objective of scikit-learn's ``QuantileRegressor``, there with an l1 penalty)."""

    name = "quantile"
    takes = ("quantile",)
    _kernel = _pinball
    cuda = "double r = y - p; if (r > 0.0) { *l = eps * r; *g = -eps; } else { *l = (eps - 1.0) * r; *g = 1.0 - eps; }"
    quantile: float = 0.5

    @property
    def param(self) -> float:
        return float(self.quantile)


# ---- classification losses of the margin z = y p ----------------------------------------------------------------

@njit(inline="always", nogil=True, cache=True)
def _hinge(p, y, eps):
    z = p * y
    if z < 1.0:
        return 1.0 - z, -y
    return 0.0, 0.0


@dataclass(frozen=True)
class Hinge(Loss):
    """:math:`\\max(0, 1 - z)`."""

    name = "hinge"
    margin = True
    takes = ()
    # no curvature: the logistic loss's step, measured as good on the real sets (docs/benchmarks.md)
    step_curvature = 0.25
    _kernel = _hinge
    cuda = "double z = p * y; if (z < 1.0) { *l = 1.0 - z; *g = -y; } else { *l = 0.0; *g = 0.0; }"
    dual = (0.0, True)
    epsilon: float = 0.0


@njit(inline="always", nogil=True, cache=True)
def _squared_hinge(p, y, eps):
    z = p * y
    if z < 1.0:
        return (1.0 - z) * (1.0 - z), -2.0 * y * (1.0 - z)
    return 0.0, 0.0


@dataclass(frozen=True)
class SquaredHinge(Loss):
    """:math:`\\max(0, 1 - z)^2`."""

    name = "squared_hinge"
    margin = True
    takes = ()
    _kernel = _squared_hinge
    cuda = ("double z = p * y;"
            "if (z < 1.0) { *l = (1.0 - z) * (1.0 - z); *g = -2.0 * y * (1.0 - z); } else { *l = 0.0; *g = 0.0; }")
    dual = (0.5, False)
    epsilon: float = 0.0


@njit(inline="always", nogil=True, cache=True)
def _log_loss(p, y, eps):
    z = p * y
    # log(1 + exp(-z)) and its derivative -y / (1 + exp(z)), both without overflow
    if z > 18.0:
        e = np.exp(-z)
        return e, -y * e
    if z < -18.0:
        return -z, -y
    return np.log1p(np.exp(-z)), -y / (1.0 + np.exp(z))


@dataclass(frozen=True)
class LogLoss(Loss):
    """:math:`\\log(1 + e^{-z})`."""

    name = "log_loss"
    margin = True
    takes = ()
    # its largest second derivative is 1/4: four times the squared error's step
    step_curvature = 0.25
    _kernel = _log_loss
    cuda = ("double z = p * y;"
            "if (z > 18.0) { double e = exp(-z); *l = e; *g = -y * e; }"
            "else if (z < -18.0) { *l = -z; *g = -y; }"
            "else { *l = log1p(exp(-z)); *g = -y / (1.0 + exp(z)); }")
    epsilon: float = 0.0


@njit(inline="always", nogil=True, cache=True)
def _modified_huber(p, y, eps):
    z = p * y
    if z >= 1.0:
        return 0.0, 0.0
    if z >= -1.0:
        return (1.0 - z) * (1.0 - z), -2.0 * y * (1.0 - z)
    return -4.0 * z, -4.0 * y


@dataclass(frozen=True)
class ModifiedHuber(Loss):
    """:math:`\\max(0, 1 - z)^2` for :math:`z \\ge -1`, :math:`-4z` below."""

    name = "modified_huber"
    margin = True
    takes = ()
    _kernel = _modified_huber
    cuda = ("double z = p * y;"
            "if (z >= 1.0) { *l = 0.0; *g = 0.0; }"
            "else if (z >= -1.0) { *l = (1.0 - z) * (1.0 - z); *g = -2.0 * y * (1.0 - z); }"
            "else { *l = -4.0 * z; *g = -4.0 * y; }")
    epsilon: float = 0.0


@njit(inline="always", nogil=True, cache=True)
def _perceptron(p, y, eps):
    z = p * y
    # at z = 0 too, as scikit-learn's (a hinge at threshold 0): from the zero model every sample steps
    if z <= 0.0:
        return -z, -y
    return 0.0, 0.0


@dataclass(frozen=True)
class Perceptron(Loss):
    """:math:`\\max(0, -z)`, the perceptron's criterion (scikit-learn's ``SGDClassifier(loss='perceptron')``)."""

    name = "perceptron"
    margin = True
    takes = ()
    # no curvature: the hinge's step
    step_curvature = 0.25
    _kernel = _perceptron
    cuda = "double z = p * y; if (z <= 0.0) { *l = -z; *g = -y; } else { *l = 0.0; *g = 0.0; }"
    epsilon: float = 0.0


@dataclass(frozen=True)
class SoftmaxLogLoss(Loss):
    """The softmax cross-entropy of the K outputs at once, :math:`\\log \\sum_k e^{p_k} - p_y` (``multi_class=
    'multinomial'``). Not a ``loss`` choice and not a function of one output's score: the CPU kernels take it as
    their ``margin`` code ``kernels._loss.SOFTMAX`` (``_kernel`` is the log loss's only so that the kernels'
    argument types stay those of a margin loss), and the GPU kernels do not take it."""

    margin = 2  # skpar.kernels._loss.SOFTMAX
    takes = ()
    # the softmax's Hessian in the scores has eigenvalues at most 1/2
    step_curvature = 0.5
    _kernel = _log_loss
    epsilon: float = 0.0

    def zero_model_loss(self, n_outputs):
        """The loss of a sample at the zero model: every class has the same score."""
        return float(np.log(n_outputs))


def _for_classes(cls):
    """The classifiers' twin of the regression loss ``cls``: the same function and CUDA text, of ``p`` and ``y`` in
    {-1, +1} (a function of the margin there, see the module's docstring), registered in
    :data:`CLASSIFIER_LOSSES` under the same name."""
    twin = type(f"{cls.__name__}ForClasses", (cls,), {
        "margin": True, "__module__": __name__, "__qualname__": f"{cls.__name__}ForClasses",
        "__doc__": f"{cls.__doc__.rstrip('.')}, ``y`` in {{-1, +1}}: scikit-learn's ``SGDClassifier(loss="
                   f"{cls.name!r})``."})
    return dataclass(frozen=True)(twin)


# module names, so that a plan carrying one pickles
SquaredErrorForClasses = _for_classes(SquaredError)
HuberForClasses = _for_classes(Huber)
EpsilonInsensitiveForClasses = _for_classes(EpsilonInsensitive)
SquaredEpsilonInsensitiveForClasses = _for_classes(SquaredEpsilonInsensitive)


def make_loss(name, *, classification=False, **params) -> Loss:
    """The loss called ``name`` (a classifier's with ``classification``), built from the estimator's parameters
    (``epsilon=...``, ...)."""
    return (CLASSIFIER_LOSSES if classification else LOSSES)[name].from_params(**params)


#: the ``loss`` choices of the regressor and of the classifiers, in the order defined
REGRESSION_LOSSES = tuple(n for n, c in LOSSES.items() if not c.margin)
CLASSIFICATION_LOSSES = tuple(CLASSIFIER_LOSSES)
