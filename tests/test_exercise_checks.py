"""The exercise checks, tried as a student would: right answers in every form, the usual
mistakes (each planted, each must get its own hint), answers that call the scripts instead of
being the student's own code, and answers that try to break the check (endless loops, exits,
floods of output). Then the tables themselves: no row raises, every mistake row can match."""

import copy
import itertools
import math
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT, defined, read

import compare_models
import gradient_check
import np_mlp_digits as mlp
import np_slp_digits as slp

import checks
import verdicts


SOLUTIONS = ["exercises/solutions/slp_exercises.ipynb", "exercises/solutions/mlp_exercises.ipynb"]


@pytest.fixture(scope="module")
def solution():
    """Every function the solution notebooks define, defined as in a student's notebook."""
    namespace = {"np": np, "slp": slp, "mlp": mlp, "math": math, "itertools": itertools}
    for name in SOLUTIONS:
        defined(read(name), namespace)
    return namespace


@pytest.fixture
def forked():
    """The test runs the student's code in a child process, as a check does on Linux and
    macOS; the others run it in the test's own process, as where there is no fork (the
    same verdicts, without a fork's cost)."""


@pytest.fixture(autouse=True)
def fresh_hints(request, monkeypatch):
    verdicts._last_wrong.clear()  # each test starts with first hints
    if "forked" not in request.fixturenames:
        monkeypatch.setattr(verdicts, "FORK", False)


def verdict_of(check, capsys, *answers):
    check(*answers)
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and line.endswith("\n"), line
    return line


def rejects(check, capsys, *answers, hint):
    line = verdict_of(check, capsys, *answers)
    assert " not right yet. " in line, line
    assert hint in line, line
    assert "Traceback" not in line
    return line


def accepts(check, capsys, *answers):
    line = verdict_of(check, capsys, *answers)
    assert ": correct. " in line, line


def off_limits(check, capsys, *answers, called):
    line = rejects(check, capsys, *answers, hint=f"`{called}` is off limits here.")
    assert "asks you to write" in line
    return line


# --- answers must be the student's own code -----------------------------------------------


def test_calling_the_scripts_function_is_named_however_the_student_reaches_it(capsys, forked):
    from np_slp_digits import softmax  # imported by name before the check

    def closure():
        function = slp.softmax
        return lambda z, T: function(z / T)

    def default(z, T, function=slp.softmax):
        return function(z / T)

    def hides_the_error(z, T):
        try:
            return slp.softmax(z / T)
        except BaseException:  # noqa: BLE001 (a student hiding the verdict)
            z = z / T
            return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)

    for answer, called in [(lambda z, T: slp.softmax(z / T), "slp.softmax"),
                           (lambda z, T: softmax(z / T), "slp.softmax"),
                           (closure(), "slp.softmax"), (default, "slp.softmax"),
                           (hides_the_error, "slp.softmax"),
                           (lambda z, T: mlp.softmax(z / T), "mlp.softmax")]:
        line = off_limits(checks.softmax_t, capsys, answer, called=called)
        assert line.startswith("Exercise 2 (softmax with a temperature): not right yet. "
                               "Exercise 2 asks you to write the softmax:"), line
    off_limits(checks.softmax_t, capsys, lambda z, T: np.exp(slp.log_softmax(z / T)),
               called="slp.log_softmax")
    off_limits(checks.softmax_t, capsys, lambda z, T: slp.forward(
        {"W": np.eye(z.shape[1]), "b": np.zeros(z.shape[1])}, z / T)[0], called="slp.forward")


