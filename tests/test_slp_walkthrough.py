"""The SLP walkthrough's own lessons: what np_slp_digits.ipynb must show, beyond what every
notebook must (tests/test_notebooks.py)."""

import re

import nbformat
import np_slp_digits
import numpy as np
import pytest
from conftest import ROOT
from test_notebooks import all_lines, gradient_check_lines
from sync_notebooks import cell_definition

NOTEBOOK = "np_slp_digits.ipynb"
# The script's functions that are plumbing (argument checks, logging, command line): present,
# as every script function must be, but collapsed so that the maths stands out.
PLUMBING = {"check_data", "out_of_range", "check_setting", "TrainingDiverged", "format_record",
            "_number", "build_parser", "run", "_to_stderr"}
HEADER = re.compile(r"^(\w+) = (.+?)\s+shape \(([\d, ]*)\)$")


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(ROOT / NOTEBOOK, as_version=4)


def headings(notebook):
    """The first line of every markdown cell that starts with a heading."""
    return [c.source.splitlines()[0] for c in notebook.cells
            if c.cell_type == "markdown" and c.source.startswith("#")]


def markdown_under(notebook, heading):
    """The markdown cells from `heading` up to the next heading of any level, joined."""
    texts, inside = [], False
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        if cell.source.startswith("#"):
            if inside:
                break
            inside = cell.source.splitlines()[0] == heading
        if inside:
            texts.append(cell.source)
    return "\n".join(texts)


def printed_quantities(notebook):
    """{name: array} of the worked example's printed blocks: 'name = formula  shape (..)', rows."""
    found, name = {}, None
    for line in all_lines(notebook):
        match = HEADER.match(line)
        if match:
            name = match.group(1)
            shape = tuple(int(n) for n in match.group(3).replace(",", " ").split())
            found[name] = (shape, [])
        elif name and line.strip() and re.fullmatch(r"[\s\d.+-]+", line):
            found[name][1].extend(float(x) for x in line.split())
        else:
            name = None
    return {key: np.array(values).reshape(shape) for key, (shape, values) in found.items()}


def test_it_prints_its_gradient_checks(committed):
    lines = gradient_check_lines(committed)
    # the walkthrough's W and b, the two loss slopes against the logit gap, and L1's W
    assert len(lines) >= 5
    for what in ["cross-entropy", "squared error", " W:", " b:", "W with L1"]:
        assert any(what in line for line in lines), what


def test_the_worked_example_prints_what_the_scripts_functions_compute(committed):
    shown = printed_quantities(committed)
    assert {"X", "W", "b", "y", "Z", "P", "L", "dZ", "dW", "db"} <= set(shown)
    X, y = shown["X"], shown["y"].astype(int)
    assert X.shape == (2, 2) and shown["W"].shape == (2, 3)  # 2 images, 2 features, 3 classes
    params = {"W": shown["W"], "b": shown["b"]}
    Y = np_slp_digits.one_hot(y, 3)
    P, cache = np_slp_digits.forward(params, X)
    grads = np_slp_digits.backward(params, cache, Y)
    expected = {"Y": Y, "Z": X @ params["W"] + params["b"], "P": P,
                "L": np_slp_digits.loss(params, X, Y, cache=cache), "dZ": (P - Y) / len(X),
                "dW": grads["W"], "db": grads["b"],
                "dW_0": np.outer(X[0], (P - Y)[0] / len(X)),
                "dW_1": np.outer(X[1], (P - Y)[1] / len(X))}
    for name, value in expected.items():
        # printed with 4 decimals: rounding moves a number by at most 5e-5
        assert np.allclose(shown[name], value, rtol=0, atol=5e-5 + 1e-12), name
    assert np.allclose(shown["dW_0"] + shown["dW_1"], shown["dW"], rtol=0, atol=2e-4)


def test_the_worked_example_comes_right_before_the_gradient(committed):
    found = headings(committed)
    worked = found.index("## 8. A worked example by hand")
    assert found[worked + 1] == "## 9. The gradient"
    loss_section = found.index("## 7. The loss: cross-entropy")
    assert found[loss_section + 1] == "### Why cross-entropy, and why not squared error"


def test_the_gradient_is_derived_step_by_step(committed):
    text = " ".join(markdown_under(committed, "## 9. The gradient").split())  # lines rewrap
    for step in [r"p_j \big([k = j] - p_k\big)",  # the softmax Jacobian
                 r"p_y \big([k = y] - p_k\big)",  # its row for the true class
                 "The penalty does not depend on $Z$",  # so it adds nothing to dZ
                 r"-\frac{1}{p_y}",  # times the log's derivative
                 r"The bracket $[k = y]$ is 1",  # the bracket defined
                 r"Write $dZ$ for $\partial L / \partial Z$",
                 r"\sum_{i=0}^{N-1} X_{if}\, dZ_{ic}",  # dW in index form
                 "outer product", "the only product of them that is 64×10",
                 "added to every row", r"\|W\|_F^2", "because $L$ is a mean"]:
        assert " ".join(step.split()) in text, step


