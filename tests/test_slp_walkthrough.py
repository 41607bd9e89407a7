"""The SLP walkthrough's own lessons: what np_slp_digits.ipynb must show, beyond what every notebook must."""

import nbformat
import pytest
from conftest import ROOT
from test_notebooks import gradient_check_lines

NOTEBOOK = "np_slp_digits.ipynb"


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(ROOT / NOTEBOOK, as_version=4)


def headings(notebook):
    return [c.source.splitlines()[0] for c in notebook.cells if c.cell_type == "markdown" and c.source]


def test_it_prints_its_gradient_checks(committed):
    # the walkthrough's W and b, and the L1 subgradient's W
    assert len(gradient_check_lines(committed)) >= 3


def test_going_further_has_its_experiments(committed):
    found = headings(committed)
    assert "# Going further" in found
    assert "## L2 or L1: two ways to keep the weights small" in found