def test_each_exercise_that_the_scripts_answer_refuses_them(capsys, forked, solution):
    off_limits(checks.cross_entropy, capsys, lambda z, y: float(-np.mean(
        slp.log_softmax(z)[np.arange(len(y)), y])), called="slp.log_softmax")
    off_limits(checks.backward_labels, capsys, lambda params, cache, y, wd=0.0: slp.backward(
        params, cache, slp.one_hot(y, 10), wd), called="slp.backward")

    def numerically(params, cache, y, wd=0.0):
        Y = slp.one_hot(y, 10)
        return gradient_check.numerical_gradient(
            lambda p: slp.loss(p, cache["X"], Y, wd), params)

    off_limits(checks.backward_labels, capsys, numerically,
               called="gradient_check.numerical_gradient")
    off_limits(checks.mlp_backward, capsys, lambda params, cache, Y, wd=0.0: mlp.backward(
        params, {**cache, "mask": cache["A1"] > 0}, Y, wd), called="mlp.backward")
    off_limits(checks.leaky_layer, capsys, solution["forward_leaky"],
               lambda params, cache, Y, alpha: mlp.backward(params, {
                   **cache, "mask": np.where(cache["Z1"] > 0, 1.0, alpha)}, Y),
               called="mlp.backward")
    off_limits(checks.paired_counts, capsys, lambda a, b, y: compare_models.paired_comparison(
        y, a, b), called="compare_models.paired_comparison")


def test_helpers_the_exercise_does_not_ask_for_stay_usable(capsys, solution):
    # Exercise 3 allows slp.softmax, which calls the off-limits log_softmax inside the script:
    # that call is the script's, so it goes through, and the answer gets its own hint.
    rejects(checks.cross_entropy, capsys, lambda z, y: float(-np.mean(np.log(
        slp.softmax(z))[np.arange(len(y)), y])), hint="log(0) = -inf")

    def with_one_hot(params, cache, y, weight_decay=0.0):
        dZ = (cache["P"] - slp.one_hot(y, 10)) / len(y)
        return {"W": cache["X"].T @ dZ + weight_decay * params["W"], "b": dZ.sum(axis=0)}

    accepts(checks.backward_labels, capsys, with_one_hot)
    accepts(checks.leaky_layer, capsys, solution["forward_leaky"], solution["backward_leaky"])
    accepts(checks.choose_settings, capsys, solution["choose_settings"])  # mlp.train


def test_the_scripts_work_again_after_a_check_and_the_students_own_function_stays_his(
        capsys, solution, monkeypatch):
    for fork in (True, False):
        monkeypatch.setattr(verdicts, "FORK", fork)
        off_limits(checks.softmax_t, capsys, lambda z, T: slp.softmax(z / T),
                   called="slp.softmax")
        assert np.allclose(slp.softmax(np.zeros((1, 4))), 0.25)
    monkeypatch.setattr(mlp, "backward", solution["backward"])  # the student's, by that name
    accepts(checks.mlp_backward, capsys, mlp.backward)


# --- references fixed at import ----------------------------------------------------------


def test_rebinding_the_scripts_functions_changes_no_verdict(capsys, solution, monkeypatch):
    script = slp.backward
    monkeypatch.setattr(slp, "backward", lambda params, cache, Y, weight_decay=0.0: {
        k: 2 * v for k, v in script(params, cache, Y, weight_decay).items()})
    monkeypatch.setattr(slp, "log_softmax", lambda logits: logits)  # slp.softmax goes wrong
    twice = lambda p, c, y, wd=0.0: {k: 2 * v for k, v in solution["backward_labels"](
        p, c, y, wd).items()}
    rejects(checks.backward_labels, capsys, twice, hint="Expected")
    accepts(checks.backward_labels, capsys, solution["backward_labels"])
    accepts(checks.softmax_t, capsys, solution["softmax_t"])


# --- right answers in every form -------------------------------------------------------------


def test_a_right_number_is_right_as_float32_as_a_whole_float_and_rounded_or_cut(capsys):
    truth = checks._hand_gradient([0, 1])
    for answer in (round(truth, 3), float(str(truth)[:5]), np.float32(1.120), 1.12):
        accepts(checks.hand_gradient, capsys, answer)
    for answer in (4.565, 4.564, np.float32(4.565)):
        accepts(checks.bias_only_loss, capsys, answer)
    for answer in (2, 2.0, np.float32(2.0), np.int64(2)):
        accepts(checks.first_w1_update, capsys, answer)
    for answer in (0.5, np.float32(0.5), np.float64(0.5)):
        accepts(checks.max_learning_rate, capsys, answer)
    rejects(checks.bias_only_loss, capsys, np.float32(4.56),
            hint="right to the 2 decimal(s) you gave")  # float32's own digits, not 4.5599999
    rejects(checks.first_w1_update, capsys, 2.5, hint="a whole number")


