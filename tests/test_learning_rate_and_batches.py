"""The lab on the learning rate, mini-batches and momentum teaches what its outputs show.
Numbers are parsed from the committed outputs (which test_notebooks keeps equal to a fresh
run), compared with the prose, and where cheap re-derived."""

import re

import numpy as np
import pytest
from conftest import NUMBER, both_say, cell_printing, defined, lines, told

import np_mlp_digits as mlp
from compare_models import paired_comparison

NOTEBOOK = "labs/learning_rate_and_batches.ipynb"


def test_held_out_images_that_choose_are_called_validation(notebook):
    text = "\n".join(lines(notebook))
    assert "validation images" in text and "test acc" not in text
    assert "no test score" in told(notebook)


def test_the_learning_rates_are_too_small_good_overshooting_and_diverging(notebook):
    text = cell_printing(notebook, "epochs it rose")
    rows = {float(row[0]): row[1:] for row in
            (line.split() for line in text.splitlines()[1:]) if NUMBER.fullmatch(row[0])}
    assert sorted(rows) == [0.01, 0.1, 1.0, 2.0, 3.0, 3.5, 4.0, 10.0]
    final = {lr: float(row[2]) for lr, row in rows.items()}
    rose = {lr: int(row[3]) for lr, row in rows.items()}
    validation = {lr: float(row[4].rstrip("%")) for lr, row in rows.items()}
    assert final[0.01] > final[0.1] > final[1.0] > final[2.0] > final[3.0]  # bigger is better
    assert rose[0.01] == rose[0.1] == rose[1.0] == 0 < rose[2.0] <= rose[3.0] < 10
    assert rose[3.5] > rose[3.0] and final[3.5] < 2.3  # wobbles a long time, then settles
    assert final[4.0] > 1e10 and final[10.0] > 1e100 and rose[10.0] > 90  # diverged
    both_say(notebook, "43.3", "98.1", "96.4", "97.2", "0.0102", "0.0056", "0.0281",
             "3.41e+35", "1.04e+147")
    # "the rate validation picks (2) is only a factor of 2 below the first that diverges (4)"
    picked = max(validation, key=validation.get)
    diverging = min(lr for lr in rows if final[lr] > 1e6)
    assert (picked, diverging) == (2.0, 4.0)
    assert (f"the rate validation picks ({picked:g}) is only a factor of {diverging / picked:g} "
            f"below the first rate tried that diverges ({diverging:g})") in told(notebook)
    assert f"rises on {rose[3.5]} of the 100 epochs" in told(notebook)
    assert f"At 4 it rose on {rose[4.0]} epochs" in told(notebook)
    assert f"on {rose[2.0]} of the 100 epochs the loss went *up*" in told(notebook)
    assert rose[2.0] == rose[3.0]  # the prose says "at 2 and 3 ... on 3 of the 100 epochs"
    compared = dict((other, (int(a), int(b), p)) for a, other, b, p in re.findall(
        r"only lr 2 gets right: (\d+), only lr ([\d.]+): (\d+) \(p = ([\d.]+)\)", text))
    assert sorted(compared) == ["1", "3"]
    only_2, only_1, p = compared["1"]
    assert only_2 > only_1 == 0 and float(p) < 0.05
    assert (f"{only_2} validation images only rate 2 gets right and none only rate 1 (p = {p})"
            in told(notebook))
    only_2, only_3, p = compared["3"]
    assert only_3 == 0 and float(p) >= 0.05  # so: "no difference found"
    assert f"{only_2} against none (p = {p}): no difference found" in told(notebook)


def test_sgd_epoch_with_one_batch_is_trains_step(notebook):
    assert "the weights train gives, up to round-off: True" in "\n".join(lines(notebook))
    namespace = defined(notebook, {"np": np, "mlp": mlp}, "sgd_epoch")
    X_train, _, y_train, _ = mlp.load_data()
    params = namespace["sgd_epoch"](mlp.init_params(64, 32, 10), X_train,
                                    mlp.one_hot(y_train, 10), 0.1, len(X_train),
                                    np.random.RandomState(5))
    script, _ = mlp.train(X_train, y_train, epochs=1, lr=0.1, verbose=False)
    assert all(np.allclose(params[k], script[k], rtol=0, atol=1e-12) for k in params)


def test_smaller_batches_win_per_epoch_in_every_seed(notebook):
    text = cell_printing(notebook, "steps/epoch")
    rows = {line[:16].strip(): [float(x) for x in line[16:].split()]
            for line in text.splitlines() if line.startswith(("full", "batches"))}
    full, mid, small = rows["full batch"], rows["batches of 200"], rows["batches of 32"]
    assert full[0] == 1 and mid[0] == 8 and small[0] == 45  # steps per epoch
    assert len(full) == 6  # five seeds
    assert all(f > m > s for f, m, s in zip(full[1:], mid[1:], small[1:]))


def test_momentum_is_compared_at_a_matched_step_over_ten_seeds(notebook):
    text = cell_printing(notebook, "validation, only right")
    rows = [[float(x) for x in line.split()] for line in text.splitlines()
            if re.match(r"\s+\d+\s+0\.", line)]
    assert len(rows) >= 5
    plain_small, momentum, plain_large = (np.array([row[i] for row in rows]) for i in (1, 2, 3))
    verdicts = cell_printing(notebook, "sign test")
    for other, column in (("plain, lr 0.1", plain_small), ("plain, lr 1", plain_large)):
        won, lost, p = paired_comparison(np.ones(len(rows), bool), momentum < column,
                                         momentum >= column)
        assert (f"against {other}: lower training loss in {won} of {len(rows)} seeds, higher in "
                f"{lost} (sign test p = {p:.3f})") in verdicts
    assert np.all(momentum < plain_small)  # a bigger effective step, in every seed
    won = int(np.sum(momentum < plain_large))
    assert 0 < won < len(rows)  # at the matched step, no side wins every seed
    assert r"\frac{\eta}{1 - \beta}" in told(notebook) and "no difference here" in told(notebook)
    assert f"momentum's loss is lower in {won} seeds" in told(notebook)
    # re-derived: seed 0, the three runs
    namespace = defined(notebook, {"np": np, "mlp": mlp}, "sgd_epoch", "momentum_epoch")
    X_train, _, y_train, _ = mlp.load_data()
    Y = mlp.one_hot(y_train, 10)
    params, rng = mlp.init_params(64, 32, 10, seed=0), np.random.RandomState(0)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    for _ in range(10):
        params, velocity = namespace["momentum_epoch"](params, velocity, X_train, Y, 0.1, 32, rng)
    assert mlp.loss(params, X_train, Y) == pytest.approx(momentum[0], rel=0.01)
