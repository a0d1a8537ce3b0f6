"""scikit-learn's own SGD test module (``sklearn/linear_model/tests/test_sgd.py`` of the installed scikit-learn), run
with skpar's estimators in place of scikit-learn's: how much of a drop-in skpar's ``SGDClassifier`` and
``SGDRegressor`` are (``--estimators fast``: ``AveragedSGDClassifier`` and ``ParallelSGDRegressor``, the same
classes with defaults for speed on many cores).

Before the module is collected, ``sklearn.linear_model.SGDClassifier`` and ``SGDRegressor`` are replaced by skpar's
two estimators, so the module's factories and its sparse subclasses build skpar's. The tests of
``SGDOneClassSVM`` and of scikit-learn's private internals (its ``_sgd_fast`` loss table, its plain SGD helper)
are not about the swapped estimators and are left out (``-k``). Prints the counts, then every failure's test name
and the last line of its error, grouped by that line.

Usage: python asv_bench/scripts/sklearn_sgd_suite.py [--estimators dropin|fast] [--show 40]
"""

import argparse
import collections
import os

import pytest

#: tests of estimators or internals that are not swapped (SGDOneClassSVM; scikit-learn's compiled loss table)
LEFT_OUT = "not OneClass and not one_class and not ocsvm and not loss_function and not _sgd_fast"


class Swap:
    """A pytest plugin: skpar's estimators in scikit-learn's place, and a record of every test's outcome."""

    def __init__(self, estimators="dropin"):
        self.outcomes = {}
        self.estimators = estimators

    def pytest_configure(self, config):
        import sklearn.linear_model as lm

        import skpar

        if self.estimators == "dropin":
            lm.SGDClassifier, lm.SGDRegressor = skpar.SGDClassifier, skpar.SGDRegressor
        else:
            lm.SGDClassifier, lm.SGDRegressor = skpar.AveragedSGDClassifier, skpar.ParallelSGDRegressor

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            message = ""
            if report.failed:
                lines = str(report.longrepr).strip().splitlines()
                message = next((ln for ln in reversed(lines) if ln.startswith("E ")), lines[-1] if lines else "")
            self.outcomes[report.nodeid] = (report.outcome, message.strip()[:160])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--show", type=int, default=40, help="failure groups to print")
    p.add_argument("--estimators", choices=["dropin", "fast"], default="dropin",
                   help="skpar.SGDClassifier/SGDRegressor (scikit-learn's defaults), or the fast-default classes")
    args = p.parse_args()
    import sklearn

    path = os.path.join(os.path.dirname(sklearn.__file__), "linear_model", "tests", "test_sgd.py")
    swap = Swap(args.estimators)
    pytest.main([path, "-q", "-p", "no:cacheprovider", "-k", LEFT_OUT, "-W", "ignore"], plugins=[swap])
    counts = collections.Counter(outcome for outcome, _ in swap.outcomes.values())
    print(f"\nscikit-learn {sklearn.__version__}'s test_sgd.py with skpar's {args.estimators} estimators: "
          f"{counts['passed']} passed, "
          f"{counts['failed']} failed, {counts['skipped']} skipped of {len(swap.outcomes)}")
    groups = collections.defaultdict(list)
    for node, (outcome, message) in swap.outcomes.items():
        if outcome == "failed":
            groups[message].append(node.split("::")[-1])
    for message, nodes in sorted(groups.items(), key=lambda kv: -len(kv[1]))[: args.show]:
        print(f"{len(nodes):4d}  {message}\n      e.g. {', '.join(nodes[:3])}")


if __name__ == "__main__":
    main()