def test_exercise_1_accepts_zeroing_the_constant_pixel_and_refuses_lists(capsys, solution):
    rescale = solution["rescale"]

    def zeroed(X_train, X_test):
        train, test = rescale(X_train, X_test)
        return train, np.where(X_train.max(axis=0) == X_train.min(axis=0), 0.0, test)

    accepts(checks.rescale, capsys, rescale)
    accepts(checks.rescale, capsys, zeroed)
    rejects(checks.rescale, capsys, lambda a, b: tuple(x.tolist() for x in rescale(a, b)),
            hint="as a NumPy array")
    line = rejects(checks.rescale, capsys, lambda a, b: (rescale(a, b)[0], rescale(b, b)[0]),
                   hint="scale them with the training images' numbers")
    assert "Expected the right answer for 40 training and 12 test images of 5 pixels; got" in line
    rejects(checks.rescale, capsys, slp.standardise, hint="that is the lesson's standardise")


# --- each mistake its own hint ---------------------------------------------------------------


def test_exercise_2_mistakes(capsys, solution):
    softmax_t = solution["softmax_t"]
    rejects(checks.softmax_t, capsys, lambda z, T: checks._naive_softmax(z / T),
            hint="exp(1000) overflows")
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, 1.0), hint="use the T you are")
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z * T * T, T), hint="divide by T")


def test_complex_float32_and_mutating_answers_are_refused_by_name(capsys, forked, solution):
    softmax_t = solution["softmax_t"]
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, T) + 0j,
            hint="find it rather than dropping the imaginary part")
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, T).astype(np.float32),
            hint="compute in float64")

    def overwrites_its_logits(logits, T):
        logits -= logits.max(axis=1, keepdims=True)
        logits /= T
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    line = rejects(checks.softmax_t, capsys, overwrites_its_logits, hint="data must not change")
    assert "changed its input logits in place" in line


def test_exercise_3_mistakes(capsys):
    def via_log_of_softmax(logits, y):  # slp.softmax is allowed here
        return float(-np.mean(np.log(slp.softmax(logits))[np.arange(len(y)), y]))

    line = rejects(checks.cross_entropy, capsys, via_log_of_softmax, hint="log(0) = -inf")
    assert "block" not in line  # one mistake, one hint
    rejects(checks.cross_entropy, capsys, lambda z, y: len(y) * via_log_of_softmax(z, y),
            hint="a mean over the images")


def backward_labels(params, cache, y, weight_decay=0.0, mistake=None):
    X, N = cache["X"], len(y)
    dZ = cache["P"].copy()
    dZ[np.arange(N), y] -= 1
    dZ = -dZ if mistake == "negated" else dZ
    dZ = dZ / N / (N if mistake == "/ N twice" else 1)
    decay = weight_decay * params["W"] / (2 if mistake == "half decay" else 1)
    grads = {"W": X.T @ dZ + decay, "b": dZ.sum(axis=0, keepdims=mistake == "keepdims")}
    return {name: -g for name, g in grads.items()} if mistake == "all negated" else grads


@pytest.mark.parametrize("mistake, hint", [
    ("keepdims", "keepdims=True leaves an extra axis: backward_labels['b'] has shape (10,)"),
    ("half decay", "the 1/2 cancels"),
    ("/ N twice", "divide by N once"),
    ("all negated", "the gradient points uphill"),
    ("negated", "prediction minus target, not target minus prediction"),
])
def test_exercise_4_mistakes(mistake, hint, capsys):
    rejects(checks.backward_labels, capsys,
            lambda p, c, y, wd=0.0: backward_labels(p, c, y, wd, mistake), hint=hint)


