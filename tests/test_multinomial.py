"""AveragedSGDClassifier(loss='log_loss', multi_class='multinomial'): LogisticRegression's softmax optimum, by L-BFGS
over the blocks, dense and sparse, the same to the bit on any thread count and to rounding on a LocalCluster."""

import functools

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skpar import AveragedSGDClassifier

X, Y = make_classification(3000, 20, n_informative=10, n_classes=4, random_state=0)
ALPHA = 1e-3


def _objective(coef, intercept, X, y, alpha, s=None):
    Z = X @ coef.T + intercept
    Z = Z - Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z).sum(axis=1))
    s = np.ones(len(y)) if s is None else s
    return float(s @ (lse - Z[np.arange(len(y)), y])) / len(y) + 0.5 * alpha * float((coef * coef).sum())


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_the_softmax_optimum_of_logistic_regression(sparse):
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X)) if sparse else X
    ours = AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", alpha=ALPHA, n_blocks=2, tol=1e-7,
                                 random_state=0).fit(Xs, Y)
    ref = LogisticRegression(C=1.0 / (ALPHA * len(Y)), tol=1e-10, max_iter=10_000).fit(Xs, Y)
    assert ours.solver_ == "lbfgs" and ours.coef_.shape == (4, 20)
    Xd = Xs.toarray() if sparse else Xs
    f_ours = _objective(ours.coef_, ours.intercept_, Xd, Y, ALPHA)
    f_ref = _objective(ref.coef_, ref.intercept_, Xd, Y, ALPHA)
    assert f_ours == pytest.approx(f_ref, rel=1e-7)
    # the objective is flat along some directions (the softmax's shift, penalised only by alpha): at the same
    # objective value to 1e-7 the coefficients agree to about a percent of the largest, not to the solvers' tolerance
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-2 * np.abs(ref.coef_).max())
    proba = ours.predict_proba(Xs)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, ref.predict_proba(Xs), atol=2e-3)
    assert ours.score(Xs, Y) == pytest.approx(ref.score(Xs, Y), abs=2e-3)


