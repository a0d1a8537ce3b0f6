"""Bad input for every estimator, as a user would produce it: a fit either succeeds with finite coefficients or raises
a ValueError/TypeError whose message names the problem. Generated cases come from hypothesis.

The cases that take the ``container`` fixture run twice: on NumPy/SciPy data on the thread backend, and on the same
data as dask collections fitted on a 2-worker LocalCluster, where the checks run on the workers that hold the chunks.
Every check of a NumPy input must hold for the dask input too.
"""

import math
import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

MAKERS = {
    "sgd_regressor": lambda: ParallelSGDRegressor(max_iter=2, tol=None, n_jobs=2, random_state=0),
    "sgd_classifier": lambda: AveragedSGDClassifier(max_iter=2, tol=None, n_jobs=2, random_state=0),
    "shotgun_lasso": lambda: ShotgunLasso(alpha=0.01, max_iter=50, n_jobs=2, random_state=0),
    "dca_svm": lambda: DualCoordinateAscentSVM(max_iter=5, n_jobs=2, random_state=0),
}
CLASSIFIERS = {"sgd_classifier", "dca_svm"}
NAMES = sorted(MAKERS)
SLOW_OK = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class Local:
    """Data as the user built it (NumPy, SciPy sparse), fitted on threads."""

    kind = "numpy"

    def data(self, a):
        return a

    def make(self, name):
        return MAKERS[name]()


class OnCluster:
    """The same data as dask arrays of two row chunks (scipy.sparse chunks for sparse X), fitted on a LocalCluster."""

    kind = "dask"

    def __init__(self, client):
        self.client = client

    def data(self, a):
        if a is None or np.ndim(a) == 0:
            return a
        rows = max(1, math.ceil(a.shape[0] / 2))
        chunks = (rows,) + tuple(a.shape[1:])
        return da.from_array(a, chunks=chunks, asarray=not sp.issparse(a))

    def make(self, name):
        return MAKERS[name]().set_params(client=self.client)


@pytest.fixture(params=["numpy", "dask"])
def container(request):
    """How the bad input reaches the estimator: local arrays on threads, or dask collections on a LocalCluster."""
    if request.param == "numpy":
        return Local()
    return OnCluster(request.getfixturevalue("cluster_client"))


def _targets(name, X, rng):
    if name in CLASSIFIERS:
        y = (rng.random(X.shape[0]) > 0.5).astype(int)
        y[:2] = [0, 1][: len(y[:2])]  # both classes present
        return y
    return rng.normal(size=X.shape[0])


def _fit(name, X, y, container=None, *, sample_weight=None, **params):
    c = container or Local()
    kw = {} if sample_weight is None else {"sample_weight": sample_weight}
    with warnings.catch_warnings():
        # an overflow or an invalid value in skpar's code is numerical garbage even where the coefficients end
        # finite (scikit-learn's label check casts NaN labels with a warning of its own before it raises)
        warnings.filterwarnings("error", category=RuntimeWarning, module=r"skpar\.")
        warnings.simplefilter("ignore", ConvergenceWarning)  # the makers' fits are short on purpose
        kw = {k: c.data(v) for k, v in kw.items()}
        return c.make(name).set_params(**params).fit(c.data(X), c.data(y), **kw)


def _finite(est):
    return np.isfinite(est.coef_).all() and np.isfinite(est.intercept_).all()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, **SLOW_OK)
@given(n=st.integers(3, 30), d=st.integers(1, 5), bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       where=st.sampled_from(["X", "sparse_X", "y"]), seed=st.integers(0, 2**16))
def test_non_finite_values_are_named(name, n, d, bad, where, seed, container):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = _targets(name, X, rng).astype(float)
    if where == "y":
        y[rng.integers(n)] = bad
    else:
        X[rng.integers(n), rng.integers(d)] = bad
    if where == "sparse_X":
        X = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="NaN|infinity|[Uu]nknown label|continuous"):
        _fit(name, X, y, container)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, **SLOW_OK)
