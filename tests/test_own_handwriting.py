"""labs/own_handwriting.ipynb: its paired counts carry the exact p, the final model meets the
targets on held-out handwriting, and the canvas cell says in one line how to use it. (That it
runs fresh and prints what is committed: test_notebooks.py.)"""

import re

from conftest import code_cells, lines, printed
from scipy.stats import binomtest

NOTEBOOK = "labs/own_handwriting.ipynb"
PAIRED = re.compile(r"only (.+) right: (\d+), only (.+) right: (\d+), exact sign test p = (\S+)")


def test_every_paired_comparison_has_the_exact_sign_test_p_value(notebook):
    # An independent reference (SciPy's binomial test): a one-sided p, or a p from the normal
    # approximation, would not match at two significant figures.
    found = [match for line in lines(notebook) if (match := PAIRED.search(line))]
    assert len(found) == 4
    for match in found:
        only_a, only_b, printed_p = int(match[2]), int(match[4]), match[5]
        expected = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
        assert printed_p == f"{expected:.2g}", match[0]


def test_the_final_model_meets_the_targets_on_held_out_handwriting(fresh):
    # The lab loads models/read_digit.npz, the model read_digit.py uses, and counts the 1,000
    # held-out real digits as read_digit.py decides (top probability and novelty): at least
    # 89 % right and sure, as before the other handwriting styles were trained in, and fewer
    # than 2 % sure but wrong. (A fresh run, so the counts are true.)
    text = "\n".join(lines(fresh(NOTEBOOK)))
    count = re.search(r"more writers: (\d+) of 1000 right", text)
    sure = re.search(r"(\d+) of 1000 right and sure, (\d+) sure but wrong", text)
    assert count and int(count[1]) >= 900
    assert sure and int(sure[1]) >= 890 and int(sure[2]) < 20


def test_the_canvas_cell_shows_one_line_saying_how_to_use_it(notebook):
    # Where no kernel runs (GitHub's page, a notebook opened before Run All) a widget shows
    # its text form: the pad's is this line, not 'HBox(children=(VBox(...' (the planted bug).
    cell = next(cell for cell in code_cells(notebook) if "drawing_pad(" in cell.source)
    assert printed(cell) == "A drawing pad: run this cell in Jupyter to draw a digit here."
