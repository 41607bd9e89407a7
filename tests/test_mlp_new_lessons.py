"""The MLP walkthrough's new lessons (issues 11 and 13), read from the committed outputs.

Each test reads what one section printed when the notebook was last executed; test_notebooks.py
checks that a fresh run prints the same result lines.
"""

import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOK = ROOT / "np_mlp_digits.ipynb"
TITLES = ["Backpropagation as a graph", "Initialisation", "Why a hidden layer?",
          "Mini-batches and momentum", "Your own digit", "Summary"]


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(NOTEBOOK, as_version=4)


def heading(cell):
    """(level, title) of a markdown cell that starts with a heading, else None."""
    if cell.cell_type != "markdown" or not cell.source.startswith("#"):
        return None
    first = cell.source.splitlines()[0]
    level = len(first) - len(first.lstrip("#"))
    return level, re.sub(r"^\d+\.\s*", "", first.lstrip("#").strip())  # without "16. "


def section(notebook, title):
    """The cells from the heading `title` up to the next heading of the same or a higher level."""
    cells = notebook.cells
    start = next(i for i, cell in enumerate(cells) if heading(cell) and heading(cell)[1] == title)
    level = heading(cells[start])[0]
    end = next((i for i in range(start + 1, len(cells))
                if heading(cells[i]) and heading(cells[i])[0] <= level), len(cells))
    return cells[start:end]


def printed(cells):
    """Every line the cells printed."""
    return [line for cell in cells for output in cell.get("outputs", [])
            if output.output_type == "stream" for line in output.text.splitlines()]


def figures(cells):
    return sum("image/png" in output.get("data", {}) for cell in cells
               for output in cell.get("outputs", []))


def prose(cells):
    return " ".join(" ".join(cell.source.split()) for cell in cells if cell.cell_type == "markdown")


def number(pattern, lines):
    """The float captured by pattern in the one line that matches it."""
    found = [float(m.group(1)) for line in lines for m in [re.search(pattern, line)] if m]
    assert len(found) == 1, (pattern, found)
    return found[0]


def test_every_new_section_has_its_heading(committed):
    titles = [heading(cell)[1] for cell in committed.cells if heading(cell)]
    for title in TITLES:
        assert titles.count(title) == 1, title


def test_the_graph_is_drawn_and_the_gate_by_gate_backward_pass_is_right(committed):
    cells = section(committed, "Backpropagation as a graph")
    assert figures(cells) >= 1
    lines = printed(cells)
    checks = [line for line in lines if line.startswith("gradient check gates ")]
    assert [line.split()[3].rstrip(":") for line in checks] == ["W1", "b1", "W2", "b2"]
    for line in checks:
        assert float(re.search(r"relative error ([0-9.e+-]+)", line).group(1)) <= 1e-6, line
    assert number(r"largest difference from backward's gradients: ([0-9.e+-]+)", lines) <= 1e-12
    assert number(r"= \(P - Y\) / N, to within ([0-9.e+-]+)", lines) <= 1e-12


def test_initialisation_equal_units_stay_equal_zeros_get_no_gradient_and_he_trains_deep(committed):
    cells = section(committed, "Initialisation")
    lines = printed(cells)
    assert any("still identical, to the last bit" in line for line in lines)
    assert any("W1, b1 and W2 are still exactly 0" in line for line in lines)
    rows = {line[:29].strip(): line[29:].split() for line in lines
            if line.startswith(("random (the script's)", "equal (one unit", "zeros "))}
    assert float(rows["zeros"][1]) == 0  # largest |dL/dW1| over training
    random_acc, equal_acc = (float(rows[name][2].rstrip("%"))
                             for name in ["random (the script's)", "equal (one unit, 32 copies)"])
    assert equal_acc < random_acc - 20

    def best_loss(prefix):
        row = next(line for line in lines if line.startswith(prefix) and "std" not in line)
        return min(float(v) for v in row[30:].split() if v != "diverged")

    # each initialisation at its own best learning rate: He trains, 0.1 barely starts
    assert best_loss("He:") * 5 < best_loss("randn * 0.1")
    sizes = {name: [float(v) for v in line.split(": ")[-1].split(", ")] for line in lines
             for name in ["randn * 0.1", "He"] if line.startswith(name) and "std" in line}
    assert sizes["randn * 0.1"][-1] < 0.05 * sizes["randn * 0.1"][0]  # the signal fades
    assert all(0.5 < size < 2 for size in sizes["He"])  # and here it keeps its size
    assert figures(cells) == 1


def test_a_hidden_layer_bends_the_boundary_and_scores_higher_on_held_out_points(committed):
    cells = section(committed, "Why a hidden layer?")
    lines = printed(cells)
    held_out = {line.split()[0]: float(line.split()[-1].rstrip("%")) for line in lines
                if line.startswith(("single layer ", "one hidden layer ")) and "%" in line}
    assert held_out["one"] >= held_out["single"] + 5  # 150 points: one point is 0.67 %
    assert "held-out: 150 points, used for nothing else" in " ".join(lines)
    step = number(r"^single layer: .*\(grid step ([0-9.]+)\)", lines)
    straight = number(r"^single layer: the boundary strays at most ([0-9.]+)", lines)
    curved = number(r"^one hidden layer: the boundary strays at most ([0-9.]+)", lines)
    assert straight <= step  # a straight line, to the resolution of the grid
    assert curved >= 10 * step
    assert figures(cells) == 1


def test_mini_batches_take_more_steps_per_epoch_and_reach_a_lower_loss(committed):
    cells = section(committed, "Mini-batches and momentum")
    lines = printed(cells)
    rows = {line[:29].strip(): line[29:].split() for line in lines
            if line.startswith(("full batch ", "mini-batch ")) and "%" in line}
    assert list(rows) == ["full batch", "mini-batch 200", "mini-batch 32",
                          "mini-batch 32, momentum 0.9"]
    assert [int(row[1]) for row in rows.values()] == [1, 8, 45, 45]  # updates per epoch
    loss = {name: float(row[2]) for name, row in rows.items()}
    assert loss["mini-batch 32"] * 10 < loss["full batch"]
    assert figures(cells) == 1
    text = prose(cells)
    assert "MLPClassifier" in text and "Adam" in text and "200" in text


def test_your_own_digit_reads_the_shipped_images_and_says_when_it_is_unsure(committed):
    cells = section(committed, "Your own digit")
    lines = printed(cells)
    assert any("reloaded model predicts all 360 held-out images exactly" in line for line in lines)
    for name, digit in [("two.png", 2), ("three.png", 3), ("four.jpg", 4), ("five.png", 5),
                        ("seven.png", 7)]:
        assert (ROOT / "images" / name).is_file()
        assert any(line.startswith(f"{name}: a {digit} (probability") for line in lines), name
    assert any(line.startswith("one.png: unsure") for line in lines)
    assert sum(line.startswith("ValueError: ") for line in lines) == 2
    assert figures(cells) == 1
    assert "images/make_images.py" in prose(cells)


def test_the_summary_ends_the_notebook_with_equations_checks_and_reading(committed):
    titles = [heading(cell)[1] for cell in committed.cells if heading(cell)]
    assert titles[-1] == "Summary"
    text = prose(section(committed, "Summary"))
    for needed in ["dZ_2 = (P - Y)/N", "(N, F)", "finite differences", "CS231n", "d2l",
                   "Nielsen", "chapter 2", "chapter 3", "chapter 5", "micrograd"]:
        assert needed in text, needed
