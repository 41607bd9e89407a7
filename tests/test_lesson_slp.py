"""What the single-layer lesson (np_slp_digits.ipynb) teaches, kept true: the worked example's
numbers, the gradient checks, the writers' fact, the blank pixels and what stray ink does there.

Read from the committed notebook and re-derived from the script's functions. That the notebook
runs, that its outputs are current and that it holds the script's functions is checked for
every lesson in test_notebooks.py.
"""

import copy
import math
import re

import np_slp_digits as slp
import numpy as np
import pytest
from conftest import NUMBER, code_cells, default_run, flat, lines, numbers_agree, printed, prose

NOTEBOOK = "np_slp_digits.ipynb"
HEADER = re.compile(r"^(\w+) = (.+?)\s+shape \(([\d, ]*)\)$")  # the worked example's `show`
# The worked example prints 4 decimals: a value agrees if it is within half a unit of the
# 4th decimal of the script's (plus float rounding).
PRINTED_4 = 0.5e-4 + 1e-12


def shown_quantities(printed_lines):
    """{name: array} of the worked example's blocks: 'name = formula   shape (..)', then rows."""
    found, name = {}, None
    for line in printed_lines:
        match = HEADER.match(line)
        if match:
            name = match.group(1)
            found[name] = ([int(n) for n in match.group(3).replace(",", " ").split()], [])
        elif name and re.fullmatch(r"[\s\d.+-]+", line):
            found[name][1].extend(float(x) for x in line.split())
        else:
            name = None
    return {key: np.array(values).reshape(shape) for key, (shape, values) in found.items()}


def worked_example_mistakes(printed_lines):
    """Names of the printed quantities that differ from what the script's functions compute on
    the printed X, W, b and y."""
    shown = shown_quantities(printed_lines)
    X, y, params = shown["X"], shown["y"].astype(int), {"W": shown["W"], "b": shown["b"]}
    Y = slp.one_hot(y, params["W"].shape[1])
    P, cache = slp.forward(params, X)
    grads = slp.backward(params, cache, Y)
    Z = X @ params["W"] + params["b"]
    expected = {"Y": Y, "Z": Z, "E": np.exp(Z), "S": np.exp(Z).sum(axis=1), "P": P,
                "L": slp.loss(params, X, Y), "dZ": (P - Y) / len(X), "dW": grads["W"],
                "db": grads["b"]}
    return [name for name, value in expected.items()
            if name not in shown or shown[name].shape != np.shape(value)
            or not np.allclose(shown[name], value, rtol=0, atol=PRINTED_4)]


def test_the_worked_example_is_small_and_prints_what_the_script_computes(notebook):
    shown = shown_quantities(lines(notebook))
    assert shown["X"].shape == (2, 2) and shown["W"].shape == (2, 3)  # redoable by hand
    assert worked_example_mistakes(lines(notebook)) == []


def test_a_wrong_worked_example_is_caught(notebook):
    planted = []  # the student's slip: dZ = P - Y, without the 1/N
    block = None
    for line in lines(notebook):
        block = HEADER.match(line).group(1) if HEADER.match(line) else block
        if block == "dZ" and not HEADER.match(line):
            line = "   " + "".join(f"{2 * float(x):9.4f}" for x in line.split())
        planted.append(line)
    assert worked_example_mistakes(planted) == ["dZ"]


def test_every_gradient_check_passes_and_the_planted_bug_is_caught(notebook):
    checks = [line for line in lines(notebook) if line.startswith("gradient check ")]
    assert len(checks) == 4  # the two loss slopes, backward's W and b
    for line in checks:
        assert float(re.search(r"relative error (\S+)", line).group(1)) <= 1e-6, line
    [bug] = [line for line in lines(notebook) if line.startswith("planted bug")]
    assert float(re.search(r"relative error (\S+)", bug).group(1)) > 1e-2


def test_the_training_run_is_the_scripts_default_run(notebook):
    epoch_lines = [line for line in lines(notebook) if line.startswith("epoch ")]
    assert epoch_lines == [slp.format_record(r) for r in default_run(slp)[1]]


def writers_paragraph(notebook):
    """The markdown cell right after the first output that reports a held-out accuracy."""
    first = next(k for k, cell in enumerate(notebook.cells)
                 if cell.cell_type == "code" and "test acc" in printed(cell))
    return next(cell.source for cell in notebook.cells[first:] if cell.cell_type == "markdown")


def test_the_writers_fact_comes_where_held_out_accuracy_is_first_reported(notebook):
    text = flat(writers_paragraph(notebook))
    for fact in ["1,797", "13 people", "new digits by known writers, never new writers"]:
        assert fact in text
    history = default_run(slp)[1]  # the accuracies it quotes are the run's
    for acc in [history[0]["test_acc"], history[-1]["test_acc"], history[-1]["train_acc"]]:
        assert f"{100 * acc:.1f} %" in text


def test_the_blank_pixels_keep_their_starting_weights(notebook):
    X_train = slp.load_data()[0]
    blank = np.flatnonzero(X_train.std(axis=0) == 0)
    W = default_run(slp)[0]["W"]
    assert len(blank) == 3
    assert np.array_equal(W[blank], slp.init_params(64, 10)["W"][blank])
    assert f"blank pixels: {blank}" in "\n".join(lines(notebook))
    assert "their trained weights are their random starting values: True" in lines(notebook)


