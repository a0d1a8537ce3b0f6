"""Step sizes far too large, in every SGD mode, and P far past P* for Shotgun: the fit notices, does what its
docstring says (go back, halve the step or P, warn; or stop with DivergenceError), and never hands out NaN."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skpar import AveragedSGDClassifier, ParallelSGDRegressor, ShotgunLasso
from skpar.exceptions import DivergenceError, DivergenceWarning

MODES = [
    pytest.param(dict(mode="sync"), id="sync"),
    pytest.param(dict(mode="sync", average=True), id="sync-averaged"),
    pytest.param(dict(mode="async"), id="async"),
    pytest.param(dict(mode="hogwild"), id="hogwild"),
]


def _regression(sparse=False):
    rng = np.random.default_rng(0)
    X = 10 * rng.normal(size=(2000, 8))
    if sparse:
        X = sp.random(2000, 40, density=0.2, random_state=0, format="csr", data_rvs=lambda k: 10 * rng.normal(size=k))
    w = rng.normal(size=X.shape[1])
    return X, np.asarray(X @ w).ravel()


def _classification():
    rng = np.random.default_rng(1)
    X = 10 * rng.normal(size=(2000, 8))
    return X, (X @ rng.normal(size=8) > 0).astype(int)


def _client(kind, cluster_client):
    return cluster_client if kind == "distributed" else "threads"


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kw", MODES)
def test_regressor_step_far_too_large_is_halved_until_it_fits(kw, sparse):
    X, y = _regression(sparse)
    reg = ParallelSGDRegressor(solver="sgd", eta0=1e3, learning_rate="constant", n_jobs=2, random_state=0,
                               max_iter=10, tol=None,
                               client="threads", **kw)
    with pytest.warns(DivergenceWarning, match="diverged"):
        reg.fit(X, y)
    assert np.isfinite(reg.coef_).all() and np.isfinite(reg.intercept_).all()
    assert reg.learning_rate_ < 1e3
    # every mode ends where the halved step converges: an epoch that swings counts as divergence (the rise and
    # swing tests, docs/user_guide/sgd.rst), so no mode's last epoch is mid-swing (under load on 2 cores: R^2 of
    # 0.99 and more in 8 runs of each mode)
    assert reg.score(X, y) > 0.9


@pytest.mark.parametrize("kw", [pytest.param(dict(mode="sync"), id="sync"), pytest.param(dict(mode="async"),
                                                                                          id="async")])
def test_regressor_divergence_on_a_cluster(kw, cluster_client):
    X, y = _regression()
    reg = ParallelSGDRegressor(solver="sgd", eta0=1e3, learning_rate="constant", random_state=0, max_iter=10, tol=None,
                               client=cluster_client, **kw)
    with pytest.warns(DivergenceWarning, match="diverged"):
        reg.fit(X, y)
    assert np.isfinite(reg.coef_).all()
    assert reg.score(X, y) > 0.9  # as on threads, above


@pytest.mark.parametrize("kw", MODES)
def test_a_step_no_halving_can_save_ends_with_divergence_error(kw):
    X, y = _regression()
    reg = ParallelSGDRegressor(solver="sgd", eta0=1e15, learning_rate="constant", n_jobs=2, random_state=0,
                               max_iter=3, tol=None,
                               client="threads", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        with pytest.raises(DivergenceError, match="halved"):
            reg.fit(X, y)
    assert not hasattr(reg, "coef_")


@pytest.mark.parametrize("kw", [
    pytest.param(dict(averaging="periodic"), id="periodic"),
    pytest.param(dict(averaging="oneshot"), id="oneshot"),
    pytest.param(dict(averaging="periodic", mode="async"), id="async"),
    pytest.param(dict(averaging="periodic", mode="hogwild", average=False), id="hogwild"),
])
def test_classifier_step_far_too_large_is_halved_until_it_fits(kw):
    # with the L2 penalty, eta * alpha > 2 makes the weights grow geometrically whatever the loss
    X, y = _classification()
    clf = AveragedSGDClassifier(loss="log_loss", solver="sgd", alpha=1e-2, eta0=1e4, learning_rate="constant", n_jobs=2,
                                random_state=0, max_iter=10, tol=None, client="threads", **kw)
    with pytest.warns(DivergenceWarning, match="diverged"):
        clf.fit(X, y)
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.intercept_).all()
    # what the docs promise (docs/user_guide/sgd.rst, "Divergence"): the step cut to where the penalty's factor
    # 1 - eta alpha no longer grows the weights. A classifier's accuracy is promised only for synchronous rounds:
    # a step just under that limit keeps the iterates swinging (classification losses grow only linearly, so an
    # epoch's mean loss is no divergence signal for them), and where stale or unaveraged iterates stop depends on
    # the machine's timing (0.62-0.83 under load)
    assert clf.learning_rate_ * clf.alpha < 2
    if kw.get("mode", "sync") == "sync":
        assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_shotgun_far_past_pstar_is_caught_by_the_guard(n_jobs):
    # strongly correlated columns (rho about 59 of d = 64): P* is 1 and P = d updates interfere badly
    rng = np.random.default_rng(2)
    z = rng.normal(size=(3000, 1))
    X = z + 0.3 * rng.normal(size=(3000, 64))
    y = X[:, :4] @ np.ones(4) + 0.1 * rng.normal(size=3000)
    lasso = ShotgunLasso(alpha=1e-3, n_parallel=64, n_jobs=n_jobs, tol=1e-8, max_iter=5000, working_set=False)
    lasso.fit(X, y)
    events = [h["event"] for h in lasso.history_ if "event" in h]
    assert events and "objective rose" in events[0]
    assert lasso.n_parallel_ < 64
    assert np.isfinite(lasso.coef_).all()
    from sklearn.linear_model import Lasso

    ref = Lasso(alpha=1e-3, tol=1e-12, max_iter=100_000).fit(X, y)

    def objective(m):
        r = y - X @ m.coef_ - m.intercept_
        return 0.5 * r @ r / len(y) + 1e-3 * np.abs(m.coef_).sum()

    assert objective(lasso) <= objective(ref) * (1 + 1e-6)
