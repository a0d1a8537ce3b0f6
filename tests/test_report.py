"""What a fit says as it runs: a log record per round on the ``skpar`` logger (the history row in it), ``verbose``
setting the level, a progress bar for long fits, and a callback that can stop the fit."""

import logging
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

import skpar._report as report
from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso
from skpar.datasets import load_mug32

CLS, REG = make_classification(3000, 10, random_state=0), make_regression(3000, 10, noise=1.0, random_state=0)

#: estimator, its arguments (long enough fits to stop early), its data
CASES = {
    "classifier-sgd": (AveragedSGDClassifier, dict(solver="sgd", tol=None, max_iter=20), CLS),
    "classifier-newton": (AveragedSGDClassifier, dict(loss="log_loss", solver="newton", tol=1e-12), CLS),
    "classifier-async": (AveragedSGDClassifier, dict(solver="sgd", mode="async", n_jobs=2, tol=None, max_iter=20),
                         CLS),
    "classifier-hogwild": (AveragedSGDClassifier, dict(mode="hogwild", n_jobs=2, tol=None, max_iter=20), CLS),
    "regressor-sgd": (ParallelSGDRegressor, dict(solver="sgd", tol=None, max_iter=20), REG),
    "svm-dual": (DualCoordinateAscentSVM, dict(solver="dual", C=10.0, tol=1e-12), CLS),
    "svm-primal": (DualCoordinateAscentSVM, dict(solver="primal", C=10.0, tol=1e-14), CLS),
    "lasso": (ShotgunLasso, dict(alpha=1e-4, fit_intercept=False, tol=1e-12), load_mug32()),
}


def _stop_after(k):
    seen = []

    def callback(row):
        seen.append(row)
        return len(seen) >= k

    return callback, seen


@pytest.mark.parametrize("case", list(CASES))
def test_the_callback_sees_every_row_and_stops_the_fit(case):
    estimator, kw, (X, y) = CASES[case]
    callback, seen = _stop_after(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stop asked for is no convergence failure
        est = estimator(random_state=0, callback=callback, **kw).fit(X, y)
    full = estimator(random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full.fit(X, y)
    assert type(est.history_) is list
    assert est.history_[: len(seen)] == seen  # the rows the callback saw are the fit's own
    assert 3 <= len(est.history_) < len(full.history_)
    assert np.isfinite(est.coef_).all()


@pytest.mark.parametrize("estimator, data", [(AveragedSGDClassifier, CLS), (ParallelSGDRegressor, REG)])
def test_a_stop_after_k_epochs_is_the_fit_of_k_epochs(estimator, data):
    X, y = data
    kw = dict(solver="sgd", tol=None, n_blocks=2, random_state=0)
    stopped = estimator(max_iter=20, callback=_stop_after(4)[0], **kw).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        four = estimator(max_iter=4, **kw).fit(X, y)
    assert stopped.n_iter_ == four.n_iter_ == 4
    np.testing.assert_array_equal(stopped.coef_, four.coef_)
    np.testing.assert_array_equal(stopped.intercept_, four.intercept_)


def test_a_record_per_round_with_the_row(caplog):
    X, y = CLS
    caplog.set_level(logging.INFO, logger="skpar")
    est = AveragedSGDClassifier(solver="sgd", tol=None, max_iter=5, random_state=0).fit(X, y)
    rows = [r for r in caplog.records if r.name == "skpar" and hasattr(r, "row")]
    assert len(rows) == len(est.history_) == 5
    assert [r.row for r in rows] == est.history_
    assert all(r.levelno == logging.INFO and "AveragedSGDClassifier round" in r.getMessage() for r in rows)


def test_verbose_sets_the_level_for_the_fit_only(caplog):
    X, y = REG
    logger = logging.getLogger("skpar")
    assert logger.level == logging.NOTSET
    ShotgunLasso(alpha=0.1).fit(X, y)  # verbose=0: the application's level (WARNING, from the root): no records
    assert not [r for r in caplog.records if r.name == "skpar"]
    est = ShotgunLasso(alpha=0.1, verbose=1).fit(X, y)
    assert len([r for r in caplog.records if r.name == "skpar"]) == len(est.history_) >= 1
    assert logger.level == logging.NOTSET and not logger.handlers


def test_verbose_prints_where_nothing_is_configured():
    """Run in a fresh interpreter: pytest's capture handler sits on the root logger here."""
    import subprocess
    import sys

    code = ("from sklearn.datasets import make_regression; from skpar import ParallelSGDRegressor; "
            "X, y = make_regression(500, 5, random_state=0); "
            "ParallelSGDRegressor(solver='sgd', tol=None, max_iter=3, verbose=1, random_state=0).fit(X, y)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.count("-- ParallelSGDRegressor round") == 3


def test_a_progress_bar_for_long_fits(monkeypatch, capsys):
    monkeypatch.setattr(report, "_interactive", lambda: True)
    monkeypatch.setattr(report, "PROGRESS_AFTER", 0.0)
    X, y = CLS
    est = AveragedSGDClassifier(solver="sgd", tol=None, max_iter=6, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "AveragedSGDClassifier" in err and "round" in err  # tqdm's bar, on stderr
    assert type(est.history_) is list and len(est.history_) == 6
    assert pickle.loads(pickle.dumps(est)).history_ == est.history_


@pytest.mark.parametrize("estimator", [AveragedSGDClassifier, ParallelSGDRegressor, DualCoordinateAscentSVM,
                                       ShotgunLasso])
def test_a_refused_fit_does_not_look_fitted(estimator):
    X, y = CLS
    X = X.copy()
    X[0, 0] = np.nan
    est = estimator()
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X, y)
    assert not hasattr(est, "history_") and not hasattr(est, "_log")


sklearn_callback = pytest.importorskip("sklearn.callback")


class _Recorder:
    """A scikit-learn ``FitCallback`` that records its hooks' calls and asks to stop after ``stop_after`` rounds."""

    def __init__(self, stop_after=None):
        self.stop_after, self.calls, self.rows = stop_after, [], []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name))

    def on_fit_task_begin(self, estimator, context):
        self.calls.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.calls.append(("end", context.task_name))
        if context.task_name == "round":
            self.rows.append(fitted_estimator.history_[-1])  # the round's row, the last of the rows so far
            return self.stop_after is not None and len(self.rows) >= self.stop_after
        return False

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))


