"""Training end to end: what it reaches, that it is reproducible, and that it is what
scikit-learn computes."""

import ast
import difflib
import re
import sys
import warnings

import numpy as np
import pytest
from conftest import ROOT, SCRIPTS, default_run, make_params
from tools.sync_notebooks import PLUMBING
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import np_mlp_digits
import np_slp_digits

# Held-out accuracy that a default run must reach, on the 360 test images (one image is
# 0.28 %). The runs are deterministic; these floors sit 2 images under what they print, so
# a NumPy or BLAS change that flips an image or two passes, and a real regression fails.
MIN_TEST_ACC = {np_slp_digits: 0.950, np_mlp_digits: 0.955}


@pytest.fixture(scope="module")
def default_runs():
    return {m: default_run(m) for m in SCRIPTS.values()}


def test_default_run_reaches_its_held_out_accuracy(model, default_runs):
    _, history = default_runs[model]
    final = history[-1]
    assert final["epoch"] == 1000
    assert final["test_acc"] >= MIN_TEST_ACC[model]
    assert final["loss"] < history[0]["loss"] / 10


def test_history_has_the_logged_epochs_and_their_splits(model, default_runs):
    _, history = default_runs[model]
    assert [r["epoch"] for r in history] == list(range(0, 1001, 100))
    assert all(set(r) == {"epoch", "loss", "train_acc", "test_acc", "test_loss"} for r in history)


def test_the_held_out_loss_is_the_loss_of_the_returned_model_on_the_test_set(model, digits,
                                                                               default_runs):
    X_train, X_test, y_train, y_test = digits
    params, history = default_runs[model]
    assert history[-1]["test_loss"] == model.loss(params, X_test, model.one_hot(y_test, 10))
    # with weight decay it is the same loss as the training loss's: penalty included
    params, history = model.train(X_train[:200], y_train[:200], X_test, y_test, epochs=5,
                                  weight_decay=0.1, verbose=False)
    assert history[-1]["test_loss"] == model.loss(params, X_test, model.one_hot(y_test, 10),
                                                  weight_decay=0.1)
    # untrained it is near ln 10 (ten equal guesses); trained, far lower
    _, default_history = default_runs[model]
    assert default_history[0]["test_loss"] == pytest.approx(np.log(10), abs=0.2)
    assert default_history[-1]["test_loss"] < default_history[0]["test_loss"] / 10
    _, no_test = model.train(X_train[:200], y_train[:200], epochs=2, verbose=False)
    assert all("test_loss" not in record for record in no_test)


def test_log_every_adds_records_without_changing_the_result(model, digits, default_runs):
    X_train, X_test, y_train, y_test = digits
    params, history = model.train(X_train, y_train, X_test, y_test, epochs=1000, log_every=10,
                                  verbose=False)
    assert [r["epoch"] for r in history] == list(range(0, 1001, 10))
    default_params, default_history = default_runs[model]
    assert history[::10] == default_history
    for name in params:
        np.testing.assert_array_equal(params[name], default_params[name])


LOG_LINE = re.compile(r"epoch +(\d+) \| loss \d+\.\d{4} \| "
                      r"train acc +\d+\.\d% \| test acc +\d+\.\d%")


def test_train_prints_one_line_per_logged_epoch(model, digits, capsys):
    X_train, X_test, y_train, y_test = digits
    model.train(X_train, y_train, X_test, y_test, epochs=25, log_every=10)
    lines = capsys.readouterr().out.splitlines()
    assert [int(LOG_LINE.fullmatch(line).group(1)) for line in lines] == [0, 10, 20, 25]
    model.train(X_train, y_train, epochs=3, log_every=10)
    assert "test acc" not in capsys.readouterr().out


def test_format_record_prints_the_documented_line(model):
    record = {"epoch": 100, "loss": 0.23449, "train_acc": 0.943, "test_acc": 0.931}
    expected = "epoch  100 | loss 0.2345 | train acc  94.3% | test acc  93.1%"
    assert model.format_record(record) == expected
    del record["test_acc"]
    assert model.format_record(record) == "epoch  100 | loss 0.2345 | train acc  94.3%"


def test_a_small_batch_can_be_fitted_perfectly(model, digits):
    X_train, _, y_train, _ = digits
    two_of_each = np.concatenate([np.flatnonzero(y_train == digit)[:2] for digit in range(10)])
    X, y = X_train[two_of_each], y_train[two_of_each]
    params, history = model.train(X, y, epochs=300, verbose=False)
    assert history[-1]["train_acc"] == 1.0
    np.testing.assert_array_equal(model.predict(params, X), y)


