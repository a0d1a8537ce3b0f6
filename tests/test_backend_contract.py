"""The backend protocol (skpar.backend.Backend) as every backend honours it: threads and a LocalCluster."""

import typing

import numpy as np
import pytest

from skpar.backend import Backend, get_backend


def _members():
    names = set(typing.get_type_hints(Backend)) | {n for n in vars(Backend) if not n.startswith("_")}
    return sorted(names)


def _block_sum(block, scale):
    return block.index, scale * float(np.asarray(block.y).sum())


@pytest.mark.parametrize("where", ["threads", "distributed"])
def test_every_backend_honours_the_protocol(where, request):
    """Each backend declares every member of the protocol, and a round over its blocks returns every block's
    answer in order; ``restore`` keeps live blocks where they are and ``check_holders`` is quiet while nothing is
    lost. The declared capabilities are what the strategies read instead of the backend's type."""
    client = "threads" if where == "threads" else request.getfixturevalue("cluster_client")
    backend = get_backend(client, 2)
    try:
        missing = [m for m in _members() if not hasattr(backend, m)]
        assert not missing, f"{type(backend).__name__} lacks {missing}"
        assert isinstance(backend.in_process, bool) and isinstance(backend.recoverable, bool)
        assert backend.in_process == (where == "threads") and backend.recoverable == (where != "threads")
        assert (backend.local_pool is None) == (where != "threads")
        X = np.arange(40.0).reshape(20, 2)
        y = np.arange(20.0)
        blocks = backend.partition(X, y, None, n_blocks=2, seeds=[1, 2], validation_fraction=0.0)
        assert len(blocks) == 2
        out = backend.gather([backend.submit_to_block(_block_sum, b, 2.0) for b in blocks])
        assert [k for k, _ in out] == [0, 1] and sum(s for _, s in out) == 2.0 * y.sum()
        assert len(backend.restore(blocks)) == 2
        assert backend.check_holders() is None
        done = list(backend.as_completed([backend.submit(_block_sum, b, 1.0) for b in blocks]))
        assert sorted(f.result()[0] for f in done) == [0, 1]
    finally:
        backend.close()


def test_solver_state_travels_with_a_block_and_memos_do_not():
    """A block carries the state a solver declared (``persist``), such as the SVM's dual variables, when Dask
    moves or spills it; its memos (row orders, row norms) are rebuilt where it lands. The block itself names no
    solver's attributes."""
    import pickle

    from skpar.backend import make_block

    block = make_block(np.arange(12.0).reshape(6, 2), np.arange(6.0), None, 0, 1, 0.0)
    block.alpha, block.pending, block.row_sq_norms = np.ones((1, 6)), np.full((1, 6), 0.5), np.ones(6)
    assert not hasattr(pickle.loads(pickle.dumps(block)), "alpha")  # nothing declared: nothing kept
    block.persist("alpha", "pending")
    moved = pickle.loads(pickle.dumps(block))
    np.testing.assert_array_equal(moved.alpha, block.alpha)
    np.testing.assert_array_equal(moved.pending, block.pending)
    assert not hasattr(moved, "row_sq_norms") and moved._persist == ("alpha", "pending")
    np.testing.assert_array_equal(moved.X, block.X)


def test_a_fit_on_threads_does_not_import_distributed():
    """Without a client there is no cluster to find: a first fit must not pay for importing ``distributed``
    (0.38 s of a first fit's 0.45 s on the 2-core VM). A fresh interpreter, since the suite imports it."""
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso\n"
            "X = np.random.default_rng(0).normal(size=(300, 5)); y = (X[:, 0] > 0).astype(int)\n"
            "AveragedSGDClassifier().fit(X, y); ParallelSGDRegressor().fit(X, X[:, 1])\n"
            "DualCoordinateAscentSVM().fit(X, y); ShotgunLasso().fit(X, X[:, 1])\n"
            "print('distributed' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
