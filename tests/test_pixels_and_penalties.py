"""What the lab labs/pixels_and_penalties.ipynb concludes, kept true: the learning rates chosen
on validation images, the paired counts on the test images, the noise of the loss difference,
what ink on a pixel no training image inks does, and what L2 and L1 do to the weights.

The final models are retrained here (about 2 s) from the printed choices; the L1 code is the
lab's own, taken from its cells. The learning-rate search itself is not repeated: its printed
table must agree with the printed choice.
"""

import copy
import re

import np_slp_digits as slp
import numpy as np
import pytest
from conftest import (code_cells, default_run, defined, lines, numbers_agree, printed_line,
                      prose, told)
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
    assert ("the probability of a split at least this uneven if the two were equally good: "
            f"{p_text}") in said
    assert float(p_text) > 0.05  # the verdict: none found, and with how many disagreements
    disagreements = only_raw + only_std
    assert f"No clear difference in accuracy here (with {disagreements} disagreements)" in said
    assert "luck" not in said and "chance" not in said  # p is not the chance it was luck


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


def test_the_epsilon_trap_is_printed_as_said(notebook):
    assert printed_line(notebook, "standardise: ").split() == ["standardise:", "[16.", "0.]"]
    assert printed_line(notebook, "std + 1e-8 would:").split()[4] == "[1.6e+09"
    assert "a feature of $1.6 \\times 10^9$" in told(notebook)


def test_the_blank_pixels_keep_their_starting_weights(notebook, split):
    std_train = split["standardised"][0]
    blank = np.flatnonzero(std_train.std(axis=0) == 0)
    W = default_run(slp)[0]["W"]  # the lab's model of part 2: the script's defaults, same split
    assert len(blank) == 3
    assert np.array_equal(W[blank], slp.init_params(64, 10)["W"][blank])
    assert f"blank pixels: {blank}" in "\n".join(lines(notebook))
    assert "their trained weights are their random starting values: True" in lines(notebook)
    assert "their rows of dW are zero: True" in lines(notebook)


def stray_ink_claims(notebook):
    """(printed bound, printed gap, {pixel: changed predictions}, the bound the prose says)."""
    text = "\n".join(lines(notebook))
    bound, gap = re.search(r"largest change of one score: (\S+) logits; largest gap it opens "
                           r"between two digits: (\S+) logits", text).groups()
    changed = {int(f): int(n) for f, n in
               re.findall(r"ink 16 on pixel\s+(\d+) changes\s+(\d+) of 360", text)}
    said = re.search(r"shift of up to (\S+) logits, enough to change up to (\d+) of the 360",
                     told(notebook))
    return bound, gap, changed, said.groups()


def stray_ink_problems(notebook, split):
    """What the printed and told effects of ink on the blank pixels get wrong, recomputed."""
    bound, gap, changed, (said_bound, said_changes) = stray_ink_claims(notebook)
    std_train, std_test = split["standardised"]
    blank = np.flatnonzero(std_train.std(axis=0) == 0)
    shift = 16 * slp.init_params(64, 10)["W"][blank]  # ink 16 times the untrained weight
    problems = []
    if not (numbers_agree(bound, f"{np.abs(shift).max():.1f}")
            and numbers_agree(gap, f"{np.ptp(shift, axis=1).max():.1f}")):
        problems.append("bound")
    if said_bound != bound or int(said_changes) != max(changed.values()):
        problems.append("prose")
    params = default_run(slp)[0]
    clean = slp.predict(params, std_test)
    for f in blank:
        inked = std_test.copy()
        inked[:, f] = 16.0
        if np.sum(slp.predict(params, inked) != clean) != changed.get(f):
            problems.append(f"pixel {f}")
    return problems


def test_the_stray_ink_bound_is_ink_times_weight_as_printed_and_said(notebook, split):
    assert stray_ink_problems(notebook, split) == []
    assert 2.5 <= float(stray_ink_claims(notebook)[0]) <= 3.5  # "up to about 3 logits"


def test_a_stray_ink_count_typed_by_hand_is_caught(notebook, split):
    planted = copy.deepcopy(notebook)
    for cell in planted.cells:  # one count changed in the output, and in the prose with it
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout" and "ink 16 on pixel 39 changes" in output.text:
                output.text = output.text.replace("pixel 39 changes 40", "pixel 39 changes 41")
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("up to 40 of the 360", "up to 41 of the 360")
    assert stray_ink_problems(planted, split) == ["pixel 39"]


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
    # and the prose quotes the table's L1 row as printed
    _, l1_test, _, _, l1_near_zero, only_none, only_it, p_text = rows["L1, λ = 0.01"]
    train_accs = {name: row[0].rstrip("%") for name, row in rows.items()}
    said = told(notebook)
    assert f"({l1_near_zero} of 640 within 0.01)" in said
    assert (f"({train_accs['L1, λ = 0.01']} % against {train_accs['no penalty']} %)") in said
    assert (f"{only_none} images only the unpenalised model gets right and {only_it} only L1's: "
            f"p = {p_text}, no clear difference found with {int(only_none) + int(only_it)} "
            "disagreements") in said


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
    counts = re.findall(r"(?:no penalty|L2, λ = 0.01)\s+(\d+) of 360 test predictions change",
                        text)
    assert f"({counts[0]} and {counts[1]} of 360 change)" in told(notebook)


def test_a_penalty_pulls_the_blank_pixels_weights_to_zero(notebook, penalised, split):
    std_train, std_test = split["standardised"]
    blank = np.flatnonzero(std_train.std(axis=0) == 0)
    start = np.abs(slp.init_params(64, 10)["W"][blank]).sum()
    most = {}
    for name, model in penalised.items():
        share, changed = re.search(re.escape(name) + r"\s+blank pixels' \|w\| (\S+) of the "
                                   r"start; ink 16 on each changes \[([\d, ]+)\] of 360",
                                   "\n".join(lines(notebook))).groups()
        assert numbers_agree(share, f"{np.abs(model['W'][blank]).sum() / start:.2f}")
        clean = slp.predict(model, std_test)
        expected = []
        for f in blank:
            inked = std_test.copy()
            inked[:, f] = 16.0
            expected.append(int(np.sum(slp.predict(model, inked) != clean)))
        assert [int(n) for n in changed.split(",")] == expected
        most[name] = max(expected)
    # L2 multiplies an untouched weight by (1 - lr * lambda) every epoch, as the prose says
    l2_share = np.abs(penalised["L2, λ = 0.01"]["W"][blank]).sum() / start
    assert abs(l2_share - (1 - 0.1 * 0.01) ** 1000) < 1e-9
    said = told(notebook)
    assert f"$0.999^{{1000}}$, {0.999 ** 1000:.2f} of the starting weights" in said
    assert (f"changes at most {most['L2, λ = 0.01']} predictions with L2 and "
            f"{most['L1, λ = 0.01']} with L1, against {most['no penalty']} without a penalty"
            ) in said


def test_every_figure_is_folded(notebook):
    figures = [cell for cell in code_cells(notebook)
               if any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))]
    assert len(figures) == 2
    assert all(cell.metadata.get("jupyter", {}).get("source_hidden") for cell in figures)
    assert not any(cell.metadata.get("jupyter", {}).get("source_hidden")
                   for cell in code_cells(notebook) if cell not in figures)


def test_the_l1_gradient_check_passes(notebook):
    checks = [line for line in lines(notebook) if line.startswith("gradient check ")]
    assert len(checks) == 2
    for line in checks:
        assert float(re.search(r"relative error (\S+)", line).group(1)) <= 1e-6
