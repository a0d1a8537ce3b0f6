"""``SGDClassifier`` and ``SGDRegressor``: skpar's two SGD estimators with scikit-learn's defaults, to swap in for
scikit-learn's own.

``AveragedSGDClassifier`` and ``ParallelSGDRegressor`` default to what is fast on many cores (mini-batches of 16
with a linearly scaled step, Polyak averaging, an exact solver where one is cheaper, blocks counted from the data).
Whoever replaces ``sklearn.linear_model.SGDClassifier`` in existing code expects its steps instead: one sample a
step, scikit-learn's schedules, no averaging, SGD whatever the data, one sequence of steps over all the rows. These
two classes are those estimators with those defaults and nothing else: every parameter, the kernels and the
backends are theirs, so a drop-in fit moves to blocks, threads, a Dask cluster or a GPU by setting parameters
(``n_blocks``, ``batch_size``, ``mode``, ``client``), never by changing class.
"""

from __future__ import annotations

import re

from ._sgd_classifier import AveragedSGDClassifier
from ._sgd_regressor import ParallelSGDRegressor

#: the defaults that make skpar's steps scikit-learn's (both estimators): a sample a step, no scaling rule or
#: warm-up, no average, SGD on any data, all rows one block
DROPIN_DEFAULTS = {"average": "False", "batch_size": "1", "scaling_rule": "None", "warmup": "0.0",
                   "solver": "'sgd'", "n_blocks": "1", "eta0": "0.01"}


#: scikit-learn's ``SPARSE_INTERCEPT_DECAY``: its SGD steps the intercept by a hundredth of its step on sparse rows,
#: and both drop-ins do the same (the base class's ``_sparse_intercept_decay``)
SPARSE_INTERCEPT_DECAY = 0.01

def _dropin_doc(parent, head, defaults, examples):
    """``parent``'s docstring from its Parameters on, with the ``default=`` of each name in ``defaults`` rewritten,
    under ``head`` and over ``examples`` (the parent's See Also, Notes and Examples are the parent's)."""
    doc = parent.__doc__
    body = doc[doc.index("    Parameters\n"):doc.index("    See Also\n")]
    for name, value in defaults.items():
        body, n = re.subn(rf"(\n    {name} : [^\n]*default=)[^\n]*", lambda m, v=value: m.group(1) + v, body,
                          count=1)
        if n != 1:  # a parameter renamed in the parent's docstring must be renamed here too
            raise AssertionError(f"{parent.__name__}'s docstring has no default for {name}")
    return head + "\n" + body + examples


class SGDClassifier(AveragedSGDClassifier):
    __doc__ = _dropin_doc(AveragedSGDClassifier, """A drop-in for scikit-learn's ``SGDClassifier``, step for step:
    :class:`~skpar.AveragedSGDClassifier` with scikit-learn's defaults.

    Minimises scikit-learn's :class:`~sklearn.linear_model.SGDClassifier` objective, one binary problem per class,

    .. math::

        \\min_{w_k, b_k} \\; \\frac{1}{n} \\sum_{i=1}^n s_i\\, c_{ik}\\, \\ell(y_{ik} (x_i^\\top w_k + b_k))
        + \\alpha \\Big(\\frac{1 - \\rho}{2} \\|w_k\\|_2^2 + \\rho \\|w_k\\|_1\\Big),

    by scikit-learn's steps: one sample a step (``batch_size=1``), ``learning_rate='optimal'``, no averaging
    (``average=False``), no scaling rule nor warm-up, SGD on any data (``solver='sgd'``) and all the rows in one
    block (``n_blocks=1``), so that ``n_jobs`` does not change the model. With ``shuffle=False`` its epochs equal
    scikit-learn's to rounding, and scikit-learn's own SGD tests pass with this class in place of its own but for
    the differences listed in ``docs/benchmarks.md`` ("A drop-in": the l1 step, the step's cap at ``1 / alpha``);
    with shuffling the order of the rows is drawn by skpar, so the
    iterates differ while the objective is the same. Early stopping holds out scikit-learn's split of the rows.

    The class is :class:`~skpar.AveragedSGDClassifier` with other defaults and scikit-learn's damping of the
    intercept's step on sparse CPU rows (by 0.01), and nothing else: to fit on several
    cores, set ``n_blocks`` (blocks whose models are averaged) and ``batch_size`` (steps of a mini-batch, the step
    scaled with ``scaling_rule``); ``mode``, ``client`` and CuPy or dask input work as they do there. Its defaults
    are fast on many cores instead.
""", {**DROPIN_DEFAULTS, "learning_rate": "'optimal'"}, """    See Also
    --------
    skpar.AveragedSGDClassifier : The same estimator, with defaults for speed on many cores.
    sklearn.linear_model.SGDClassifier : The estimator this one stands in for.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skpar import SGDClassifier
    >>> X, y = make_classification(n_samples=2000, n_features=20, random_state=0)
    >>> clf = SGDClassifier(random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.8
    True
    """)

    # the parent's parameters in the parent's order (its docstring's), scikit-learn's defaults where it has them
    _sparse_intercept_decay = SPARSE_INTERCEPT_DECAY

    def __init__(self, loss="hinge", *, multi_class="ovr", penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, n_iter_no_change=5, early_stopping=False,
                 validation_fraction=0.1, learning_rate="optimal", eta0=0.01, power_t=0.5, epsilon=0.1,
                 class_weight=None, warm_start=False, average=False, random_state=None, verbose=0,
                 averaging="periodic", mode="sync", max_staleness=1, replica_steps=None, batch_size=1,
                 local_steps="epoch", combine="line_search", scaling_rule=None, warmup=0.0, solver="sgd", n_blocks=1,
                 n_jobs=None, client=None, callback=None):
        super().__init__(
            loss=loss, multi_class=multi_class, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            fit_intercept=fit_intercept, max_iter=max_iter, tol=tol, shuffle=shuffle,
            n_iter_no_change=n_iter_no_change, early_stopping=early_stopping, validation_fraction=validation_fraction,
            learning_rate=learning_rate, eta0=eta0, power_t=power_t, epsilon=epsilon, class_weight=class_weight,
            warm_start=warm_start, average=average, random_state=random_state, verbose=verbose, averaging=averaging,
            mode=mode, max_staleness=max_staleness, replica_steps=replica_steps, batch_size=batch_size,
            local_steps=local_steps, combine=combine, scaling_rule=scaling_rule, warmup=warmup, solver=solver,
            n_blocks=n_blocks, n_jobs=n_jobs, client=client, callback=callback)


