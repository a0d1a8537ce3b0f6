"""Critical batch size: blockwise estimates against exact eigenvalues, on threads and on a cluster."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from skpar import critical_batch_size


def _exact(X, fit_intercept):
    Xd = X.toarray() if sp.issparse(X) else X
    if fit_intercept:
        Xd = np.hstack([Xd, np.ones((Xd.shape[0], 1))])
    lam = np.linalg.eigvalsh(Xd.T @ Xd / len(Xd))[-1]
    sq = (Xd ** 2).sum(1)
    return sq.mean() / lam, sq.max() / lam, (sq ** 3).mean() / (sq ** 2).mean() / lam


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_path_is_exact_on_the_whole_sample(scheduler, fit_intercept):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 30)) * np.logspace(0, -1, 30)
    X[::50] *= 6.0  # heavy rows: the typical estimate lies well inside (lower, upper)
    est = critical_batch_size(X, fit_intercept=fit_intercept, max_samples=10_000, client=scheduler, n_jobs=2)
    lower, upper, typical = _exact(X, fit_intercept)
    assert est.n_samples == 3000
    assert est.lower == pytest.approx(lower, rel=1e-10)
    assert est.upper == pytest.approx(upper, rel=1e-10)
    assert est.typical == pytest.approx(typical, rel=1e-10)
    assert 2 * est.lower < est.typical < est.upper


def test_isotropic_data_has_critical_batch_near_d():
    # E||x||^2 = d and lambda_max ~ 1 for standard normal rows: b~ close to d (the notes' "sum of eigenvalues")
    X = np.random.default_rng(1).normal(size=(20_000, 50))
    est = critical_batch_size(X, fit_intercept=False, n_jobs=2, random_state=0)
    assert 35 < est.lower < 50


def test_power_iteration_path_for_wide_sparse_data():
    X = sp.random(2000, 3000, density=0.01, format="csr", random_state=2)
    est = critical_batch_size(X, fit_intercept=True, n_jobs=2, random_state=0)
    Xa = sp.hstack([X, np.ones((2000, 1))]).tocsr()
    lam = eigsh((Xa.T @ Xa) / 2000, k=1, which="LA")[0][0]
    assert est.lambda_max == pytest.approx(lam, rel=1e-3)
    assert est.mean_sq_norm == pytest.approx(np.asarray(Xa.multiply(Xa).sum(1)).mean(), rel=1e-10)


def test_row_sample_estimate_is_close():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200_000, 20)) * np.linspace(1, 3, 20)
    est = critical_batch_size(X, fit_intercept=False, max_samples=20_000, n_jobs=2, random_state=0)
    assert est.n_samples <= 20_002
    assert est.lower == pytest.approx(_exact(X, False)[0], rel=0.05)


def test_sparse_design_generator():
    from skpar.datasets import make_sparse_design

    X = make_sparse_design(500, 40, 7, random_state=0)
    assert X.shape == (500, 40) and X.nnz == 3500
    assert (np.diff(X.indptr) == 7).all()
    X.sum_duplicates()
    assert X.nnz == 3500  # distinct columns in every row


def test_power_iteration_starts_from_the_mean_row(monkeypatch):
    """Non-negative sparse rows (counts, tf-idf): the mean row lies near the top eigenvector, and power iteration
    from it takes few rounds (from a random direction this matrix took 6 iterations)."""
    from skpar.diagnostics import _batch_size

    rounds = []
    real = _batch_size._matvec_with_cap
    monkeypatch.setattr(_batch_size, "_matvec_with_cap", lambda *a: rounds.append(1) or real(*a))
    X = sp.random(2000, 3000, density=0.01, format="csr", random_state=4)
    est = critical_batch_size(X, fit_intercept=False, n_jobs=2, random_state=0)
    lam = eigsh((X.T @ X) / 2000, k=1, which="LA")[0][0]
    assert est.lambda_max == pytest.approx(lam, rel=1e-4)
    assert len(rounds) <= 2 * 3  # two blocks, three iterations at most


def test_power_iteration_stops_at_once_on_an_eigenvector(monkeypatch):
    """Rows that are all multiples of one vector u: H = E[a^2] u u^T, and the mean row (the start) is its top
    eigenvector. ||Hv|| meets the Rayleigh quotient after one product, so one round is enough (the rule on successive
    estimates alone needed a second round to see the estimate stand still)."""
    from skpar.diagnostics import _batch_size

    rounds = []
    real = _batch_size._matvec_with_cap
    monkeypatch.setattr(_batch_size, "_matvec_with_cap", lambda *a: rounds.append(1) or real(*a))
    rng = np.random.default_rng(5)
    u = sp.random(1, 3000, density=0.01, format="csr", random_state=5)
    u.data = np.abs(u.data) + 0.1
    X = sp.csr_matrix(sp.kron(sp.csr_matrix(rng.uniform(0.5, 2.0, size=(500, 1))), u))
    est = critical_batch_size(X, fit_intercept=False, n_jobs=1, random_state=0)
    lam = float(np.mean(np.asarray(X.multiply(X).sum(1)).ravel()))  # E[a^2] ||u||^2, the one non-zero eigenvalue
    assert est.lambda_max == pytest.approx(lam, rel=1e-10)
    assert len(rounds) == 1


def _normalised_gram(X, s, fit_intercept):
    """The column-normalised, centred, weighted Gram matrix A of skpar.diagnostics._shotgun, written out."""
    s = s * len(s) / s.sum()
    Xc = X - (s @ X) / s.sum() if fit_intercept else X
    G = Xc.T @ (s[:, None] * Xc)
    norms = np.sqrt(np.diag(G))
    return G / np.outer(norms, norms)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_shotgun_parallelism_is_the_gram_matrix_spectrum(fit_intercept):
    """P* from the top eigenvalue and the typical P from tr(A^2) / tr(A) of the column-normalised Gram matrix,
    dense and sparse alike, with sample weights."""
    from skpar.datasets import make_correlated_regression
    from skpar.diagnostics import shotgun_parallelism

    X, _, _ = make_correlated_regression(600, 80, random_state=0)
    s = np.random.default_rng(0).uniform(0.5, 2.0, size=600)
    lam = np.linalg.eigvalsh(_normalised_gram(X, s, fit_intercept))
    rho, rho_typ = lam.max(), (lam ** 2).sum() / lam.sum()
    for Xf in (X, sp.csr_matrix(X)):
        r = shotgun_parallelism(Xf, sample_weight=s, fit_intercept=fit_intercept, random_state=0)
        assert r.rho == pytest.approx(rho, rel=1e-4) and r.pstar == pytest.approx(80 / rho, rel=1e-4)
        assert r.rho_typical == pytest.approx(rho_typ, rel=0.1)
        assert r.typical == pytest.approx(1 + 79 / (r.rho_typical - 1)) and r.pstar < r.typical < 80
        assert r.n_features == 80


def test_shotgun_parallelism_of_orthogonal_columns_is_every_column():
    from skpar.diagnostics import shotgun_parallelism

    X = np.kron(np.eye(20), np.ones((5, 1)))  # 20 columns on disjoint rows
    r = shotgun_parallelism(X, fit_intercept=False, random_state=0)
    assert r.rho == pytest.approx(1.0) and r.rho_typical == pytest.approx(1.0)
    assert r.pstar == r.typical == 20


def test_the_typical_p_is_where_shotguns_objective_starts_to_rise():
    """The prediction the diagnostic makes, on the shipped Mug32: at half the typical P no epoch raises the
    objective, at twice it one does (the P-guard's event); Bradley et al.'s P* is 2.6 times lower."""
    from skpar import ShotgunLasso
    from skpar.datasets import load_mug32
    from skpar.diagnostics import shotgun_parallelism
    from skpar.linear_model import alpha_max

    X, y = load_mug32()
    r = shotgun_parallelism(X, fit_intercept=False, random_state=0)
    assert 2 * r.pstar < r.typical
    alpha = 0.05 * alpha_max(X, y, fit_intercept=False)

    def rose(P):
        est = ShotgunLasso(alpha=alpha, fit_intercept=False, n_parallel=P, working_set=False, tol=1e-5,
                           max_iter=2000, random_state=0).fit(X, y)
        return any("event" in h for h in est.history_)

    assert not rose(int(r.typical / 2)) and rose(int(2 * r.typical))
