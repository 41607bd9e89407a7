"""labs/how_good.ipynb: its paired counts, p values and verdicts agree with its own tables and
with an independent binomial test; its prose quotes them; and split 0 is re-derived (the
settings validation chose, tuned against the defaults, tuned against the SVM)."""

import copy
import re

import numpy as np
from conftest import code_cells, default_run, defined, flat, lines, prose
from scipy.stats import binomtest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

import np_mlp_digits as mlp
from compare_models import paired_comparison

NOTEBOOK = "labs/how_good.ipynb"
ROW = re.compile(r"(\d)\s+(\w+) vs (\w+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(.+)")


def right_counts(notebook):
    """{model: [images right on split 0, 1, 2]} from the printed table."""
    printed = lines(notebook)
    start = next(i for i, line in enumerate(printed) if line.startswith("images right of 360"))
    table = {}
    for line in printed[start + 1:start + 5]:
        name, counts = line.split()
        table[name] = [int(count) for count in counts.split("/")]
    return table


def comparisons(notebook):
    """[(split, A, B, only A, only B, p, verdict)] from the printed table of comparisons."""
    rows = [ROW.fullmatch(line.strip()) for line in lines(notebook)]
    return [(int(m[1]), m[2], m[3], int(m[4]), int(m[5]), float(m[6]), m[7].strip())
            for m in rows if m]


def problems(notebook):
    """Everything in the lab's tables and prose that does not add up."""
    found = []
    right, rows = right_counts(notebook), comparisons(notebook)
    if len(rows) != 15 or set(right) != {"tuned", "defaults", "LogisticRegression", "SVC"}:
        return [f"tables not found: {len(rows)} comparisons, models {sorted(right)}"]
    for split, a, b, only_a, only_b, p, verdict in rows:
        name = f"split {split} {a} vs {b}"
        if right[a][split] - right[b][split] != only_a - only_b:
            found.append(f"{name}: the counts right and the paired counts disagree")
        n = only_a + only_b
        exact = binomtest(min(only_a, only_b), n, 0.5).pvalue if n else 1.0
        if abs(p - exact) > 0.0005 + 1e-9:  # p is printed to 3 decimals
            found.append(f"{name}: p {p} but the sign test gives {exact:.4f}")
        expected = (f"{a if only_a > only_b else b} ahead" if exact < 0.05
                    else "no clear difference")
        if verdict != expected:
            found.append(f"{name}: verdict {verdict!r}, expected {expected!r}")
    text = flat(prose(notebook))
    for model in ("defaults", "tuned"):
        counts = right[model]
        quoted = f"{counts[0]}, {counts[1]} and {counts[2]}"
        if quoted not in text:
            found.append(f"the prose does not give the {model}' counts {quoted}")
    tuning = [row for row in rows if row[1:3] == ("tuned", "defaults")]
    if not all(row[6] == "no clear difference" for row in tuning) or \
            "Did tuning help?** No difference was found." not in text:
        found.append("the verdict on tuning and the table disagree")
    pairs = " (" + ", ".join(f"{row[3]} against {row[4]}" for row in tuning) + ")"
    if pairs not in text:
        found.append(f"the prose does not give tuning's paired counts{pairs}")
    # "could not have shown a difference": even n against 0 would not reach p < 0.05
    fewest = min(row[3] + row[4] for row in tuning)
    if min(2 * 0.5 ** (row[3] + row[4]) for row in tuning) < 0.05 or \
            f"the most uneven split of {fewest} images, {fewest} against 0, has $p = " \
            f"{2 * 0.5 ** fewest:.2f}$" not in text:
        found.append("the prose's claim on what the tuning comparison could show is wrong")
    network = [count for model in ("tuned", "defaults") for count in right[model]]
    low, high = min(network), max(network)
    if f"gets {low} to {high} of the 360 test images right ({100 * low / 360:.1f} to " \
            f"{100 * high / 360:.1f} %)" not in text:
        found.append("the prose does not give the network's range of counts as the table does")
    svm = next(row for row in rows if row[:3] == (0, "tuned", "SVC"))
    if f"by {svm[4]} images against {svm[3]} ($p \\approx {svm[5]:.2f}$)" not in text:
        found.append("the prose does not give the SVM's lead on split 0 as the table does")
    return found