def test_sample_weights_count_as_repeated_rows():
    w = np.random.default_rng(0).integers(0, 3, size=len(Y)).astype(float)
    kw = dict(loss="log_loss", multi_class="multinomial", alpha=ALPHA, tol=1e-7, random_state=0)
    weighted = AveragedSGDClassifier(**kw).fit(X, Y, sample_weight=w)
    rows = np.repeat(np.arange(len(Y)), w.astype(int))
    repeated = AveragedSGDClassifier(**kw).fit(X[rows], Y[rows])
    # the same objective up to the rows' count (the mean's denominator): the same minimiser once alpha follows it
    scaled = AveragedSGDClassifier(**{**kw, "alpha": ALPHA * len(Y) / len(rows)}).fit(X[rows], Y[rows])
    np.testing.assert_allclose(weighted.coef_, scaled.coef_, atol=1e-3 * np.abs(scaled.coef_).max())
    assert not np.allclose(weighted.coef_, repeated.coef_, atol=1e-6) or len(rows) == len(Y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_threads_agree_to_the_bit_and_a_cluster_to_rounding(cluster_client, sparse):
    """CSR blocks go through a compiled kernel: the same to the bit on a cluster too; dense ones through BLAS,
    whose sums a worker process may take in another order."""
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X)) if sparse else X
    kw = dict(loss="log_loss", multi_class="multinomial", alpha=ALPHA, n_blocks=3, random_state=0)
    a = AveragedSGDClassifier(n_jobs=1, client="threads", **kw).fit(Xs, Y)
    b = AveragedSGDClassifier(n_jobs=3, client="threads", **kw).fit(Xs, Y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    c = AveragedSGDClassifier(client=cluster_client, **kw).fit(Xs, Y)
    assert a.n_iter_ == c.n_iter_
    if sparse:
        np.testing.assert_array_equal(a.coef_, c.coef_)
    else:
        np.testing.assert_allclose(a.coef_, c.coef_, rtol=1e-9, atol=1e-12)


def test_auto_blocks_need_no_rows_per_feature():
    """L-BFGS's rounds are exact sums: 'auto' cuts wide data by its non-zeros alone, as for Newton's rounds."""
    wide = sp.random(2000, 20_000, density=0.02, format="csr", random_state=0)  # 800,000 non-zeros
    y = np.arange(2000) % 3
    est = AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", max_iter=3, tol=None).fit(wide, y)
    assert est.n_blocks_ == 4
    assert AveragedSGDClassifier(loss="log_loss", max_iter=1, tol=None).fit(wide, y).n_blocks_ == 1


def test_what_it_refuses_and_two_classes():
    with pytest.raises(ValueError, match="multi_class='multinomial'.*loss='hinge'"):
        AveragedSGDClassifier(multi_class="multinomial").fit(X, Y)
    with pytest.raises(ValueError, match="multi_class='multinomial'.*solver='lbfgs'|mode='async'"):
        AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", solver="lbfgs", mode="async").fit(X, Y)
    # GPU data (tests/test_gpu.py runs them): L-BFGS on dense rows, SGD's epochs on any; L-BFGS on sparse GPU rows
    # is refused, naming the way that fits them
    from types import SimpleNamespace

    from skpar.linear_model._classifier_solvers import check_multinomial

    auto = AveragedSGDClassifier(loss="log_loss", multi_class="multinomial")
    sgd = AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", solver="sgd")
    dense, sparse = SimpleNamespace(gpu=True, sparse=False), SimpleNamespace(gpu=True, sparse=True)
    assert check_multinomial(auto, dense, False) == "lbfgs"
    assert check_multinomial(sgd, dense, False) == check_multinomial(sgd, sparse, False) == "sgd"
    with pytest.raises(ValueError, match="sparse GPU rows fitted by L-BFGS.*solver='sgd'"):
        check_multinomial(auto, sparse, False)
    # two classes: the softmax of two is the logistic; the one-vs-rest fit serves both
    y2 = (Y > 1).astype(int)
    kw = dict(loss="log_loss", alpha=ALPHA, random_state=0)
    np.testing.assert_array_equal(AveragedSGDClassifier(multi_class="multinomial", **kw).fit(X, y2).coef_,
                                  AveragedSGDClassifier(**kw).fit(X, y2).coef_)


def test_the_callback_stops_lbfgs():
    seen = []
    est = AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", alpha=ALPHA,
                                callback=lambda row: seen.append(row) or len(seen) >= 3).fit(X, Y)
    assert len(seen) == 3 == len(est.history_) and est.n_iter_ <= 4


@functools.cache
def _lbfgs_optimum(class_weight):
    """L-BFGS's softmax fit to a tight bound, once per class weighting for the SGD cases below."""
    return AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", alpha=ALPHA, tol=1e-10,
                                 class_weight=class_weight).fit(X, Y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("kw", [dict(), dict(n_blocks=2),
                                # asynchronous: where the stop rule ends depends on timing (0.4-1.0% above the
                                # optimum at the default tol, 12 fits): a tighter tol, 0.4-0.55% in 20
                                dict(mode="async", n_blocks=2, tol=1e-4),
                                dict(averaging="oneshot", n_blocks=2), dict(class_weight="balanced"),
                                # Hogwild! keeps no average: at a constant step its iterate's noise floor sat 0.6-1.9%
                                # above the optimum (two threads racing, 10 fits; one row a step, 8%), so the step
                                # decays, for a set number of epochs (0.17% and 0.36%, every fit)
                                dict(mode="hogwild", n_jobs=2, learning_rate="invscaling", power_t=0.25, tol=None,
                                     max_iter=60),
                                dict(mode="hogwild", n_jobs=2, batch_size=1, learning_rate="invscaling", tol=None,
                                     max_iter=150)],
                         ids=["sync", "two-blocks", "async", "oneshot", "balanced", "hogwild", "hogwild-rows"])
def test_sgd_epochs_on_the_softmax_reach_its_optimum(sparse, kw):
    """``solver='sgd'`` runs SGD's epochs on the softmax cross-entropy of all classes at once, in the CPU kernels,
    in every mode (Hogwild!'s threads writing one model without locks; its CSR kernels' batch path and one-row
    path): its objective within 1% of L-BFGS's optimum, dense and sparse, with class weights too (the row weighs
    its class's weight)."""
    Xf = sp.csr_matrix(X) if sparse else X
    ref = _lbfgs_optimum(kw.get("class_weight"))
    assert ref.solver_ == "lbfgs"
    sgd = AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", solver="sgd", alpha=ALPHA,
                                random_state=0, **kw).fit(Xf, Y)
    assert sgd.solver_ == "sgd" and sgd.coef_.shape == (4, 20)
    s = None
    if kw.get("class_weight"):
        counts = np.bincount(Y)
        s = (len(Y) / (4 * counts))[Y]
    f, f_star = (_objective(m.coef_, m.intercept_, X, Y, ALPHA, s) for m in (sgd, ref))
    assert 0 <= (f - f_star) / f_star < 1e-2, (f, f_star)
    # the epochs' objective is the softmax's, not the one-vs-rest log losses' sum (about K times larger)
    assert sgd.history_[-1]["objective"] < 1.5 * f_star
    np.testing.assert_allclose(sgd.predict_proba(Xf[:5]).sum(axis=1), 1.0)


