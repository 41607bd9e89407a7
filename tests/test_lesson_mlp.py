"""What np_mlp_digits.ipynb teaches, kept true: the graph's gate-by-gate gradients are
backward's, the graph comes before the index algebra, the paired counts (digits and moons) and
the hidden-unit numbers are re-derived, and the writers' fact sits where accuracy is reported.

(That the notebook runs, matches a fresh run, defines the script's functions verbatim and
prints passing gradient checks is tests/test_notebooks.py's job.)"""

import re

import numpy as np
import pytest
from conftest import (code_cells, default_run, flat, lines, printed_line, prose, read,
                      text_differences)
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

import np_mlp_digits as mlp
import np_slp_digits as slp
from compare_models import paired_comparison
from gradient_check import numerical_gradient, relative_error

NOTEBOOK = "np_mlp_digits.ipynb"


def defining(notebook, name):
    """The source of the code cell that defines `name`."""
    return next(cell.source for cell in code_cells(notebook)
                if cell.source.startswith(f"def {name}("))


def numbers(text):
    return [float(x) for x in re.findall(r"-?\d+\.\d+|-?\d+", text)]


def gates_from(source):
    """The notebook's backward_by_gates, defined from its cell's source."""
    namespace = {"np": np, "softmax": mlp.softmax}
    exec(source, namespace)  # noqa: S102 (the repository's own code, or a planted bug in it)
    return namespace["backward_by_gates"]


def small_problem(seed=3, n=20, hidden=7):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 64)
    Y = mlp.one_hot(rng.randint(0, 10, n), 10)
    params = {name: value + 0.05 for name, value in mlp.init_params(64, hidden, 10, seed).items()}
    return params, X, Y


def gate_errors(backward_by_gates):
    """Relative error of each gradient the gates give, against backward and the chain's
    definition (every edge), and of dX against finite differences."""
    params, X, Y = small_problem()
    grads, edges = backward_by_gates(params, X, Y)
    _, cache = mlp.forward(params, X)
    expected = mlp.backward(params, cache, Y)
    errors = {name: relative_error(grads[name], expected[name]) for name in expected}
    dZ2 = (cache["P"] - Y) / len(X)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * cache["mask"]
    for name, value in [("Z2", dZ2), ("A1", dA1), ("Z1", dZ1), ("X", dZ1 @ params["W1"].T)]:
        errors["edge " + name] = relative_error(edges[name], value)
    X_few = X[:4]  # dX by finite differences, a check that does not use backward's algebra
    _, few_edges = backward_by_gates(params, X_few, Y[:4])
    slope = numerical_gradient(lambda p: mlp.loss(params, p["X"], Y[:4]), {"X": X_few})["X"]
    errors["dX by finite differences"] = relative_error(few_edges["X"], slope)
    return errors


def test_the_graphs_gate_by_gate_gradients_equal_backwards_on_every_edge(notebook):
    errors = gate_errors(gates_from(defining(notebook, "backward_by_gates")))
    assert max(errors.values()) < 1e-6, errors  # float64 rounding gives ~1e-10 at most


def test_a_gate_left_out_is_caught():
    # A student's mistake: the ReLU gate passes every gradient, active unit or not.
    source = defining(read(NOTEBOOK), "backward_by_gates")
    assert "dZ1 = dA1 * (Z1 > 0)" in source
    errors = gate_errors(gates_from(source.replace("dZ1 = dA1 * (Z1 > 0)", "dZ1 = dA1")))
    assert errors["W1"] > 1e-2 and errors["edge Z1"] > 1e-2


