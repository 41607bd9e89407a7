"""What the single-layer lesson (np_slp_digits.ipynb) teaches, kept true: one class hour of prose
and visible code, figure code folded, the worked example's numbers, the gradient checks, the
writers' fact, how confident the errors are, and one notation with no forward references.

Read from the committed notebook and re-derived from the script's functions. That the notebook
runs, that its outputs are current and that it holds the script's functions is checked for
every lesson in test_notebooks.py.
"""

import ast
import copy
import math
import re

import np_slp_digits as slp
import numpy as np
from conftest import (NUMBER, ROOT, code_cells, default_run, flat, lines, numbers_agree, printed,
                      printed_line, prose, text_differences, told)

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
    assert len(checks) == 2  # backward's W and b
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
    for fact in ["1,797", "13 people", "new digits by known writers, never new writers",
                 "test set of UCI's optical digits", "3,823 images by 30 other writers"]:
        assert fact in text
    assert not re.search(r"\bhal(f|ves)\b", told(notebook))  # UCI's sets are 3,823 and 1,797
    history = default_run(slp)[1]  # the accuracies it quotes are the run's
    for acc in [history[0]["test_acc"], history[-1]["test_acc"], history[-1]["train_acc"]]:
        assert f"{100 * acc:.1f} %" in text


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
    # Both lessons: image n, pixel i, class k (j the second class), the Jacobian written
    # dp_k/dz_j = p_k (delta_kj - p_j), this way round; rows are images.
    assert "\\frac{\\partial p_k}{\\partial z_j}" in text
    assert "p_k \\big(\\delta_{kj} - p_j\\big)" in text
    assert "P_{n y_n}" in text and "Z_{nk}" in text and "W_{ik}" in text
    for old in ["[k = j]", "P_{i y_i}", "Y_{ij}", "W_{fj}", "\\partial z_k}"]:
        assert old not in text, old
    # and a bridge to Nielsen's column vectors: his w is our W transposed
    assert any("Nielsen" in cell.source and "W^\\top" in cell.source and "column" in cell.source
               for cell in notebook.cells if cell.cell_type == "markdown")
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


# --- one class hour ---------------------------------------------------------------------------
#
# A class of 60 minutes reads at most 1,900 words of prose and 220 lines of code on the
# projector (read aloud at 140 words a minute, with the board work TEACHING.md lists, that is
# the hour). Code that only draws is folded (source hidden), so the class sees the maths and
# the figure; a student can open it.

WORDS, VISIBLE_LINES = 1900, 220
FIGURE_MAKERS = re.compile(r"\b(plt|ax|fig)\.")  # matplotlib, by the names the lesson uses
# Folded although they draw nothing, and why: each only lays out printed text.
FOLDED_LAYOUT = {"show": "prints the worked example's quantities with their formulas",
                 "format_record": "writes a training record as one log line"}


def hidden(cell):
    return cell.metadata.get("jupyter", {}).get("source_hidden", False)


def draws(cell):
    """A cell that makes or lays out a figure: it shows an image or calls matplotlib."""
    images = any("image/png" in output.get("data", {}) for output in cell.get("outputs", []))
    return images or bool(FIGURE_MAKERS.search(cell.source))


def defines_only(cell):
    body = ast.parse(cell.source).body
    return body[0].name if len(body) == 1 and isinstance(body[0], ast.FunctionDef) else None


def budget(notebook):
    """(words of prose, non-blank code lines a class sees)."""
    words = len(re.findall(r"\S+", prose(notebook)))
    visible = sum(1 for cell in code_cells(notebook) if not hidden(cell)
                  for line in cell.source.splitlines() if line.strip())
    return words, visible


def folding_problems(notebook):
    """Figure cells shown, and cells folded that hold more than figures or layout."""
    problems = [f"figure shown: {cell.source.splitlines()[0]}" for cell in code_cells(notebook)
                if draws(cell) and not hidden(cell)]
    problems += [f"folded: {cell.source.splitlines()[0]}" for cell in code_cells(notebook)
                 if hidden(cell) and not draws(cell) and defines_only(cell) not in FOLDED_LAYOUT]
    return problems


def test_one_class_hour_of_prose_and_visible_code(notebook):
    words, visible = budget(notebook)
    assert words <= WORDS and visible <= VISIBLE_LINES, (words, visible)


def test_every_figure_is_folded_and_nothing_else_but_layout(notebook):
    assert folding_problems(notebook) == []
    assert sum(draws(cell) for cell in code_cells(notebook)) >= 6  # the figures are still there


def test_a_figure_shown_or_maths_folded_is_caught(notebook):
    planted = copy.deepcopy(notebook)
    figure = next(cell for cell in code_cells(planted) if "plt.subplots" in cell.source)
    figure.metadata.pop("jupyter")
    maths = next(cell for cell in code_cells(planted) if defines_only(cell) == "backward")
    maths.metadata["jupyter"] = {"source_hidden": True}
    assert [problem.split(":")[0] for problem in folding_problems(planted)] == [
        "figure shown", "folded"]
    shown = len([line for line in figure.source.splitlines() if line.strip()])
    assert budget(planted)[1] == budget(notebook)[1] + shown - 10  # backward's 10 lines folded