def test_the_formula_comes_only_for_the_same_mistake_again(capsys):
    def half_decay(p, c, y, wd=0.0):
        return backward_labels(p, c, y, wd, "half decay")

    first = rejects(checks.backward_labels, capsys, half_decay, hint="Hint: the derivative")
    second = rejects(checks.backward_labels, capsys, half_decay,
                     hint="Hint, more exactly: dW = (the layer's input).T @ dZ + weight_decay")
    assert first != second
    accepts(checks.backward_labels, capsys, backward_labels)
    rejects(checks.backward_labels, capsys, half_decay, hint="Hint: the derivative")
    # Two different mistakes that no row knows: each gets the idea; the same one again, the
    # formula.
    verdicts._last_wrong.clear()
    lines = [verdict_of(checks.backward_labels, capsys, lambda p, c, y, wd=0.0, s=scale: {
        k: s * v for k, v in backward_labels(p, c, y, wd).items()}) for scale in (1.01, 1.02, 1.02)]
    assert ["more exactly" in line for line in lines] == [False, False, True], lines


def test_exercise_5_and_7_name_every_mistake_that_gives_the_number(capsys):
    line = rejects(checks.hand_gradient, capsys, checks._hand_gradient([0, 1], Y=0),
                   hint="dZ is P - Y")  # forgetting -Y gives the worked example's own entry
    assert "with y = [0, 2]" in line and "without - Y" in line
    rejects(checks.bias_only_loss, capsys, 4.56, hint="right to the 2 decimal(s) you gave")
    rejects(checks.bias_only_loss, capsys, 2.303, hint="ln 10 is the loss when all ten")
    rejects(checks.bias_only_loss, capsys, "4.565", hint="not text")
    assert "not done yet" in verdict_of(checks.bias_only_loss, capsys, None)


def test_exercise_6_catches_settings_hard_coded_and_going_uphill(capsys, solution):
    momentum = solution["momentum_descent"]
    accepts(checks.momentum_descent, capsys, momentum)
    rejects(checks.momentum_descent, capsys,
            lambda X, y, epochs, lr, beta, seed=42: momentum(X, y, epochs, 0.1, beta),
            hint="use the lr and seed you are given")
    rejects(checks.momentum_descent, capsys,
            lambda X, y, epochs, lr, beta, seed=42: momentum(X, y, epochs, lr, beta),
            hint="use the seed you are given")
    rejects(checks.momentum_descent, capsys, lambda X, y, epochs, lr, beta, seed=42: momentum(
        X, y, epochs, -lr, beta, seed), hint="going uphill")


def mlp_backward_planted(mistake):
    def backward(params, cache, Y, weight_decay=0.0):
        X, A1, P = cache["X"], cache["A1"], cache["P"]
        mask = {"A1 >= 0": A1 >= 0, "no mask": 1.0}.get(mistake, A1 > 0)
        decay = 0.0 if mistake == "no decay" else weight_decay
        dZ2 = (P - Y) / len(X)
        dZ1 = (dZ2 @ params["W2"].T) * mask
        return {"W1": X.T @ dZ1 + decay * params["W1"], "b1": dZ1.sum(axis=0),
                "W2": A1.T @ dZ2 + decay * params["W2"], "b2": dZ2.sum(axis=0)}

    return backward


def test_exercise_8_names_a_missing_mask_and_every_weight_missing_decay(capsys):
    accepts(checks.mlp_backward, capsys, mlp_backward_planted(None))
    for mistake in ("A1 >= 0", "no mask"):
        verdicts._last_wrong.clear()
        line = rejects(checks.mlp_backward, capsys, mlp_backward_planted(mistake),
                       hint="keep dA1 only where A1 > 0")
        assert "no mask at all or a mask that is all True" in line
    rejects(checks.mlp_backward, capsys, mlp_backward_planted("no decay"),
            hint="dW1 and dW2 without the weight-decay term")


