"""What the lab labs/pixels_and_penalties.ipynb concludes, kept true: the learning rates chosen
on validation images, the paired counts on the test images, the noise of the loss difference,
and what L2 and L1 do to the weights.

The final models are retrained here (about 2 s) from the printed choices; the L1 code is the
lab's own, taken from its cells. The learning-rate search itself is not repeated: its printed
table must agree with the printed choice.
"""

import ast
import copy
import re

import np_slp_digits as slp
import numpy as np
import pytest
from conftest import code_cells, default_run, defined, lines, numbers_agree, prose, told
from compare_models import paired_comparison
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

NOTEBOOK = "labs/pixels_and_penalties.ipynb"


@pytest.fixture(scope="module")
def split():
    """The lab's raw and standardised pixels of the script's split."""
    pixels, labels = load_digits(return_X_y=True)
    raw_train, raw_test, y_train, y_test = train_test_split(
        pixels, labels, test_size=0.2, stratify=labels, random_state=42)
    std_train, std_test = slp.standardise(raw_train, raw_test)
    return {"raw 0-16": (raw_train, raw_test), "standardised": (std_train, std_test),
            "y": (y_train, y_test)}


def chosen_rates(notebook):
    text = "\n".join(lines(notebook))
    found = re.search(r"chosen learning rate: raw 0-16 (\S+), standardised (\S+)", text)
    return {"raw 0-16": float(found.group(1)), "standardised": float(found.group(2))}


def test_each_choice_is_the_lowest_validation_loss_printed(notebook):
    table = [line for line in lines(notebook)
             if line.startswith(("validation loss at lr", "pixels "))]
    rates = [float(x) for x in table[0].split()[4:]]
    for row, name in zip(table[1:], ["raw 0-16", "standardised"]):
        cells = re.findall(r"> 2\.30|\d+\.\d+", row.replace("pixels " + name, ""))
        values = [np.inf if cell == "> 2.30" else float(cell) for cell in cells]
        assert len(values) == len(rates)
        assert rates[int(np.argmin(values))] == chosen_rates(notebook)[name]
    code = "\n".join(cell.source for cell in code_cells(notebook))
    assert "validation" in prose(notebook) and "X_val" in code and "y_val" in code


@pytest.fixture(scope="module")
def finals(notebook, split):
    """{version: test predictions, per-image test losses} of the two retrained models."""
    y_train, y_test = split["y"]
    result = {}
    for name, lr in chosen_rates(notebook).items():
        X_train, X_test = split[name]
        params, _ = slp.train(X_train, y_train, lr=lr, verbose=False)
        log_P = slp.forward(params, X_test)[1]["log_P"]
        result[name] = (slp.predict(params, X_test),
                        -np.sum(slp.one_hot(y_test, 10) * log_P, axis=1))
    return result


def paired_line(notebook):
    text = "\n".join(lines(notebook))
    found = re.search(r"only raw right: (\d+), only standardised right: (\d+), exact two-sided "
                      r"p = (\S+)", text)
    return int(found.group(1)), int(found.group(2)), found.group(3)


def paired_problems(notebook, finals, y_test):
    """What the printed paired comparison gets wrong, recomputed from the retrained models."""
    only_raw, only_std, p_text = paired_line(notebook)
    expected = paired_comparison(y_test, finals["raw 0-16"][0], finals["standardised"][0])
    problems = []
    if (only_raw, only_std) != expected[:2]:
        problems.append(f"counts {only_raw}, {only_std} printed, {expected[:2]} now")
    if not numbers_agree(p_text, f"{expected[2]:.2f}"):
        problems.append(f"p {p_text} printed, {expected[2]:.2f} now")
    return problems


def test_raw_against_standardised_is_a_paired_comparison_of_the_printed_models(notebook, finals,
                                                                                split):
    y_test = split["y"][1]
    assert paired_problems(notebook, finals, y_test) == []
    for name, (pred, _) in finals.items():
        assert f"{name:<13} lr {chosen_rates(notebook)[name]:<5g} test accuracy " \
               f"{np.mean(pred == y_test):.1%} of 360" in lines(notebook)
    only_raw, only_std, p_text = paired_line(notebook)
    said = told(notebook)
    assert f"{only_raw + only_std} images" in said and f"{only_raw} against {only_std}" in said
    assert f"probability {p_text}" in said
    assert float(p_text) > 0.05 and "No clear difference in accuracy here" in said  # the verdict


def test_swapped_paired_counts_are_caught(notebook, finals, split):
    planted = copy.deepcopy(notebook)
    for cell in code_cells(planted):
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout" and "only raw right" in output.text:
                only_raw, only_std, _ = paired_line(notebook)
                output.text = output.text.replace(f"right: {only_raw}, only standardised right: "
                                                  f"{only_std}", f"right: {only_std}, only "
                                                  f"standardised right: {only_raw}")
    assert len(paired_problems(planted, finals, split["y"][1])) == 1


