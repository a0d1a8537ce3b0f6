"""The real benchmark sets, loaded as a user would load them: LIBSVM files through ``load_svmlight_file``, the
Shotgun paper's ``.mat`` files through ``scipy.io.loadmat``, Fashion-MNIST from its IDX files.

The files are not in a clone: they live in the folder named by the environment variable ``SKPAR_DATA`` (by default
``../shared/data`` beside the repository). ``a9a`` falls back to the copy shipped in the package
(``skpar.datasets.load_a9a``), so the asv suite over real data runs on any machine. Loaded sets are cached in memory.

Every set comes as ``(X_train, y_train, X_test, y_test, task)`` with ``task`` one of ``'binary'``, ``'multiclass'``,
``'regression'`` or ``'lasso'``. Sets without a test file are split 75/25 with a fixed seed. Sparse X is CSR with
int32 indices (scikit-learn's SGD and liblinear need them). What a set gets besides loading is said in ``SETS``.
"""

import bz2
import functools
import gzip
import os
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[2]

#: name -> (task, what is done to it after loading)
SETS = {
    "a9a": ("binary", "sparse 0/1, LIBSVM's train/test files"),
    "ijcnn1": ("binary", "LIBSVM's train/test files, CSR as loaded"),
    "reuters": ("binary", "tf-idf as distributed, train/test files"),
    "newsgroups": ("multiclass", "word counts -> TfidfTransformer fitted on the training file"),
    "fashion_mnist": ("multiclass", "pixels / 255, dense float64"),
    "dorothea": ("binary", "sparse 0/1, 75/25 split"),
    "cpusmall": ("regression", "features standardised on the training rows, raw target, 75/25 split"),
    "mug05_12_12": ("lasso", "the whole problem (no split): A, y as stored"),
    "arcene": ("lasso", "the whole problem (no split): A as stored, labels as targets"),
}


def data_home():
    """The folder of the real data sets (``SKPAR_DATA``, else ``../shared/data`` beside the repository)."""
    return Path(os.environ.get("SKPAR_DATA", ROOT.parent / "shared" / "data"))


def available(name):
    """True when the set's files are on this machine (a9a always is: the package ships it)."""
    files = {"a9a": [], "ijcnn1": ["ijcnn1.trn.bz2"], "reuters": ["reuters.trn.bz2"],
             "newsgroups": ["newsgroups_train.svm.bz2"], "fashion_mnist": ["fashion_mnist"],
             "dorothea": ["dorothea_binary.svm.bz2"], "cpusmall": ["cpusmall.svm.bz2"],
             "mug05_12_12": ["mug05_12_12.mat"], "arcene": ["arcene.mat"]}[name]
    return all((data_home() / f).exists() for f in files)


def _csr32(X):
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    X.sort_indices()
    return X


def _svm(file, n_features):
    with bz2.open(data_home() / file, "rb") as f:
        X, y = load_svmlight_file(f, n_features=n_features)
    return _csr32(X), y


def _pair(train, test, n_features):
    Xtr, ytr = _svm(train, n_features)
    Xte, yte = _svm(test, n_features)
    return Xtr, ytr, Xte, yte


def _split(X, y):
    return train_test_split(X, y, test_size=0.25, random_state=0)


def _idx(file, header):
    with gzip.open(data_home() / "fashion_mnist" / file, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


@functools.cache
def load(name):
    """``(X_train, y_train, X_test, y_test, task)`` of the set ``name`` (a key of ``SETS``)."""
    task = SETS[name][0]
    if name == "a9a":
        if available("ijcnn1"):  # the shared folder is here: read the original files
            Xtr, ytr, Xte, yte = _pair("a9a.bz2", "a9a.t.bz2", 123)
        else:
            from skpar.datasets import load_a9a

            Xtr, ytr, Xte, yte = load_a9a()
    elif name == "ijcnn1":
        Xtr, ytr, Xte, yte = _pair("ijcnn1.trn.bz2", "ijcnn1.tst.bz2", 22)
    elif name == "reuters":
        Xtr, ytr, Xte, yte = _pair("reuters.trn.bz2", "reuters.tst.bz2", 8315)
    elif name == "newsgroups":
        Xtr, ytr, Xte, yte = _pair("newsgroups_train.svm.bz2", "newsgroups_test.svm.bz2", 61188)
        tfidf = TfidfTransformer().fit(Xtr)
        Xtr, Xte = _csr32(tfidf.transform(Xtr)), _csr32(tfidf.transform(Xte))
    elif name == "fashion_mnist":
        Xtr = _idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
        ytr = _idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
        Xte = _idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
        yte = _idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    elif name == "dorothea":
        X, y = _svm("dorothea_binary.svm.bz2", None)
        Xtr, Xte, ytr, yte = _split(X, y)
        Xtr, Xte = _csr32(Xtr), _csr32(Xte)
    elif name == "cpusmall":
        X, y = _svm("cpusmall.svm.bz2", None)
        Xtr, Xte, ytr, yte = _split(X.toarray(), y)
        scaler = StandardScaler().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    else:  # the Shotgun paper's Lasso problems: no test split, the objective is what is compared
        m = scipy.io.loadmat(data_home() / f"{name}.mat")
        A = m["A"]
        A = sp.csc_matrix(A, dtype=np.float64) if sp.issparse(A) else np.asarray(A, dtype=np.float64)
        Xtr, ytr = A, np.asarray(m["y"], dtype=np.float64).ravel()
        Xte, yte = Xtr, ytr
    return Xtr, np.asarray(ytr), Xte, np.asarray(yte), task