def test_partial_fit_runs_the_softmax_epochs_of_fit():
    kw = dict(loss="log_loss", multi_class="multinomial", solver="sgd", alpha=ALPHA, random_state=0, tol=None)
    one = AveragedSGDClassifier(max_iter=3, **kw).fit(X, Y)
    inc = AveragedSGDClassifier(**kw)
    for _ in range(3):
        inc.partial_fit(X, Y, classes=np.arange(4))
    np.testing.assert_array_equal(one.coef_, inc.coef_)
    np.testing.assert_array_equal(one.intercept_, inc.intercept_)


def test_lbfgs_steps_in_centred_coordinates_so_a_shift_of_the_features_changes_nothing_but_the_intercepts():
    """L-BFGS moves ``(W, b - W mu)``, the scores of the centred rows: features shifted by a constant vector ``c``
    give the same iterations and the same weights, the intercepts taking ``-W c``. Uncentred, the shift (a large
    common direction of the rows, as pixels or tf-idf have) slowed L-BFGS down: on Fashion-MNIST 387 iterations,
    centred 186 (docs/benchmarks.md)."""
    kw = dict(loss="log_loss", multi_class="multinomial", alpha=ALPHA, random_state=0)
    c = np.linspace(3.0, 8.0, X.shape[1])
    plain = AveragedSGDClassifier(**kw).fit(X, Y)
    shifted = AveragedSGDClassifier(**kw).fit(X + c, Y)
    assert plain.solver_ == shifted.solver_ == "lbfgs"
    assert shifted.n_iter_ == plain.n_iter_
    np.testing.assert_allclose(shifted.coef_, plain.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(shifted.intercept_, plain.intercept_ - plain.coef_ @ c, rtol=1e-6, atol=1e-6)


def test_the_gpu_sums_code_with_numpy_in_cupys_place_gives_the_hosts_sums(monkeypatch):
    """The device module's softmax sums and weighted row sum (chunks of rows widened to float64, products, the
    shared ``softmax_sums``) run here with NumPy standing in for CuPy, on a stand-in GPU block cut into several
    chunks: the host's sums to rounding. (tests/test_gpu.py fits on a device where one is present.)"""
    import types

    from skpar.parallel import _multinomial, _multinomial_device, _newton_device

    fake = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("_")},
                                 asnumpy=np.asarray)
    monkeypatch.setattr(_newton_device, "cupy_module", lambda: fake)
    monkeypatch.setattr(_multinomial_device, "cupy_module", lambda: fake)
    monkeypatch.setattr(_newton_device, "ROW_VALUES", 700 * X.shape[1])  # several chunks of 700 rows
    rng = np.random.default_rng(0)
    s, cw = rng.uniform(0.5, 2.0, len(Y)), np.array([1.0, 2.0, 0.5, 1.5])
    block = types.SimpleNamespace(X=X.astype(np.float32), y=Y.astype(np.float64), sample_weight=s, on_gpu=True,
                                  is_sparse=False, n_rows=len(Y), train_rows=np.arange(len(Y)))
    host = types.SimpleNamespace(**{**vars(block), "on_gpu": False})
    W, B = rng.normal(size=(4, X.shape[1])), rng.normal(size=4)
    for got, want in zip(_multinomial.softmax_terms_task(block, W, B, cw),
                         _multinomial.softmax_terms_task(host, W, B, cw), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    for got, want in zip(_multinomial.weighted_sum_task(block, cw), _multinomial.weighted_sum_task(host, cw),
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
