"""Shared fixtures: both scripts, imported as modules, and the digits split once per session."""

import functools
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import np_mlp_digits  # noqa: E402
import np_slp_digits  # noqa: E402

SCRIPTS = {"slp": np_slp_digits, "mlp": np_mlp_digits}


def make_params(module, n_features, n_classes, seed=42, n_hidden=32):
    """init_params for either script (the MLP's takes the hidden size as well)."""
    if module is np_mlp_digits:
        return module.init_params(n_features, n_hidden, n_classes, seed=seed)
    return module.init_params(n_features, n_classes, seed=seed)


@pytest.fixture(params=sorted(SCRIPTS), ids=sorted(SCRIPTS))
def model(request):
    """Each test that takes `model` runs once for the SLP and once for the MLP."""
    return SCRIPTS[request.param]


@pytest.fixture(scope="session")
def digits():
    """The default split: X_train, X_test, y_train, y_test (identical in both scripts)."""
    return np_slp_digits.load_data()


@functools.lru_cache(maxsize=None)
def default_run(module, test_size=0.2):
    """(params, history) of `module`'s train with its defaults on load_data(test_size), run once.

    Several test files check the same default runs (held-out floors, README tables, notebook
    lines); training each once keeps the suite fast. Callers must not modify the result.
    """
    X_train, X_test, y_train, y_test = module.load_data(test_size=test_size)
    return module.train(X_train, y_train, X_test, y_test, verbose=False)
