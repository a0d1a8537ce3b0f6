"""Bad input gets a clear error naming the problem; good input of odd kinds fits."""

import re
import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skpar import ParallelSGDRegressor

from .conftest import ridge_objective, ridge_optimum

FAST = dict(max_iter=2, tol=None, n_jobs=2, random_state=0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 40),
    d=st.integers(1, 6),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
    where=st.sampled_from(["X", "y", "sparse_X"]),
    seed=st.integers(0, 2**16),
)
def test_non_finite_input_is_named(n, d, bad, where, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    i, j = rng.integers(n), rng.integers(d)
    if where == "y":
        y[i] = bad
    else:
        X[i, j] = bad
    if where == "sparse_X":
        X = sp.csr_matrix(X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        ParallelSGDRegressor(**FAST).fit(X, y)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 30), extra=st.integers(1, 5))
def test_mismatched_lengths(n, extra):
    X, y = np.ones((n, 2)), np.ones(n + extra)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ParallelSGDRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        ParallelSGDRegressor(**FAST).fit(X, y[:n], sample_weight=np.ones(n + extra))


@settings(max_examples=25, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 25), st.integers(1, 5)),
                elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_any_finite_input_gives_the_ridge_optimum(X):
    """Any finite X (repeated, constant or tiny columns among what hypothesis draws): the default solver's exact
    ridge optimum where it solves exactly, progress from the start where it runs SGD; not only finite numbers."""
    y = X.sum(axis=1) if X.shape[0] > 1 else np.ones(1)
    reg = ParallelSGDRegressor(**FAST).fit(X, y)
    assert np.isfinite(reg.coef_).all() and np.isfinite(reg.intercept_).all()
    if reg.solver_ == "cholesky":  # 'auto' where rows outnumber features
        w, b = ridge_optimum(X, y, reg.alpha)
        scale = 1.0 + np.abs(y).max()
        np.testing.assert_allclose(reg.predict(X), X @ w + b, rtol=1e-6, atol=1e-6 * scale)
    else:  # SGD's two epochs (FAST) end no worse than the zero model they start from
        start = ridge_objective(X, y, np.zeros(X.shape[1]), 0.0, reg.alpha)
        assert ridge_objective(X, y, reg.coef_, reg.intercept_[0], reg.alpha) <= start * (1 + 1e-12) + 1e-12


@pytest.mark.parametrize("X, err, match", [
    (np.empty((0, 3)), ValueError, "0 sample"),
    (np.empty((3, 0)), ValueError, "0 feature"),
    (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "could not convert|dtype"),
    (np.ones((3, 2)) + 1j, ValueError, "[Cc]omplex"),
])
def test_bad_arrays(X, err, match):
    with pytest.raises(err, match=match):
        ParallelSGDRegressor(**FAST).fit(X, np.ones(X.shape[0]))


def test_negative_sample_weight():
    with pytest.raises(ValueError, match="[Nn]egative"):
        ParallelSGDRegressor(**FAST).fit(np.ones((4, 2)), np.ones(4), sample_weight=[1, -1, 1, 1])


def test_dask_unknown_chunks_are_named():
    X = da.from_array(np.random.default_rng(0).normal(size=(100, 3)), chunks=50)
    X = X[X[:, 0] > -10]  # boolean indexing: chunk sizes become unknown
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        ParallelSGDRegressor(**FAST).fit(X, np.ones(100))


def test_dask_nan_found_in_its_block():
    Xn = np.random.default_rng(0).normal(size=(100, 3))
    Xn[70, 1] = np.nan
    X = da.from_array(Xn, chunks=(50, 3))
    with pytest.raises(ValueError, match="NaN or infinity.*block 1"):
        ParallelSGDRegressor(**FAST).fit(X, da.ones(100, chunks=50))


