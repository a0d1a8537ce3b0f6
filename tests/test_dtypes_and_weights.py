"""What every estimator keeps the same on threads and on Dask: float32 data fitted and predicted in float32, sample
weights (as a dask array beside a dask X, on a LocalCluster), class weights with one-shot averaging, and predictions
on a dask DataFrame."""

import warnings

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

ESTIMATORS = {
    "regressor": (ParallelSGDRegressor, dict()),
    "classifier": (AveragedSGDClassifier, dict()),
    "svm": (DualCoordinateAscentSVM, dict()),
    "lasso": (ShotgunLasso, dict(alpha=0.01)),
}
CLASSIFIERS = {"classifier", "svm"}


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0]) + 0.3 * rng.normal(size=600) + 1.0
    return X, y, (y > np.median(y)).astype(int), rng.uniform(0.2, 3.0, size=600)


def _fit(name, scheduler, X, y, sample_weight=None, **params):
    est, kw = ESTIMATORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est(random_state=0, client=scheduler, **kw, **params).fit(X, y, sample_weight=sample_weight)


def _local(a):
    return a.compute() if hasattr(a, "compute") else a


@pytest.mark.parametrize("dask_input", [False, True], ids=["numpy", "dask"])
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_float32_is_kept_through_fit_and_predict(problem, scheduler, name, dask_input):
    """float32 X gives float32 coefficients, intercepts and scores, on threads and on a LocalCluster, NumPy or
    dask; the model is the same fit's on float64 data, to float32's precision (and the solver's tolerance)."""
    X, y, labels, _ = problem
    t = labels if name in CLASSIFIERS else y
    X32 = X.astype(np.float32)
    wrap = (lambda a: da.from_array(a, chunks=300)) if dask_input else (lambda a: a)
    est = _fit(name, scheduler, wrap(X32), wrap(t))
    assert est.coef_.dtype == np.float32
    assert np.asarray(est.intercept_).dtype == np.float32
    scores = _local(est.decision_function(wrap(X32)) if name in CLASSIFIERS else est.predict(wrap(X32)))
    assert scores.dtype == np.float32
    ref = _fit(name, scheduler, wrap(X), wrap(t))  # the same fit on float64 data (the same solver and blocks)
    ref_scores = _local(ref.decision_function(wrap(X)) if name in CLASSIFIERS else ref.predict(wrap(X)))
    if name == "classifier":  # SGD: float32 rows take other rounding along the way; the same decisions
        assert (np.sign(scores) == np.sign(ref_scores)).mean() > 0.97
    else:
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-3, atol=1e-3 * np.abs(ref_scores).max())


#: solved tightly, so that two fits agree to the optimum's precision and not to a stopping rule's
TIGHT = {"regressor": dict(), "classifier": dict(), "svm": dict(tol=1e-10, max_iter=5000),
         "lasso": dict(tol=1e-10, max_iter=5000)}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_sample_weight_on_dask_is_the_local_fit_with_those_weights(problem, cluster_client, name):
    """A dask array of weights beside a dask X on a LocalCluster: the model of the weighted local fit on the same
    two blocks, and not the unweighted one."""
    X, y, labels, sw = problem
    t = labels if name in CLASSIFIERS else y
    kw = dict(n_blocks=2, **TIGHT[name])
    chunks = 300  # the two row blocks a local fit with n_blocks=2 cuts
    est = _fit(name, cluster_client, da.from_array(X, chunks=chunks), da.from_array(t, chunks=chunks),
               sample_weight=da.from_array(sw, chunks=chunks), **kw)
    local = _fit(name, "threads", X, t, sample_weight=sw, **kw)
    plain = _fit(name, "threads", X, t, **kw)
    gap = np.linalg.norm(np.append(est.coef_, est.intercept_) - np.append(local.coef_, local.intercept_))
    if name == "svm":  # CoCoA+ on the cluster, Newton here: the primal is 1-strongly convex, so the dual's
        # certified gap bounds the distance to the optimum, ||w - w*||^2 <= 2 (P(w) - D(alpha))
        assert gap <= np.sqrt(2 * max(est.history_[-1]["gap"], 0.0)) + 1e-9
    else:
        np.testing.assert_allclose(est.coef_, local.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(est.intercept_, local.intercept_, rtol=1e-6, atol=1e-8)
    assert np.linalg.norm(local.coef_ - plain.coef_) > 100 * max(gap, 1e-9)  # the weights did change the model


def test_class_weight_with_oneshot_averaging(problem):
    """One-shot averaging, where each block fits alone, applies class weights as periodic rounds do: 'balanced'
    equals the explicit weights of n / (2 n_c), and weighting class 1 up moves the decisions towards it."""
    X, _, labels, _ = problem
    imbalanced = np.where(np.arange(len(labels)) % 5 == 0, 1, 0)  # a fifth of the rows in class 1
    y = np.where(labels == 1, imbalanced, 0)
    kw = dict(averaging="oneshot", n_jobs=2, random_state=0, max_iter=30, tol=None)
    counts = np.bincount(y)
    balanced = AveragedSGDClassifier(class_weight="balanced", **kw).fit(X, y)
    explicit = AveragedSGDClassifier(class_weight={c: len(y) / (2 * counts[c]) for c in (0, 1)}, **kw).fit(X, y)
    np.testing.assert_array_equal(balanced.coef_, explicit.coef_)
    plain = AveragedSGDClassifier(**kw).fit(X, y)
    heavy = AveragedSGDClassifier(class_weight={0: 1.0, 1: 20.0}, **kw).fit(X, y)
    assert (heavy.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    assert heavy.decision_function(X).mean() > plain.decision_function(X).mean()


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_predict_on_a_dask_dataframe(problem, scheduler, name):
    """A model fitted on a pandas DataFrame predicts a dask DataFrame with the same columns lazily, row chunk by
    row chunk, with the values it gives the pandas frame."""
    X, y, labels, _ = problem
    t = labels if name in CLASSIFIERS else y
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = _fit(name, scheduler, frame, t)
    ddf = dd.from_pandas(frame, npartitions=3)
    out = est.predict(ddf)
    assert hasattr(out, "compute")  # lazy
    np.testing.assert_array_equal(_local(out), est.predict(frame))
    if name in CLASSIFIERS:
        np.testing.assert_allclose(_local(est.decision_function(ddf)), est.decision_function(frame), rtol=1e-12)
    assert est.score(ddf, t) == pytest.approx(est.score(frame, t), rel=1e-12)
