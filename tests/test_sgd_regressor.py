"""ParallelSGDRegressor: scikit-learn API, agreement with the exact ridge optimum, backends, dask input."""

import dask.array as da
import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_regression
from sklearn.linear_model import SGDRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpar import ParallelSGDRegressor
from skpar.exceptions import CriticalBatchSizeWarning, DivergenceWarning

from .conftest import ridge_objective, ridge_optimum

EXPECTED_FAILED = {
    # SGD visits rows in mini-batches of a shuffled order: a row of weight 2 is not the same as two copies of the
    # row (scikit-learn marks its own SGDRegressor the same way)
    "check_sample_weight_equivalence_on_dense_data": "SGD: weight 2 differs from a repeated row in a shuffled pass",
    "check_sample_weight_equivalence_on_sparse_data": "SGD: weight 2 differs from a repeated row in a shuffled pass",
}


EXPECTED_FAILED_CHOLESKY = {
    # the objective is a mean over rows, (1/n) sum s_i l_i + penalty, as SGDRegressor's: two copies of a row make
    # n one larger, a weight of 2 does not, so the penalty weighs differently (Ridge's sum form has no n)
    check: "the mean over rows counts a repeated row, not a weight" for check in EXPECTED_FAILED}


@parametrize_with_checks([ParallelSGDRegressor(n_jobs=2, solver="sgd"),
                          ParallelSGDRegressor(n_jobs=2, solver="cholesky")],
                         expected_failed_checks=lambda est: EXPECTED_FAILED if est.solver == "sgd"
                         else EXPECTED_FAILED_CHOLESKY)
def test_sklearn_api(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, d = 4000, 12
    cov = np.diag(np.logspace(0, -2, d))
    X = rng.normal(size=(n, d)) @ np.sqrt(cov)
    w = rng.normal(size=d)
    y = X @ w + 0.3 * rng.normal(size=n) + 2.0
    return X, y


def _sparse(X, rng):
    Xs = X.copy()
    Xs[rng.random(X.shape) < 0.5] = 0.0
    return sp.csr_matrix(Xs)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("local_steps", ["epoch", 1])
def test_reaches_exact_ridge_optimum(data, sparse, local_steps):
    X, y = data
    if sparse:
        X = _sparse(X, np.random.default_rng(1))
    alpha = 1e-3
    w, b = ridge_optimum(X, y, alpha)
    f_star = ridge_objective(X, y, w, b, alpha)
    # an all-reduced step of 2 x 64 rows runs at the saturated step 1/(2 lambda_max): average once the bias is gone
    batch, average = (16, True) if local_steps == "epoch" else (64, 10 * len(y))
    reg = ParallelSGDRegressor(solver="sgd", alpha=alpha, learning_rate="constant", average=average, max_iter=30,
                               tol=None, batch_size=batch, local_steps=local_steps, n_jobs=2, random_state=0).fit(X, y)
    f = ridge_objective(X, y, reg.coef_, reg.intercept_[0], alpha)
    assert (f - f_star) / f_star < 1e-3
    # and it really is an SGD answer, not the exact solve
    assert f > f_star


def test_sample_weight_objective(data):
    X, y = data
    sw = np.random.default_rng(3).uniform(0.2, 3.0, size=len(y))
    alpha = 1e-3
    w, b = ridge_optimum(X, y, alpha, sw)
    f_star = ridge_objective(X, y, w, b, alpha, sw)
    reg = ParallelSGDRegressor(solver="sgd", alpha=alpha, learning_rate="constant", average=True, max_iter=30, tol=None,
                               n_jobs=2, random_state=0).fit(X, y, sample_weight=sw)
    f = ridge_objective(X, y, reg.coef_, reg.intercept_[0], alpha, sw)
    assert (f - f_star) / f_star < 1e-3
    unweighted = ParallelSGDRegressor(solver="sgd", alpha=alpha, learning_rate="constant", average=True, max_iter=30,
                                      tol=None, n_jobs=2, random_state=0).fit(X, y)
    assert ridge_objective(X, y, unweighted.coef_, unweighted.intercept_[0], alpha, sw) > f


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("local_steps", ["epoch", 3])
def test_threads_and_cluster_agree(data, cluster_client, sparse, local_steps):
    X, y = data
    if sparse:
        X = _sparse(X, np.random.default_rng(1))
    kw = dict(max_iter=4, tol=None, average=5, random_state=7, local_steps=local_steps, early_stopping=False)
    a = ParallelSGDRegressor(solver="sgd", n_jobs=2, client="threads", **kw).fit(X, y)
    b = ParallelSGDRegressor(solver="sgd", n_blocks=2, client=cluster_client, **kw).fit(X, y)
    assert a.n_blocks_ == b.n_blocks_ == 2
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12, atol=0)
    assert a.t_ == b.t_
    assert [h["objective"] for h in a.history_] == pytest.approx([h["objective"] for h in b.history_], rel=1e-12)