def test_the_experiments_moved_to_the_lab(notebook):
    text = prose(notebook)
    assert "Going further" not in text and "labs/pixels_and_penalties.ipynb" in text
    assert "zero start" not in text.lower() and "all-zero" not in text.lower()
    code = "\n".join(cell.source for cell in code_cells(notebook))
    assert "toy_test" not in code and "inked" not in code  # the trap and stray ink: in the lab


def lesson_plan_minutes():
    """{part: minutes} of TEACHING.md's table for lesson 1, and the section's text."""
    plan = (ROOT / "TEACHING.md").read_text(encoding="utf-8")
    section = plan.split("## Lesson 1", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (.+?) \| (\d+) \|", section, re.M)
    return {part: int(minutes) for part, minutes in rows}, section


def test_the_lesson_plan_adds_up_to_the_hour_and_says_what_to_cut():
    minutes, section = lesson_plan_minutes()
    assert len(minutes) >= 6 and 55 <= sum(minutes.values()) <= 65, minutes
    plan = flat((ROOT / "TEACHING.md").read_text(encoding="utf-8"))
    assert "What to cut when behind" in section and "140 words a minute" in plan


# --- every sentence supported --------------------------------------------------------------


def test_the_errors_confidence_is_told_over_all_errors_as_printed(notebook):
    params = default_run(slp)[0]
    _, X_test, _, y_test = slp.load_data()
    P = slp.forward(params, X_test)[0]
    top, wrong = P.max(axis=1), P.argmax(axis=1) != y_test
    for name, rows in [("wrong", wrong), ("right", ~wrong)]:
        expected = (f"{name}: {rows.sum():3d} images, median top probability "
                    f"{np.median(top[rows]):.2f}, above 0.9: {np.sum(top[rows] > 0.9):3d}")
        assert text_differences(printed_line(notebook, f"{name}:"), expected) == []
    # the prose quotes the printed medians and names every confident error
    median_wrong = re.search(r"median top probability (\S+),", printed_line(notebook, "wrong:"))
    median_right = re.search(r"median top probability (\S+),", printed_line(notebook, "right:"))
    sorted_tops = NUMBER.findall(flat(printed(next(
        cell for cell in code_cells(notebook) if "errors, sorted:" in printed(cell)
    )).split("sorted:")[1]))
    confident = [value for value in sorted_tops if float(value) > 0.9]
    said = told(notebook)
    assert (f"their median top probability is {median_wrong.group(1)}, against "
            f"{median_right.group(1)} for the right answers") in said
    assert (f"But {len(confident)} of the {wrong.sum()} are confident "
            f"({' and '.join(confident)})") in said
    assert "near-tie:" not in said and "three-way" not in said  # no verdict from one image


def sentences_with_percentages(notebook):
    return [sentence for sentence in re.split(r"(?<=[.:])\s+(?=[A-Z*])", told(notebook))
            if re.search(r"\d\.\d %", sentence)]


def test_every_accuracy_in_the_prose_names_its_images(notebook):
    history = default_run(slp)[1]
    test_accs = {f"{100 * r['test_acc']:.1f} %" for r in history}
    train_accs = {f"{100 * r['train_acc']:.1f} %" for r in history}

    def unnamed(sentences):
        wrong = []
        for sentence in sentences:
            for percent in re.findall(r"\d+\.\d %", sentence):
                if percent in test_accs and "360 held-out" not in sentence:
                    wrong.append(percent)
                if percent in train_accs - test_accs and "1,437 training" not in sentence:
                    wrong.append(percent)
        return wrong

    sentences = sentences_with_percentages(notebook)
    assert sentences and unnamed(sentences) == []
    final_train = f"{100 * history[-1]['train_acc']:.1f} %"  # planted: train accuracy, unnamed
    assert unnamed([f"The model reaches {final_train} accuracy."]) == [final_train]


def test_each_claim_says_what_it_rests_on(notebook):
    said = told(notebook)
    # the likelihood is the loss only without the penalty
    assert re.search(r"With \$\\lambda = 0\$, minimising \$L\$ maximises", said)
    # a claim no output shows is gone
    assert "similar size" not in said


def forward_references(notebook):
    """Tools used before the prose says what they are, or where they are needed."""
    cells = notebook.cells
    problems = []
    first_call = next(k for k, cell in enumerate(cells) if cell.cell_type == "code"
                      and "numerical_gradient(" in cell.source)
    explained = [k for k, cell in enumerate(cells) if cell.cell_type == "markdown"
                 and "`numerical_gradient`" in cell.source]
    if not explained or explained[0] > first_call:
        problems.append("numerical_gradient")
    defined = next(k for k, cell in enumerate(cells) if cell.source.startswith("def log_softmax"))
    before = [cell.source for cell in cells[:defined] if cell.cell_type == "markdown"][-1]
    if not all(text in before for text in ["`log_softmax`", "loss", "\\log p_k", "-\\infty"]):
        problems.append("log_softmax")
    return problems


def test_no_tool_is_used_before_it_is_explained(notebook):
    assert forward_references(notebook) == []


def test_a_tool_explained_too_late_is_caught(notebook):
    planted = copy.deepcopy(notebook)
    for cell in planted.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("`numerical_gradient`", "it")
            cell.source = cell.source.replace("The loss (section 7) needs", "We take")
    assert forward_references(planted) == ["numerical_gradient", "log_softmax"]
