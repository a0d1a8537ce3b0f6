"""``AveragedSGDClassifier(loss='log_loss', multi_class='multinomial')`` against ``LogisticRegression`` (its softmax
by L-BFGS), on 20 Newsgroups and Fashion-MNIST from ``../shared/data``: test accuracy and fit time. skpar twice:
its default (L-BFGS over the blocks) and ``solver='sgd'`` (SGD's epochs on the softmax).

Two peers: ``LogisticRegression()`` with its defaults (C = 1, another objective than ours at alpha = 1e-4), and
``LogisticRegression(C=1/(alpha n))``, the same objective. One fit each by default (``--repeats``: alternated, the
median), warm (the compiled code loaded first).

Usage: python asv_bench/scripts/multinomial.py [--sets newsgroups,fashion_mnist] [--repeats 1]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skpar import AveragedSGDClassifier

sys.path.insert(0, os.path.dirname(__file__))
from _timing import real_sets  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)
ALPHA = 1e-4


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="newsgroups,fashion_mnist")
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args()
    rows = []
    for name, (X, y, Xt, yt, _) in real_sets(args.sets):
        n = X.shape[0]
        makers = {
            "AveragedSGDClassifier(loss='log_loss', multi_class='multinomial')":
                lambda: AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", random_state=0),
            "AveragedSGDClassifier(loss='log_loss', multi_class='multinomial', solver='sgd')":
                lambda: AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", solver="sgd", random_state=0),
            "LogisticRegression()": lambda: LogisticRegression(),
            "LogisticRegression(C=1/(alpha n))": lambda n=n: LogisticRegression(C=1.0 / (ALPHA * n)),
        }
        for solver in ("auto", "sgd"):  # warm: the compiled code loaded
            AveragedSGDClassifier(loss="log_loss", multi_class="multinomial", solver=solver, max_iter=2).fit(
                X[:500], y[:500])
        times, fits = {k: [] for k in makers}, {}
        for _ in range(args.repeats):
            for key, make in makers.items():
                start = time.perf_counter()
                fits[key] = make().fit(X, y)
                times[key].append(time.perf_counter() - start)
        for key, est in fits.items():
            iters = est.n_iter_ if isinstance(est.n_iter_, int) else int(max(est.n_iter_))
            rows.append((name, key, statistics.median(times[key]), est.score(Xt, yt), iters))
            print(f"{name} {key}: {rows[-1][2]:.2f} s, test accuracy {rows[-1][3]:.4f}, {iters} iterations",
                  flush=True)
    print("\n| set | estimator | s | test accuracy | iterations |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, key, t, acc, iters in rows:
        print(f"| {name} | `{key}` | {t:.2f} | {acc:.4f} | {iters} |")


if __name__ == "__main__":
    main()
