"""labs/own_handwriting.ipynb: its paired counts carry the exact p, and the final model meets
the target of 90 % on held-out handwriting. (That it runs fresh and prints what is committed:
test_notebooks.py.)"""

import re

from conftest import lines
from scipy.stats import binomtest

NOTEBOOK = "labs/own_handwriting.ipynb"
PAIRED = re.compile(r"only (.+) right: (\d+), only (.+) right: (\d+), exact sign test p = (\S+)")


def test_every_paired_comparison_has_the_exact_sign_test_p_value(notebook):
    # An independent reference (SciPy's binomial test): a one-sided p, or a p from the normal
    # approximation, would not match at two significant figures.
    found = [match for line in lines(notebook) if (match := PAIRED.search(line))]
    assert len(found) == 4
    for match in found:
        only_a, only_b, printed = int(match[2]), int(match[4]), match[5]
        expected = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
        assert printed == f"{expected:.2g}", match[0]


def test_the_final_model_meets_the_target_on_held_out_handwriting(fresh):
    # The lab loads models/read_digit.npz, the model read_digit.py uses: the target is at
    # least 90 % of the 1,000 held-out real digits. (A fresh run, so the count is true.)
    count = re.search(r"more writers: (\d+) of 1000 right", "\n".join(lines(fresh(NOTEBOOK))))
    assert count and int(count[1]) >= 900
