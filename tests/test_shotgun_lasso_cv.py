"""ShotgunLassoCV: scikit-learn's API, and LassoCV's choice of alpha on the same folds and alphas."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpar import ShotgunLassoCV
from skpar.datasets import load_mug32, make_correlated_regression


@parametrize_with_checks([ShotgunLassoCV(cv=3, alphas=5)])
def test_sklearn_api(estimator, check):
    check(estimator)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_the_same_alpha_as_lassocv_on_the_same_folds(sparse):
    X, y, _ = make_correlated_regression(400, 60, random_state=0)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    folds = KFold(4, shuffle=True, random_state=0)
    ref = LassoCV(cv=folds, alphas=30, tol=1e-10, max_iter=100_000).fit(X, y)
    ours = ShotgunLassoCV(cv=folds, alphas=ref.alphas_, tol=1e-10, max_iter=100_000, random_state=0).fit(X, y)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.alphas_, ref.alphas_)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-5)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-9)


def test_folds_on_a_cluster_give_the_threads_answer(cluster_client, monkeypatch):
    from skpar.backend._dask import DaskBackend

    A, y = load_mug32()
    kw = dict(cv=3, alphas=8, fit_intercept=False, tol=1e-6, random_state=0)
    threads = ShotgunLassoCV(client="threads", n_jobs=2, **kw).fit(A, y)
    placed = []
    place = DaskBackend.place
    monkeypatch.setattr(DaskBackend, "place", lambda self, objects: placed.append(len(objects)) or place(self, objects))
    cluster = ShotgunLassoCV(client=cluster_client, **kw).fit(A, y)
    # the data went to each worker once (two workers), not with each of the three folds' tasks
    workers = len(cluster_client.scheduler_info()["workers"])
    assert placed[0] == min(3, workers)
    np.testing.assert_array_equal(threads.mse_path_, cluster.mse_path_)
    assert threads.alpha_ == cluster.alpha_
