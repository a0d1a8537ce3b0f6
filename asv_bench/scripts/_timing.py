"""Shared by the time-to-target scripts: fresh fits timed, fewest epochs that reach a target, a printed table."""

import statistics
import time


def timed_fit(make, X, y, repeats=1):
    """Median wall time of ``repeats`` fresh fits of ``make()``, and the last fitted estimator."""
    times, est = [], None
    for _ in range(repeats):
        est = make()
        t = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - t)
    return statistics.median(times), est


def time_to_target(make, X, y, reached, k_max, repeats=3):
    """Fewest epochs ``k`` (doubling, then bisection) for which ``reached(make(k).fit(X, y))`` holds.

    Returns ``(median seconds of `repeats` fits at k, k, the fitted estimator)``, or None past ``k_max``.
    """
    def ok(k):
        return reached(timed_fit(lambda: make(k), X, y)[1])

    k, lo = 1, 0
    while k <= k_max and not ok(k):
        lo, k = k, 2 * k
    if k > k_max:
        return None
    hi = k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    seconds, est = timed_fit(lambda: make(hi), X, y, repeats=repeats)
    return seconds, hi, est


def print_table(rows, columns):
    """Rows of ``(name, *values)`` under ``columns`` (the first is the name's)."""
    widths = [max(len(str(c)), *(len(_fmt(r[i])) for r in rows)) for i, c in enumerate(columns)]
    for line in [columns, *rows]:
        cells = [_fmt(v) if line is not columns else str(v) for v in line]
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        print("  ".join(padded))


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e-2 or abs(v) >= 1e4 else f"{v:.3f}"
    return str(v)


def real_sets(names):
    """``(name, load(name))`` for each of the comma-separated set ``names`` whose files are present (the loaders of
    ``asv_bench/benchmarks/datasets.py``); a set whose files are missing is said and skipped."""
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from benchmarks.datasets import available, load

    for name in names.split(","):
        if not available(name):
            print(f"{name}: files not found; skipped")
            continue
        yield name, load(name)
