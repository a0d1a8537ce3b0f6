"""ShotgunLasso: scikit-learn's Lasso optimum, the duality-gap certificate, P* on the Shotgun paper's data."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpar import ShotgunLasso, shotgun_lasso_path
from skpar.datasets import load_mug32
from skpar.linear_model import alpha_max


@parametrize_with_checks([ShotgunLasso(alpha=0.1, n_jobs=2)])
def test_sklearn_api(estimator, check):
    check(estimator)


def lasso_objective(X, y, w, b, alpha, l1_ratio=1.0, s=None):
    s = np.ones(len(y)) if s is None else s * len(y) / s.sum()
    r = y - X @ w - b
    return 0.5 * np.mean(s * r * r) + alpha * l1_ratio * np.abs(w).sum() + 0.5 * alpha * (1 - l1_ratio) * w @ w


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    n, d = 600, 300
    X = rng.standard_normal((n, d)) @ np.diag(np.linspace(0.5, 2, d))
    X[:, 1] = X[:, 0] + 0.1 * rng.standard_normal(n)  # a correlated pair
    w = np.zeros(d)
    w[:15] = rng.standard_normal(15) * 3
    y = X @ w + 0.5 * rng.standard_normal(n) + 2
    return X, y


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("working_set", [True, False])
def test_matches_sklearn_lasso_with_certificate(problem, sparse, working_set):
    X, y = problem
    if sparse:
        X = sp.csr_matrix(np.where(np.random.default_rng(1).random(X.shape) < 0.6, 0.0, X))
    alpha = 0.05 * alpha_max(X, y)
    ref = Lasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, y)
    ours = ShotgunLasso(random_state=0, alpha=alpha, tol=1e-10, working_set=working_set, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    f = lasso_objective(X, y, ours.coef_, ours.intercept_, alpha)
    f_ref = lasso_objective(X, y, ref.coef_, ref.intercept_, alpha)
    # the gap certifies the suboptimality (up to rounding)
    assert f - f_ref <= ours.dual_gap_ + 1e-12
    assert ours.dual_gap_ <= 1e-10 * np.var(y)
    if not sparse:  # a sparse solution (the sparsified design fits more noise)
        assert (ours.coef_ != 0).sum() < X.shape[1] / 3


def test_elastic_net_positive_and_weights(problem):
    X, y = problem
    sw = np.random.default_rng(2).uniform(0.2, 3, len(y))
    for kw in [dict(l1_ratio=0.5), dict(l1_ratio=1.0, positive=True), dict(l1_ratio=1.0)]:
        ref = ElasticNet(alpha=0.1, tol=1e-10, max_iter=100_000, **kw).fit(X, y, sample_weight=sw)
        ours = ShotgunLasso(alpha=0.1, tol=1e-10, n_jobs=2, **kw).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    assert (ShotgunLasso(random_state=0, alpha=0.1, positive=True, n_jobs=2).fit(X, y).coef_ >= 0).all()


@pytest.fixture(scope="module")
def mug32():
    return load_mug32()  # shipped with skpar (from ../shared/data/Mug32_singlepixcam.mat), unit-norm columns


def test_mug32_shotgun_speedup_and_guard(mug32):
    """The paper's single-pixel-camera problem: P* ~ 158; P <= P* needs far fewer parallel steps than P = 1; P far
    past P* is caught by the guard and the fit still converges."""
    A, y = mug32
    d = A.shape[1]
    alpha = 0.05 * alpha_max(A, y, fit_intercept=False)
    kw = dict(alpha=alpha, fit_intercept=False, tol=1e-5, working_set=False, max_iter=5000, n_jobs=2,
              random_state=0)
    auto = ShotgunLasso(**kw).fit(A, y)
    assert 120 < d / auto.spectral_radius_ < 200  # the paper (and shared/data/README.md): 158
    one = ShotgunLasso(n_parallel=1, **kw).fit(A, y)
    pstar = ShotgunLasso(n_parallel=150, **kw).fit(A, y)
    steps = lambda est: est.history_[-1]["steps"]  # noqa: E731
    assert steps(pstar) * 20 < steps(one)
    wild = ShotgunLasso(n_parallel=d, **kw).fit(A, y)
    events = [h["event"] for h in wild.history_ if "event" in h]
    assert events and wild.n_parallel_ < d
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-10, max_iter=200_000).fit(A, y)
    f = lambda est: lasso_objective(A, y, est.coef_, 0.0, alpha)  # noqa: E731
    for est in (one, pstar, wild):
        assert f(est) - f(ref) <= est.dual_gap_ + 1e-12
        assert est.dual_gap_ <= 1e-5 * np.mean(y ** 2)


def test_threads_and_cluster_agree(problem, cluster_client):
    X, y = problem
    a = ShotgunLasso(random_state=0, alpha=0.2, tol=1e-12, n_jobs=2, client="threads").fit(X, y)
    b = ShotgunLasso(random_state=0, alpha=0.2, tol=1e-12, client=cluster_client, max_iter=5000).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    assert a.intercept_ == pytest.approx(b.intercept_, abs=1e-6)
    assert b.history_[-1]["gap"] <= 1e-12 * np.var(y) * 1.0001


def test_path_warm_starts(problem, monkeypatch):
    from skpar.linear_model import _shotgun_lasso

    calls, builds = [], []
    real = _shotgun_lasso.LassoData.spectral_radius
    monkeypatch.setattr(_shotgun_lasso.LassoData, "spectral_radius",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    build = _shotgun_lasso.LassoData.build
    monkeypatch.setattr(_shotgun_lasso.LassoData, "build", lambda *a, **k: builds.append(1) or build(*a, **k))
    X, y = problem
    alphas, coefs, gaps = shotgun_lasso_path(X, y, n_alphas=8, eps=1e-2, tol=1e-8, n_jobs=2)
    # one problem for the path's fits: X checked and its centred statistics (beside alpha_max's) and spectral
    # radius computed once, not at every alpha
    assert len(calls) == 1 and len(builds) == 2
    assert np.all(np.diff(alphas) < 0) and coefs.shape == (X.shape[1], 8)
    assert (coefs[:, 0] == 0).all()  # alpha_max
    nnz = (coefs != 0).sum(axis=0)
    assert nnz[-1] > nnz[1]
    ref = Lasso(alpha=alphas[-1], tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(coefs[:, -1], ref.coef_, atol=1e-5)


def test_path_refuses_a_negative_alpha(problem):
    X, y = problem
    with pytest.raises(ValueError, match="alphas must be finite and non-negative"):
        shotgun_lasso_path(X, y, alphas=[1.0, -0.5])


def test_path_on_a_dask_array_fits_alpha_by_alpha(problem, scheduler):
    """Where the fits do not run on one host problem (dask data, a cluster) the path fits alpha by alpha, to the same
    coefficients."""
    import dask.array as da
    X, y = problem
    alphas, ref, _ = shotgun_lasso_path(X, y, n_alphas=4, eps=1e-1, tol=1e-12, n_jobs=2)
    _, ours, gaps = shotgun_lasso_path(da.from_array(X, chunks=(200, 100)), da.from_array(y, chunks=200),
                                       alphas=alphas, tol=1e-12, max_iter=5000, client=scheduler)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert gaps.shape == (4,)


def test_pipeline_and_grid_search(problem):
    X, y = problem
    gs = GridSearchCV(make_pipeline(StandardScaler(), ShotgunLasso(random_state=0, n_jobs=2)),
                      {"shotgunlasso__alpha": [0.05, 50.0]}, cv=2).fit(X, y)
    assert gs.best_params_["shotgunlasso__alpha"] == 0.05


def test_dask_array_input(problem, scheduler):
    import dask.array as da
    X, y = problem
    ref = ShotgunLasso(random_state=0, alpha=0.2, tol=1e-12, n_jobs=2, client="threads").fit(X, y)
    Xd = da.from_array(X, chunks=(200, 100))
    ours = ShotgunLasso(random_state=0, alpha=0.2, tol=1e-12, max_iter=5000, client=scheduler).fit(
        Xd, da.from_array(y, chunks=200))
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    pred = ours.predict(Xd)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), ours.predict(X), rtol=1e-12)


def test_anderson_extrapolation_finds_the_fixed_point_of_a_linear_iteration():
    """The epochs of coordinate descent near the optimum are a linear fixed-point iteration; with more iterates than
    dimensions, Anderson's combination is that iteration's fixed point (to rounding)."""
    from skpar.parallel._shotgun import _Anderson

    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    A = Q @ np.diag([0.99, 0.95, 0.9, 0.5]) @ Q.T  # slow directions, as in an ill-conditioned problem
    b = rng.normal(size=4)
    fixed = np.linalg.solve(np.eye(4) - A, b)
    acc = _Anderson(5)
    x, out = np.zeros(4), None
    for _ in range(6):
        x = A @ x + b
        out = acc.push(x)
    assert np.linalg.norm(x - fixed) > 1.0  # six plain steps are still far away
    np.testing.assert_allclose(out, fixed, rtol=1e-6)


def test_threaded_column_statistics_and_working_set_copy(monkeypatch):
    # large dense X takes the compiled moments over fixed row chunks on the fit's threads: the same bits on four
    # threads as on one, NumPy's statistics to rounding; the working set's columns copied a range of rows a thread
    from concurrent.futures import ThreadPoolExecutor

    import skpar.parallel._lasso_data as ld
    from skpar.kernels import gather_columns

    rng = np.random.default_rng(5)
    X = rng.normal(size=(20_000, 60)) + 3.0
    y = X[:, :5] @ rng.normal(size=5) + rng.normal(size=20_000)
    sw = rng.uniform(0.5, 2.0, 20_000)
    monkeypatch.setattr(ld, "MOMENT_VALUES", 0)
    monkeypatch.setattr(ld, "MOMENT_ROWS", 1000)
    with ThreadPoolExecutor(4) as pool:
        four = ld.LassoData.build(X, y, sw, True, pool, 4)
    one = ld.LassoData.build(X, y, sw, True)
    assert np.array_equal(four.L, one.L) and np.array_equal(four.xbar, one.xbar)
    monkeypatch.setattr(ld, "MOMENT_VALUES", 1 << 62)
    ref = ld.LassoData.build(X, y, sw, True)
    np.testing.assert_allclose(four.xbar, ref.xbar, rtol=1e-12)
    np.testing.assert_allclose(four.L, ref.L, rtol=1e-10)
    ws = np.array([5, 3, 59, 0, 17], dtype=np.int64)
    out = np.empty((X.shape[0], ws.size), order="F")
    gather_columns(X, ws, 0, 7000, out)
    gather_columns(X, ws, 7000, X.shape[0], out)
    assert np.array_equal(out, X[:, ws])


def test_column_blocks_take_the_share_that_descends_most():
    """Hydra's line search (``_hydra.best_share``): the share in [0, 1] of the blocks' summed change that
    minimises the (elastic-net) objective along it, against a fine grid of the same line, l1 kinks included."""
    import types

    from skpar.parallel._hydra import best_share

    rng = np.random.default_rng(0)
    n, d = 60, 25

    def F(t, w, steps, s, r, D, l1, l2):  # the objective at each share of the array t
        t = np.atleast_1d(t)[:, None]
        v = w + t * steps
        return 0.5 * ((r - t * D) ** 2 @ s) / n + l1 * np.abs(v).sum(axis=1) + 0.5 * l2 * (v * v).sum(axis=1)

    grid = np.linspace(0.0, 1.0, 20_001)
    for _ in range(30):
        s = rng.uniform(0.5, 2.0, n)
        w = rng.normal(size=d) * (rng.uniform(size=d) < 0.6)
        steps = rng.normal(size=d) * (rng.uniform(size=d) < 0.7)
        steps[:3] = -w[:3]  # coordinates the blocks set to zero: kinks at the share 1
        r, D = rng.normal(size=n), rng.normal(size=n) * rng.uniform(0.1, 3.0)
        args = (w, steps, s, r, D, rng.uniform(0.0, 0.5), rng.uniform(0.0, 0.1))
        theta = best_share(types.SimpleNamespace(s=s, n=n), w, r, steps, D, *args[-2:])
        assert 0.0 <= theta <= 1.0
        assert F(theta, *args)[0] <= F(grid, *args).min() + 1e-12


@pytest.mark.parametrize("K", [8, 16])
def test_column_blocks_rounds_do_not_grow_with_the_blocks(mug32, K):
    """Column blocks whose changes of the prediction barely overlap take sigma' from that overlap and the line's
    best share, not CoCoA+'s sigma' = K: on Mug32 the rounds to the default gap stay within 2.5 times those of
    two blocks (with sigma' = K: 901 and 1,823 rounds against 183)."""
    X, y = mug32
    alpha = 0.1 * alpha_max(X, y)
    two = ShotgunLasso(alpha=alpha, n_blocks=2, random_state=0, max_iter=3000).fit(X, y)
    many = ShotgunLasso(alpha=alpha, n_blocks=K, random_state=0, max_iter=3000).fit(X, y)
    assert two.n_iter_ < 3000 and many.n_iter_ <= 2.5 * two.n_iter_

    def objective(est):
        r = y - X @ est.coef_ - est.intercept_
        return 0.5 * float(r @ r) / len(y) + alpha * float(np.abs(est.coef_).sum())

    assert objective(many) == pytest.approx(objective(two), rel=1e-3)  # each certified to the default gap


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_shotgun_steps_on_threads_give_the_one_thread_bits(sparse, monkeypatch):
    """The default fit's Shotgun steps shared over threads (steps of enough work; here every step, by lowering the
    bar) apply their changes and centring shift in the one-thread kernel's order: the same coefficients to the bit
    on 1, 2 and 3 threads (a NumPy dot for the shift once gave other bits from 2 threads on)."""
    import skpar.parallel._shotgun as shotgun

    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 600)) + 1.0  # uncentred columns: the shift is not zero
    if sparse:
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.9, 0.0, X))
    y = np.asarray(X[:, :20] @ rng.normal(size=20)).ravel() + rng.normal(size=400)
    kw = dict(alpha=0.02 * alpha_max(X, y), tol=1e-10, max_iter=50, random_state=0)
    monkeypatch.setattr(shotgun, "MIN_PARALLEL_WORK", 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = [ShotgunLasso(n_jobs=j, **kw).fit(X, y) for j in (1, 2, 3)]
    assert fits[0].n_parallel_ > 1  # Shotgun's steps, not sequential descent
    for other in fits[1:]:
        np.testing.assert_array_equal(other.coef_, fits[0].coef_)
        assert other.intercept_ == fits[0].intercept_


def test_blas_threads_do_not_change_the_model():
    """BLAS split a long product's sum over its threads, so alpha_max and the coefficients followed the machine's
    core count; the fit now holds BLAS to one thread and cuts its passes into row chunks fixed by n: the same bits
    with BLAS on one thread or on eight."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30_000, 120)) + 0.5
    y = X[:, :10] @ rng.normal(size=10) + rng.normal(size=30_000)
    out = []
    for threads in (1, 8):
        with threadpool_limits(threads):
            a = alpha_max(X, y)
            fit = ShotgunLasso(alpha=0.05 * a, n_jobs=2, random_state=0).fit(X, y)
        out.append((a, fit.coef_, fit.intercept_))
    assert out[0][0] == out[1][0]
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2]