def test_exercise_9_leaky_layer(capsys, solution):
    forward_leaky, backward_leaky = solution["forward_leaky"], solution["backward_leaky"]
    rejects(checks.leaky_layer, capsys, lambda p, X, alpha: forward_leaky(p, X, 0.01),
            backward_leaky, hint="use the alpha you are given")

    def relu_slope(params, cache, Y, alpha):
        return backward_leaky(params, {**cache, "Z1": cache["Z1"], "A1": cache["A1"]}, Y, 0.0)

    rejects(checks.leaky_layer, capsys, forward_leaky, relu_slope,
            hint="a leaky unit passes gradient where it is off too")


def sgd_epoch_planted(mistake):
    def sgd_epoch(params, X, Y, lr, batch_size, rng, weight_decay=0.0):
        N, sign = len(X), -1 if mistake == "ascent" else 1
        lr = 0.1 if mistake == "lr 0.1" else lr
        batch_size = 32 if mistake == "batch 32" else batch_size
        weight_decay = {"no decay": 0.0, "double decay": 2 * weight_decay}.get(mistake,
                                                                              weight_decay)
        order = {"with replacement": lambda: rng.integers(0, N, N),
                 "np.random": lambda: np.random.permutation(N),
                 "fresh rng": lambda: np.random.default_rng(0).permutation(N)}.get(
            mistake, lambda: rng.permutation(N))()
        if mistake == "shuffles in place":
            X[:], Y[:] = X[order], Y[order]
            order = np.arange(N)
        total = {name: 0.0 for name in params}
        for start in range(0, N, batch_size):
            rows = order[start:start + batch_size]
            grads = mlp.backward(params, mlp.forward(params, X[rows])[1], Y[rows], weight_decay)
            if mistake == "bias decay":
                grads = {k: g + weight_decay * params[k] * (k[0] == "b") for k, g in grads.items()}
            scale = len(rows) if mistake == "summed" else 1
            if mistake == "one step":
                total = {name: total[name] + grads[name] for name in params}
            elif mistake == "mutates params":
                for name in params:
                    params[name] -= lr * grads[name]
            else:
                params = {name: params[name] - sign * lr * scale * grads[name]
                          for name in params}
        if mistake == "one step":
            params = {name: params[name] - lr * total[name] for name in params}
        return params

    return sgd_epoch


@pytest.mark.parametrize("mistake, hint", [
    ("ascent", "step downhill"), ("summed", "the mean over its images"),
    ("with replacement", "sample without replacement"),
    ("one step", "each batch takes its own step"),
    ("mutates params", "changed its input params in place"),
    ("shuffles in place", "changed its input X in place"),
    ("no decay", "pass weight_decay to mlp.backward"),
    ("double decay", "weight decay counted twice"),
    ("bias decay", "the biases get none"),
    ("lr 0.1", "hard-coded lr=0.1 gives. Hint: use the lr you are given"),
    ("batch 32", "hard-coded batch_size=32 gives. Hint: use the batch_size you are given"),
    ("np.random", "np.random.permutation draws from NumPy's global generator"),
    ("fresh rng", "a new generator made inside the epoch"),
])
def test_exercise_10_mistakes(mistake, hint, capsys):
    rejects(checks.sgd_epoch, capsys, sgd_epoch_planted(mistake), hint=hint)


def test_exercise_10_right_answer(capsys):
    accepts(checks.sgd_epoch, capsys, sgd_epoch_planted(None))


