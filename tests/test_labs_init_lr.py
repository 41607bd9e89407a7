"""The two labs of issue 19 teach what their outputs show: initialisation and depth, and the
learning rate, mini-batches and momentum. Numbers are parsed from the committed outputs (which
test_notebooks keeps equal to a fresh run), compared with the prose, and where cheap re-derived.
"""

import ast
import re

import numpy as np
import pytest
from conftest import NUMBER, ROOT, code_cells, lines, printed, prose, read

import np_mlp_digits as mlp
import np_slp_digits as slp
from gradient_check import numerical_gradient, relative_error
from compare_models import paired_comparison

INIT, LR = "labs/initialisation_and_depth.ipynb", "labs/learning_rate_and_batches.ipynb"


@pytest.fixture(scope="module")
def init():
    return read(INIT)


@pytest.fixture(scope="module")
def lr_lab():
    return read(LR)


def cell_printing(notebook, text):
    """The printed text of the one code cell whose output contains `text`."""
    found = [printed(cell) for cell in code_cells(notebook) if text in printed(cell)]
    assert len(found) == 1, f"{len(found)} cells print {text!r}"
    return found[0]


def definitions(notebook, *names):
    """Run the code cells that define `names` (and nothing else) in a namespace of their own."""
    namespace = {"np": np, "mlp": mlp}
    for cell in code_cells(notebook):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and node.name in names + ("init_deep",
                                                                          "loss_deep"):
                exec(ast.unparse(node), namespace)  # noqa: S102 (our own notebook's code)
    return namespace


def told(notebook):
    """The prose with every run of spaces and line breaks as one space."""
    return " ".join(prose(notebook).split())


def both_say(notebook, *texts):
    """Each text is printed by a code cell and quoted in the prose."""
    shown, told_ = "\n".join(lines(notebook)), told(notebook)
    for text in texts:
        assert text in shown, f"{text!r} is not printed"
        assert text in told_, f"{text!r} is not in the prose"


# --- initialisation and depth ----------------------------------------------------------------


def test_the_two_single_layer_starts_are_compared_image_by_image(init):
    text = cell_printing(init, "label differently")
    only_zeros, only_random, p = map(float, re.search(
        r"zero start gets right: (\d+), only the random start: (\d+) \(p = ([\d.]+)\)",
        text).groups())
    differ = int(re.search(r"label differently: (\d+) of 360", text).group(1))
    assert only_zeros + only_random <= differ  # an image both get wrong can differ as well
    only_a = np.arange(int(only_zeros + only_random)) < only_zeros  # the images one start gets
    assert p == pytest.approx(paired_comparison(np.ones(len(only_a), bool), only_a, ~only_a)[2],
                              abs=0.01)  # the exact sign test of those counts, as printed
    assert p > 0.05  # so the prose may call it no difference in accuracy
    assert "no clear difference in accuracy" in told(init) and "13 people" in told(init)
    both_say(init, "0.0813", "0.0814")
    assert f"label {differ} of the 360 images differently" in told(init)


def test_separability_is_shown_and_true():
    X_train, _, y_train, _ = slp.load_data()
    params, history = slp.train(X_train, y_train, epochs=50, lr=1000, verbose=False)
    assert history[-1]["train_acc"] == 1.0  # every training image right: linearly separable
    Y = slp.one_hot(y_train, 10)
    doubled = {k: 2 * v for k, v in params.items()}  # same labels, larger score gaps
    assert slp.loss(doubled, X_train, Y) < slp.loss(params, X_train, Y)


def test_the_runs_agree_more_the_longer_they_go(init):
    text = cell_printing(init, "that differ")
    rows = [line.split() for line in text.splitlines() if re.match(r"\s*\d+\s+0\.", line)]
    epochs = [int(row[0]) for row in rows]
    loss_zero, norm_zero, angle = ([float(row[i]) for row in rows] for i in (1, 3, 5))
    differ = [int(row[-1]) for row in rows]
    assert epochs == [1000, 3000, 10000]
    assert loss_zero == sorted(loss_zero, reverse=True) and norm_zero == sorted(norm_zero)
    assert angle == sorted(angle, reverse=True)
    assert differ == sorted(differ, reverse=True) and differ[0] > differ[-1]
    assert f"go from {differ[0]} to {differ[1]} to {differ[2]} at 10,000" in told(init)
    assert "flat direction" not in told(init)  # the wrong explanation stays out
    both_say(init, "14.6", "7.0")