@given(n=st.integers(2, 30), extra=st.integers(1, 5))
def test_mismatched_lengths_are_named(name, n, extra, container):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 2))
    y = _targets(name, np.ones((n + extra, 1)), rng)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _fit(name, X, y, container)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, **SLOW_OK)
@given(scale=st.sampled_from([1e-30, 1e-8, 1.0, 1e8, 1e30, 1e150, 1e300]), n=st.integers(4, 40),
       d=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_extreme_magnitudes_fit_finite_or_raise_clearly(name, scale, n, d, seed, container):
    """Every magnitude whose squares float64 holds fits, with finite coefficients and no overflow on the way; past
    that (about 1.3e154) the fit refuses X and says why, where a solver's second moments would have been inf."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * scale
    y = _targets(name, X, rng)
    if not np.isfinite(X.ravel() @ X.ravel()):
        with pytest.raises(ValueError, match="Input X has values too large to square in float64"):
            _fit(name, X, y, container)
        return
    est = _fit(name, X, y, container)
    assert _finite(est)
    assert np.isfinite(est.decision_function(X) if name in CLASSIFIERS else est.predict(X)).all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("X, err, match", [
    (np.empty((0, 3)), ValueError, "0 sample"),
    (np.empty((3, 0)), ValueError, "0 feature"),
    (np.array([["a", "b"], ["c", "d"], ["e", "f"]], dtype=object), ValueError, "could not convert|dtype|numeric"),
    (np.ones((3, 2)) + 1j, ValueError, "[Cc]omplex"),
], ids=["no-rows", "no-columns", "strings", "complex"])
def test_unusable_arrays_are_named(name, X, err, match, container):
    y = np.array([0, 1, 0][: X.shape[0]]) if X.shape[0] else np.array([])
    if container.kind == "dask" and X.dtype == object:
        err = (ValueError, TypeError)  # a dask array of strings is refused by dtype, before any value is read
    with pytest.raises(err, match=match):
        _fit(name, X, y, container)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_label_problems_are_named(name, container):
    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValueError, match="class"):
        _fit(name, X, np.zeros(6), container)
    with pytest.raises((ValueError, TypeError), match="[Uu]nknown label|mix|type|sort|str"):
        _fit(name, X, np.array([1, "a", 2, "b", 1, "a"], dtype=object), container)
    with pytest.raises(ValueError, match="continuous|[Uu]nknown label"):
        _fit(name, X, np.linspace(0, 1, 6), container)
    y = np.array([0.0, 1.0, np.nan, 0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        _fit(name, X, y, container)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["one-sample", "one-feature", "constant-feature", "int", "bool", "readonly",
                                  "noncontiguous", "explicit-zeros", "unsorted-indices", "float32"])
def test_odd_but_valid_input_fits(name, kind):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    if kind == "one-sample":
        X = X[:1]
    elif kind == "one-feature":
        X = X[:, :1]
    elif kind == "constant-feature":
        X[:, 1] = 7.0
    elif kind == "int":
        X = np.round(X * 3).astype(np.int64)
    elif kind == "bool":
        X = X > 0
    elif kind == "readonly":
        X.setflags(write=False)
    elif kind == "noncontiguous":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    elif kind == "float32":
        X = X.astype(np.float32)
    y = _targets(name, np.asarray(X, dtype=float), rng)
    if kind == "one-sample" and name in CLASSIFIERS:
        with pytest.raises(ValueError, match="class"):
            _fit(name, X, y[:1] * 0)
        return
    if kind in ("explicit-zeros", "unsorted-indices"):
        Xs = sp.csr_matrix(X)
        if kind == "explicit-zeros":
            Xs = sp.csr_matrix((np.append(Xs.data, 0.0), np.append(Xs.indices, 0),
                                np.append(Xs.indptr[:-1], Xs.indptr[-1] + 1)), shape=X.shape)
            Xs.indptr[-1] = len(Xs.data)
        else:
            order = np.concatenate([np.arange(a, b)[::-1] for a, b in zip(Xs.indptr[:-1], Xs.indptr[1:],
                                                                            strict=True)])
            Xs = sp.csr_matrix((Xs.data[order], Xs.indices[order], Xs.indptr), shape=X.shape)
        est = _fit(name, Xs, y)
        assert _finite(est)
        ref = _fit(name, X, y)
        if name in ("shotgun_lasso", "dca_svm"):  # deterministic solvers: the same answer as on dense input
            np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
        return
    est = _fit(name, X, y)
    assert _finite(est)
    assert est.predict(X).shape == (X.shape[0],)
    plain = np.ascontiguousarray(X, dtype=np.float64)
    if kind in ("int", "bool", "readonly", "noncontiguous"):  # the same numbers as a float64 C array: its model
        ref = _fit(name, plain, y)  # (to rounding: BLAS sums strided memory in another order)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-12, atol=1e-15)
    elif kind == "float32" and name != "sgd_classifier":  # SGD's float32 path is compared in test_dtypes...
        ref = _fit(name, plain, y)
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
    elif kind == "constant-feature" and name in ("sgd_regressor", "shotgun_lasso"):
        assert abs(np.ravel(est.coef_)[1]) < 1e-10  # centred away with the intercept: no weight on it
    elif kind == "one-sample" and name == "shotgun_lasso":  # (the regressor runs SGD on so few rows)
        np.testing.assert_allclose(est.predict(X), y, rtol=1e-12)  # the intercept is the one target


#: the exact solvers' settings where a test compares two fits' models (the makers' short fits stop anywhere)
TIGHT = {"sgd_regressor": {}, "shotgun_lasso": dict(tol=1e-12, max_iter=5000),
         "dca_svm": dict(tol=1e-12, max_iter=5000), "sgd_classifier": {}}


def _separable_targets(name, X):
    return (X @ np.array([1.0, -1.0, 0.5][: X.shape[1]]) > 0).astype(int) if name in CLASSIFIERS else \
        X @ np.arange(1.0, X.shape[1] + 1) + 0.5


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("chunks", [(60,), (30, 0, 30), (1,) * 3 + (57,)], ids=["one-chunk", "empty-chunk",
                                                                             "tiny-chunks"])
def test_dask_partitions_of_any_size(name, chunks):
    """Chunks of any size, empty ones among them, give the local fit's model: the exact solvers its optimum, SGD
    its model on the same blocks where the chunks are the blocks a local fit cuts."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    y = _separable_targets(name, X)
    est = _fit(name, da.from_array(X, chunks=(chunks, 3)), da.from_array(y, chunks=(chunks,)), **TIGHT[name])
    assert _finite(est)
    if name == "dca_svm":  # the primal is 1-strongly convex: each fit's certified gap bounds its distance to
        # the optimum, ||w - w*||^2 <= 2 (P - D)
        ref = _fit(name, X, y, **TIGHT[name])
        dist = np.linalg.norm(np.append(est.coef_, est.intercept_) - np.append(ref.coef_, ref.intercept_))
        radius = [np.sqrt(2 * max(e.history_[-1]["gap"], 0.0)) for e in (est, ref)]
        assert dist <= sum(radius) + 1e-12
    elif name != "sgd_classifier":
        ref = _fit(name, X, y, **TIGHT[name])
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-9)
    elif chunks != (1,) * 3 + (57,):  # blocks of 60 rows, or 30 and 30 (the empty chunk is no block)
        ref = _fit(name, X, y, n_blocks=len([c for c in chunks if c]))
        np.testing.assert_array_equal(est.coef_, ref.coef_)
    else:  # four blocks of 1, 1, 1 and 57 rows: no local fit cuts those; the same problem solved
        assert est.score(X, y) >= 0.9