def test_numbers_explained_are_checked_by_their_value_and_sign(capsys):
    # Exercise 11 trains on 3 * X_train: its limit lies between 0.5 and 1, the lab's (X_train)
    # between 3.5 and 4, so the lab's answer, 2, is too large here, and says why.
    rejects(checks.max_learning_rate, capsys, 2.0, hint="too large: it would be right for "
                                                        "X_train itself")
    for answer in (1, 8.0):
        rejects(checks.max_learning_rate, capsys, answer, hint="that is too large: try smaller")
    rejects(checks.max_learning_rate, capsys, 0.3, hint="the limit is higher")
    rejects(checks.max_learning_rate, capsys, 1e-320, hint="far below the limit")
    for answer in (-0.5, 0, 0.0, math.inf, math.nan):
        rejects(checks.max_learning_rate, capsys, answer, hint="a positive, finite step size")
    assert "not done yet" in verdict_of(checks.max_learning_rate, capsys, None)
    rejects(checks.first_w1_update, capsys, 1, hint="dA1 = dZ2 @ W2.T when W2 = 0")
    rejects(checks.first_w1_update, capsys, 0, hint="does not stay there")
    rejects(checks.first_w1_update, capsys, -1, hint="-1 is negative")


def test_exercise_13_paired_counts(capsys, solution):
    paired_counts = solution["paired_counts"]
    accepts(checks.paired_counts, capsys, paired_counts)

    def p_without_the_last_term(a, b, y):
        only_a, only_b, _ = paired_counts(a, b, y)
        n = only_a + only_b
        return only_a, only_b, min(1, 2 * sum(math.comb(n, k) for k in range(min(only_a, only_b)))
                                   / 2**n) if n else 1.0

    rejects(checks.paired_counts, capsys, p_without_the_last_term, hint="each of the n images "
            "is a fair coin")
    rejects(checks.paired_counts, capsys, lambda a, b, y: paired_counts(a, b, y)[:2] + (
        paired_counts(a, b, y)[2] if np.any(a != b) else float("nan"),),
        hint="leave n = 0 images to test: p is 1")

    def divides_by_n(a, b, y):
        only_a, only_b, p = paired_counts(a, b, y)
        return only_a, only_b, p * only_a / (only_a + only_b) * 2 if only_a == only_b else p

    rejects(checks.paired_counts, capsys, divides_by_n, hint="ZeroDivisionError")
    assert "leave n = 0 images to test" in verdict_of(checks.paired_counts, capsys, divides_by_n)
    rejects(checks.paired_counts, capsys,
            lambda a, b, y: checks._paired(a, b, y, sides=1), hint="two-sided")
    rejects(checks.paired_counts, capsys,
            lambda a, b, y: checks._paired(a, b, y, sides=2, cap=2), hint="at most 1")


def test_exercise_13_the_same_wrong_counts_again_get_the_counts_formula(capsys, solution):
    def one_too_many(a, b, y):
        only_a, only_b, p = solution["paired_counts"](a, b, y)
        return only_a + 1, only_b, p

    first = rejects(checks.paired_counts, capsys, one_too_many, hint="count the images only")
    again = rejects(checks.paired_counts, capsys, one_too_many,
                    hint="Hint, more exactly: only_a = np.sum((pred_a == y) & (pred_b != y))")
    assert "comb" not in first + again


def test_exercise_14_settings_chosen_wrongly_are_named(capsys, solution):
    choose = solution["choose_settings"]
    rejects(checks.choose_settings, capsys,
            lambda X, y, X_val, y_val, *grid: choose(X, y, X, y, *grid),
            hint="judge on the validation images")
    rejects(checks.choose_settings, capsys, lambda *args: choose(*args)[::-1],
            hint="return (lr, weight_decay), in that order")
    # On these images 200 epochs and train's default 1000 choose the same pair: the hint
    # names both, hard-coded and left to the default.
    line = rejects(checks.choose_settings, capsys, lambda *args: choose(*args[:-1], 200),
                   hint="use the epochs you are given, not 200")
    assert "train runs its default 1000" in line


# --- what else a student meets -------------------------------------------------------------