def test_hidden_units_that_start_equal_stay_equal(init):
    text = cell_printing(init, "different hidden units")
    units = {name: int(count) for name, count in
             re.findall(r"^(randn \* 0\.1|32 equal units|zeros)\s.*?(\d+)$", text, re.M)}
    assert units == {"randn * 0.1": 32, "32 equal units": 1, "zeros": 1}
    both_say(init, "19.8", "92.4", "10.2")
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


def test_the_deep_backward_is_checked_and_a_forgotten_mask_is_caught(init):
    text = "\n".join(lines(init))
    assert len(re.findall(r"64-8-6-10 (?:relu|sigmoid), all six arrays: relative error", text)) == 2
    assert "the script's probabilities and gradients, to the last bit: True" in text
    right = definitions(init, "sigmoid", "forward_deep", "backward_deep")
    for activation in ("relu", "sigmoid"):
        assert max(deep_check(right, activation).values()) < 1e-6
    # The planted mistake: backward without the activation's slope (for ReLU, its mask).
    source = next(cell.source for cell in code_cells(init) if "def backward_deep(" in cell.source)
    assert ' * cache["slopes"][l - 2]' in source
    wrong = definitions(init, "sigmoid", "forward_deep")
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


def test_the_backward_signal_vanishes_explodes_or_stays_level_as_printed(init):
    text = cell_printing(init, "||dZ_1|| / ||dZ_7||")
    small, large, he = (ratio_of(text, "relu", weights) for weights in
                        ("randn * 0.1", "randn * 1", "He:"))
    assert 1 / 1000 < small < 1 / 100 and 1000 < large < 10_000 and 0.5 < he < 2
    assert ratio_of(text, "sigmoid", "He:") < 1 / 100  # He's scale is made for ReLUs
    # re-derived with the lab's own functions on the script's training images
    namespace = definitions(init, "sigmoid", "forward_deep", "backward_deep")
    X_train, _, y_train, _ = mlp.load_data()
    params = namespace["init_deep"]([64] + [32] * 6 + [10], 0.1, 42)
    dZs = namespace["backward_deep"](params, namespace["forward_deep"](params, X_train)[1],
                                     mlp.one_hot(y_train, 10))[1]
    assert np.linalg.norm(dZs[1]) / np.linalg.norm(dZs[7]) == pytest.approx(small, rel=0.01)
    assert f"falls {round(1 / small)} times" in told(init)
    assert f"grows {round(large):,} times" in told(init)
    assert "exploding" in told(init) and "vanishing" in told(init)


def test_only_hes_start_trains_six_layers_in_every_seed(init):
    text = cell_printing(init, "six hidden ReLU layers, 100 epochs")
    rows = {line[:30].strip(): [float(x) for x in line[30:].split()]
            for line in text.splitlines() if line.startswith(("randn * 0.1 ", "He:"))}
    small, he = rows["randn * 0.1"], rows["He: randn * sqrt(2 / fan_in)"]
    assert len(small) == len(he) == 5  # an initialisation claim over five seeds
    assert min(small) > 2.2 and max(he) < 0.5
    assert f"{min(he):.3f} to {max(he):.3f}" in told(init)


# --- learning rate, mini-batches and momentum -------------------------------------------------


def test_held_out_images_that_choose_are_called_validation(lr_lab):
    text = "\n".join(lines(lr_lab))
    assert "validation images" in text and "test acc" not in text
    assert "no test score" in told(lr_lab)