@pytest.mark.parametrize("case", ["classifier-sgd", "svm-dual", "lasso", "regressor-sgd"])
def test_scikit_learn_callbacks_see_every_round_and_can_stop_the_fit(case):
    estimator, kw, (X, y) = CASES[case]
    assert isinstance(_Recorder(), sklearn_callback.FitCallback)
    watch = _Recorder()
    full = estimator(random_state=0, **kw).set_callbacks(watch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full.fit(X, y)
    # the fit is the root task, each round a subtask whose end hook gets the history row; setup and teardown once
    assert watch.calls[:2] == [("setup", "fit"), ("begin", "fit")]
    assert watch.calls[-2:] == [("end", "fit"), ("teardown", "fit")]
    assert watch.rows == full.history_ and len(watch.rows) > 3
    assert watch.calls.count(("begin", "round")) == watch.calls.count(("end", "round")) == len(full.history_)
    stopper = _Recorder(stop_after=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stop asked for is no convergence failure
        est = estimator(random_state=0, **kw).set_callbacks(stopper).fit(X, y)
    assert est.history_ == stopper.rows and len(est.history_) == 3
    assert stopper.calls[-1] == ("teardown", "fit")
    # the fitted estimator keeps no context and pickles
    assert not hasattr(est, "_callback_fit_ctx")
    pickle.loads(pickle.dumps(est))


def test_a_failed_fit_tears_the_callbacks_down():
    # the fit began (the callbacks were set up), the input was refused: no end hook, but the teardown
    watch = _Recorder()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ParallelSGDRegressor().set_callbacks(watch).fit(np.ones((10, 2)), np.full(9, 1.0))
    assert watch.calls == [("setup", "fit"), ("begin", "fit"), ("teardown", "fit")]


class _Models:
    """A scikit-learn ``FitCallback`` that keeps each round's fitted estimator and the data its hook is given."""

    def __init__(self):
        self.models, self.data = [], []

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        if context.task_name == "round":
            self.models.append(fitted_estimator)
            self.data.append((X, y))
        return False

    def teardown(self, estimator, context):
        pass


#: every solver family's driver, each handing its model to the log in its own form
MODEL_CASES = {
    **CASES,
    "classifier-dual": (AveragedSGDClassifier, dict(solver="dual", tol=1e-12), CLS),
    "classifier-oneshot": (AveragedSGDClassifier, dict(averaging="oneshot", n_jobs=2, tol=None, max_iter=5), CLS),
    "classifier-multinomial": (AveragedSGDClassifier, dict(loss="log_loss", multi_class="multinomial"),
                               make_classification(600, 8, n_informative=5, n_classes=3, random_state=0)),
    "regressor-cholesky": (ParallelSGDRegressor, dict(), REG),
    "svm-passcode": (DualCoordinateAscentSVM, dict(solver="dual", mode="passcode", n_jobs=2, C=10.0), CLS),
    "lasso-blocks": (ShotgunLasso, dict(alpha=1e-4, fit_intercept=True, n_blocks=2, tol=1e-10), REG),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_each_round_hands_the_callbacks_a_fitted_estimator(case):
    """A hook that asks for ``fitted_estimator`` gets, every round, a copy of the estimator that predicts with
    that round's model (the last round's is the fitted model where the fit ends on it), and the fit's data."""
    estimator, kw, (X, y) = MODEL_CASES[case]
    watch = _Models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = estimator(random_state=0, **kw).set_callbacks(watch).fit(X, y)
    assert len(watch.models) == len(est.history_) and all(m is not None for m in watch.models)
    assert all(x is X or np.shares_memory(x, X) for x, _ in watch.data)
    assert all(m is not est for m in watch.models)
    for model in watch.models:
        assert np.shape(model.coef_) == np.shape(est.coef_) and model.predict(X[:5]).shape == (5,)
    scores = [m.score(X, y) for m in watch.models]
    assert scores[-1] >= scores[0] - 1e-9  # the fit goes somewhere
    if case not in ("classifier-oneshot",):  # one-shot's last row is its one average: the model, too
        last = watch.models[-1]
        np.testing.assert_allclose(last.coef_, est.coef_, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(last.intercept_, est.intercept_, rtol=1e-12, atol=1e-14)


def test_the_p_guards_event_rows_hand_the_callbacks_the_model_the_guard_kept():
    """ShotgunLasso's P-guard undoes an epoch that raised the objective and records the event: its row's fitted
    estimator is the model the guard went back to, whose objective is the row's ``primal``."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 1)) + 0.3 * rng.normal(size=(3000, 64))  # strongly correlated columns: P* is 1
    y = X[:, :4] @ np.ones(4) + 0.1 * rng.normal(size=3000)
    watch = _Models()
    est = ShotgunLasso(alpha=1e-3, n_parallel=64, n_jobs=2, tol=1e-8, max_iter=5000, working_set=False,
                       random_state=0).set_callbacks(watch).fit(X, y)
    events = [k for k, h in enumerate(est.history_) if "event" in h]
    assert events and len(watch.models) == len(est.history_)
    for k in events:
        model = watch.models[k]
        r = y - X @ model.coef_ - model.intercept_
        objective = 0.5 * r @ r / len(y) + 1e-3 * np.abs(model.coef_).sum()
        assert objective == pytest.approx(est.history_[k]["primal"], rel=1e-9)


def test_scikit_learns_scoring_monitor_scores_every_round():
    X, y = CLS
    monitor = sklearn_callback.ScoringMonitor(scoring="accuracy")
    est = AveragedSGDClassifier(solver="sgd", tol=None, max_iter=6, random_state=0).set_callbacks(monitor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    rows = monitor.get_logs().data
    assert [r["task_name"] for r in rows] == ["round"] * len(est.history_)
    scores = [r["accuracy"] for r in rows]
    assert scores[-1] == pytest.approx(est.score(X, y))  # the last round's model is the fitted one
    assert len(set(scores)) > 1  # each round scored its own model