def test_the_tables_and_the_prose_agree(notebook):
    assert problems(notebook) == []


def test_a_wrong_count_or_verdict_is_caught(notebook):
    planted = copy.deepcopy(notebook)
    cell = next(cell for cell in code_cells(planted) if "PAIRS = [" in cell.source)
    output = cell.outputs[0]
    line = next(line for line in output.text.splitlines() if "0      tuned vs defaults" in line)
    output.text = output.text.replace(line, line.replace("no clear difference", "tuned ahead"))
    assert any("verdict" in problem for problem in problems(planted))
    planted = copy.deepcopy(notebook)
    for cell in planted.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("348, 352 and 351", "351, 352 and 351")
    assert any("tuned' counts" in problem for problem in problems(planted))
    for said, wrong in [("No difference was found.", "No."),  # "no difference found" is not "no"
                        ("(96.7 to 97.8 %)", "(about 97 to 98 %)"),
                        ("3 against 0, has $p = 0.25$", "3 against 0, has $p = 0.12$")]:
        planted = copy.deepcopy(notebook)
        for cell in planted.cells:
            if cell.cell_type == "markdown":
                cell.source = flat(cell.source).replace(said, wrong)
        assert len(problems(planted)) == 1, said


def test_p_is_worded_as_what_it_is(notebook):
    text = flat(prose(notebook))
    assert "the probability of a split at least this uneven if the two were equally good" in text
    assert "luck" not in text  # p is not "the chance it was luck"


def test_the_outer_split_sizes_are_what_the_lab_says(notebook):
    X, X_test, _, _ = mlp.load_data(test_size=0.2, seed=0)
    assert f"{len(X):,} training images and {len(X_test)} test images" in flat(prose(notebook))
    _, history = default_run(mlp)  # lesson 2's result the lab starts from
    assert f"{100 * history[-1]['test_acc']:.1f} % of its 360" in flat(prose(notebook))
    assert "1,797 digits come from 13 people" in flat(prose(notebook))


def test_split_0_is_re_derived(notebook):
    """Validation's choice on split 0, and the tuned network against the defaults and the SVM."""
    namespace = {}
    exec(code_cells(notebook)[0].source.replace('sys.path.insert(0, "..")', ""), namespace)
    defined(notebook, namespace)
    pixels, labels = load_digits(return_X_y=True)
    outer_pixels, _, outer_labels, _ = train_test_split(pixels, labels, test_size=0.2,
                                                        stratify=labels, random_state=0)
    best, _ = namespace["choose_settings"](outer_pixels, outer_labels, 0)
    shown = next(line for line in lines(notebook)
                 if line.startswith("0      ") and "hidden" in line)
    assert shown.split()[1:9] == [str(best["hidden"]), "hidden,", "lr", f"{best['lr']:g},",
                                  "decay", f"{best['weight_decay']:g},", str(best["epochs"]),
                                  "epochs"]
    X, X_test, y, y_test = mlp.load_data(test_size=0.2, seed=0)
    settings = {key: best[key] for key in ("hidden", "lr", "weight_decay", "epochs")}
    tuned = mlp.predict(mlp.train(X, y, seed=0, verbose=False, **settings)[0], X_test)
    defaults = mlp.predict(mlp.train(X, y, seed=0, verbose=False)[0], X_test)
    svm = SVC().fit(X, y).predict(X_test)
    rows = {(row[1], row[2]): row[3:6] for row in comparisons(notebook) if row[0] == 0}
    for (a, b), (pred_a, pred_b) in {("tuned", "defaults"): (tuned, defaults),
                                     ("tuned", "SVC"): (tuned, svm)}.items():
        only_a, only_b, p = paired_comparison(y_test, pred_a, pred_b)
        assert rows[a, b] == (only_a, only_b, round(p, 3))
    right = right_counts(notebook)
    assert [right["tuned"][0], right["defaults"][0], right["SVC"][0]] == \
        [int(np.sum(pred == y_test)) for pred in (tuned, defaults, svm)]
