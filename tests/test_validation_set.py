"""Early stopping on an explicit validation set, ``fit(X, y, X_val=, y_val=, sample_weight_val=)`` (scikit-learn's
names, from ``HistGradientBoosting*``): watched instead of rows held out of X, in every mode, on NumPy, sparse and
dask input; bad validation data is named."""

import warnings

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import skpar.parallel._sgd as sgd_driver
from skpar import AveragedSGDClassifier, ParallelSGDRegressor


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(n_samples=600, n_features=150, n_informative=5, random_state=0)
    return X[:400], y[:400], X[400:], y[400:]


def _spy_scores(monkeypatch):
    """The scores early stopping reads, as ``_fit_epochs`` builds its scorer (explicit or held-out)."""
    from skpar.linear_model import _sgd_base

    seen = []

    def wrap(make):
        def made(self, *args):
            score = make(self, *args)

            def recorded(model):
                value = score(model)
                seen.append(value)
                return value

            return recorded

        return made

    base = _sgd_base.BaseParallelSGD
    monkeypatch.setattr(base, "_explicit_score", wrap(base._explicit_score))
    return seen


@pytest.mark.parametrize("mode", ["sync", "async", "hogwild"])
def test_the_validation_set_is_what_early_stopping_watches(classification, mode, monkeypatch):
    """Each epoch's end scores the model on X_val: the scores are the accuracies of the models the rule saw (a
    multiple of 1/200 each), X is trained on whole (no row held out), and the fit stops by the rule."""
    Xtr, ytr, Xva, yva = classification
    seen = _spy_scores(monkeypatch)
    kw = dict(loss="log_loss", alpha=1e-7, tol=1e-3, n_iter_no_change=3, max_iter=300, random_state=0,
              mode=mode, n_jobs=2, average=False, solver="sgd")
    est = AveragedSGDClassifier(early_stopping=True, **kw).fit(Xtr, ytr, X_val=Xva, y_val=yva)
    assert len(seen) == est.n_iter_ < 300
    assert all(abs(v * 200 - round(v * 200)) < 1e-9 for v in seen)
    assert sum(h["n_samples"] for h in est.history_ if h["epoch"] == 0) == 400  # every row of X trains
    assert max(seen[:-3]) + 1e-3 >= max(seen[-3:])  # three epochs without improvement ended it
    assert est.score(Xva, yva) > 0.75


def test_the_score_is_the_models_weighted_accuracy_and_r2(classification, monkeypatch):
    """The validation score equals scikit-learn's accuracy (and R^2) of the model at that epoch, weights
    included: checked at the last epoch, whose model is the fitted one (no average, sync rounds)."""
    Xtr, ytr, Xva, yva = classification
    seen = _spy_scores(monkeypatch)
    w = np.random.default_rng(0).uniform(0.1, 2.0, size=yva.size)
    kw = dict(tol=None, max_iter=4, random_state=0, n_jobs=2, solver="sgd", average=False)
    clf = AveragedSGDClassifier(early_stopping=True, **kw).fit(Xtr, ytr, X_val=Xva, y_val=yva, sample_weight_val=w)
    assert len(seen) == 0  # tol=None: no rule to feed, no scoring
    clf = AveragedSGDClassifier(early_stopping=True, **{**kw, "tol": 1e-12, "n_iter_no_change": 100}).fit(
        Xtr, ytr, X_val=Xva, y_val=yva, sample_weight_val=w)
    assert seen[-1] == pytest.approx(clf.score(Xva, yva, sample_weight=w), abs=1e-12)
    seen.clear()
    X, y = make_regression(n_samples=500, n_features=20, noise=5.0, random_state=0)
    reg = ParallelSGDRegressor(early_stopping=True, **{**kw, "tol": 1e-12, "n_iter_no_change": 100}).fit(
        X[:400], y[:400], X_val=X[400:], y_val=y[400:], sample_weight_val=w[:100])
    assert seen[-1] == pytest.approx(reg.score(X[400:], y[400:], sample_weight=w[:100]), abs=1e-12)


