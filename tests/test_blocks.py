"""The blocks, not the machine, decide the model: for a fixed ``n_blocks`` and ``random_state`` every synchronous
mode of every estimator gives the same coefficients to the bit on 1, 3 and 16 threads, on a 2-worker LocalCluster
(processes) and on a 3-worker one (threads of this process), and on a dask array cut into other chunks."""

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

N_BLOCKS = 3

CASES = {
    "regressor-local-sgd": (ParallelSGDRegressor, dict(solver="sgd", max_iter=3, tol=None), "reg"),
    "regressor-minibatch": (ParallelSGDRegressor, dict(solver="sgd", local_steps=1, max_iter=2, tol=None), "reg"),
    "regressor-cholesky": (ParallelSGDRegressor, dict(solver="cholesky"), "reg"),
    "classifier-periodic": (AveragedSGDClassifier, dict(solver="sgd", max_iter=3, tol=None), "clf"),
    "classifier-oneshot": (AveragedSGDClassifier, dict(solver="sgd", averaging="oneshot", max_iter=3, tol=None),
                           "clf"),
    "classifier-newton": (AveragedSGDClassifier, dict(loss="log_loss", solver="newton", max_iter=3), "clf"),
    "classifier-lbfgs": (AveragedSGDClassifier, dict(loss="log_loss", solver="lbfgs", max_iter=5), "clf"),
    "svm-dual": (DualCoordinateAscentSVM, dict(solver="dual", max_iter=6, tol=0.0), "clf"),
    "svm-primal": (DualCoordinateAscentSVM, dict(solver="primal", max_iter=3, tol=0.0), "clf"),
}


@pytest.fixture(scope="module")
def thread_cluster():
    """A 3-worker LocalCluster whose workers are threads of this process (cheap to start)."""
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=3, threads_per_worker=1, processes=False, dashboard_address=None)
        client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def _data(task, sparse):
    if task == "reg":
        X, y = make_regression(n_samples=3000, n_features=15, noise=1.0, random_state=0)
    else:
        X, y = make_classification(n_samples=3000, n_features=15, n_informative=6, n_classes=3, random_state=0)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    return X, y


def _fit(estimator, kw, X, y, **where):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few rounds each: the point is bit-equality
        return estimator(n_blocks=N_BLOCKS, random_state=0, **kw, **where).fit(X, y)


def _same(a, b):
    assert a.n_blocks_ == b.n_blocks_ == N_BLOCKS
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("case", list(CASES))
def test_same_model_on_any_threads_and_clusters(case, sparse, cluster_client, thread_cluster):
    estimator, kw, task = CASES[case]
    X, y = _data(task, sparse)
    one = _fit(estimator, kw, X, y, n_jobs=1, client="threads")
    for where in [dict(n_jobs=N_BLOCKS, client="threads"), dict(n_jobs=16, client="threads"),
                  dict(client=cluster_client), dict(client=thread_cluster)]:
        _same(one, _fit(estimator, kw, X, y, **where))


@pytest.mark.parametrize("case", ["regressor-local-sgd", "classifier-periodic", "svm-dual"])
def test_a_dask_array_cut_anew_gives_the_local_model(case, cluster_client):
    """A count of blocks rechunks a dask array's rows where local data is cut: chunks of 700 rows (5 of them)
    become the local fit's 3 blocks."""
    estimator, kw, task = CASES[case]
    X, y = _data(task, False)
    local = _fit(estimator, kw, X, y, n_jobs=2, client="threads")
    Xd, yd = da.from_array(X, chunks=(700, 15)), da.from_array(y, chunks=700)
    for client in ["threads", cluster_client]:
        _same(local, _fit(estimator, kw, Xd, yd, client=client))


def test_default_blocks_follow_the_data_not_the_cores():
    """``n_blocks='auto'`` with ``n_jobs=None``: the same blocks, and so the same model, whatever the thread count
    the machine would give (here: every core against one thread)."""
    X, y = make_classification(n_samples=60_000, n_features=20, random_state=0)
    kw = dict(solver="sgd", max_iter=2, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        every = AveragedSGDClassifier(**kw).fit(X, y)
        assert every.n_blocks_ == 4  # 1.2M values: 6 blocks by the non-zeros, held to a power of two
        import skpar.backend._select as select

        cores, select._cores = select._cores, lambda: 1
        try:
            alone = AveragedSGDClassifier(**kw).fit(X, y)
        finally:
            select._cores = cores
    np.testing.assert_array_equal(every.coef_, alone.coef_)


def test_bad_n_blocks_is_refused():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    for estimator in (AveragedSGDClassifier, ParallelSGDRegressor, DualCoordinateAscentSVM):
        with pytest.raises(ValueError, match="n_blocks"):
            estimator(n_blocks=0).fit(X, y)
        with pytest.raises(ValueError, match="n_blocks"):
            estimator(n_blocks="many").fit(X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_lasso_column_blocks_give_the_same_model_anywhere(sparse, cluster_client, thread_cluster):
    """ShotgunLasso with a count of blocks runs the column blocks' rounds wherever it fits: the same coefficients on
    1 and 3 threads and on both clusters."""
    X, y = make_regression(n_samples=500, n_features=40, n_informative=8, noise=1.0, random_state=0)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    kw = dict(alpha=0.5, n_blocks=N_BLOCKS, tol=1e-8, max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = ShotgunLasso(n_jobs=1, client="threads", **kw).fit(X, y)
        for where in [dict(n_jobs=3, client="threads"), dict(client=cluster_client), dict(client=thread_cluster)]:
            other = ShotgunLasso(**kw, **where).fit(X, y)
            np.testing.assert_array_equal(one.coef_, other.coef_)
            assert one.intercept_ == other.intercept_
        shotgun = ShotgunLasso(alpha=0.5, tol=1e-8, random_state=0).fit(X, y)  # the same optimum
    np.testing.assert_allclose(one.coef_, shotgun.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_lasso_default_on_a_cluster_does_not_depend_on_its_size(sparse, cluster_client, thread_cluster):
    """n_blocks='auto' on a cluster counts column blocks from the data alone: a default fit gives the same
    coefficients on a 2-worker and a 3-worker cluster, with local data and with a dask array, and they are the
    threads' fit with that count."""
    import dask.array as da

    from skpar.backend import data_kind
    from skpar.linear_model._n_blocks import auto_column_blocks

    X, y = make_regression(n_samples=3000, n_features=400, n_informative=8, noise=1.0, random_state=0)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    K = auto_column_blocks(X, data_kind(X))
    assert K == (2 if sparse else 4)  # 740,000 non-zeros, or 1.2 million values: not the clusters' 2 or 3 workers
    kw = dict(alpha=0.5, tol=1e-8, max_iter=20, random_state=0)  # the same rounds, converged or not
    Xd = da.from_array(X, chunks=(1000, 400))
    assert auto_column_blocks(Xd, data_kind(Xd)) == K
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = ShotgunLasso(n_blocks=K, n_jobs=1, client="threads", **kw).fit(X, y)
        for client in (cluster_client, thread_cluster):
            for data in (X, Xd):
                fit = ShotgunLasso(client=client, **kw).fit(data, y)
                np.testing.assert_array_equal(fit.coef_, ref.coef_)