def test_same_seed_same_history_other_seed_other_weights(model, digits):
    X_train, X_test, y_train, y_test = digits
    runs = [model.train(X_train, y_train, X_test, y_test, epochs=50, seed=s, verbose=False)
            for s in (3, 3, 4)]
    assert runs[0][1] == runs[1][1]
    for name in runs[0][0]:
        np.testing.assert_array_equal(runs[0][0][name], runs[1][0][name])
    first_weight = "W" if "W" in runs[0][0] else "W1"
    assert not np.allclose(make_params(model, 64, 10, seed=3)[first_weight],
                           make_params(model, 64, 10, seed=4)[first_weight])
    assert not np.allclose(runs[0][0][first_weight], runs[2][0][first_weight])


def test_the_functions_train_on_another_data_set_given_its_number_of_classes(model):
    # Wine: 13 features, 3 classes, 178 samples -- no 64, 10 or 1797 anywhere.
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=0)
    X_train, X_test = model.standardise(X_train, X_test)
    params, history = model.train(X_train, y_train, X_test, y_test, n_classes=3, epochs=300,
                                  verbose=False)
    assert model.predict(params, X_test).shape == (54,)
    assert history[-1]["test_acc"] >= 0.9  # wine is nearly linearly separable: ~97 % is typical
    with pytest.raises(ValueError, match=r"no label 3, 4, 5, \.\.\.; .* \(n_classes=10\)"):
        model.train(X_train, y_train, epochs=1, verbose=False)  # the digits' ten, by default


@pytest.mark.parametrize("settings, message", [
    ({"lr": 1e300}, "training diverged at epoch 1: the loss is not a finite number; "
                    "try a smaller lr"),
    # the decay step multiplies W by (1 - lr * weight_decay): beyond 2 it grows, whatever lr is
    ({"weight_decay": 1e3}, "try a smaller weight_decay"),
    ({"weight_decay": 1e308}, "training cannot start: the loss is not a finite number; "
                              "try a smaller weight_decay"),
])
def test_diverging_training_raises_one_error_naming_the_argument(model, digits, settings,
                                                                 message):
    X_train, _, y_train, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(FloatingPointError) as caught:
            model.train(X_train[:100], y_train[:100], epochs=300, verbose=False, **settings)
    assert message in str(caught.value)
    assert "--" not in str(caught.value)  # the Python API speaks of arguments, not flags


def test_a_large_finite_learning_rate_just_trains(digits):
    X_train, X_test, y_train, y_test = digits
    _, history = np_slp_digits.train(X_train, y_train, X_test, y_test, lr=5.0, epochs=100,
                                     verbose=False)
    assert history[-1]["test_acc"] > 0.9