def test_the_figure_draws_every_gate_every_edge_and_both_directions(notebook):
    cell = next(cell for cell in code_cells(notebook) if "GATES = {" in cell.source)
    namespace = {"untrained_loss": 2.3}
    exec(cell.source.split("def arrow(")[0], namespace)  # the figure's tables, not its drawing
    gates = {gate: local for gate, local in namespace["GATES"].values()}
    assert len(gates) == 5 and {"ReLU", "softmax", "cross-entropy"} <= set(gates)
    w1_gate = next(local for gate, local in gates.items() if "W_1" in gate)
    w2_gate = next(local for gate, local in gates.items() if "W_2" in gate)
    for local, inputs in [(w1_gate, ["X", "W_1", "b_1"]), (w2_gate, ["A_1", "W_2", "b_2"])]:
        assert all(f"to ${name}$" in local for name in inputs), local  # one per input
    wires = namespace["WIRES"]
    assert [wire[2].split("$")[1] for wire in wires] == ["X", "Z_1", "A_1", "Z_2", "P", "L"]
    assert all(wire[3].strip() for wire in wires)  # a gradient on every edge of the chain
    sides = {value.split("$")[1]: gradient for _, value, gradient in namespace["SIDES"]}
    assert "dW_1" in sides["W_1"] and "db_1" in sides["W_1"]
    assert "dW_2" in sides["W_2"] and "db_2" in sides["W_2"]
    assert "image/png" in cell.outputs[0].data


def test_the_graph_comes_before_the_index_algebra_and_the_derivation_sits_by_backward(notebook):
    sources = [cell.source for cell in notebook.cells]
    graph = next(i for i, s in enumerate(sources) if s.startswith("## 2. Backpropagation as a"))
    figure = next(i for i, s in enumerate(sources) if "GATES = {" in s)
    algebra = next(i for i, s in enumerate(sources) if s.startswith("## 3.") and "index" in s)
    backward = next(i for i, s in enumerate(sources) if s.startswith("def backward("))
    assert graph < figure < algebra < backward
    derivation = sources[backward - 1]
    for step in ["dA_1 = dZ_2 W_2^\\top", "dZ_1 = dA_1 \\odot [Z_1 > 0]", "dW_1 = X^\\top dZ_1"]:
        assert step in derivation


def test_one_recap_stands_for_the_single_layer_lesson(notebook):
    text = prose(notebook)
    recaps = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"
              and "np_slp_digits.ipynb" in cell.source and "P - Y" in cell.source]
    assert len(recaps) == 1 and "taken as known" in recaps[0]
    assert "quotient rule" not in text  # the softmax gradient is taken as known
    for gone in ["Your own digit", "Going further", "save_model", "He initialisation"]:
        assert gone not in text + "".join(cell.source for cell in code_cells(notebook))
    assert len(text.split()) <= 2500


def test_the_gradient_checks_cover_every_parameter(notebook):
    checks = [line for line in lines(notebook) if line.startswith("gradient check ")]
    assert [line.split()[2].rstrip(":") for line in checks] == ["W1", "b1", "W2", "b2"]
    assert all(float(line.split()[-1]) <= 1e-6 for line in checks)
    difference = printed_line(notebook, "backward against the gates, largest difference:")
    assert float(difference.split()[-1]) < 1e-12


def test_the_training_lines_are_the_scripts_default_run(notebook):
    _, history = default_run(mlp)
    epoch_lines = "\n".join(line for line in lines(notebook)
                            if line.startswith("epoch ") and " | " in line)
    expected = "\n".join(mlp.format_record(record) for record in history)
    assert text_differences(epoch_lines, expected) == []  # up to last-digit rounding


def test_the_writers_fact_is_said_where_held_out_accuracy_is_reported(notebook):
    _, history = default_run(mlp)
    accuracy = f"{100 * history[-1]['test_acc']:.1f} %"
    cell = next(cell.source for cell in notebook.cells if cell.cell_type == "markdown"
                and accuracy in cell.source)
    assert "1,797" in cell and "13" in cell and "writers" in cell and "360" in cell


def test_the_digits_comparison_is_paired_and_re_derived(notebook):
    X_train, X_test, y_train, y_test = mlp.load_data()
    mlp_params, _ = default_run(mlp)
    slp_params, _ = default_run(slp)
    only_mlp, only_slp, p = paired_comparison(y_test, mlp.predict(mlp_params, X_test),
                                              slp.predict(slp_params, X_test))
    line = printed_line(notebook, "held-out images only the hidden-layer network gets right:")
    assert numbers(line) == [only_mlp, only_slp, round(p, 2)]
    assert f"{only_mlp} images against {only_slp}, $p = {p:.2f}$" in flat(prose(notebook))