@pytest.mark.parametrize("kind", ["sparse", "dask"])
def test_sparse_and_dask_validation_sets_score_as_numpy(classification, kind, monkeypatch):
    Xtr, ytr, Xva, yva = classification
    seen = _spy_scores(monkeypatch)
    kw = dict(tol=1e-12, n_iter_no_change=100, max_iter=3, random_state=0, n_jobs=2, solver="sgd", average=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        AveragedSGDClassifier(early_stopping=True, **kw).fit(Xtr, ytr, X_val=Xva, y_val=yva)
        dense = list(seen)
        seen.clear()
        Xv = sp.csr_matrix(Xva) if kind == "sparse" else da.from_array(Xva, chunks=50)
        yv = yva if kind == "sparse" else da.from_array(yva, chunks=50)
        AveragedSGDClassifier(early_stopping=True, **kw).fit(Xtr, ytr, X_val=Xv, y_val=yv)
    assert seen == pytest.approx(dense, abs=1e-12)


def test_bad_validation_sets_are_named(classification):
    Xtr, ytr, Xva, yva = classification
    clf = AveragedSGDClassifier(early_stopping=True, max_iter=2, tol=None)
    cases = [
        (dict(X_val=Xva), "X_val is provided, but y_val was not provided"),
        (dict(y_val=yva), "y_val is provided, but X_val was not provided"),
        (dict(X_val=Xva[:, :10], y_val=yva), "X_val has 10 features|X has 10 features"),
        (dict(X_val=Xva, y_val=yva[:5]), "inconsistent numbers of samples"),
        (dict(X_val=Xva, y_val=yva + 5), "y_val has labels that y does not"),
        (dict(X_val=np.where(np.arange(Xva.size).reshape(Xva.shape) == 7, np.nan, Xva), y_val=yva), "NaN"),
        (dict(X_val=Xva, y_val=yva, sample_weight_val=-np.ones(yva.size)), "Negative values"),
        (dict(sample_weight_val=np.ones(3)), "sample_weight_val is given without X_val"),
        (dict(X_val=Xva, y_val=yva, sample_weight_val=np.zeros(yva.size)), "at least one non-zero"),
    ]
    for kw, match in cases:
        with pytest.raises(ValueError, match=match):
            clf.fit(Xtr, ytr, **kw)
    with pytest.raises(ValueError, match="early_stopping is False"):
        AveragedSGDClassifier().fit(Xtr, ytr, X_val=Xva, y_val=yva)
    with pytest.raises(ValueError, match="Input y_val contains NaN"):
        ParallelSGDRegressor(early_stopping=True).fit(Xtr, ytr * 1.0, X_val=Xva, y_val=np.full(yva.size, np.nan))


def test_the_held_out_rows_stay_the_default(classification, monkeypatch):
    """Without X_val, early stopping holds out validation_fraction of every block, as before, and scores there."""
    Xtr, ytr, _, _ = classification
    called = []
    original = sgd_driver.held_out_score
    monkeypatch.setattr("skpar.linear_model._sgd_base.held_out_score",
                        lambda rounds, plan: (called.append(1), original(rounds, plan))[1])
    est = AveragedSGDClassifier(early_stopping=True, solver="sgd", random_state=0, n_jobs=2).fit(Xtr, ytr)
    assert called and sum(h["n_samples"] for h in est.history_ if h["epoch"] == 0) == 360


def test_held_out_rows_of_zero_weight_are_refused(classification):
    """Held-out rows whose weights are all zero have no score: scikit-learn's error, not a score of 0 that
    stops the fit."""
    Xtr, ytr, _, _ = classification
    w = np.zeros(ytr.size)
    w[:3] = 1.0  # three rows weigh; with random_state=0 none of them is among the held-out tenth
    with pytest.raises(ValueError, match="The sample weights for validation set are all zero"):
        AveragedSGDClassifier(early_stopping=True, solver="sgd", random_state=0, n_jobs=1,
                              validation_fraction=0.1).fit(Xtr, ytr, sample_weight=w)