# --- scikit-learn parity -----------------------------------------------------------------


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_training_matches_scikit_learn_step_for_step(model, digits, weight_decay):
    """From the same initial weights, 1000 full-batch steps end where scikit-learn's do."""
    X_train, _, y_train, _ = digits
    N = len(X_train)
    params, _ = model.train(X_train, y_train, epochs=1000, weight_decay=weight_decay, verbose=False)
    init = make_params(model, 64, 10)
    weights, biases = (["W"], ["b"]) if "W" in init else (["W1", "W2"], ["b1", "b2"])
    clf = MLPClassifier(
        hidden_layer_sizes=() if "W" in init else (32,), solver="sgd", batch_size=N,
        learning_rate_init=0.1, momentum=0.0,
        alpha=weight_decay * N,  # sklearn's penalty is alpha / (2N)
        shuffle=False, tol=0.0, n_iter_no_change=10**9,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns that one partial_fit has not converged
        clf.partial_fit(X_train, y_train, classes=np.arange(10))  # sets up its arrays
        clf.coefs_ = [init[name].copy() for name in weights]  # copies: it updates in place
        clf.intercepts_ = [init[name].copy() for name in biases]
        for _ in range(1000):
            clf.partial_fit(X_train, y_train)
    ours = [params[name] for name in weights + biases]
    theirs = clf.coefs_ + clf.intercepts_
    # Same maths in a different order of floating-point operations: ~1e-15 apart after
    # 1000 steps. A real difference (a missing 1/N, a bias decayed) is >= 1e-4.
    assert max(np.abs(a - b).max() for a, b in zip(ours, theirs)) <= 1e-9


# --- the scripts as source -------------------------------------------------------------

# Written once, copied into both scripts on purpose: each script stands alone.
TWINS = ["load_data", "standardise", "one_hot", "log_softmax", "softmax", "predict", "accuracy",
         "format_record", "check_settings", "check_X", "check_y", "check_data", "advice",
         "add_flag"]
# What the hidden layer adds: every line that only the MLP has names one of these.
HIDDEN_LAYER = re.compile(r"hidden|W1|W2|b1|b2|Z1|Z2|A1|mask|ReLU|\(H|H\)|multi-layer|"
                          r"chain rule|gradient by the|32 x 10|np_slp|np_mlp|same program")


def top_level_definitions(path):
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def test_the_twin_helpers_are_identical_in_both_scripts():
    slp = top_level_definitions(ROOT / "np_slp_digits.py")
    mlp = top_level_definitions(ROOT / "np_mlp_digits.py")
    for name in TWINS:
        assert ast.dump(slp[name]) == ast.dump(mlp[name]), f"{name} differs between the two scripts"


def test_diffing_the_scripts_shows_only_what_the_hidden_layer_adds():
    slp = (ROOT / "np_slp_digits.py").read_text().splitlines()
    mlp = (ROOT / "np_mlp_digits.py").read_text().splitlines()
    only_mlp = [line[2:] for line in difflib.ndiff(slp, mlp) if line.startswith("+ ")]
    assert len(only_mlp) >= 15  # the hidden layer is really there
    assert [line for line in only_mlp if not HIDDEN_LAYER.search(line)] == []
    # and a change to shared code shows up: the test can fail
    changed = [line.replace("keepdims=True", "keepdims=False") for line in mlp]
    only_changed = [line for line in difflib.ndiff(slp, changed) if line.startswith("+ ")]
    assert any(not HIDDEN_LAYER.search(line) for line in only_changed)


def test_each_script_reads_docstring_imports_algorithm_then_plumbing():
    for name in ["np_slp_digits.py", "np_mlp_digits.py"]:
        source = (ROOT / name).read_text()
        body = ast.parse(source).body
        assert isinstance(body[0], ast.Expr)  # the docstring, with the command to run
        assert "Run:" in body[0].value.value
        first_def = next(i for i, node in enumerate(body) if isinstance(node, ast.FunctionDef))
        assert all(isinstance(node, (ast.Import, ast.ImportFrom))
                   for node in body[1:first_def])  # imports, and nothing between them
        assert body[first_def].name == "load_data" and body[first_def].lineno < 45
        # every function of the algorithm comes before the checks and the command line, and
        # the signal handling and line buffering come last, in main or the __main__ block
        order = [node.name for node in body if isinstance(node, ast.FunctionDef)]
        plumbing = [order.index(function) for function in PLUMBING if function in order]
        assert max(order.index(function) for function in ALGORITHM) < min(plumbing)
        assert isinstance(body[-1], ast.If) and "__main__" in ast.unparse(body[-1].test)
        before_main = source[:source.index("\ndef main(")]
        assert "signal." not in before_main and "reconfigure" not in before_main


# The file is the algorithm, then its checks and command line in as few lines as they need.
LINE_BUDGET = {"np_slp_digits.py": 310, "np_mlp_digits.py": 320}
ALGORITHM = ["load_data", "standardise", "one_hot", "log_softmax", "softmax", "init_params",
             "forward", "loss", "backward", "predict", "accuracy", "train"]


@pytest.mark.parametrize("name", sorted(LINE_BUDGET))
def test_each_script_is_within_its_budget_and_mostly_the_algorithm(name):
    lines = (ROOT / name).read_text().splitlines()
    assert len(lines) <= LINE_BUDGET[name]
    functions = top_level_definitions(ROOT / name)
    algorithm = sum(1 for f in ALGORITHM for line in
                    lines[functions[f].lineno - 1:functions[f].end_lineno] if line.strip())
    # The checks every public function needs at its door, and the command line's, take the
    # rest: a file more than three fifths defences would no longer read as the algorithm.
    assert algorithm >= 0.4 * sum(1 for line in lines if line.strip())


@pytest.mark.parametrize("name", ["np_slp_digits.py", "np_mlp_digits.py"])
def test_each_script_imports_only_numpy_scikit_learn_and_the_standard_library(name):
    # threadpoolctl comes with scikit-learn (which uses it itself); main() caps BLAS threads with it
    tree = ast.parse((ROOT / name).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"numpy", "sklearn", "threadpoolctl"}


@pytest.mark.parametrize("name", ["np_slp_digits.py", "np_mlp_digits.py"])
def test_model_code_has_no_hard_coded_data_sizes(name):
    # A default argument (train's n_classes=10, the digits) is a setting the caller changes;
    # the bodies must not assume a size.
    source = (ROOT / name).read_text()
    tree = ast.parse(source)
    model_functions = ["init_params", "forward", "loss", "backward", "predict", "accuracy",
                       "train"]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in model_functions:
            numbers = {n.value for statement in node.body for n in ast.walk(statement)
                       if isinstance(n, ast.Constant) and isinstance(n.value, int)}
            assert not numbers & {64, 10, 1797, 1437, 360}, node.name
