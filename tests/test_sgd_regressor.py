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


@parametrize_with_checks([ParallelSGDRegressor(n_jobs=2)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED)
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
    reg = ParallelSGDRegressor(alpha=alpha, learning_rate="constant", average=average, max_iter=30, tol=None,
                               batch_size=batch, local_steps=local_steps, n_jobs=2, random_state=0).fit(X, y)
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
    reg = ParallelSGDRegressor(alpha=alpha, learning_rate="constant", average=True, max_iter=30, tol=None,
                               n_jobs=2, random_state=0).fit(X, y, sample_weight=sw)
    f = ridge_objective(X, y, reg.coef_, reg.intercept_[0], alpha, sw)
    assert (f - f_star) / f_star < 1e-3
    unweighted = ParallelSGDRegressor(alpha=alpha, learning_rate="constant", average=True, max_iter=30, tol=None,
                                      n_jobs=2, random_state=0).fit(X, y)
    assert ridge_objective(X, y, unweighted.coef_, unweighted.intercept_[0], alpha, sw) > f


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("local_steps", ["epoch", 3])
def test_threads_and_cluster_agree(data, cluster_client, sparse, local_steps):
    X, y = data
    if sparse:
        X = _sparse(X, np.random.default_rng(1))
    kw = dict(max_iter=4, tol=None, average=5, random_state=7, local_steps=local_steps, early_stopping=False)
    a = ParallelSGDRegressor(n_jobs=2, client="threads", **kw).fit(X, y)
    b = ParallelSGDRegressor(client=cluster_client, **kw).fit(X, y)
    assert a.n_blocks_ == b.n_blocks_ == 2
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12, atol=0)
    assert a.t_ == b.t_
    assert [h["objective"] for h in a.history_] == pytest.approx([h["objective"] for h in b.history_], rel=1e-12)


def test_one_local_step_is_synchronous_minibatch_sgd(data):
    """local_steps=1 over 2 blocks equals mini-batch SGD on the global batch made of both blocks' batches."""
    X, y = data
    X, y = X[:256], y[:256]
    reg = ParallelSGDRegressor(learning_rate="constant", average=False, eta0=0.01, scaling_rule=None, local_steps=1,
                               batch_size=4, max_iter=1, tol=None, alpha=0.0, n_jobs=2, random_state=0,
                               warmup=0).fit(X, y)
    assert reg.t_ == 32  # 128 rows a block, 4 a step
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
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, y = data
    df = dd.from_pandas(pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]), npartitions=3)
    reg = ParallelSGDRegressor(client=scheduler, random_state=0, max_iter=20).fit(df, y)
    assert list(reg.feature_names_in_) == list(df.columns)
    assert reg.n_blocks_ == 3
    assert reg.score(X, y) > 0.95


def test_float32_stays_float32(data):
    X, y = data
    reg = ParallelSGDRegressor(n_jobs=2, random_state=0, max_iter=5).fit(X.astype(np.float32), y)
    assert reg.coef_.dtype == np.float32 and reg.intercept_.dtype == np.float32
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_divergence_is_caught_and_halved(data):
    X, y = data
    reg = ParallelSGDRegressor(eta0=1e3, learning_rate="constant", n_jobs=2, random_state=0, max_iter=5, tol=None)
    with pytest.warns(DivergenceWarning, match="diverged"):
        reg.fit(X * 10, y)
    assert np.isfinite(reg.coef_).all()
    assert reg.learning_rate_ < 1e3
    assert reg.score(X * 10, y) > 0.9


def test_critical_batch_size_reported_and_warned(data):
    X, y = data
    reg = ParallelSGDRegressor(n_jobs=2, random_state=0, max_iter=3, tol=None).fit(X, y)
    # E||x~||^2 / lambda_max of the augmented second moment, computed exactly here
    Xa = np.hstack([X, np.ones((len(X), 1))])
    lam = np.linalg.eigvalsh(Xa.T @ Xa / len(X))[-1]
    assert reg.critical_batch_size_ == pytest.approx((Xa ** 2).sum(1).mean() / lam, rel=1e-2)
    assert reg.critical_batch_size_ <= reg.critical_batch_size_upper_
    with pytest.warns(CriticalBatchSizeWarning):
        ParallelSGDRegressor(n_jobs=2, local_steps=1, batch_size=1000, max_iter=1, tol=None).fit(X, y)


def test_partial_fit_and_warm_start_continue(data):
    X, y = data
    kw = dict(n_jobs=2, random_state=0, tol=None, learning_rate="constant")
    full = ParallelSGDRegressor(max_iter=4, **kw).fit(X, y)
    part = ParallelSGDRegressor(max_iter=2, warm_start=True, **kw).fit(X, y)
    part.fit(X, y)
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-12)
    assert part.t_ == full.t_
    inc = ParallelSGDRegressor(**kw)
    for _ in range(4):
        inc.partial_fit(X, y)
    np.testing.assert_allclose(inc.coef_, full.coef_, rtol=1e-12)


def test_stops_on_tol_and_agrees_with_sklearn_sgd(data):
    X, y = data
    ours = ParallelSGDRegressor(n_jobs=2, random_state=0).fit(X, y)
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