@pytest.mark.parametrize("name", NAMES)
def test_more_workers_than_rows(name):
    """Eight threads, or eight blocks, on three rows: the empty blocks take no part, and the model is the one a
    single thread fits on the same blocks. No warning but the short fits' ConvergenceWarning."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 2))
    y = _targets(name, X, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MAKERS[name]().set_params(n_jobs=8).fit(X, y)
        assert _finite(est)
        eight = MAKERS[name]().set_params(n_jobs=8, n_blocks=8).fit(X, y)
        one = MAKERS[name]().set_params(n_jobs=1, n_blocks=8).fit(X, y)
    np.testing.assert_array_equal(eight.coef_, one.coef_)
    np.testing.assert_array_equal(eight.intercept_, one.intercept_)


@pytest.mark.parametrize("name", NAMES)
def test_dask_array_from_a_dataframe_with_unknown_chunk_sizes(name):
    """``ddf.to_dask_array()`` has unknown (NaN) chunk sizes: named, with the fix (``lengths=True``), which fits."""
    import dask.dataframe as dd
    import pandas as pd

    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 3))
    y = _targets(name, X, rng)
    ddf = dd.from_pandas(pd.DataFrame(X, columns=list("abc")).assign(y=y), npartitions=3)
    Xd, yd = ddf[list("abc")].to_dask_array(), ddf["y"].to_dask_array()
    assert np.isnan(Xd.shape[0])
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        _fit(name, Xd, yd)
    est = _fit(name, ddf[list("abc")].to_dask_array(lengths=True), ddf["y"].to_dask_array(lengths=True),
               **TIGHT[name])
    assert _finite(est)
    if name in ("sgd_regressor", "shotgun_lasso"):  # exact solvers: the local optimum
        np.testing.assert_allclose(est.coef_, _fit(name, X, y, **TIGHT[name]).coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_negative_sample_weights_are_named(name, container):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = _targets(name, X, rng)
    sw = np.ones(40)
    sw[31] = -0.5  # in the second chunk of the dask array
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        _fit(name, X, y, container, sample_weight=sw)


def _methods(est):
    return [m for m in ("predict", "decision_function", "predict_proba") if hasattr(est, m)]


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_values_at_predict_are_named(name, container):
    """predict, decision_function, predict_proba and score refuse NaN as fit does; on dask input the lazy result
    raises when computed (the chunks are checked where they are)."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3))
    y = _targets(name, X, rng)
    est = _fit(name, X, y, container)
    Xbad = X.copy()
    Xbad[33, 2] = np.nan
    Xb = container.data(Xbad)
    for method in _methods(est):
        with pytest.raises(ValueError, match="NaN"):
            out = getattr(est, method)(Xb)
            if container.kind == "dask":
                out.compute()
    with pytest.raises(ValueError, match="NaN"):
        est.score(Xb, container.data(y))