def test_dask_complex_and_object_rejected():
    with pytest.raises(ValueError, match="Complex"):
        ParallelSGDRegressor(**FAST).fit(da.ones((10, 2), dtype=complex), np.ones(10))
    with pytest.raises(ValueError, match="inconsistent"):
        ParallelSGDRegressor(**FAST).fit(da.ones((10, 2), chunks=5), np.ones(9))


@pytest.mark.parametrize("kind", ["int", "bool", "readonly", "fortran", "csc", "noncontiguous"])
def test_odd_but_valid_inputs_fit(kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ np.arange(1, 5) + 1
    if kind == "int":
        X = np.round(X * 3).astype(np.int64)
        y = X @ np.arange(1, 5) + 1
    elif kind == "bool":
        X = X > 0
        y = X @ np.arange(1, 5) + 1.0
    elif kind == "readonly":
        X.setflags(write=False)
    elif kind == "fortran":
        X = np.asfortranarray(X)
    elif kind == "csc":
        X = sp.csc_matrix(X)
    elif kind == "noncontiguous":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    reg = ParallelSGDRegressor(n_jobs=2, random_state=0, max_iter=100).fit(X, y)
    assert reg.score(X, y) > 0.95


@pytest.mark.parametrize("params, match", [
    (dict(batch_size=0), "batch_size"),
    (dict(local_steps=0), "local_steps"),
    (dict(scaling_rule="cubic"), "scaling_rule"),
    (dict(client="nowhere"), "client"),
    (dict(eta0=-1.0), "eta0"),
    (dict(mode="fast"), "mode"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        ParallelSGDRegressor(**params).fit(np.ones((4, 2)), np.ones(4))


@pytest.mark.parametrize("n", [1000, (1 << 22) + 7], ids=["einsum", "blas"])
def test_squares_past_float64_are_found_on_both_paths(n):
    """The overflow check sums squares by einsum below SQUARES_BLAS_VALUES and on BLAS's threads above: both find
    one value whose square overflows, in a dense array, an F-ordered one and a CSR matrix's stored values."""
    from skpar._dtypes import SQUARES_BLAS_VALUES, check_squares_finite

    assert (n >= SQUARES_BLAS_VALUES) == (n > 1000)
    x = np.ones(n)
    check_squares_finite("X", x)  # fine
    x[n // 2] = 2e154  # its square, 4e308, overflows
    for arr in (x, np.asfortranarray(x.reshape(-1, 1)), sp.csr_matrix(x.reshape(1, -1))):
        with pytest.raises(ValueError, match=r"Input X has values too large to square in float64 \(largest "
                                             r"magnitude 2e\+154\)"):
            check_squares_finite("X", arr)
    check_squares_finite("X", np.full(n, 3e38, dtype=np.float32))  # float32 squares, summed in float64, never do


@pytest.mark.parametrize("y", [
    np.array([0.0, 1.0, 1.0, 0.0]), np.array([-1.0, 1.0, 1.0]), np.array([3, 1, 2, 2]), np.array([True, False, True]),
    np.array([0.0, 0.5, 1.0]), np.array([0.0, np.nan, 1.0]), np.array([0.0, np.inf, 1.0]), np.array([0.0, 1e300]),
    np.array([0.0, 2.0 ** 60]), np.array(["b", "a", "b"]), np.array([1.0, 2.0, 3.0], dtype=np.float32),
    np.array([-7, 5, -7, 0]), np.array([0, 2 ** 40, 3]), np.array([-(2 ** 63), 2 ** 63 - 1]),
    np.array([4.0, -2.0, 4.0, 1.0]),
], ids=lambda y: f"{y.dtype}:{y.tolist()}")
def test_label_check_is_scikit_learns(y):
    """The classifiers' label check (``_classifier_mixin._checked_labels``) reads 1-D numbers off their distinct
    values; it accepts exactly what scikit-learn's ``check_classification_targets`` accepts, with its labels, and
    raises scikit-learn's error where that refuses."""
    from sklearn.utils.multiclass import check_classification_targets

    from skpar.linear_model._classifier_mixin import _checked_labels

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # scikit-learn casts inf and 1e300 to int
            check_classification_targets(y)
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _checked_labels(y)
        return
    labels = _checked_labels(y)
    assert labels is None or (np.array_equal(labels, np.unique(y)) and labels.dtype == np.unique(y).dtype)


@pytest.mark.parametrize("classes, y", [
    (np.array([0, 1]), np.array([1, 0, 0, 1])),
    (np.array([-7, 0, 5]), np.array([5, -7, 0, 0])),
    (np.array([-1.0, 1.0]), np.array([1.0, -1.0, -1.0])),
    (np.array([0, 2 ** 40]), np.array([2 ** 40, 0])),  # a span too wide for a table: searchsorted
    (np.array([0.5, 1.5]), np.array([1.5, 0.5])),  # not integers: searchsorted
    (np.array([1, 2, 3]), np.array([3.0, 1.0, 2.0])),  # float labels of integer classes (a later partial_fit)
], ids=str)
def test_label_codes_are_the_sorted_classes_positions(classes, y):
    """Class indices through a table (integer labels within a span) or by binary search are the positions of the
    labels in the sorted classes, as float64; a label that is not a class raises, naming the classes."""
    from skpar.linear_model._classifier_mixin import _encode_labels

    codes = _encode_labels(y, classes)
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(codes, np.searchsorted(classes, y))
    for stranger in (classes[-1] + 1, classes[0] - 1, (classes[0] + classes[-1]) / 2 + 0.25):
        with pytest.raises(ValueError, match="labels not in classes_"):
            _encode_labels(np.append(y, stranger).astype(np.result_type(y, type(stranger))), classes)


def _scrambled(X, fmt, seed=0):
    """``X`` in ``fmt`` with each row's (CSR) or column's (CSC) stored values in a random order: the same matrix,
    not in canonical format."""
    rng = np.random.default_rng(seed)
    M = X.asformat(fmt).copy()
    for k in range(M.indptr.shape[0] - 1):
        a, b = M.indptr[k], M.indptr[k + 1]
        p = rng.permutation(b - a)
        M.indices[a:b], M.data[a:b] = M.indices[a:b][p], M.data[a:b][p]
    M.has_sorted_indices = False
    return M


@pytest.mark.parametrize("fmt", ["csr", "csc", "dense_f32_fortran", "dense_f64"])
def test_fit_leaves_the_callers_arrays_as_they_were(fmt):
    """No estimator changes the arrays it is given, not even into an equal matrix: a CSC matrix whose columns'
    values are not sorted was sorted in place by ShotgunLasso's column statistics before (its copy is sorted now)."""
    from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ShotgunLasso

    rng = np.random.default_rng(0)
    A = sp.random(300, 25, density=0.3, format="csr", random_state=0)
    y = rng.standard_normal(300)
    labels = (y > 0).astype(int)
    if fmt.startswith("dense"):
        X = np.asfortranarray(A.toarray(), dtype=np.float32) if fmt == "dense_f32_fortran" else A.toarray()
        parts = lambda M: (M,)  # noqa: E731
    else:
        X = _scrambled(A, fmt)
        parts = lambda M: (M.data, M.indices, M.indptr)  # noqa: E731
    weights = rng.uniform(0.5, 2.0, size=300)
    before = [p.copy() for p in (*parts(X), y, labels, weights)]
    for est, target in [(ShotgunLasso(alpha=0.01), y), (ParallelSGDRegressor(), y), (AveragedSGDClassifier(), labels),
                        (AveragedSGDClassifier(loss="log_loss"), labels), (DualCoordinateAscentSVM(), labels)]:
        est.fit(X, target, sample_weight=weights)
        for old, now in zip(before, (*parts(X), y, labels, weights), strict=True):
            assert now.dtype == old.dtype and np.array_equal(now, old), type(est).__name__
        if sp.issparse(X):
            assert not X.has_sorted_indices
