"""The lab on initialisation and depth teaches what its outputs show: equal hidden units stay
equal, the deep backward pass is checked, and the backward signal's size through six layers,
per layer and end to end, and what it does to learning, each over five seeds. Numbers are parsed
from the committed outputs (which test_notebooks keeps equal to a fresh run), compared with the
prose, and where cheap re-derived."""

import re

import numpy as np
import pytest
from conftest import both_say, cell_printing, code_cells, defined, lines, told

import np_mlp_digits as mlp
from gradient_check import numerical_gradient, relative_error

NOTEBOOK = "labs/initialisation_and_depth.ipynb"


def test_hidden_units_that_start_equal_stay_equal(notebook):
    text = cell_printing(notebook, "different hidden units")
    units = {name: int(count) for name, count in
             re.findall(r"^(randn \* 0\.1|32 equal units|zeros)\s.*?(\d+)$", text, re.M)}
    assert units == {"randn * 0.1": 32, "32 equal units": 1, "zeros": 1}
    both_say(notebook, "19.8", "92.4", "10.2")
    # re-derived: from zeros, only b2 gets a gradient
    X_train, _, y_train, _ = mlp.load_data()
    zeros = {k: np.zeros_like(v) for k, v in mlp.init_params(64, 32, 10).items()}
    grads = mlp.backward(zeros, mlp.forward(zeros, X_train)[1], mlp.one_hot(y_train, 10))
    assert not grads["W1"].any() and not grads["b1"].any() and not grads["W2"].any()
    assert grads["b2"].any()


def deep_check(namespace, activation):
    """The lab's gradient check: backward_deep against finite differences on 20 images."""
    X_train, _, y_train, _ = mlp.load_data()
    X, Y = X_train[:20], mlp.one_hot(y_train[:20], 10)
    params = namespace["init_deep"]([64, 8, 6, 10], scale=0.5, seed=1)
    grads = namespace["backward_deep"](params, namespace["forward_deep"](params, X, activation)[1],
                                       Y)[0]
    numeric = numerical_gradient(lambda p: namespace["loss_deep"](p, X, Y, activation), params)
    return {name: relative_error(grads[name], numeric[name]) for name in params}


def test_the_deep_backward_is_checked_and_a_forgotten_mask_is_caught(notebook):
    text = "\n".join(lines(notebook))
    assert len(re.findall(r"64-8-6-10 (?:relu|sigmoid), all six arrays: relative error", text)) == 2
    right = defined(notebook, {"np": np, "mlp": mlp})
    # With one hidden layer it is the script's network, to the last bit
    X_train, _, y_train, _ = mlp.load_data()
    params, Y = right["init_deep"]([64, 32, 10]), mlp.one_hot(y_train, 10)  # the script's draws
    script_P, script_cache = mlp.forward(mlp.init_params(64, 32, 10), X_train)
    deep_P, deep_cache = right["forward_deep"](params, X_train)
    script_grads = mlp.backward(params, script_cache, Y)
    deep_grads = right["backward_deep"](params, deep_cache, Y)[0]
    assert np.array_equal(deep_P, script_P)
    assert all(np.array_equal(deep_grads[name], script_grads[name]) for name in params)
    for activation in ("relu", "sigmoid"):
        assert max(deep_check(right, activation).values()) < 1e-6
    # The planted mistake: backward without the activation's slope (for ReLU, its mask).
    source = next(cell.source for cell in code_cells(notebook)
                  if "def backward_deep(" in cell.source)
    assert ' * cache["slopes"][l - 2]' in source
    wrong = defined(notebook, {"np": np, "mlp": mlp}, "sigmoid", "forward_deep", "init_deep",
                    "loss_deep")
    exec(source.replace(' * cache["slopes"][l - 2]', ""), wrong)  # noqa: S102
    errors = deep_check(wrong, "relu")
    assert errors["W3"] < 1e-6 and errors["b3"] < 1e-6  # above the first missing mask: right
    assert errors["W1"] > 1e-2 and errors["W2"] > 1e-2  # below it: caught


def ratio_of(text, activation, weights):
    """The seed-42 ratio ||dZ_1|| / ||dZ_7|| that the lab prints as 'falls Nx' or 'grows Nx'."""
    row = next(line for line in text.splitlines() if line.startswith(activation)
               and weights in line)
    word, number = re.search(r"(falls|grows) ([\d,.]+)x", row).groups()
    value = float(number.replace(",", ""))
    return 1 / value if word == "falls" else value


