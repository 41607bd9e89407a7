"""The MLP walkthrough's own lessons: what np_mlp_digits.ipynb must show, beyond what every notebook must."""

import re

import nbformat
import pytest
from conftest import ROOT
from test_notebooks import gradient_check_lines, output_texts, result_lines

NOTEBOOK = "np_mlp_digits.ipynb"


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(ROOT / NOTEBOOK, as_version=4)


def headings(notebook):
    return [c.source.splitlines()[0] for c in notebook.cells if c.cell_type == "markdown" and c.source]


def test_it_prints_its_gradient_checks(committed):
    # the walkthrough's four, the sigmoid network's four and the deep network's six
    assert len(gradient_check_lines(committed)) >= 14


def test_going_further_has_its_experiments(committed):
    found = headings(committed)
    assert "# Going further" in found
    for heading in ["## Sigmoid or ReLU?", "## Going deeper", "## The learning rate",
                    "## How good can it get?"]:
        assert heading in found


def test_the_from_scratch_mlp_reaches_a_median_of_98_percent_over_five_splits(committed):
    lines = [line for line in result_lines(committed) if line.startswith("NumPy MLP (from scratch)")]
    assert len(lines) == 1
    median = float(re.search(r"median (\d+\.\d)%", lines[0]).group(1))
    assert median >= 98.0
    table = "\n".join(output_texts(committed))
    for name in ["scikit-learn MLPClassifier", "scikit-learn LogisticRegression", "scikit-learn SVC"]:
        assert re.search(rf"^{name}.* median \d+\.\d%   min", table, re.M), name


def test_readme_quotes_the_notebooks_comparison(committed):
    line = next(line for line in result_lines(committed) if line.startswith("NumPy MLP (from scratch)"))
    median = re.search(r"median (\d+\.\d)%", line).group(1)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"median held-out accuracy of {median} % over five stratified splits" in readme