def test_the_learning_rates_are_too_small_good_overshooting_and_diverging(lr_lab):
    text = cell_printing(lr_lab, "epochs it rose")
    rows = {float(row[0]): row[1:] for row in
            (line.split() for line in text.splitlines()[1:]) if NUMBER.fullmatch(row[0])}
    assert sorted(rows) == [0.01, 0.1, 1.0, 2.0, 10.0]
    final = {lr: float(row[2]) for lr, row in rows.items()}
    rose = {lr: int(row[3]) for lr, row in rows.items()}
    assert final[0.01] > final[0.1] > final[1.0] > final[2.0]  # in 100 epochs, bigger is better
    assert rose[0.01] == rose[0.1] == rose[1.0] == 0 < rose[2.0] < 10  # 2 overshoots a few times
    assert final[10.0] > 1e100 and rose[10.0] > 90  # far past the edge: not a close call
    both_say(lr_lab, "43.3", "98.1", "96.4", "0.0102", "1.04e+147")
    only_2, only_1, p = re.search(r"only lr 2 gets right: (\d+), only lr 1: (\d+) \(p = ([\d.]+)",
                                  text).groups()
    assert f"{only_2} validation images only rate 2 gets right" in told(lr_lab)
    assert f"(p = {p})" in told(lr_lab) and int(only_2) > int(only_1)
    assert ("and none only rate 1" in told(lr_lab)) == (only_1 == "0")
    assert f"on {rose[2.0]} of the 100 epochs the loss went *up*" in told(lr_lab)


def test_sgd_epoch_with_one_batch_is_trains_step(lr_lab):
    assert "the weights train gives, up to round-off: True" in "\n".join(lines(lr_lab))
    namespace = definitions(lr_lab, "sgd_epoch")
    X_train, _, y_train, _ = mlp.load_data()
    params = namespace["sgd_epoch"](mlp.init_params(64, 32, 10), X_train,
                                    mlp.one_hot(y_train, 10), 0.1, len(X_train),
                                    np.random.RandomState(5))
    script, _ = mlp.train(X_train, y_train, epochs=1, lr=0.1, verbose=False)
    assert all(np.allclose(params[k], script[k], rtol=0, atol=1e-12) for k in params)


def test_smaller_batches_win_per_epoch_in_every_seed(lr_lab):
    text = cell_printing(lr_lab, "steps/epoch")
    rows = {line[:16].strip(): [float(x) for x in line[16:].split()]
            for line in text.splitlines() if line.startswith(("full", "batches"))}
    full, mid, small = rows["full batch"], rows["batches of 200"], rows["batches of 32"]
    assert full[0] == 1 and mid[0] == 8 and small[0] == 45  # steps per epoch
    assert len(full) == 6  # five seeds
    assert all(f > m > s for f, m, s in zip(full[1:], mid[1:], small[1:]))


def test_momentum_is_compared_at_a_matched_step_over_ten_seeds(lr_lab):
    text = cell_printing(lr_lab, "validation, only right")
    rows = [[float(x) for x in line.split()] for line in text.splitlines()
            if re.match(r"\s+\d+\s+0\.", line)]
    assert len(rows) >= 5
    plain_small, momentum, plain_large = (np.array([row[i] for row in rows]) for i in (1, 2, 3))
    verdicts = cell_printing(lr_lab, "sign test")
    for other, column in (("plain, lr 0.1", plain_small), ("plain, lr 1", plain_large)):
        won, lost, p = paired_comparison(np.ones(len(rows), bool), momentum < column,
                                         momentum >= column)
        assert (f"against {other}: lower training loss in {won} of {len(rows)} seeds, higher in "
                f"{lost} (sign test p = {p:.3f})") in verdicts
    assert np.all(momentum < plain_small)  # a bigger effective step, in every seed
    won = int(np.sum(momentum < plain_large))
    assert 0 < won < len(rows)  # at the matched step, no side wins every seed
    assert r"\frac{\eta}{1 - \beta}" in told(lr_lab) and "no difference here" in told(lr_lab)
    assert f"momentum's loss is lower in {won} seeds" in told(lr_lab)
    # re-derived: seed 0, the three runs
    namespace = definitions(lr_lab, "sgd_epoch", "momentum_epoch")
    X_train, _, y_train, _ = mlp.load_data()
    Y = mlp.one_hot(y_train, 10)
    params, rng = mlp.init_params(64, 32, 10, seed=0), np.random.RandomState(0)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    for _ in range(10):
        params, velocity = namespace["momentum_epoch"](params, velocity, X_train, Y, 0.1, 32, rng)
    assert mlp.loss(params, X_train, Y) == pytest.approx(momentum[0], rel=0.01)


def test_the_labs_exist_where_the_suite_runs_them():
    assert (ROOT / INIT).exists() and (ROOT / LR).exists()