def test_the_backward_signal_vanishes_explodes_or_stays_level_as_printed(notebook):
    text = cell_printing(notebook, "||dZ_1|| / ||dZ_7||")
    small, large, he = (ratio_of(text, "relu", weights) for weights in
                        ("randn * 0.1", "randn * 1", "He:"))
    assert 1 / 1000 < small < 1 / 100 and 1000 < large < 10_000 and 0.5 < he < 2
    assert ratio_of(text, "sigmoid", "He:") < 1 / 100  # He's scale is made for ReLUs
    # re-derived with the lab's own functions on the script's training images
    namespace = defined(notebook, {"np": np, "mlp": mlp})
    X_train, _, y_train, _ = mlp.load_data()
    params = namespace["init_deep"]([64] + [32] * 6 + [10], 0.1, 42)
    dZs = namespace["backward_deep"](params, namespace["forward_deep"](params, X_train)[1],
                                     mlp.one_hot(y_train, 10))[1]
    assert np.linalg.norm(dZs[1]) / np.linalg.norm(dZs[7]) == pytest.approx(small, rel=0.01)
    assert f"falls {round(1 / small)} times" in told(notebook)
    assert f"grows {round(large):,} times" in told(notebook)
    assert "exploding" in told(notebook) and "vanishing" in told(notebook)


def test_the_per_layer_factors_are_measured_and_the_prose_says_how_far_they_go(notebook):
    text = cell_printing(notebook, "per layer: ||dZ_l|| / ||dZ_(l+1)||")
    printed = {line[:30].strip(): [float(x) for x in re.findall(r"[\d.]+", line[30:])]
               for line in text.splitlines()[1:]}
    namespace = defined(notebook, {"np": np, "mlp": mlp})
    X_train, _, y_train, _ = mlp.load_data()
    Y = mlp.one_hot(y_train, 10)
    for name, scale in [("randn * 0.1", 0.1), ("randn * 1", 1.0),
                        ("He: randn * sqrt(2 / fan_in)", "he")]:
        sizes = []
        for seed in range(5):
            params = namespace["init_deep"]([64] + [32] * 6 + [10], scale, seed)
            dZs = namespace["backward_deep"](params, namespace["forward_deep"](params, X_train)[1],
                                             Y)[1]
            sizes.append([np.linalg.norm(dZs[l]) for l in range(1, 8)])
        sizes = np.array(sizes)
        factors = sizes[:, :-1] / sizes[:, 1:]  # (5 seeds, 6 layers)
        assert np.allclose(printed[name], [factors.min(), factors.max(), np.median(factors)],
                           atol=0.006), name
    low, high, median = printed["randn * 1"]
    assert 3.5 < median < 4.5 and 0.3 < printed["randn * 0.1"][2] < 0.5  # "about 4", "0.4"
    assert 0.9 < printed["He: randn * sqrt(2 / fan_in)"][2] < 1.1  # "and 1 at He's scale"
    said = told(notebook)
    assert f"4 at `randn × 1` ({low:.2f} to {high:.2f})" in said
    assert "We measured six layers" in said and "not a measurement" in said
    assert "4 times more with every layer added" not in said  # a claim six layers cannot make


def test_trained_and_untrained_losses_are_compared_seed_by_seed(notebook):
    text = cell_printing(notebook, "training loss, untrained and after 100 epochs")
    rows, name = {}, None
    for line in text.splitlines()[2:]:
        name = line[:30].strip() or name
        rows[name, line[30:40].strip()] = [float(x) for x in line[40:].split()]
    small_before, small_after = rows["randn * 0.1", "untrained"], rows["randn * 0.1", "trained"]
    he = "He: randn * sqrt(2 / fan_in)"
    he_before, he_after = rows[he, "untrained"], rows[he, "trained"]
    large_before = rows["randn * 1", "untrained"]
    assert ("randn * 1", "trained") not in rows  # left out, as the prose says
    assert all(len(row) == 5 for row in rows.values())  # five seeds, like with like
    # re-derived: each seed's untrained loss, from the lab's own functions
    namespace = defined(notebook, {"np": np, "mlp": mlp})
    X_train, _, y_train, _ = mlp.load_data()
    Y = mlp.one_hot(y_train, 10)
    for scale, row in [(0.1, small_before), (1.0, large_before), ("he", he_before)]:
        for seed, shown in enumerate(row):
            start = namespace["init_deep"]([64] + [32] * 6 + [10], scale, seed)
            assert namespace["loss_deep"](start, X_train, Y) == pytest.approx(shown, rel=1e-4)
    assert max(abs(a - b) for a, b in zip(small_before, small_after)) < 0.01  # hardly moved
    assert all(after < before / 10 for before, after in zip(he_before, he_after))
    said = told(notebook)
    assert f"ending between {min(small_after):.4f} and {max(small_after):.4f}" in said
    assert (f"goes from {min(he_before):.4f}–{max(he_before):.4f} down to "
            f"{min(he_after):.4f}–{max(he_after):.4f}, in every seed") in said
    assert f"already {min(large_before):,.0f} to {max(large_before):,.0f}" in said
