"""Every public name has a numpydoc docstring that documents its parameters and return values (numpydoc.validate)."""

import importlib

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

#: checks left out, and why: see-also sections and examples are encouraged, not required on every method; the
#: summary layout rules (GL01, GL02, SS06) fight long summaries wrapped at 120 columns; RT02 wants a bare type where
#: we name the returned estimator; PR06 wants 'int' where we write 'integer' in prose-like types
IGNORED = {"SA01", "EX01", "ES01", "RT02", "GL01", "GL02", "SS06", "PR06", "YD01"}

PUBLIC = {
    "skpar": ["ParallelSGDRegressor", "AveragedSGDClassifier", "SGDClassifier", "SGDRegressor", "ShotgunLasso",
              "DualCoordinateAscentSVM",
              "critical_batch_size", "shotgun_lasso_path"],
    "skpar.linear_model": ["alpha_max"],
    "skpar.datasets": ["make_correlated_regression", "make_sparse_design"],
    "skpar.exceptions": ["DivergenceWarning", "DivergenceError", "CriticalBatchSizeWarning", "SmallBlockWarning"],
}
METHODS = ["fit", "partial_fit", "predict", "predict_proba", "predict_log_proba", "decision_function", "path"]


def _names():
    out = []
    for module, names in PUBLIC.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            out.append(f"{module}.{name}")
            if isinstance(obj, type) and not issubclass(obj, BaseException):
                for m in METHODS:
                    fn = obj.__dict__.get(m) or next((c.__dict__[m] for c in obj.__mro__ if m in c.__dict__
                                                       and c.__module__.startswith("skpar")), None)
                    if fn is not None and callable(fn):
                        out.append(f"{module}.{name}.{m}")
    return out


@pytest.mark.parametrize("name", _names())
def test_numpydoc(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {msg}" for code, msg in result["errors"] if code not in IGNORED]
    assert not errors, f"{name}:\n" + "\n".join(errors)