def test_one_local_step_is_synchronous_minibatch_sgd(data):
    """local_steps=1 over 2 blocks equals mini-batch SGD on the global batch made of both blocks' batches."""
    X, y = data
    X, y = X[:256], y[:256]
    reg = ParallelSGDRegressor(solver="sgd", learning_rate="constant", average=False, eta0=0.01, scaling_rule=None,
                               local_steps=1, batch_size=4, max_iter=1, tol=None, alpha=0.0, n_jobs=2, random_state=0,
                               warmup=0).fit(X, y)
    assert reg.t_ == 1 + 256  # scikit-learn's count: the samples seen (32 steps of 4 rows on each of 2 blocks)
    from skpar.backend import make_block
    from skpar.linear_model._sgd_base import _seed

    blocks = [make_block(X[:128], y[:128], None, 0, 0, 0.0), make_block(X[128:], y[128:], None, 1, 0, 0.0)]
    orders = [blk.epoch_order(_seed(reg._base_seed, 3, 0)) + 128 * k for k, blk in enumerate(blocks)]
    w, b = np.zeros(X.shape[1]), 0.0
    for s in range(32):
        idx = np.concatenate([o[4 * s:4 * s + 4] for o in orders])
        g = X[idx] @ w + b - y[idx]
        w, b = w - 0.01 * X[idx].T @ g / 8, b - 0.01 * g.mean()
    np.testing.assert_allclose(reg.coef_, w, rtol=1e-10)


def test_pipeline_and_grid_search(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), ParallelSGDRegressor(n_jobs=2, random_state=0, max_iter=20))
    gs = GridSearchCV(pipe, {"parallelsgdregressor__alpha": [1e-4, 1e-1]}, cv=2).fit(X, y)
    assert gs.best_params_["parallelsgdregressor__alpha"] == 1e-4
    assert gs.score(X, y) > 0.9


def test_grid_search_under_joblib_dask(data, cluster_client):
    X, y = data
    gs = GridSearchCV(ParallelSGDRegressor(random_state=0, max_iter=20), {"alpha": [1e-4, 1.0]}, cv=2)
    with joblib.parallel_backend("dask", client=cluster_client):
        gs.fit(X, y)
    assert gs.best_params_["alpha"] == 1e-4
    assert gs.best_score_ > 0.9


def test_dask_array_input_and_lazy_predict(data, scheduler):
    X, y = data
    Xd, yd = da.from_array(X, chunks=(1000, 5)), da.from_array(y, chunks=1000)
    reg = ParallelSGDRegressor(client=scheduler, random_state=0, max_iter=20).fit(Xd, yd)
    assert reg.n_blocks_ == 4
    pred = reg.predict(Xd)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), reg.predict(X), rtol=1e-12)
    assert reg.score(X, y) > 0.95


def test_dask_dataframe_input(data, scheduler):
    import dask.dataframe as dd
    import pandas as pd

    X, y = data
    df = dd.from_pandas(pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]), npartitions=3)
    reg = ParallelSGDRegressor(client=scheduler, random_state=0, max_iter=20).fit(df, y)
    assert list(reg.feature_names_in_) == list(df.columns)
    assert reg.n_blocks_ == 3
    assert reg.score(X, y) > 0.95