def test_plumbing_is_collapsed_and_defined_before_it_is_used(committed):
    order, hidden = [], set()
    for cell in committed.cells:
        name = cell_definition(cell)
        if name:
            order.append(name)
            if cell.metadata.get("jupyter", {}).get("source_hidden"):
                hidden.add(name)
    assert hidden == PLUMBING  # and nothing of the maths is hidden
    assert order.index("check_data") < order.index("predict")
    assert order.index("check_setting") < order.index("train")
    assert order.index("TrainingDiverged") < order.index("train")
    assert order.index("format_record") < order.index("train")


def test_figures_are_set_up_for_a_projector_and_code_lines_fit(committed):
    first_code = next(cell for cell in committed.cells if cell.cell_type == "code")
    assert 'plt.rcParams.update({"figure.dpi": 100, "font.size": 12})' in first_code.source
    long_lines = [line for cell in committed.cells if cell.cell_type == "code"
                  for line in cell.source.splitlines() if len(line) > 100]
    assert long_lines == []


def test_the_blank_pixels_keep_their_starting_weights(committed):
    lines = all_lines(committed)
    assert ("pixels blank in every training image: [ 0 32 39] at (row, column) "
            "[(0, 0), (4, 0), (4, 7)]") in lines
    assert "their trained weights are exactly their random starting values: True" in lines


def test_the_learning_curves_put_the_held_out_loss_beside_the_training_loss(committed):
    lines = all_lines(committed)
    assert any(re.fullmatch(r"after 1000 epochs: loss [\d.]+ train, [\d.]+ held-out; .*", line)
               for line in lines)
    assert any(line.startswith("lowest held-out loss: ") for line in lines)


def test_it_ends_with_a_one_cell_summary_that_names_where_to_read_further(committed):
    last = committed.cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("# Summary")
    for name in ["CS231n", "softmax regression", "Dive into Deep Learning", "Nielsen",
                 "chapter 2", "chapter 3", "chapter 5", "micrograd", "finite differences"]:
        assert name in last.source, name
    assert "http" not in last.source


def test_going_further_has_its_experiments(committed):
    found = headings(committed)
    assert "# Going further" in found
    for heading in ["## Does the random start matter?", "## Raw or standardised pixels?",
                    "## L2 or L1: two ways to keep the weights small"]:
        assert found.index(heading) > found.index("# Going further"), heading
    lines = all_lines(committed)
    assert any(line.startswith("zeros ") for line in lines)  # the zero start's row
    assert sum(line.startswith(("raw 0-16 ", "standardised ")) for line in lines) == 2


def test_the_zero_start_says_how_many_held_out_labels_differ(committed):
    # Convex is not "the same model": the prose must report the disagreement the cell prints.
    counts = [re.fullmatch(r"held-out images the two models label differently: (\d+) of 360", line)
              for line in all_lines(committed)]
    counts = [int(match.group(1)) for match in counts if match]
    assert len(counts) == 1
    text = " ".join(markdown_under(committed, "## Does the random start matter?").split())
    assert f"label {counts[0]} of the 360 held-out images differently" in text


def test_the_noise_yardstick_and_the_confusion_reading_are_the_printed_ones(committed):
    lines = all_lines(committed)
    match = next(re.fullmatch(r"one standard error: sqrt\(p\(1 - p\) / 360\) = ([\d.]+)%, "
                              r"about (\d+) images", line) for line in lines
                 if line.startswith("one standard error"))
    assert match
    text = " ".join(markdown_under(committed, "## 13. Where it goes wrong").split())
    assert f"one standard error is {match.group(1)} points, about {match.group(2)} images" in text
    reading = next(line for line in lines if line.startswith("weakest digit: "))
    digit, right, total, true, read, times = map(int, re.findall(r"\d+", reading))
    assert (f"{digit} is the weakest digit, {right} of its {total} images right" in text
            and f"{true} read as a {read}, {times} times" in text)


def test_the_planted_gradient_bug_is_caught(committed):
    lines = [line for line in all_lines(committed) if line.startswith("planted bug")]
    assert len(lines) == 1 and lines[0].endswith("caught")
    assert float(re.search(r"relative error ([0-9.e+-]+)", lines[0]).group(1)) > 1e-2
