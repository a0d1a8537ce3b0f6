"""The package's shape, checked on its source: imports run down the layers only, the estimators know no machinery
by name, and no function outgrows a screen (``docs/design.md``, "Layers")."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "skpar"

#: the layers, lowest first: a module may import from its own layer or one below it (each top-level file is a layer
#: of its own, so that two of them cannot import each other)
LAYERS = ["exceptions", "_dtypes", "_solver_state", "_device", "_report", "_penalties", "_losses", "_lasso_objective",
          "datasets",
          "kernels", "backend", "parallel", "diagnostics", "linear_model", "demo", "__init__", "__main__"]

#: what an estimator never imports by name: the cluster, the GPU, the Dask backend's module and the CUDA kernels
ESTIMATOR_FORBIDDEN = ("dask", "distributed", "cupy", "cupyx", "skpar.backend._dask", "skpar.kernels._cuda",
                       "skpar.kernels._sgd_cuda", "skpar.kernels._dcd_cuda", "skpar.kernels._stats_cuda")

MAX_FUNCTION_LINES = 80


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        yield path, ".".join(parts), ast.parse(path.read_text(), filename=str(path))


def _imports(module, tree, is_package):
    """Absolute names of every module ``module`` imports (relative imports resolved), with their line numbers."""
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name, node.lineno


def _layer(module):
    top = module.split(".")[1] if module.count(".") else "__init__"
    return LAYERS.index(top)


def test_imports_run_down_the_layers():
    up = []
    for path, module, tree in _modules():
        for name, line in _imports(module, tree, path.name == "__init__.py"):
            if name == "skpar" or name.startswith("skpar."):
                if name != "skpar" and _layer(name) > _layer(module):
                    up.append(f"{module}:{line} imports {name}")
    assert not up, "imports that run up a layer:\n" + "\n".join(up)


def test_estimators_import_no_machinery_by_name():
    found = []
    for path, module, tree in _modules():
        if module.startswith("skpar.linear_model"):
            for name, line in _imports(module, tree, path.name == "__init__.py"):
                if any(name == f or name.startswith(f + ".") for f in ESTIMATOR_FORBIDDEN):
                    found.append(f"{module}:{line} imports {name}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("limit", [MAX_FUNCTION_LINES])
def test_no_function_is_longer_than_a_screen(limit):
    long = []
    for _path, module, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert not long, "\n".join(long)