def test_float32_stays_float32(data):
    X, y = data
    reg = ParallelSGDRegressor(solver="sgd", n_jobs=2, random_state=0, max_iter=5).fit(X.astype(np.float32), y)
    assert reg.coef_.dtype == np.float32 and reg.intercept_.dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_divergence_is_caught_and_halved(data):
    X, y = data
    reg = ParallelSGDRegressor(solver="sgd", eta0=1e3, learning_rate="constant", n_jobs=2, random_state=0, max_iter=5,
                               tol=None)
    with pytest.warns(DivergenceWarning, match="diverged"):
        reg.fit(X * 10, y)
    assert np.isfinite(reg.coef_).all()
    assert reg.learning_rate_ < 1e3
    assert reg.score(X * 10, y) > 0.9


def test_critical_batch_size_reported_and_warned(data):
    X, y = data
    reg = ParallelSGDRegressor(solver="sgd", n_jobs=2, random_state=0, max_iter=3, tol=None).fit(X, y)
    # E||x~||^2 / lambda_max of the augmented second moment, computed exactly here
    Xa = np.hstack([X, np.ones((len(X), 1))])
    lam = np.linalg.eigvalsh(Xa.T @ Xa / len(X))[-1]
    assert reg.critical_batch_size_ == pytest.approx((Xa ** 2).sum(1).mean() / lam, rel=1e-2)
    assert reg.critical_batch_size_ <= reg.critical_batch_size_upper_
    with pytest.warns(CriticalBatchSizeWarning):
        ParallelSGDRegressor(solver="sgd", n_jobs=2, local_steps=1, batch_size=1000, max_iter=1, tol=None).fit(X, y)


def test_partial_fit_continues_and_warm_start_starts_from_the_last_model(data):
    X, y = data
    kw = dict(n_jobs=2, random_state=0, tol=None, learning_rate="constant")
    full = ParallelSGDRegressor(solver="sgd", max_iter=4, **kw).fit(X, y)
    assert full.t_ == 1 + 4 * X.shape[0]  # scikit-learn's count, in samples
    # scikit-learn's warm start: a fit from the last coef_ and intercept_ (the direct solver's here), as from
    # coef_init, which runs SGD's epochs
    part = ParallelSGDRegressor(max_iter=2, warm_start=True, **kw).fit(X, y)
    assert part.solver_ != "sgd"
    start = (part.coef_.copy(), part.intercept_.copy())
    part.set_params(alpha=1e-2).fit(X, y)
    cold = ParallelSGDRegressor(max_iter=2, alpha=1e-2, **kw).fit(X, y, coef_init=start[0], intercept_init=start[1])
    assert part.solver_ == cold.solver_ == "sgd"
    np.testing.assert_array_equal(part.coef_, cold.coef_)
    assert part.t_ == cold.t_ == 1 + 2 * X.shape[0]
    inc = ParallelSGDRegressor(solver="sgd", **kw)
    for _ in range(4):
        inc.partial_fit(X, y)
    np.testing.assert_allclose(inc.coef_, full.coef_, rtol=1e-12)


def test_stops_on_tol_and_agrees_with_sklearn_sgd(data):
    X, y = data
    ours = ParallelSGDRegressor(solver="sgd", n_jobs=2, random_state=0).fit(X, y)
    theirs = SGDRegressor(random_state=0).fit(X, y)
    assert ours.n_iter_ < 1000
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), abs=2e-3)


def test_early_stopping_holds_out_rows(data):
    X, y = data
    reg = ParallelSGDRegressor(early_stopping=True, n_jobs=2, random_state=0, max_iter=200).fit(X, y)
    assert reg.n_iter_ < 200
    assert sum(h["n_samples"] for h in reg.history_ if h["epoch"] == 0) == pytest.approx(0.9 * len(y), abs=2)