def test_the_moons_comparison_is_paired_and_re_derived(notebook):
    X, y = make_moons(n_samples=600, noise=0.2, random_state=0)
    X_fit, X_rest, y_fit, y_rest = train_test_split(X, y, test_size=0.5, stratify=y,
                                                    random_state=0)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5,
                                                    stratify=y_rest, random_state=0)
    predictions = []
    for script in (mlp, slp):  # each at its learning rate chosen on validation
        runs = [script.train(X_fit, y_fit, X_val, y_val, lr=lr, verbose=False)
                for lr in (0.1, 1.0, 3.0)]
        params = max(runs, key=lambda run: run[1][-1]["test_acc"])[0]
        predictions.append(script.predict(params, X_test))
    only_mlp, only_slp, p = paired_comparison(y_test, *predictions)
    assert only_mlp > only_slp  # the lesson's point: the bent boundary wins
    line = printed_line(notebook, "of the 150 held-out points, only the hidden layer gets")
    assert numbers(line) == [150, only_mlp, only_slp, round(p, 3)]
    text = flat(prose(notebook))
    assert (f"{only_mlp} are right only for the hidden layer and {only_slp} only for the "
            "single layer") in text
    assert p < 0.05 and f"$p = {p:.2g}$" in text


def neighbour_correlation(W):
    """Correlation of each weight with its right and its lower neighbour, over all units."""
    grids = W.reshape(8, 8, -1)  # (row, column, unit)
    pairs = [(grids[:, :-1], grids[:, 1:]), (grids[:-1, :], grids[1:, :])]
    here = np.concatenate([a.ravel() for a, _ in pairs])
    there = np.concatenate([b.ravel() for _, b in pairs])
    return np.corrcoef(here, there)[0, 1]


def test_the_hidden_unit_numbers_are_re_derived(notebook):
    W1 = default_run(mlp)[0]["W1"]
    start = mlp.init_params(64, 32, 10)["W1"]
    change = W1 - start
    kept = [np.corrcoef(start[:, h], W1[:, h])[0, 1] for h in range(32)]
    line = numbers(printed_line(notebook, "correlation of each unit's weights, start with end:"))
    assert np.allclose(line[:3], [np.median(kept), min(kept), max(kept)], atol=0.006)
    size = np.linalg.norm(change) / np.linalg.norm(start)
    assert numbers(printed_line(notebook, "size of the change relative to the start:"))[0] == \
        pytest.approx(size, abs=0.006)
    neighbours = [neighbour_correlation(w) for w in (start, W1, change)]
    assert np.allclose(numbers(printed_line(notebook, "neighbouring pixels' weights correlate:")),
                       neighbours, atol=0.006)
    X_train = mlp.load_data()[0]
    blank = np.flatnonzero(X_train.std(axis=0) == 0)
    assert np.all(change[blank] == 0) and list(blank) == [0, 32, 39]
    text = flat(prose(notebook))
    for value in (np.median(kept), size, neighbours[2]):
        assert f"{value:.2f}" in text
    assert f"{neighbours[2]:.2f} in the change, {abs(neighbours[0]):.2f} at the start" in text
    assert "Pixels 0, 32 and 39" in text


def test_every_figure_is_shown_and_big_enough_to_see(notebook):
    figures = [cell for cell in code_cells(notebook) if "plt.subplots(" in cell.source]
    assert len(figures) == 4  # the graph, the curves, the hidden units, the moons
    assert all("image/png" in "".join(str(o.get("data", {}).keys()) for o in cell.outputs)
               for cell in figures)
    units = next(cell.source for cell in figures if "W1_start" in cell.source)
    assert "plt.subplots(3, 8, figsize=(10," in units  # 24 tiles, over an inch each
    assert "vmin=-limit," in units and "vmax=limit" in units  # one colour scale for every tile