@pytest.mark.parametrize("name", NAMES)
def test_reordered_dataframe_columns_are_named(name, container):
    """A frame whose columns come in another order than at fit is refused with scikit-learn's message, for
    pandas and dask dataframes alike, in every method that reads X."""
    import dask.dataframe as dd
    import pandas as pd

    rng = np.random.default_rng(7)
    df = pd.DataFrame(rng.normal(size=(40, 3)), columns=list("abc"))
    y = _targets(name, df.to_numpy(), rng)
    frame = (lambda f: f) if container.kind == "numpy" else (lambda f: dd.from_pandas(f, npartitions=2))
    est = container.make(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(frame(df), container.data(y))
    assert list(est.feature_names_in_) == list("abc")
    swapped = frame(df[["c", "b", "a"]])
    for method in _methods(est):
        with pytest.raises(ValueError, match="feature names should match"):
            getattr(est, method)(swapped)
    renamed = frame(df.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(renamed)
    if hasattr(est, "partial_fit"):
        with pytest.raises(ValueError, match="feature names should match"):
            est.partial_fit(swapped, container.data(y))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [1e20, 1e30])
def test_large_float32_values_fit_as_their_float64_copy(name, scale):
    """float32 squares overflow past 1.8e19; the kernels square in float64, so float32 data of that magnitude fits
    as its float64 copy does (a row norm squared in float32 once made SGD's step 0: a zero model, said nowhere)."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 3))
    y = _separable_targets(name, X)
    X32 = (X * scale).astype(np.float32)
    est32 = _fit(name, X32, y, **TIGHT[name])
    est64 = _fit(name, X32.astype(np.float64), y, **TIGHT[name])
    assert _finite(est32)
    assert est32.score(X32, y) == pytest.approx(est64.score(X32.astype(np.float64), y), abs=0.02)
    assert est32.score(X32, y) > 0.9