def test_odd_answers_get_one_line_that_names_them(capsys, forked, solution):
    softmax_t = solution["softmax_t"]
    rejects(checks.rescale, capsys, solution["rescale"](np.ones((3, 3)), np.ones((3, 3))),
            hint="pass the function by its name")  # a tuple whose repr has several lines
    rejects(checks.rescale, capsys, lambda a, b: sys.exit(1), hint="rescale raised SystemExit")
    rejects(checks.leaky_layer, capsys, None, solution["backward_leaky"], hint="by its name")
    rejects(checks.cross_entropy, capsys, lambda z, y: np.float32(
        -np.mean(np.log(slp.softmax(z))[np.arange(len(y)), y])), hint="compute in float64")
    rejects(checks.cross_entropy, capsys, lambda z, y: float(-np.mean(np.log(
        slp.softmax(z)[np.arange(len(y)), y] + 1e-9))), hint="adding an epsilon")
    rejects(checks.bias_only_loss, capsys, [4.565], hint="return one number, not a list")
    rejects(checks.softmax_t, capsys, lambda z, T: (x for x in z), hint="cannot be compared")

    def adds_the_mask_to_its_cache(params, cache, Y, weight_decay=0.0):
        cache["mask"] = cache["A1"] > 0
        return solution["backward"](params, cache, Y, weight_decay)

    rejects(checks.mlp_backward, capsys, adds_the_mask_to_its_cache,
            hint="changed its input cache in place")
    line = rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, T) * (1 + 1e-8),
                   hint="p_j = exp(z_j / T)")
    expected, got = re.search(r"Expected [^=]+ = (\S+) .*; got (\S+)\.", line).groups()
    assert expected != got  # enough digits to show where they differ


def test_an_error_inside_the_students_code_becomes_one_kind_line(capsys):
    line = rejects(checks.softmax_t, capsys,
                   lambda z, T: np.exp(z) / np.exp(z).sum(axis=1), hint="p_j = exp(z_j / T)")
    assert "softmax_t raised ValueError: operands could not be broadcast" in line


def test_an_unfinished_exercise_that_another_needs_is_named(capsys):
    def loop_over_an_unfinished_step(*args):
        raise NotImplementedError("Exercise 4: The gradient, from the labels themselves")

    line = verdict_of(checks.momentum_descent, capsys, loop_over_an_unfinished_step)
    assert line.startswith("Exercise 6 (gradient descent with momentum): not done yet")
    assert "Exercise 4: The gradient, from the labels themselves" in line


def test_under_nbgrader_a_check_that_does_not_pass_raises(capsys, forked, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="not right yet"):
        checks.softmax_t(lambda z, T: checks._naive_softmax(z))
    with pytest.raises(AssertionError, match="is off limits here"):
        checks.softmax_t(lambda z, T: slp.softmax(z / T))
    with pytest.raises(AssertionError, match="not done yet"):
        checks.bias_only_loss(None)
    checks.bias_only_loss(4.565)  # a right answer passes quietly
    assert capsys.readouterr().out.count("\n") == 4


# --- limits that hold: run in a Python of its own, which a broken limit cannot hang --------