def stray_ink_claims(notebook):
    """(printed bound, printed gap, {pixel: changed predictions}, the bound the prose says)."""
    text = "\n".join(lines(notebook))
    bound, gap = re.search(r"largest change of one score: (\S+) logits; largest gap it opens "
                           r"between two digits: (\S+) logits", text).groups()
    changed = {int(f): int(n) for f, n in
               re.findall(r"ink 16 on pixel\s+(\d+) changes\s+(\d+) of 360", text)}
    said = re.search(r"shift of up to (\S+) logits, enough to change up to (\d+) of the 360",
                     flat(prose(notebook)))
    return bound, gap, changed, said.groups()


def test_the_stray_ink_bound_is_ink_times_weight_as_printed_and_said(notebook):
    bound, gap, changed, (said_bound, said_changes) = stray_ink_claims(notebook)
    X_train, X_test = slp.load_data()[:2]
    blank = np.flatnonzero(X_train.std(axis=0) == 0)
    shift = 16 * slp.init_params(64, 10)["W"][blank]  # ink 16 times the untrained weight
    assert numbers_agree(bound, f"{np.abs(shift).max():.1f}")
    assert numbers_agree(gap, f"{np.ptp(shift, axis=1).max():.1f}")
    assert 2.5 <= float(bound) <= 3.5  # "up to about 3 logits with ink 16", as the lesson says
    assert said_bound == bound and int(said_changes) == max(changed.values())
    params = default_run(slp)[0]
    clean = slp.predict(params, X_test)
    for f in blank:
        inked = X_test.copy()
        inked[:, f] = 16.0
        assert np.sum(slp.predict(params, inked) != clean) == changed[f]


def test_the_confusion_counts_are_the_runs_and_rank_no_digit(notebook):
    _, X_test, _, y_test = slp.load_data()
    pred = slp.predict(default_run(slp)[0], X_test)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (y_test, pred), 1)
    errors = matrix - np.diag(np.diag(matrix))
    text = "\n".join(lines(notebook))
    assert f"{errors.sum()} of 360 wrong; errors per true digit 0-9: {errors.sum(axis=1)}" in text
    true_digit, read_as = np.unravel_index(errors.argmax(), errors.shape)
    assert f"commonest error: {true_digit} read as {read_as}, {errors.max()} times" in text
    said = flat(prose(notebook))
    assert f"an {true_digit} read as a {read_as}, {errors.max()} times" in said
    # "the weakest digit" would need far more errors than these to be told apart
    assert "weakest" not in said and "cannot rank the digits" in said


def test_notation_is_consistent(notebook):
    text = prose(notebook)
    assert "\\sigma" not in text and "σ" not in text  # sigma is the sigmoid's, in the MLP lesson
    # One notation for the sum of squared weights, the summary's: \lVert W\rVert_F^2
    norms = re.findall(r"(?:\\lVert W\\rVert|\\\|W\\\||‖W‖)(\S{0,2})", text)
    assert len(norms) >= 3 and set(norms) == {"_F"}


# Numbers in the prose that are settings or definitions, not results; and the two the reader
# works out by hand in the worked example (minus the log of a printed probability).
NOT_RESULTS = {"0.01", "0.1", "10 %", "20 %"}
WORKED_BY_HAND = {"1.408": -math.log(0.2447), "0.408": -math.log(0.6652)}


def unprinted_prose_numbers(notebook):
    """Decimals and percentages in the prose (outside display maths) that no output prints."""
    text = re.sub(r"\$\$.*?\$\$", "", prose(notebook), flags=re.S)
    text = text.replace(r"1.6 \times 10^9", "1.6e+09")
    quoted = re.findall(r"(?<![\w.])\d+\.\d+(?:e[+-]\d+)?|(?<![\w.])\d+ %", text)
    shown = [n for line in lines(notebook) for n in NUMBER.findall(line)]
    missing = []
    for number in quoted:
        if number in NOT_RESULTS:
            continue
        if number in WORKED_BY_HAND:
            if abs(float(number) - WORKED_BY_HAND[number]) > 0.0005:
                missing.append(number)
            continue
        if not any(numbers_agree(number.replace(" %", ""), n) for n in shown):
            missing.append(number)
    return missing


def test_every_number_in_the_prose_is_printed_by_the_run(notebook):
    assert unprinted_prose_numbers(notebook) == []


def test_a_number_typed_by_hand_is_caught(notebook):
    planted = copy.deepcopy(notebook)
    cell = next(c for c in planted.cells if c.cell_type == "markdown" and "0.990" in c.source)
    cell.source = cell.source.replace("0.039", "0.049")
    assert unprinted_prose_numbers(planted) == ["0.049"]


def test_one_class_long_with_the_experiments_moved_to_labs(notebook):
    text = prose(notebook)
    assert "Going further" not in text and "labs/pixels_and_penalties.ipynb" in text
    assert "zero start" not in text.lower() and "all-zero" not in text.lower()
    assert len(re.findall(r"\S+", text)) <= 2500  # words of prose: one class of about an hour
