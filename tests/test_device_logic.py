"""The GPU paths' task logic on the CPU: the device tasks of the normal equations, of the Newton methods and of the
Lasso's column blocks run with NumPy standing in for CuPy (the same calls: ``cupy_module()`` is patched), against
the host tasks they replace. What CuPy itself does is checked on a GPU (``tests/test_gpu.py``, marked ``gpu``); this
checks the chunking, the exact merges of chunks and the solver state the device modules keep, on every machine."""

import types

import numpy as np
import pytest

import skpar.parallel._hydra_device as hydra_device
import skpar.parallel._newton_device as newton_device
import skpar.parallel._normal_equations as normal_equations
from skpar._solver_state import SolverState
from skpar.backend._block import make_block
from skpar.parallel._hydra import ColumnBlock, hydra_lasso
from skpar.parallel._logistic import logistic_newton
from skpar.parallel._newton import primal_newton

#: NumPy under CuPy's name, with the two calls CuPy adds
NUMPY_AS_CUPY = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("_")},
                                      asnumpy=np.asarray)


@pytest.fixture
def numpy_device(monkeypatch):
    for module in (hydra_device, newton_device, normal_equations):
        monkeypatch.setattr(module, "cupy_module", lambda: NUMPY_AS_CUPY)


class _DeviceBlock(SolverState):
    """A GPU block's interface over host arrays."""

    on_gpu = True
    is_sparse = False

    def __init__(self, X, y, sample_weight):
        self.X, self.y, self.sample_weight = X, y, sample_weight

    @property
    def n_rows(self):
        return self.X.shape[0]


class _Result:
    def __init__(self, results):
        self.results, self.bytes_sent = results, 0


class _Rounds:
    """``SyncRounds.run`` in this thread, over the given blocks."""

    def __init__(self, blocks):
        self.blocks = blocks

    def run(self, fn, *args, per_block=None):
        extra = per_block or [()] * len(self.blocks)
        return _Result([fn(b, *args, *e) for b, e in zip(self.blocks, extra, strict=True)])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("center", [True, False])
def test_device_scatter_merges_chunks_exactly(numpy_device, monkeypatch, weighted, center):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((5000, 7)) + 50).astype(np.float32)  # far from the origin: centring matters
    y = rng.standard_normal(5000) + 3
    s = rng.uniform(0.5, 2, 5000) if weighted else np.ones(5000)
    monkeypatch.setattr(normal_equations, "DEVICE_SCATTER_VALUES", 7 * 600)  # 9 chunks
    got = normal_equations.scatter_task(_DeviceBlock(X, y, s), center)
    X64, S = X.astype(np.float64), s.sum()
    mx = s @ X64 / S if center else np.zeros(7)
    my = s @ y / S if center else 0.0
    Z, r = X64 - mx, y - my
    want = (S, mx, my, (Z * s[:, None]).T @ Z, (Z * s[:, None]).T @ r, float(s @ r ** 2), 5000)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-8)


def _classification(K, dtype, n=3000, d=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    if K == 1:
        y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(np.float64)
    else:
        y = rng.integers(0, K, n).astype(np.float64)
    return X, y, rng.uniform(0.5, 2, n)


@pytest.mark.parametrize("K,dtype", [(1, np.float32), (3, np.float64)])
@pytest.mark.parametrize("bias", [0.0, 1.0])
@pytest.mark.parametrize("method", ["squared_hinge", "log_loss", "log_loss_cg", "lbfgs"])
def test_device_newton_rounds_take_the_host_iterates(numpy_device, monkeypatch, K, dtype, bias, method):
    X, y, sw = _classification(K, dtype)
    monkeypatch.setattr(newton_device, "ROW_VALUES", 500)  # chunks of 41 rows
    d = X.shape[1]
    out = []
    for block in (make_block(X, y, sw, 0, 0, 0.0), _DeviceBlock(X, y, sw)):
        W0 = np.zeros((K, d + (bias != 0)))
        common = dict(pos_weight=np.ones(K), neg_weight=np.full(K, 1.5), bias=bias, history=[])
        if method == "squared_hinge":
            W, _, n_iter, converged = primal_newton(_Rounds([block]), W0, C=0.1, tol=1e-10, max_iter=30, gram=True,
                                                    **common)
        else:
            gram = {"log_loss": True, "log_loss_cg": False, "lbfgs": "lbfgs"}[method]
            W, n_iter, converged = logistic_newton(_Rounds([block]), W0, C=1.0 / (1e-3 * len(y)), max_iter=100,
                                                   gram=gram, **common)
        assert converged
        out.append(W)
    # the same iterates to rounding (conjugate gradients' stops may move an iteration: their answers agree to
    # the stop's accuracy)
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6, atol=1e-6 if method == "log_loss_cg" else 1e-9)


@pytest.mark.parametrize("selection", ["cyclic", "random"])
@pytest.mark.parametrize("K", [1, 3])
def test_device_column_blocks_solve_the_host_blocks_problem(numpy_device, monkeypatch, selection, K):
    monkeypatch.setattr(hydra_device, "CHUNK_COLUMNS", 7)  # blocks of 10 or 30 columns in chunks of 7
    rng = np.random.default_rng(0)
    n, d = 400, 30
    X = rng.standard_normal((n, d)) + 2 * rng.standard_normal(d)
    X[:, 5] = X[:, 4] + 0.1 * rng.standard_normal(n)  # correlated columns in one chunk
    y = X[:, :5] @ rng.standard_normal(5) + rng.standard_normal(n)
    sw = rng.uniform(0.5, 2, n)
    s = sw * n / sw.sum()
    yc = y - s @ y / n
    splits = np.array_split(np.arange(d), K)
    fits = []
    for make in (lambda c: ColumnBlock(X[:, c], s, c, True),
                 lambda c: hydra_device.DeviceColumnBlock.from_pieces([X[:200, c], X[200:, c]], s, c, True)):
        fits.append(hydra_lasso(_Rounds([make(c) for c in splits]), splits, yc, s, np.zeros(d), 0.05, 0.01,
                                max_rounds=5000, tol=1e-12, selection=selection, seeds=np.arange(100), history=[]))
    (w_host, _, rounds_host, ok_host), (w_dev, gap_dev, rounds_dev, ok_dev) = fits
    assert ok_host and ok_dev and gap_dev <= 1e-12
    np.testing.assert_allclose(w_dev, w_host, atol=1e-6)
    if selection == "cyclic":  # the same coordinate order: the same rounds
        assert rounds_dev == rounds_host
