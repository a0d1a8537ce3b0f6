"""What a user swapping skpar in for scikit-learn's SGD estimators finds: ``shuffle``, ``fit(coef_init=,
intercept_init=)``, ``l1_ratio=None``, ``sparsify()``/``densify()``, scikit-learn's errors, and the drop-in
classes ``skpar.SGDClassifier`` and ``skpar.SGDRegressor``, whose defaults take scikit-learn's steps. The whole of
scikit-learn's own SGD test module is run against skpar by ``asv_bench/scripts/sklearn_sgd_suite.py``."""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sklm
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skpar import AveragedSGDClassifier, ParallelSGDRegressor, SGDClassifier, SGDRegressor

X, Y = make_classification(3000, 10, n_classes=3, n_informative=5, random_state=0)
CASES = [(AveragedSGDClassifier, Y), (ParallelSGDRegressor, Y.astype(float))]


@pytest.mark.parametrize("estimator, y", CASES)
def test_without_shuffling_the_rows_go_in_order(estimator, y):
    """``shuffle=False``: no epoch order is drawn, so the seed changes nothing; with shuffling it does."""
    kw = dict(solver="sgd", max_iter=3, tol=None)
    a = estimator(shuffle=False, random_state=0, **kw).fit(X, y)
    b = estimator(shuffle=False, random_state=1, **kw).fit(X, y)
    c = estimator(random_state=1, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


@pytest.mark.parametrize("estimator, y", CASES)
def test_coef_init_is_where_sgd_starts(estimator, y):
    """With a step too small to move, one epoch from ``coef_init``/``intercept_init`` ends where it started; from
    zeros it is the fit that starts from zero."""
    kw = dict(solver="sgd", max_iter=1, tol=None, random_state=0)
    start = estimator(random_state=0).fit(X, y)
    still = estimator(eta0=1e-12, average=False, **kw).fit(X, y, coef_init=start.coef_,
                                                           intercept_init=start.intercept_)
    assert still.solver_ == "sgd"
    np.testing.assert_allclose(still.coef_, start.coef_, atol=1e-8)
    np.testing.assert_allclose(still.intercept_, start.intercept_, atol=1e-8)
    cold = estimator(**kw).fit(X, y)
    zero = estimator(**kw).fit(X, y, coef_init=np.zeros_like(start.coef_))
    np.testing.assert_array_equal(zero.coef_, cold.coef_)
    with pytest.raises(ValueError, match="Provided coef_init does not match dataset"):
        estimator(**kw).fit(X, y, coef_init=np.zeros(3))
    with pytest.raises(ValueError, match="Provided intercept_init does not match dataset"):
        estimator(**kw).fit(X, y, intercept_init=np.zeros(7))
    with pytest.raises(ValueError, match="solver='newton'|solver='cholesky'"):
        solver = "newton" if estimator is AveragedSGDClassifier else "cholesky"
        estimator(solver=solver, loss="log_loss" if solver == "newton" else "squared_error").fit(
            X, y, coef_init=start.coef_)


@pytest.mark.parametrize("estimator, y", CASES)
def test_sparsify_and_densify(estimator, y):
    est = estimator(penalty="l1", alpha=1e-3, random_state=0).fit(X, y)
    coef, pred = est.coef_.copy(), est.predict(X)
    assert sp.issparse(est.sparsify().coef_)
    np.testing.assert_allclose(est.predict(X), pred)
    np.testing.assert_allclose(est.predict(sp.csr_matrix(X)), pred)
    np.testing.assert_array_equal(est.densify().coef_, coef)


@pytest.mark.parametrize("estimator, y", CASES)
def test_l1_ratio_none_and_scikit_learns_errors(estimator, y):
    a = estimator(penalty="l1", l1_ratio=None, random_state=0).fit(X, y)
    b = estimator(penalty="l1", l1_ratio=0.7, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    with pytest.raises(ValueError, match="l1_ratio must be set when penalty is 'elasticnet'"):
        estimator(penalty="elasticnet", l1_ratio=None).fit(X, y)
    with pytest.raises(ValueError, match="validation_fraction"):
        estimator(early_stopping=True, validation_fraction=0.99).fit(X[:8], y[:8])
    with pytest.warns(FutureWarning, match="Negative values for `power_t` are deprecated"):
        estimator(power_t=-1.0, max_iter=2, tol=None).fit(X, y)


def test_partial_fit_refuses_balanced_class_weights_in_scikit_learns_words():
    X, y = np.random.default_rng(0).normal(size=(30, 3)), np.arange(30) % 2
    with pytest.raises(ValueError, match=r"class_weight 'balanced' is not supported for partial_fit\. .*"
                                         r"compute_class_weight\('balanced', classes=classes, y=y\)"):
        AveragedSGDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    AveragedSGDClassifier(class_weight={0: 1.0, 1: 2.0}).partial_fit(X, y, classes=[0, 1])  # explicit weights do


# each loss compiles the kernels once for itself (seconds in a fresh process): the schedules on the margin losses,
# and two of the regression losses the classifier takes (their formulas are test_kernels.py's, for every loss)
@pytest.mark.parametrize("loss, learning_rate", [
    ("hinge", "optimal"), ("perceptron", "optimal"), ("hinge", "invscaling"), ("log_loss", "invscaling"),
    ("huber", "constant"), ("epsilon_insensitive", "constant")])
def test_per_sample_steps_are_scikit_learns_steps(loss, learning_rate):
    """With a batch of one row, no scaling rule, no warm-up, no average and the rows in order, one block's epoch
    is scikit-learn's per-sample SGD: its schedules (``'optimal'``'s offset from Bottou's heuristic,
    ``'invscaling'`` with the classifier's default ``power_t``) and its classifier losses, step for step."""
    Xb, yb = make_classification(500, 5, random_state=0)
    kw = dict(loss=loss, learning_rate=learning_rate, eta0=0.01, shuffle=False, max_iter=2, tol=None, average=False)
    ours = AveragedSGDClassifier(batch_size=1, scaling_rule=None, warmup=0, n_blocks=1, solver="sgd", **kw).fit(Xb, yb)
    theirs = sklm.SGDClassifier(**kw).fit(Xb, yb)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-10, atol=1e-12)
    assert ours.t_ == theirs.t_


def test_optimal_needs_a_penalty_weight_in_scikit_learns_words():
    with pytest.raises(ValueError, match="alpha must be > 0 since learning_rate is 'optimal'"):
        AveragedSGDClassifier(learning_rate="optimal", alpha=0.0).fit(X, Y)


def test_loss_functions_list_the_choices_and_say_which_give_probabilities():
    """``loss_functions``, as scikit-learn's SGD estimators list theirs: every name is a valid ``loss``, and a
    classifier has ``predict_proba`` for the log loss and the modified Huber loss only."""
    from skpar._losses import CLASSIFICATION_LOSSES, REGRESSION_LOSSES

    assert list(AveragedSGDClassifier.loss_functions) == list(CLASSIFICATION_LOSSES)
    assert list(ParallelSGDRegressor.loss_functions) == list(REGRESSION_LOSSES)
    for loss in AveragedSGDClassifier.loss_functions:
        clf = AveragedSGDClassifier(loss=loss)
        assert hasattr(clf, "predict_proba") == (loss in ("log_loss", "modified_huber"))
        if loss in ("log_loss", "modified_huber"):
            clf.fit(X[:300], Y[:300])
            np.testing.assert_allclose(clf.predict_proba(X[:5]).sum(axis=1), 1.0)
    with pytest.raises(TypeError):
        AveragedSGDClassifier.loss_functions["mine"] = None  # read only: the registry is skpar._losses'


# ---- the drop-in classes: scikit-learn's defaults on skpar's estimators ---------------------------------------------
DROPIN = [(SGDClassifier, sklm.SGDClassifier), (SGDRegressor, sklm.SGDRegressor)]


@parametrize_with_checks([SGDClassifier(), SGDRegressor()], expected_failed_checks=lambda est: {
    check: "SGD: weight 2 differs from a repeated row in a shuffled pass (scikit-learn marks its own SGD so)"
    for check in ("check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data")})
def test_dropin_sklearn_api(estimator, check):
    check(estimator)


@pytest.mark.parametrize("ours, theirs", DROPIN)
def test_dropin_has_every_parameter_of_scikit_learns_with_its_default(ours, theirs):
    mine = inspect.signature(ours).parameters
    for name, p in inspect.signature(theirs).parameters.items():
        assert name in mine, name
        assert mine[name].default == p.default, (name, mine[name].default, p.default)
    # and the rest are the fast estimator's, whose class it is
    parent = inspect.signature(ours.__mro__[1]).parameters
    assert set(mine) == set(parent)


def _pair(ours, theirs, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning alike on both sides
        return ours(**kw).fit(X, y), theirs(**kw).fit(X, y)


@pytest.mark.parametrize("case", ["regressor", "hinge", "log_loss", "early_stopping", "average", "late_average"])
def test_dropin_defaults_take_scikit_learns_steps_and_stop_where_it_stops(case):
    """Called as scikit-learn's estimators are called, with rows in order (scikit-learn's shuffle draws from its
    own generator): the same epochs, the same stop (``tol``'s rule on the training loss), the same coefficients.
    With ``early_stopping``, the same held-out rows, so the same epochs on the other rows; ``tol=None`` there,
    because scikit-learn scores its validation rows with the weights before their l2 scale (its ``WeightVector``'s
    ``wscale``) is applied, so its stop can come epochs apart. With averaging, ``tol=None`` too: skpar's rule
    watches the average's loss, scikit-learn's the iterate's."""
    X, y = make_classification(600, 8, random_state=0)
    X = StandardScaler().fit_transform(X)
    kw = dict(shuffle=False)
    if case in ("regressor", "average", "late_average"):
        y = X @ np.arange(8.0) + 0.1 * np.random.default_rng(0).normal(size=600)
        if case != "regressor":  # (skpar's rule watches the average's loss, scikit-learn's the iterate's)
            kw.update(average={"average": True, "late_average": 50}[case], tol=None, max_iter=5)
        ours, theirs = _pair(SGDRegressor, sklm.SGDRegressor, X, y, **kw)
    else:
        if case == "early_stopping":
            kw.update(early_stopping=True, validation_fraction=0.3, random_state=0, tol=None, max_iter=6)
        ours, theirs = _pair(SGDClassifier, sklm.SGDClassifier, X, y, loss="log_loss" if case == "log_loss"
                             else "hinge", **kw)
    assert 1 < ours.n_iter_ == theirs.n_iter_ < 1000
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9, atol=1e-12)
    assert hasattr(ours, "_average_coef") == hasattr(theirs, "_average_coef")


@pytest.mark.parametrize("case", ["regressor", "hinge", "average"])
def test_dropin_damps_the_intercept_on_sparse_rows_as_scikit_learn(case):
    """On sparse rows scikit-learn steps the intercept by a hundredth of its step (its ``intercept_decay``): the
    drop-ins take the same steps there."""
    X, y = make_classification(600, 8, random_state=1)
    X = StandardScaler().fit_transform(X)
    X[np.abs(X) < 0.5] = 0.0
    Xs = sp.csr_matrix(X)
    kw = dict(shuffle=False, max_iter=8, tol=None)
    if case == "hinge":
        ours, theirs = _pair(SGDClassifier, sklm.SGDClassifier, Xs, y, **kw)
    else:
        y = X @ np.arange(8.0) + 3.0 + 0.1 * np.random.default_rng(0).normal(size=600)
        kw["average"] = case == "average"
        ours, theirs = _pair(SGDRegressor, sklm.SGDRegressor, Xs, y, **kw)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9, atol=1e-12)
    # the same rows dense: no damping on either side, so a different intercept from the sparse fit's
    dense, _ = _pair(type(ours), type(theirs), X, y, **kw)
    assert not np.allclose(dense.intercept_, ours.intercept_, rtol=1e-3)


@pytest.mark.parametrize("early_stopping", [False, True], ids=["all-rows", "held-out"])
def test_dropin_on_a_cluster_takes_the_same_steps(scheduler, early_stopping):
    """On threads or on a LocalCluster's worker (``client=``), the drop-in's one block takes scikit-learn's steps;
    with early stopping the held-out rows, drawn on the driver, travel with the block to the worker."""
    X, y = make_classification(2000, 10, random_state=0)
    kw = dict(shuffle=False, tol=None, max_iter=4, random_state=0)
    if early_stopping:
        kw.update(early_stopping=True, validation_fraction=0.25)
    ours = SGDClassifier(client=scheduler, **kw).fit(X, y)
    theirs = sklm.SGDClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-10, atol=1e-12)