@pytest.mark.parametrize("loss", ["huber", "epsilon_insensitive", "squared_epsilon_insensitive"])
def test_robust_losses_fit(data, loss):
    X, y = data
    yo = y.copy()
    yo[::50] += 50  # outliers
    reg = ParallelSGDRegressor(loss=loss, epsilon=0.5, n_jobs=2, random_state=0, max_iter=50, average=True,
                               learning_rate="constant").fit(X, yo)
    theirs = SGDRegressor(loss=loss, epsilon=0.5, random_state=0, max_iter=50, average=True).fit(X, yo)
    if loss != "squared_epsilon_insensitive":  # the squared loss is not robust to the outliers
        assert reg.score(X, y) > 0.9
    assert reg.score(X, y) > theirs.score(X, y) - 0.02


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("q", [0.2, 0.8])
def test_quantile_loss_reaches_quantile_regressions_optimum(q, sparse):
    """``loss='quantile'`` minimises the pinball loss: its mean is within 1e-3 of the linear program's optimum
    (QuantileRegressor without penalty), the coefficients agree, and a share ``q`` of the targets lies below the
    predictions, on heteroscedastic data where every quantile has its own slope."""
    from sklearn.linear_model import QuantileRegressor

    from skpar._losses import make_loss

    rng = np.random.default_rng(0)
    n, d = 4000, 5
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + (1 + 0.5 * np.abs(X[:, 0])) * rng.normal(size=n)
    Xf = sp.csr_matrix(X) if sparse else X
    theirs = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
    ours = ParallelSGDRegressor(loss="quantile", quantile=q, alpha=1e-6, n_jobs=2, random_state=0).fit(Xf, y)
    pinball = make_loss("quantile", quantile=q)
    best = pinball.value(theirs.predict(X), y).mean()
    assert pinball.value(ours.predict(Xf), y).mean() <= best * (1 + 1e-3)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=0.03)
    assert (y <= ours.predict(Xf)).mean() == pytest.approx(q, abs=0.015)


def test_a_model_with_a_client_clones_pickles_and_searches(cluster_client):
    """A live client as a parameter blocks neither clone, pickle, joblib nor GridSearchCV (each raised "cannot pickle
    '_asyncio.Task' object"): a clone shares the client, a pickled model keeps no client and predicts the same."""
    import io
    import pickle

    from sklearn.base import clone

    from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ShotgunLasso

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = X @ rng.normal(size=5)
    yc = (y > 0).astype(int)
    for est, target in ((ParallelSGDRegressor(client=cluster_client, random_state=0), y),
                        (AveragedSGDClassifier(client=cluster_client, random_state=0), yc),
                        (ShotgunLasso(alpha=0.01, client=cluster_client), y),
                        (DualCoordinateAscentSVM(client=cluster_client), yc)):
        assert clone(est).client is cluster_client
        est.fit(X, target)
        loaded = pickle.loads(pickle.dumps(est))
        assert loaded.client is None and est.client is cluster_client
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        buffer = io.BytesIO()
        joblib.dump(est, buffer)
        buffer.seek(0)
        np.testing.assert_array_equal(joblib.load(buffer).predict(X), est.predict(X))
    search = GridSearchCV(ParallelSGDRegressor(client=cluster_client, random_state=0), {"alpha": [1e-4, 1e-2]},
                          cv=2).fit(X, y)
    assert search.best_estimator_.client is cluster_client and search.best_score_ > 0.9


def test_l1_gives_sparse_coefficients():
    X, y = make_regression(n_samples=3000, n_features=40, n_informative=5, noise=1.0, random_state=0)
    reg = ParallelSGDRegressor(penalty="l1", alpha=0.5, learning_rate="constant", max_iter=20, tol=None, n_jobs=2,
                               random_state=0).fit(X, y)
    assert (reg.coef_ == 0).sum() >= 30
    assert reg.score(X, y) > 0.95


# ---- solver='cholesky': the normal equations, one round ------------------------------------------------------------
def _short_sparse(n, d, per_row, rng):
    """Sparse rows of ``per_row`` non-zeros: the compiled pairs path (a fuller matrix is densified by chunks)."""
    cols = np.array([rng.choice(d, per_row, replace=False) for _ in range(n)])
    return sp.csr_matrix((rng.normal(size=n * per_row) + 3.0, cols.ravel(), np.arange(0, n * per_row + 1, per_row)),
                         shape=(n, d))