def test_loops_nested_checks_and_exits_end_in_a_verdict_within_the_limit():
    """Each line a notebook's check prints, with a time limit of 1 s; the run's timeout only
    stops a broken check."""
    session = textwrap.dedent("""
        import os, sys
        import numpy as np
        sys.path[:0] = [".", ".."]
        import checks, verdicts
        verdicts.TIME_LIMIT = 1

        def python_loop(logits, T):
            while True:
                try:
                    pass
                except Exception:  # the time limit is no Exception
                    pass

        def c_loop(logits, T):
            sum(range(10 ** 13))  # compiled code: deaf to signals

        def rescale(X_train, X_test):
            low, span = X_train.min(axis=0), np.ptp(X_train, axis=0)
            span = np.where(span == 0, 1.0, span)
            return (X_train - low) / span, (X_test - low) / span

        def checks_then_loops(logits, T):
            checks.rescale(rescale)  # a check that runs code of its own, with its own limit
            print("and now a loop")
            while True:
                pass

        for student in (python_loop, c_loop, checks_then_loops):
            checks.softmax_t(student)
        verdicts.FORK = False  # in the kernel's own process, as where there is no fork
        checks.softmax_t(checks_then_loops)
        verdicts.FORK = True
        checks.softmax_t(lambda logits, T: os._exit(0))
        print("the notebook goes on")
        """)
    run = subprocess.run([sys.executable, "-c", session], cwd=ROOT / "exercises",
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    too_long = ("Exercise 2 (softmax with a temperature): took longer than 1 s: is there a loop "
                "that never ends? (Interrupt the kernel if it still runs.)")
    nested = ["Exercise 1 (min-max scaling): correct. The constant pixel is 0 in training, and a "
              "test image's value there stays ordinary.", "and now a loop", too_long]
    lines = run.stdout.splitlines()
    assert lines[:-2] == [too_long, too_long, *nested, *nested], lines
    assert lines[-2].startswith("Exercise 2 (softmax with a temperature): not right yet. "
                                "Expected a result from softmax_t; got no result: the process "
                                "running softmax_t ended (exit status 0). Hint: os._exit")
    assert lines[-1] == "the notebook goes on"


def test_printed_output_is_capped_with_a_note(capsys, forked, solution):
    def floods(logits, T):
        for _ in range(100_000):
            print("x" * 399)
        return solution["softmax_t"](logits, T)

    checks.softmax_t(floods)  # 4 cases, 40 million characters each
    out = capsys.readouterr().out.splitlines()
    assert sum(map(len, out[:-2])) <= verdicts.PRINT_LIMIT
    assert out[-2] == "... and 159998000 more characters printed by your code, not shown", \
        out[-2:]
    assert out[-1].startswith("Exercise 2 (softmax with a temperature): correct.")


# --- the tables -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(solution):
    """{check: [(cases, mistakes, tolerance)]}: what each check of a function hands to walk,
    recorded while it checks the solution notebooks' functions, found by their check cells."""
    found, real = {}, verdicts.walk

    def spy(student, name, cases, mistakes, fallback, tol=verdicts.TOL, answer_of=None):
        found.setdefault(verdicts._running[-1].check, []).append((cases, mistakes, tol))
        return real(student, name, cases, mistakes, fallback, tol, answer_of)

    checks.walk = spy
    try:
        for check, answers in checks_of_functions(solution).items():
            getattr(checks, check)(*answers)
    finally:
        checks.walk = real
    return found


def checks_of_functions(solution):
    """{check: the solution's functions it is given}, from the notebooks' check cells."""
    calls = [re.fullmatch(r"checks\.(\w+)\((.*)\)", cell.source).groups() for name in SOLUTIONS
             for cell in read(name).cells if cell.source.startswith("checks.")]
    return {check: [solution.get(name) for name in arguments.split(", ")]
            for check, arguments in calls
            if all(callable(solution.get(name)) for name in arguments.split(", "))}


def test_every_check_of_a_function_hands_its_table_to_walk(tables, solution):
    assert len(tables) >= 10 and set(tables) == set(checks_of_functions(solution))


def test_every_row_runs_and_tells_the_right_answer_from_its_mistake(tables):
    for check, walks in tables.items():
        for cases, mistakes, tol in walks:
            assert cases and mistakes, check
            for row in mistakes:
                right = [case.right if not isinstance(case.right, list) else case.right[0]
                         for case in cases]
                # The row runs, and tells the right answer from its mistake in some case.
                with np.errstate(all="ignore"):  # overflow is some mistakes' point
                    assert any(not row.matches(copy.deepcopy(r), case.inputs, tol)
                               for r, case in zip(right, cases)), (check, row.what)


def test_a_row_that_raises_fails_the_check_instead_of_vanishing(capsys):
    broken = verdicts.Mistake("a typo", lambda i: i["no such input"], "never shown")
    real = checks.walk

    def with_a_broken_row(student, name, cases, mistakes, *args, **kwargs):
        return real(student, name, cases, [broken] + mistakes, *args, **kwargs)

    checks.walk = with_a_broken_row
    try:
        line = verdict_of(checks.softmax_t, capsys, lambda z, T: checks._naive_softmax(z / T))
    finally:
        checks.walk = real
    assert "could not check your answer (KeyError: 'no such input')" in line
