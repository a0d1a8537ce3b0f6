"""Dask arrays of scipy.sparse chunks and dask DataFrames, for every estimator, on threads and on a LocalCluster: the
blocks are the chunks (partitions), the model is the one local data gives on the same blocks, and predictions stay
lazy: a dask array, or a dask Series with the frame's partitions and index."""

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

X, Y = make_classification(2000, 20, n_informative=8, random_state=0)
S = sp.csr_matrix(np.where(np.abs(X) < 0.8, 0.0, X))

CASES = {
    "classifier": (AveragedSGDClassifier, dict(solver="sgd", max_iter=5, tol=None), Y, "equal"),
    "regressor": (ParallelSGDRegressor, dict(solver="sgd", max_iter=5, tol=None), Y.astype(float), "equal"),
    "svm": (DualCoordinateAscentSVM, dict(solver="dual", C=0.1, max_iter=20, tol=0.0), Y, "equal"),
    "lasso": (ShotgunLasso, dict(alpha=0.01, tol=1e-10), Y.astype(float), "optimum"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sparse_chunks_fit_as_local_csr_does(case, scheduler):
    estimator, kw, y, agree = CASES[case]
    Xd = da.from_array(S, chunks=(500, 20), asarray=False)  # scipy.sparse chunks
    assert isinstance(Xd.blocks[0, 0].compute(), sp.spmatrix)
    yd = da.from_array(y, chunks=500)
    blocks = {} if estimator is ShotgunLasso else {"n_blocks": 4}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = estimator(random_state=0, client=scheduler, **kw).fit(Xd, yd)
        local = estimator(random_state=0, client="threads", **blocks, **kw).fit(S, y)
    if agree == "equal":  # the chunks are the 4 blocks local data is cut into: the same steps
        assert ours.n_blocks_ == 4
        np.testing.assert_array_equal(ours.coef_, local.coef_)
    else:  # Shotgun on threads, column blocks on a cluster: the same objective's optimum, to its tolerance
        def objective(est):
            r = y - S @ est.coef_ - est.intercept_
            return 0.5 * r @ r / len(y) + est.alpha * np.abs(est.coef_).sum()

        assert objective(ours) == pytest.approx(objective(local), rel=1e-6)
    pred = ours.predict(Xd)
    assert isinstance(pred, da.Array) and pred.chunks[0] == Xd.chunks[0]
    np.testing.assert_allclose(pred.compute(), ours.predict(S), rtol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_a_dask_dataframe_predicts_a_dask_series_with_its_partitions(case, scheduler):
    import dask.dataframe as dd
    import pandas as pd

    estimator, kw, y, _ = CASES[case]
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])], index=np.arange(X.shape[0]) * 3)
    df = dd.from_pandas(frame, npartitions=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = estimator(random_state=0, client=scheduler, **kw).fit(df, da.from_array(y, chunks=500))
    pred = est.predict(df)
    assert isinstance(pred, dd.Series) and pred.npartitions == df.npartitions
    local = pred.compute()
    np.testing.assert_array_equal(local.index, frame.index)
    np.testing.assert_array_equal(local.to_numpy(), est.predict(frame))