@pytest.mark.parametrize("kind", ["dense", "float32", "sparse_short", "sparse_full"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
def test_cholesky_is_the_exact_ridge_optimum(data, kind, weighted, fit_intercept):
    X, y = data
    rng = np.random.default_rng(5)
    X = X + 50.0  # means far from 0: the scatters are taken about them
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "sparse_short":
        X = _short_sparse(len(y), 40, 3, rng)
        y = X @ rng.normal(size=40) + rng.normal(size=len(y))
    elif kind == "sparse_full":
        X = sp.csr_matrix(X)
    sw = rng.uniform(0.0, 3.0, size=len(y)) if weighted else None
    alpha = 1e-3
    reg = ParallelSGDRegressor(alpha=alpha, fit_intercept=fit_intercept, n_jobs=3).fit(X, y, sample_weight=sw)
    assert reg.solver_ == "cholesky" and reg.n_blocks_ == 3 and reg.n_iter_ == 1
    if fit_intercept:
        w, b = ridge_optimum(X.astype(np.float64), y, alpha, sw)
    else:
        Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        s = np.ones(len(y)) if sw is None else sw
        w, b = np.linalg.solve((Xd * s[:, None]).T @ Xd / len(y) + alpha * np.eye(Xd.shape[1]),
                               (Xd * s[:, None]).T @ y / len(y)), 0.0
    rtol = 1e-4 if kind == "float32" else 1e-8
    np.testing.assert_allclose(reg.coef_, w, rtol=rtol, atol=rtol * np.abs(w).max())
    assert reg.intercept_[0] == pytest.approx(b, rel=rtol, abs=rtol)
    assert reg.coef_.dtype == X.dtype
    f = ridge_objective(X.astype(np.float64), y, w, b, alpha, sw)
    assert reg.history_[0]["objective"] == pytest.approx(f, rel=1e-8)


def test_cholesky_blocks_larger_than_a_chunk(data, monkeypatch):
    """A block is centred and multiplied a chunk of rows at a time: many chunks give the one-chunk answer."""
    from skpar.parallel import _normal_equations

    X, y = data
    one = ParallelSGDRegressor(n_jobs=1).fit(X, y)
    monkeypatch.setattr(_normal_equations, "SCATTER_VALUES", 7 * X.shape[1])  # 7 rows a chunk
    many = ParallelSGDRegressor(n_jobs=2).fit(X, y)
    np.testing.assert_allclose(many.coef_, one.coef_, rtol=1e-10)
    assert many.history_[0]["objective"] == pytest.approx(one.history_[0]["objective"], rel=1e-12)


def test_cholesky_without_penalty_is_least_squares_even_when_singular(data):
    from sklearn.linear_model import LinearRegression

    X, y = data
    X = np.hstack([X, X[:, :2]])  # two columns repeated: the system is singular, the least-norm solution is unique
    reg = ParallelSGDRegressor(penalty=None, n_jobs=2).fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert reg.intercept_[0] == pytest.approx(ref.intercept_, rel=1e-8)


def test_cholesky_threads_and_cluster_agree(data, cluster_client):
    X, y = data
    a = ParallelSGDRegressor(n_jobs=2, client="threads").fit(X, y)
    b = ParallelSGDRegressor(client=cluster_client).fit(da.from_array(X, chunks=(1000, 12)), da.from_array(y, 1000))
    assert a.solver_ == b.solver_ == "cholesky"
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)


@pytest.mark.parametrize("kw, solver", [
    ({}, "cholesky"),
    ({"penalty": None}, "cholesky"),
    ({"loss": "huber"}, "sgd"),
    ({"penalty": "l1"}, "sgd"),
    ({"penalty": "elasticnet"}, "sgd"),
    ({"mode": "async"}, "sgd"),
    ({"early_stopping": True, "tol": 1e-3}, "sgd"),
    ({"solver": "sgd"}, "sgd"),
])
def test_auto_picks_cholesky_where_it_runs(data, kw, solver):
    X, y = data
    reg = ParallelSGDRegressor(**{"n_jobs": 2, "max_iter": 3, "tol": None, "random_state": 0, **kw}).fit(X, y)
    assert reg.solver_ == solver
    assert hasattr(reg, "learning_rate_") == (solver == "sgd")


def test_auto_weighs_the_rows_against_the_features():
    rng = np.random.default_rng(0)
    kw = dict(n_jobs=1, max_iter=2, tol=None, random_state=0)
    # more features than rows: SGD
    assert ParallelSGDRegressor(**kw).fit(rng.normal(size=(50, 80)), rng.normal(size=50)).solver_ == "sgd"
    # dense rows of many features: SGD's epochs cost less than the products
    X = rng.normal(size=(600, 513))
    assert ParallelSGDRegressor(**kw).fit(X, rng.normal(size=600)).solver_ == "sgd"
    # sparse rows: short ones pay, long ones (a mean squared length over 20 times the mean length) do not
    assert ParallelSGDRegressor(**kw).fit(_short_sparse(3000, 300, 4, rng), rng.normal(size=3000)).solver_ \
        == "cholesky"
    long_rows = _short_sparse(3000, 300, 60, rng)
    assert ParallelSGDRegressor(**kw).fit(long_rows, rng.normal(size=3000)).solver_ == "sgd"
    assert ParallelSGDRegressor(solver="cholesky", n_jobs=1).fit(long_rows, rng.normal(size=3000)).solver_ \
        == "cholesky"


@pytest.mark.parametrize("kw, reason", [
    ({"loss": "huber"}, "loss='huber'"),
    ({"penalty": "l1"}, "penalty='l1'"),
    ({"mode": "hogwild"}, "mode='hogwild'"),
    ({"early_stopping": True}, "early_stopping"),
])
def test_cholesky_refuses_what_it_cannot_solve(data, kw, reason):
    X, y = data
    with pytest.raises(ValueError, match=f"cannot run with {reason}"):
        ParallelSGDRegressor(solver="cholesky", **kw).fit(X, y)


def test_partial_fit_after_cholesky_continues_from_the_solution(data):
    X, y = data
    reg = ParallelSGDRegressor(n_jobs=2, random_state=0).fit(X, y)
    exact = reg.coef_.copy()
    reg.partial_fit(X, y)
    assert reg.solver_ == "sgd" and reg.t_ > 0
    # one epoch of SGD steps, averaged with the solution: it stays near it (a fresh epoch is far from it)
    drift = np.abs(reg.coef_ - exact).max()
    fresh = ParallelSGDRegressor(n_jobs=2, random_state=0).partial_fit(X, y)
    assert drift < 0.1 * np.abs(fresh.coef_ - exact).max()


def test_sparse_blocks_reach_the_l2_optimum_where_each_feature_is_in_few_blocks():
    """Sparse rows whose features are local to a range of rows (words of one stretch of a file): on 16 blocks most
    features are in a few blocks' rows only. Their feature-by-feature average kept all of those blocks' steps but
    one block's share of the l2 shrink, so the fit settled where the penalty was weaker (2.3e-1 from the optimum in
    relative distance after 64 epochs, the objective 3.8e-2 above it and rising); with the shrink of the steps it
    was given (``held_feature_decay``) it stays at one block's noise floor's order (8.9e-2, 6.7e-3)."""
    rng = np.random.default_rng(0)
    n, d, per = 3200, 800, 5
    cols = np.clip((np.arange(n) / n * d).astype(int)[:, None] + rng.integers(-20, 21, size=(n, per)), 0, d - 1)
    X = sp.csr_matrix((rng.uniform(0.5, 1.5, n * per), cols.ravel(), np.arange(0, n * per + 1, per)), shape=(n, d))
    X.sum_duplicates()
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    alpha = 1e-2
    w, b = ridge_optimum(X, y, alpha)
    best = ridge_objective(X, y, w, b, alpha)
    est = ParallelSGDRegressor(solver="sgd", alpha=alpha, n_blocks=16, tol=None, max_iter=64,
                               random_state=0).fit(X, y)
    assert (ridge_objective(X, y, est.coef_, est.intercept_[0], alpha) - best) / best < 1e-2
    assert np.linalg.norm(est.coef_ - w) / np.linalg.norm(w) < 0.12