def test_the_loss_difference_is_given_with_its_noise_and_no_more_is_claimed(notebook, finals):
    text = "\n".join(lines(notebook))
    mean, se, low, high = re.search(
        r"raw minus standardised: (\S+), standard error (\S+), 95% bootstrap interval (\S+) "
        r"to (\S+)", text).groups()
    diff = finals["raw 0-16"][1] - finals["standardised"][1]
    assert numbers_agree(mean, f"{diff.mean():+.3f}")
    assert numbers_agree(se, f"{diff.std(ddof=1) / np.sqrt(len(diff)):.3f}")
    assert float(low) < 0 < float(high) and abs(float(mean)) < 2 * float(se)  # no difference
    for name, (_, losses) in finals.items():
        share = np.sort(losses)[-3:].sum() / losses.sum()
        found = re.search(rf"{name}\s+test loss (\S+); its 3 worst images carry (\d+)%", text)
        assert numbers_agree(found.group(1), f"{losses.mean():.3f}")
        assert abs(int(found.group(2)) - 100 * share) <= 0.5 + 1e-9
        assert f"{found.group(2)} %" in prose(notebook)
    assert "no clear difference in loss either" in told(notebook)


def test_standardising_changes_which_learning_rate_works(notebook):
    rates = chosen_rates(notebook)
    ratio = rates["standardised"] / rates["raw 0-16"]
    assert 20 <= ratio <= 40  # "about 30 times smaller"
    said = told(notebook)
    assert f"best rate, {rates['raw 0-16']:g}, is about 30 times smaller" in said


def lab_functions(notebook):
    """The lab's own L1 functions, run against the script's."""
    return defined(notebook, {"np": np, **{name: getattr(slp, name) for name in
                              ["loss", "backward", "forward", "init_params", "one_hot"]}})


@pytest.fixture(scope="module")
def penalised(notebook, split):
    std_train, _ = split["standardised"]
    y_train = split["y"][0]
    return {"no penalty": default_run(slp)[0],  # load_data's split: the same pixels
            "L2, λ = 0.01": slp.train(std_train, y_train, weight_decay=0.01, verbose=False)[0],
            "L1, λ = 0.01": lab_functions(notebook)["train_l1"](std_train, y_train, l1=0.01)}


def test_the_penalty_table_is_what_the_penalties_do(notebook, penalised, split):
    std_test, y_test = split["standardised"][1], split["y"][1]
    rows = {line[:13].strip(): line[13:].split() for line in lines(notebook)
            if line.startswith(("no penalty", "L2, λ", "L1, λ")) and "change" not in line}
    pred = {name: slp.predict(model, std_test) for name, model in penalised.items()}
    for name, model in penalised.items():
        size = np.abs(model["W"])
        _, test_acc, largest, mean, near_zero, only_none, only_it, p_text = rows[name]
        assert numbers_agree(test_acc.rstrip("%"), f"{100 * np.mean(pred[name] == y_test):.1f}")
        assert numbers_agree(largest, f"{size.max():.2f}")
        assert numbers_agree(mean, f"{size.mean():.3f}")
        assert int(near_zero) == np.sum(size < 0.01)
        expected = paired_comparison(y_test, pred["no penalty"], pred[name])
        assert (int(only_none), int(only_it)) == expected[:2]
        assert numbers_agree(p_text, f"{expected[2]:.2f}")
    # what the prose says they do: L2 shrinks every weight, L1 zeroes most and keeps its largest
    none, l2, l1 = (np.abs(model["W"]) for model in penalised.values())
    assert l2.max() < none.max() and l2.mean() < none.mean()
    assert np.mean(l1 < 0.01) > 0.5 and l1.max() > 0.9 * none.max()
    assert float(rows["L1, λ = 0.01"][-1]) > 0.05  # "not clear" on the test images


def test_pruning_shows_what_l1_keeps_and_what_it_does_not(notebook, penalised, split):
    std_test = split["standardised"][1]
    n_zeroed = int(np.sum(np.abs(penalised["L1, λ = 0.01"]["W"]) < 0.01))
    text = "\n".join(lines(notebook))
    assert f"zeroing each model's {n_zeroed} smallest weights" in text
    for name, model in penalised.items():
        W = model["W"].copy()
        W.flat[np.argsort(np.abs(W), axis=None)[:n_zeroed]] = 0.0
        changed = np.sum(slp.predict({"W": W, "b": model["b"]}, std_test)
                         != slp.predict(model, std_test))
        assert re.search(rf"{re.escape(name)}\s+{changed} of 360 test predictions change", text)
        if name.startswith("L1"):
            assert changed <= 2  # "barely notices"
        else:
            assert changed < 36  # "also keep most of their predictions" (90 % or more)


def test_the_l1_gradient_check_passes(notebook):
    checks = [line for line in lines(notebook) if line.startswith("gradient check ")]
    assert len(checks) == 2
    for line in checks:
        assert float(re.search(r"relative error (\S+)", line).group(1)) <= 1e-6
