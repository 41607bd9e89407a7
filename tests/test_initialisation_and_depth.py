"""The lab on initialisation and depth teaches what its outputs show. Numbers are parsed from
the committed outputs (which test_notebooks keeps equal to a fresh run), compared with the
prose, and where cheap re-derived."""

import re

import numpy as np
import pytest
from conftest import both_say, cell_printing, code_cells, defined, lines, told

import np_mlp_digits as mlp
import np_slp_digits as slp
from compare_models import paired_comparison
from gradient_check import numerical_gradient, relative_error

NOTEBOOK = "labs/initialisation_and_depth.ipynb"


def test_the_two_single_layer_starts_are_compared_image_by_image(notebook):
    text = cell_printing(notebook, "label differently")
    only_zeros, only_random, p = map(float, re.search(
        r"zero start gets right: (\d+), only the random start: (\d+) \(p = ([\d.]+)\)",
        text).groups())
    differ = int(re.search(r"label differently: (\d+) of 360", text).group(1))
    assert only_zeros + only_random <= differ  # an image both get wrong can differ as well
    only_a = np.arange(int(only_zeros + only_random)) < only_zeros  # the images one start gets
    assert p == pytest.approx(paired_comparison(np.ones(len(only_a), bool), only_a, ~only_a)[2],
                              abs=0.01)  # the exact sign test of those counts, as printed
    assert p > 0.05  # so the prose may call it no difference in accuracy
    assert "no clear difference in accuracy" in told(notebook) and "13 people" in told(notebook)
    both_say(notebook, "0.0813", "0.0814")
    assert f"label {differ} of the 360 images differently" in told(notebook)


def test_separability_is_shown_and_true():
    X_train, _, y_train, _ = slp.load_data()
    params, history = slp.train(X_train, y_train, epochs=50, lr=1000, verbose=False)
    assert history[-1]["train_acc"] == 1.0  # every training image right: linearly separable
    Y = slp.one_hot(y_train, 10)
    doubled = {k: 2 * v for k, v in params.items()}  # same labels, larger score gaps
    assert slp.loss(doubled, X_train, Y) < slp.loss(params, X_train, Y)


def test_the_runs_agree_more_the_longer_they_go(notebook):
    text = cell_printing(notebook, "that differ")
    rows = [line.split() for line in text.splitlines() if re.match(r"\s*\d+\s+0\.", line)]
    epochs = [int(row[0]) for row in rows]
    loss_zero, norm_zero, angle = ([float(row[i]) for row in rows] for i in (1, 3, 5))
    differ = [int(row[-1]) for row in rows]
    assert epochs == [1000, 3000, 10000]
    assert loss_zero == sorted(loss_zero, reverse=True) and norm_zero == sorted(norm_zero)
    assert angle == sorted(angle, reverse=True)
    assert differ == sorted(differ, reverse=True) and differ[0] > differ[-1]
    assert f"go from {differ[0]} to {differ[1]} to {differ[2]} at 10,000" in told(notebook)
    assert "flat direction" not in told(notebook)  # a wrong explanation stays out
    both_say(notebook, "14.6", "7.0")


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
    assert "the script's probabilities and gradients, to the last bit: True" in text
    right = defined(notebook, {"np": np, "mlp": mlp})
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


def test_only_hes_start_trains_six_layers_in_every_seed(notebook):
    text = cell_printing(notebook, "six hidden ReLU layers, 100 epochs")
    rows = {line[:30].strip(): [float(x) for x in line[30:].split()]
            for line in text.splitlines() if line.startswith(("randn * 0.1 ", "He:"))}
    small, he = rows["randn * 0.1"], rows["He: randn * sqrt(2 / fan_in)"]
    assert len(small) == len(he) == 5  # an initialisation claim over five seeds
    assert min(small) > 2.2 and max(he) < 0.5
    assert f"{min(he):.3f} to {max(he):.3f}" in told(notebook)