class SGDRegressor(ParallelSGDRegressor):
    __doc__ = _dropin_doc(ParallelSGDRegressor, """A drop-in for scikit-learn's ``SGDRegressor``, step for step:
    :class:`~skpar.ParallelSGDRegressor` with scikit-learn's defaults.

    Minimises scikit-learn's :class:`~sklearn.linear_model.SGDRegressor` objective,

    .. math::

        \\min_{w, b} \\; \\frac{1}{n} \\sum_{i=1}^n s_i \\, \\ell(x_i^\\top w + b, y_i)
        + \\alpha \\Big(\\frac{1 - \\rho}{2} \\|w\\|_2^2 + \\rho \\|w\\|_1\\Big),

    by scikit-learn's steps: one sample a step (``batch_size=1``), ``learning_rate='invscaling'`` from
    ``eta0=0.01``, no averaging (``average=False``), no scaling rule nor warm-up, SGD on any data
    (``solver='sgd'``; :class:`~skpar.ParallelSGDRegressor` solves small dense problems exactly) and all the rows in
    one block (``n_blocks=1``). With ``shuffle=False`` its epochs equal scikit-learn's to rounding; with shuffling
    the order of the rows is drawn by skpar. Early stopping holds out scikit-learn's split of the rows.

    The class is :class:`~skpar.ParallelSGDRegressor` with other defaults and scikit-learn's damping of the
    intercept's step on sparse CPU rows (by 0.01), and nothing else: set ``n_blocks`` and
    ``batch_size`` to fit on several cores; ``mode``, ``client`` and CuPy or dask input work as they do there.
""", {**DROPIN_DEFAULTS, "learning_rate": "'invscaling'"}, """    See Also
    --------
    skpar.ParallelSGDRegressor : The same estimator, with defaults for speed on many cores.
    sklearn.linear_model.SGDRegressor : The estimator this one stands in for.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skpar import SGDRegressor
    >>> X, y = make_regression(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    >>> reg = SGDRegressor(random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """)

    _sparse_intercept_decay = SPARSE_INTERCEPT_DECAY

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, epsilon=0.1, quantile=0.5, random_state=None,
                 learning_rate="invscaling", eta0=0.01, power_t=0.25, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, warm_start=False, average=False, verbose=0, mode="sync", max_staleness=1,
                 replica_steps=None, batch_size=1, local_steps="epoch", combine="line_search", scaling_rule=None,
                 warmup=0.0, solver="sgd", n_blocks=1, n_jobs=None, client=None, callback=None):
        super().__init__(
            loss=loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
            max_iter=max_iter, tol=tol, shuffle=shuffle, epsilon=epsilon, quantile=quantile,
            random_state=random_state, learning_rate=learning_rate, eta0=eta0, power_t=power_t,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, warm_start=warm_start, average=average, verbose=verbose, mode=mode,
            max_staleness=max_staleness, replica_steps=replica_steps, batch_size=batch_size,
            local_steps=local_steps, combine=combine, scaling_rule=scaling_rule, warmup=warmup, solver=solver,
            n_blocks=n_blocks, n_jobs=n_jobs, client=client, callback=callback)
