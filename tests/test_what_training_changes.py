"""The lab on what training changes teaches what its outputs show: two starts of the single
layer compared image by image and followed until they agree, separability shown, and the
hidden units' start, end and change measured as printed. Numbers are parsed from the committed
outputs (which test_notebooks keeps equal to a fresh run), compared with the prose, and where
cheap re-derived."""

import re

import numpy as np
import pytest
from conftest import (both_say, cell_printing, code_cells, default_run, numbers, printed_line,
                      told)

import np_mlp_digits as mlp
import np_slp_digits as slp
from compare_models import paired_comparison

NOTEBOOK = "labs/what_training_changes.ipynb"


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
    assert p > 0.05  # so the prose may say no difference was found
    said = told(notebook)
    assert (f"$p = {p:.2f}$, the probability of a split at least this uneven if the two starts "
            "were equally good") in said
    assert f"No difference found, with {int(only_zeros + only_random)} disagreements" in said
    assert "one random start, seed 42" in said and "13 people" in said
    both_say(notebook, "0.0813", "0.0814")
    assert f"label {differ} of the 360 images differently" in said


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


def neighbour_correlation(W):
    """Correlation of each weight with its right and its lower neighbour, over all units."""
    grids = W.reshape(8, 8, -1)  # (row, column, unit)
    pairs = [(grids[:, :-1], grids[:, 1:]), (grids[:-1, :], grids[1:, :])]
    here = np.concatenate([a.ravel() for a, _ in pairs])
    there = np.concatenate([b.ravel() for _, b in pairs])
    return np.corrcoef(here, there)[0, 1]


def test_the_hidden_unit_numbers_are_re_derived(notebook):
    W1 = default_run(mlp)[0]["W1"]  # the lab trains the script's defaults, without test data
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
    text = told(notebook)
    for value in (np.median(kept), size, neighbours[2]):
        assert f"{value:.2f}" in text
    assert f"{neighbours[2]:.2f} in the change, {abs(neighbours[0]):.2f} at the start" in text
    assert "Pixels 0, 32 and 39" in text
    assert "(One network, seed 42.)" in text  # a claim about a start that rests on one seed


def test_the_hidden_units_are_drawn_on_one_scale_with_the_figure_code_collapsed(notebook):
    figures = [cell for cell in code_cells(notebook) if "plt.subplots(" in cell.source]
    assert len(figures) == 1
    units = figures[0]
    assert units.metadata["jupyter"]["source_hidden"]
    assert "plt.subplots(3, 8, figsize=(10," in units.source  # 24 tiles, over an inch each
    assert "vmin=-limit," in units.source and "vmax=limit" in units.source  # one colour scale
    assert any("image/png" in output.get("data", {}) for output in units.outputs)
