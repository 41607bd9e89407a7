"""Instant checks for the exercises: each prints a one-line verdict on a student's answer.

The exercise notebooks (slp_exercises.ipynb, mlp_exercises.ipynb) call one check per exercise,
passing the student's function or number:

    import checks
    checks.softmax(softmax)   # prints "Exercise 2 (stable softmax): correct. ..." or a hint

The reference answers are the scripts' own functions (np_slp_digits.py and np_mlp_digits.py,
imported from the folder next to this file or one up) and central finite differences; there is
no third copy of the model here. A check catches whatever the student's code raises and says,
in one line, what it expected, what it got and where in the walkthrough to look. An untouched
skeleton (it raises NotImplementedError) or an answer left at None is "not done yet".

Under nbgrader's autograder (it sets NBGRADER_EXECUTION), a check that does not pass also
raises an AssertionError after printing, so that its cell scores no points.
"""

import functools
import math
import os
import pathlib
import sys
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

HERE = pathlib.Path(__file__).resolve().parent
# The scripts sit one folder up in this repository; in an nbgrader course folder, copy them
# next to this file.
for _folder in (HERE, HERE.parent):
    if (_folder / "np_slp_digits.py").exists():
        if str(_folder) not in sys.path:
            sys.path.insert(0, str(_folder))
        break
else:
    raise ImportError("checks.py needs np_slp_digits.py and np_mlp_digits.py next to it "
                      "or one folder up")

import np_mlp_digits as mlp  # noqa: E402
import np_slp_digits as slp  # noqa: E402

SLP_WALKTHROUGH = "np_slp_digits.ipynb"
MLP_WALKTHROUGH = "np_mlp_digits.ipynb"

# Comparing with the scripts' own functions: the same arithmetic written another way (in a
# different order, or exp/sum instead of exp(log_softmax)) differs by float64 rounding, about
# 1e-15 relative. Every mistake these checks look for changes values by 1e-3 or more.
RTOL, ATOL = 1e-9, 1e-12
# Gradient checks: central differences with h = 1e-5 agree with a correct gradient to about
# 1e-9 on these smooth losses (the walkthroughs print 1e-10 to 1e-9); a missing factor or term
# gives 1e-2 or more. 1e-6 leaves room on both sides, and is the walkthroughs' own threshold.
GRAD_TOL = 1e-6


# ----------------------------------------------------------------------------
# Verdicts


class _NotDone(Exception):
    """The skeleton is untouched (NotImplementedError) or the answer is still None."""

    def __init__(self, blocker="", what_to_do="fill in the cell above and run it, then this one"):
        super().__init__(blocker)
        self.blocker, self.what_to_do = blocker, what_to_do


class _Wrong(Exception):
    """What was expected, what was got, and a hint (the walkthrough section is added)."""

    def __init__(self, expected, got, hint):
        super().__init__(expected, got, hint)
        self.expected, self.got, self.hint = expected, got, hint


def _grading():
    """True while nbgrader autogrades or validates a notebook."""
    return os.environ.get("NBGRADER_EXECUTION", "") in ("autograde", "validate")


def _exercise(number, title, walkthrough, section):
    """Turn a check into one that prints one line: correct, not done yet, or not right yet.

    The check returns its confirmation text, or raises _NotDone or _Wrong. NumPy's warnings
    (overflow in exp, division by zero) are silenced while it runs: the verdict says it better.
    BLAS runs on one thread, as in the scripts: on matrices this small a second thread gains
    little, and costs a lot on a machine that a whole class shares.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(*answers):
            name = f"Exercise {number} ({title})"
            passed = False
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"), \
                        threadpool_limits(limits=1, user_api="blas"):
                    warnings.simplefilter("ignore")
                    confirmation = check(*answers)
                line, passed = f"{name}: correct. {confirmation}", True
            except _NotDone as why:
                if why.blocker and not why.blocker.startswith(f"Exercise {number}:"):
                    line = (f"{name}: not done yet: your code needs something unfinished "
                            f"first ({why.blocker}).")
                else:
                    line = f"{name}: not done yet: {why.what_to_do}."
            except _Wrong as wrong:
                line = (f"{name}: not right yet. Expected {wrong.expected}; got {wrong.got}. "
                        f"Hint: {wrong.hint} (walkthrough {walkthrough}, section \"{section}\").")
            except Exception as error:  # the answer had a form this check did not foresee
                line = (f"{name}: could not check your answer ({_describe(error)}). "
                        f"Compare its form with the skeleton's docstring "
                        f"(walkthrough {walkthrough}, section \"{section}\").")
            print(line)
            if not passed and _grading():
                raise AssertionError(line)

        return run

    return decorate


def _describe(error):
    """'ValueError: the first line of its message', at most 150 characters."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if len(text) > 150:
        text = text[:147] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _call(function, *args, name, expected, hint):
    """Run the student's function. Their error becomes a verdict, never a traceback."""
    if not callable(function):
        raise _Wrong(f"the function {name} itself", f"{type(function).__name__} {function!r:.40}",
                     f"pass the function by its name, {name}, with no parentheses after it")
    try:
        return function(*args)
    except NotImplementedError as error:
        raise _NotDone(str(error)) from None
    except Exception as error:
        raise _Wrong(expected, f"{name} raised {_describe(error)}", hint) from None


def _array(value, name, shape, hint):
    """The student's result as a float array of the expected shape, or a _Wrong."""
    if value is None:
        raise _Wrong(f"an array of shape {shape}", f"None from {name}",
                     "did you forget the return statement?")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise _Wrong(f"an array of shape {shape}", f"{type(value).__name__} from {name}",
                     hint) from None
    if array.shape != shape:
        raise _Wrong(f"shape {shape}", f"shape {array.shape} from {name}", hint)
    return array


def _number(value, what):
    """A student's numeric answer as a float; None means not done yet."""
    if value is None:
        raise _NotDone(what_to_do="put your answer in place of None above, run that cell, "
                                  "then this one")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()  # e.g. np.array(2.5), or what np.round of a number gives
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise _Wrong(f"{what}, as a number", f"{type(value).__name__} {value!r:.40}",
                     "write the number itself, e.g. 1.25, not text or a list")
    value = float(value)
    if not math.isfinite(value):
        raise _Wrong(f"{what}, as a finite number", repr(value), "write a finite number")
    return value


def _show(array, limit=6):
    """A short one-line rendering of an array or a number for a verdict: [1, 0, nan]."""
    flat = np.ravel(np.asarray(array, dtype=float))
    text = ", ".join(f"{value:.4g}" for value in flat[:limit])
    if np.ndim(array) == 0:
        return text
    return f"[{text}{', ...' if flat.size > limit else ''}]"


def _close(got, want):
    return np.allclose(got, want, rtol=RTOL, atol=ATOL)


def _first_difference(got, want):
    """(expected, got) as text for the first entry that differs: ('0.5 at [0, 1]', '0.7')."""
    index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want, rtol=RTOL, atol=ATOL))[0])
    return f"{want[index]:.6g} at {list(index)}", f"{got[index]:.6g}"


def _relative_error(a, b):
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denominator) if denominator else 0.0


def _scale(got, want):
    """s if got is s * want (to 1e-6), else None: spots a missing or doubled factor."""
    got, want = np.ravel(got), np.ravel(want)
    size = float(want @ want)
    if size == 0 or not np.all(np.isfinite(got)):
        return None
    s = float(got @ want) / size
    return s if np.linalg.norm(got - s * want) <= 1e-6 * np.linalg.norm(got) else None


def _numerical_gradient(f, array, h=1e-5):
    """Central differences of f() with respect to every entry of array (nudged in place)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + h
        plus = f()
        array[index] = original - h
        minus = f()
        array[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def _copy(params):
    return {name: np.array(value, dtype=float) for name, value in params.items()}


@functools.lru_cache(maxsize=None)
def _digits():
    """The scripts' default split, loaded once: X_train, X_test, y_train, y_test."""
    return slp.load_data()


def _small_batch(n):
    """The first n standardised training images and their one-hot labels."""
    X_train, _, y_train, _ = _digits()
    return X_train[:n].copy(), slp.one_hot(y_train[:n], 10), y_train[:n].copy()


# ----------------------------------------------------------------------------
# Exercise 1: standardise


@_exercise(1, "standardise", SLP_WALKTHROUGH, "Standardising the pixels")
def standardise(student):
    """student(X_train, X_test) -> (X_train_scaled, X_test_scaled), as the script's standardise."""
    rng = np.random.RandomState(0)
    X_train = rng.randint(0, 17, size=(40, 5)).astype(float)
    X_train[:, 0] = 0.0  # pixel 0 is blank in every training image: its std is 0 ...
    X_test = rng.randint(0, 17, size=(12, 5)).astype(float) * 0.5 + 4.0
    X_test[0, 0] = 16.0  # ... and fully inked in one test image: the constant-pixel trap
    train_in, test_in = X_train.copy(), X_test.copy()
    result = _call(student, train_in, test_in, name="standardise",
                   expected="two arrays, the scaled training and test images",
                   hint="compute mean and std over axis=0 of X_train, then use them for both")
    if not np.array_equal(train_in, X_train) or not np.array_equal(test_in, X_test):
        raise _Wrong("X_train and X_test left as they were", "standardise changed them in place",
                     "write (X_train - mean) / std into new arrays instead of using -= or /=")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Wrong("a pair (X_train_scaled, X_test_scaled)", f"{type(result).__name__}",
                     "end with: return (X_train - mean) / std, (X_test - mean) / std")
    shape_hint = "each output has the shape of its input: one z-score per image and pixel"
    got_train = _array(result[0], "standardise (training part)", X_train.shape, shape_hint)
    got_test = _array(result[1], "standardise (test part)", X_test.shape, shape_hint)
    want_train, want_test = slp.standardise(X_train, X_test)

    if not np.all(np.isfinite(got_train)) or not np.all(np.isfinite(got_test)):
        raise _Wrong("finite z-scores", "nan or inf for the pixel that is blank in every "
                     "training image", "its std is 0, and 0 / 0 is nan: divide such a pixel by "
                     "1 instead, std = np.where(std == 0, 1.0, std)")
    if np.abs(got_test).max() > 1e6:
        raise _Wrong(f"{want_test[0, 0]:g} for the test image's ink on the blank pixel",
                     f"{got_test[0, 0]:.3g}", "std + 1e-8 turns a little ink on a pixel blank in "
                     "training into a huge feature; divide a zero std by 1 instead")

    def scaled(X, mean, std):
        return (X - mean) / np.where(std == 0, 1.0, std)

    both = np.vstack([X_train, X_test])
    mistakes = [
        (scaled(X_train, X_train.mean(0), X_train.std(0)),
         scaled(X_test, X_test.mean(0), X_test.std(0)),
         "the test images scaled with their own mean and std",
         "use the training images' mean and std for the test images too: the test images "
         "play unseen digits and must not inform the scaling"),
        (scaled(X_train, both.mean(0), both.std(0)), scaled(X_test, both.mean(0), both.std(0)),
         "statistics of training and test images together",
         "compute mean and std from X_train only, before touching X_test"),
        (scaled(X_train, X_train.mean(1, keepdims=True), X_train.std(1, keepdims=True)),
         scaled(X_test, X_test.mean(1, keepdims=True), X_test.std(1, keepdims=True)),
         "statistics per image (axis=1)",
         "each pixel gets its own mean and std over the training images: axis=0"),
        (scaled(X_train, X_train.mean(0), X_train.std(0, ddof=1)),
         scaled(X_test, X_train.mean(0), X_train.std(0, ddof=1)),
         "std with ddof=1", "use np.std's default (ddof=0), as the script does"),
    ]
    for train_like, test_like, what, hint in mistakes:
        if _close(got_train, train_like) and _close(got_test, test_like):
            raise _Wrong("z-scores from the training images' mean and std", what, hint)
    for got, want, part in [(got_train, want_train, "training"), (got_test, want_test, "test")]:
        if not _close(got, want):
            expected, value = _first_difference(got, want)
            raise _Wrong(f"{expected} of the {part} part", value,
                         "x' = (x - mean) / std with the training images' mean and std per "
                         "pixel, and std 0 replaced by 1")
    return (f"A pixel blank in every training image stays 0 in training, and a test image's ink "
            f"there becomes {got_test[0, 0]:g}, not a feature of ~1e9.")


# ----------------------------------------------------------------------------
# Exercise 2: softmax


@_exercise(2, "stable softmax", SLP_WALKTHROUGH, "Softmax: scores to probabilities")
def softmax(student):
    """student(logits) -> row-wise probabilities, finite for logits of +-1000."""
    logits = np.array([[1000.0, -1000.0, 0.0],
                       [1.0, 2.0, 3.0],
                       [1001.0, 1002.0, 1003.0],  # row 1 + 1000: the same probabilities
                       [-1000.0, -1001.0, -1003.0]])  # far below the rest of the array
    got = _call(student, logits.copy(), name="softmax", expected="probabilities, one row each",
                hint="exponentiate, then divide each row by its own sum; keepdims=True keeps "
                     "the row sums as a column that divides every entry of its row")
    got = _array(got, "softmax", logits.shape,
                 "softmax keeps the shape: one probability per logit, (N, C) -> (N, C)")
    want = slp.softmax(logits)
    finite = np.all(np.isfinite(got), axis=1)
    if not finite[0] or not finite[2]:
        raise _Wrong(f"{_show(want[0])} for logits [1000, -1000, 0]", _show(got[0]),
                     "exp(1000) overflows to inf and inf / inf is nan; subtract each row's max "
                     "before exp, which changes no probability")
    if not finite[3]:
        raise _Wrong(f"{_show(want[3])} for logits [-1000, -1001, -1003]", _show(got[3]),
                     "subtract each row's own max, logits.max(axis=1, keepdims=True); with one "
                     "max for the whole array, a row far below it underflows to 0 / 0")
    if not np.allclose(got.sum(axis=1), 1.0, rtol=0, atol=1e-9):
        if np.allclose(got.sum(axis=0), 1.0, rtol=0, atol=1e-9):
            hint = "your columns sum to 1: divide by the sum over each row, axis=1"
        else:
            hint = "divide by each row's sum: .sum(axis=1, keepdims=True)"
        raise _Wrong("rows that sum to 1", f"row sums {_show(got.sum(axis=1))}", hint)
    if not _close(got, want):
        expected, value = _first_difference(got, want)
        raise _Wrong(expected, value, "p_j = exp(z_j - m) / sum_k exp(z_k - m), m the row's max")
    return ("Logits of +-1000 give [1, 0, 0], every row sums to 1, and adding 1000 to a row "
            "leaves its probabilities unchanged.")


# ----------------------------------------------------------------------------
# Exercise 3: cross-entropy


@_exercise(3, "cross-entropy loss", SLP_WALKTHROUGH, "The loss: cross-entropy")
def cross_entropy(student):
    """student(logits, Y) -> the mean cross-entropy, finite where a probability underflows."""
    logits = np.array([[2.0, 1.0, 0.1],
                       [0.5, 2.5, -1.0],
                       [0.0, 0.0, 0.0],
                       [3.0, -2.0, 1.0],
                       [1000.0, -1000.0, 0.0]])  # true class 1: probability exp(-2000) = 0.0
    Y = slp.one_hot(np.array([0, 1, 2, 0, 1]), 3)
    identity = {"W": np.eye(3), "b": np.zeros(3)}  # the script's loss of Z = logits @ I + 0

    def want(rows):
        return slp.loss(identity, logits[rows], Y[rows])

    def got(rows):
        value = _call(student, logits[rows].copy(), Y[rows].copy(), name="cross_entropy",
                      expected="the mean cross-entropy, one number",
                      hint="-sum(Y * log P) / N, with log P computed from the logits")
        if value is None:
            raise _Wrong("one number", "None", "did you forget the return statement?")
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise _Wrong("one number", type(value).__name__, "return a number") from None
        if array.size != 1:
            raise _Wrong("one number, the mean over images", f"an array of shape {array.shape}",
                         "sum Y * log P over both images and classes, then divide by N")
        return float(array.ravel()[0])

    ordinary = slice(0, 4)
    value, expected = got(ordinary), want(ordinary)
    if not math.isclose(value, expected, rel_tol=RTOL):
        n, c = 4, 3
        mistakes = [(n, "the sum over images: divide it by N to make it a mean"),
                    (1 / c, "np.mean over all N x C entries of Y * log P divides by N * C; "
                            "divide the sum by N only"),
                    (-1, "minus the mean log-probability of the true class: the loss is positive"),
                    (1 / math.log(10), "the natural log, np.log, not log10")]
        for factor, hint in mistakes:
            if math.isclose(value, factor * expected, rel_tol=1e-6):
                raise _Wrong(f"{expected:.6g} for 4 ordinary images", f"{value:.6g}", hint)
        raise _Wrong(f"{expected:.6g} for 4 ordinary images", f"{value:.6g}",
                     "the loss is -sum(Y * log P) / N, where log P is the log-softmax of the "
                     "logits")
    everything = slice(0, 5)
    value, expected = got(everything), want(everything)
    if not math.isfinite(value):
        raise _Wrong(f"{expected:.6g}, finite", f"{value}",
                     "np.log(softmax(...)) is log(0) = -inf where a probability underflows; "
                     "take log p = (z - m) - log(sum(exp(z - m))) straight from the logits")
    if not math.isclose(value, expected, rel_tol=RTOL):
        raise _Wrong(f"{expected:.6g} when a true class has probability exp(-2000)",
                     f"{value:.6g}", "clipping P or adding an epsilon before the log changes "
                     "the loss; take log p from the logits: (z - m) - log(sum(exp(z - m)))")
    return (f"The mean loss over 5 images is {value:.4f}, finite although one true class has "
            f"probability exp(-2000).")


# ----------------------------------------------------------------------------
# Gradient checks (Exercises 4, 8, 9)


def _check_gradients(grads, numerical, params, *, N, weight_decay, biases, hints):
    """Compare a student's gradients with finite differences; raise _Wrong naming the culprit.

    hints: {name: hint for a gradient that is wrong for no reason spotted below}.
    Returns the largest relative error when every gradient is right.
    """
    if not isinstance(grads, dict):
        raise _Wrong(f"a dict with the keys {sorted(params)}",
                     "None" if grads is None else type(grads).__name__,
                     "return {name: gradient}, one entry per parameter")
    for name in params:
        if name not in grads:
            raise _Wrong(f"a gradient for every parameter, {list(params)}",
                         f"no '{name}' among {sorted(grads)}", "add the missing entry")
        shape = params[name].shape
        got_shape = np.shape(grads[name])
        if got_shape != shape:
            if name in biases:
                hint = (f"d{name} has one number per column of dZ: did you sum over the "
                        f"rows, dZ.sum(axis=0)?")
            else:
                hint = f"d{name} has {name}'s shape: (inputs of the layer).T @ dZ"
            raise _Wrong(f"d{name} of shape {shape}", f"shape {got_shape}", hint)
    got = {name: np.asarray(grads[name], dtype=float) for name in params}
    errors = {name: _relative_error(got[name], numerical[name]) for name in params}
    wrong = [name for name in params if not errors[name] <= GRAD_TOL]
    if not wrong:
        return max(errors.values())

    def report(names, hint):
        worst = max(names, key=errors.get)
        listed = ", ".join(f"d{name}" for name in names[:-1]) + " and " * (len(names) > 1)
        listed += f"d{names[-1]}"
        raise _Wrong(f"gradients that agree with finite differences (relative error below "
                     f"{GRAD_TOL:g})", f"{listed} {'is' if len(names) == 1 else 'are'} wrong, "
                     f"relative error {errors[worst]:.2g}", hint)

    # Spot a missing or doubled factor on the data part of each gradient (without the
    # weight-decay term, which a missing / N does not scale).
    decay = {name: weight_decay * params[name] if name not in biases else 0.0 for name in params}
    scales = {name: _scale(got[name] - decay[name], numerical[name] - decay[name])
              for name in wrong}

    def all_scaled(factor):
        return all(scales[name] is not None and math.isclose(scales[name], factor, rel_tol=1e-4)
                   for name in wrong)

    if set(wrong) == set(params):
        if all_scaled(N):
            report(wrong, f"all are N = {N} times too large: dZ = (P - Y) / N makes the loss a "
                          f"mean")
        if all_scaled(1 / N):
            report(wrong, f"all are N = {N} times too small: divide by N once, in dZ")
        if all_scaled(-1):
            report(wrong, "all have the wrong sign: dZ is P - Y, not Y - P")
    for name in wrong:
        s = scales[name]
        if name in biases and s is not None and math.isclose(s, 1 / N, rel_tol=1e-4):
            report([name], f"d{name} is N = {N} times too small: dZ already holds the / N, so "
                           f"sum its rows (axis=0) rather than averaging them")
        if s is not None and math.isclose(s, N, rel_tol=1e-4):
            report([name], f"d{name} is N = {N} times too large: build it from dZ = (P - Y) / N")
        if s is not None and math.isclose(s, -1, rel_tol=1e-4):
            report([name], f"d{name} has the wrong sign")
        if name not in biases and weight_decay:
            if _relative_error(got[name] + weight_decay * params[name],
                               numerical[name]) <= GRAD_TOL:
                report([name], f"d{name} misses the weight-decay term weight_decay * {name}, "
                               f"the derivative of weight_decay / 2 * sum({name} ** 2)")
        if name in biases and weight_decay:
            if _relative_error(got[name] - weight_decay * params[name],
                               numerical[name]) <= GRAD_TOL:
                report([name], f"d{name} includes weight_decay * {name}, but the penalty is on "
                               f"weights only, never on biases")
    for names, hint in hints.get("groups", []):
        if set(wrong) == set(names):
            report(wrong, hint)
    report(wrong, hints[wrong[0]])


# ----------------------------------------------------------------------------
# Exercise 4: the single-layer backward pass


@_exercise(4, "backward", SLP_WALKTHROUGH, "The gradient")
def slp_backward(student):
    """student(params, cache, Y, weight_decay) -> gradients, checked by finite differences."""
    X, Y, _ = _small_batch(20)
    weight_decay = 0.1  # non-zero, so that its gradient is checked too
    params = {name: value + 0.05 for name, value in slp.init_params(64, 10, seed=1).items()}
    _, cache = slp.forward(params, X)
    grads = _call(student, _copy(params), dict(cache), Y.copy(), weight_decay, name="backward",
                  expected="a dict of gradients {'W': (64, 10), 'b': (10,)}",
                  hint="dZ = (P - Y) / N; dW = X.T @ dZ + weight_decay * W; db = dZ.sum(axis=0)")
    numerical = {name: _numerical_gradient(lambda: slp.loss(params, X, Y, weight_decay),
                                           params[name]) for name in params}
    hints = {"W": "dW = X.T @ dZ + weight_decay * W: (64, 20) @ (20, 10) -> (64, 10)",
             "b": "did you sum over the rows? db = dZ.sum(axis=0), one number per class"}
    worst = _check_gradients(grads, numerical, params, N=len(X), weight_decay=weight_decay,
                             biases={"b"}, hints=hints)
    return (f"dW and db agree with finite differences on 20 images (largest relative error "
            f"{worst:.1e}).")


# ----------------------------------------------------------------------------
# Exercise 5: one step of gradient descent


@_exercise(5, "one training step", SLP_WALKTHROUGH, "Training: gradient descent")
def step(student):
    """student(params, X, Y, lr) -> the parameters after one full-batch gradient-descent step."""
    X, Y, _ = _small_batch(100)
    lr = 0.5
    params = slp.init_params(64, 10, seed=42)
    _, cache = slp.forward(params, X)
    grads = slp.backward(params, cache, Y)
    want = {name: params[name] - lr * grads[name] for name in params}
    new = _call(student, _copy(params), X.copy(), Y.copy(), lr, name="step",
                expected="the new parameters, a dict like params",
                hint="forward, backward, then params[name] - lr * grads[name] for each name")
    if not isinstance(new, dict) or set(new) != set(params):
        got = f"a dict with the keys {sorted(new)}" if isinstance(new, dict) else repr(new)[:40]
        raise _Wrong("a dict with the keys 'W' and 'b'", got,
                     "return {name: params[name] - lr * grads[name] for name in params}")
    for name in params:
        _array(new[name], f"step's '{name}'", params[name].shape,
               f"each new parameter has the old one's shape, {params[name].shape}")
    new = {name: np.asarray(new[name], dtype=float) for name in params}
    before = slp.loss(params, X, Y)
    after = slp.loss(new, X, Y)
    expected = f"the training loss to fall from {before:.4f} to {slp.loss(want, X, Y):.4f}"
    if all(_close(new[n], params[n] + lr * grads[n]) for n in params):
        raise _Wrong(expected, f"it rose to {after:.4f}",
                     "the gradient points uphill: subtract lr * gradient, don't add it")
    if all(_close(new[n], params[n] - grads[n]) for n in params):
        raise _Wrong(expected, f"a step of size 1 (loss {after:.4f})",
                     "multiply the gradient by the learning rate lr")
    if all(_close(new[n], grads[n]) for n in params):
        raise _Wrong(expected, "the gradient itself",
                     "return the updated parameters, params[name] - lr * grads[name]")
    if all(_close(new[n], params[n]) for n in params):
        raise _Wrong(expected, "the parameters unchanged",
                     "build and return the new parameters from params and the gradient")
    for name in params:
        if not _close(new[name], want[name]):
            value, got_value = _first_difference(new[name], want[name])
            raise _Wrong(f"{name} = {value}", got_value,
                         "theta <- theta - lr * dL/dtheta, with the gradient from the script's "
                         "backward at the current parameters")
    return (f"One step at lr {lr} takes the training loss on 100 images from {before:.4f} to "
            f"{after:.4f}, exactly as the script's update does.")


# ----------------------------------------------------------------------------
# Exercise 6: the training loop


@_exercise(6, "the training loop", SLP_WALKTHROUGH, "Training: gradient descent")
def gradient_descent(student):
    """student(X_train, y_train, epochs, lr, seed) -> params, compared with the script's train."""
    X, _, y = _small_batch(200)
    epochs, lr, seed = 5, 0.1, 42

    def reference(n_epochs):
        return slp.train(X, y, epochs=n_epochs, lr=lr, seed=seed, verbose=False)[0]

    got = _call(student, X.copy(), y.copy(), epochs, lr, seed, name="gradient_descent",
                expected="the parameters after 5 epochs, a dict like params",
                hint="params = init_params(F, C, seed=seed); then epochs times: params = "
                     "step(params, X, Y, lr)")
    want = reference(epochs)
    if not isinstance(got, dict) or set(got) != set(want):
        raise _Wrong("a dict with the keys 'W' and 'b'",
                     "None" if got is None else type(got).__name__,
                     "return params at the end of the loop")
    for name in want:
        _array(got[name], f"gradient_descent's '{name}'", want[name].shape,
               f"{name} keeps its shape, {want[name].shape}")
    got = {name: np.asarray(got[name], dtype=float) for name in want}

    def same(params):
        return all(_close(got[name], params[name]) for name in want)

    start = slp.init_params(X.shape[1], 10, seed=seed)
    if same(want):
        loss_0 = slp.loss(start, X, slp.one_hot(y, 10))
        loss_5 = slp.loss(want, X, slp.one_hot(y, 10))
        return (f"After {epochs} epochs on 200 images your parameters equal the script's train "
                f"(training loss {loss_0:.4f} -> {loss_5:.4f}).")
    expected = f"the parameters train(X, y, epochs={epochs}, lr={lr}, seed={seed}) returns"
    if same(start):
        raise _Wrong(expected, "the initial parameters",
                     "assign the result of each step back to params: params = step(...)")
    for n_epochs in (epochs - 1, epochs + 1):
        if same(reference(n_epochs)):
            raise _Wrong(expected, f"what {n_epochs} updates give",
                         f"epochs={epochs} means exactly {epochs} updates, "
                         f"for epoch in range(epochs)")
    raise _Wrong(expected, f"W[0, :3] = {_show(got['W'][0, :3])} instead of "
                 f"{_show(want['W'][0, :3])}", "start from init_params(X.shape[1], 10, seed=seed) "
                 "and one_hot(y, 10), then step with the full batch each epoch")


# ----------------------------------------------------------------------------
# Exercise 7 (explain): the loss before training


@_exercise(7, "the loss of an all-zero model", SLP_WALKTHROUGH, "The loss: cross-entropy")
def zero_weights_loss(answer):
    """answer: the training loss of the softmax classifier with all-zero W and b, 3 decimals."""
    value = _number(answer, "the training loss of the all-zero model")
    X_train, _, y_train, _ = _digits()
    zero = {name: np.zeros_like(p) for name, p in slp.init_params(64, 10).items()}
    truth = slp.loss(zero, X_train, slp.one_hot(y_train, 10))
    _, history = slp.train(X_train, y_train, epochs=1, verbose=False)
    script_start = history[0]["loss"]
    if abs(value - truth) <= 5e-4:  # three decimals, rounded either way
        return (f"{value:g} it is, for every image: all ten digits get the same probability. "
                f"Now explain it, and why the script starts higher, at {script_start:.4f}.")
    expected = "the training loss of the model whose weights and biases are all zero, 3 decimals"
    hints = [(script_start, "that is the script's untrained loss, with small random weights; "
                            "set every weight and bias to 0 instead"),
             (0.1, "that is the probability each class gets; the loss is minus its log"),
             (1.0, "the loss uses the natural log (np.log), not log10"),
             (-truth, "the loss is minus a log-probability: it is positive")]
    for near, hint in hints:
        if abs(value - near) <= 5e-4:
            raise _Wrong(expected, f"{value:g}", hint)
    raise _Wrong(expected, f"{value:g}", "with all logits 0, what probability does each of the "
                 "10 digits get, and what is minus its log?")


# ----------------------------------------------------------------------------
# Exercise 8: backpropagation through the ReLU


@_exercise(8, "backward through the ReLU", MLP_WALKTHROUGH, "The gradient")
def mlp_backward(student):
    """student(params, cache, Y, weight_decay) -> the MLP's gradients, by finite differences."""
    X, Y, _ = _small_batch(30)
    weight_decay = 0.1
    # Biases away from 0 too; the walkthrough's own check uses this setting, with no unit
    # within a finite-difference step of its ReLU kink.
    params = {name: value + 0.05 for name, value in mlp.init_params(64, 16, 10, seed=1).items()}
    _, cache = mlp.forward(params, X)
    grads = _call(student, _copy(params), dict(cache), Y.copy(), weight_decay, name="backward",
                  expected="a dict of gradients for W1, b1, W2 and b2",
                  hint="work backwards: dZ2, then dW2 and db2, then dA1, dZ1, dW1 and db1")
    numerical = {name: _numerical_gradient(lambda: mlp.loss(params, X, Y, weight_decay),
                                           params[name]) for name in params}
    hints = {
        "groups": [(["W1", "b1"], "the output layer is right but the hidden layer is not: the "
                                  "gradient must pass through the ReLU, dZ1 = dA1 * mask, "
                                  "zero where the unit was inactive")],
        "W1": "dW1 = X.T @ dZ1 + weight_decay * W1, with dZ1 = (dZ2 @ W2.T) * mask",
        "b1": "db1 = dZ1.sum(axis=0), the rows of dZ1 = (dZ2 @ W2.T) * mask summed",
        "W2": "dW2 = A1.T @ dZ2 + weight_decay * W2: the hidden activations, not X",
        "b2": "db2 = dZ2.sum(axis=0), one number per class",
    }
    worst = _check_gradients(grads, numerical, params, N=len(X), weight_decay=weight_decay,
                             biases={"b1", "b2"}, hints=hints)
    return (f"All four gradients agree with finite differences on 30 images (largest relative "
            f"error {worst:.1e}).")


# ----------------------------------------------------------------------------
# Exercise 9: a tanh hidden layer


def _tanh_log_P(params, X):
    """Log-probabilities of the network with tanh hidden units, from the scripts' log_softmax."""
    A1 = np.tanh(X @ params["W1"] + params["b1"])
    return slp.log_softmax(A1 @ params["W2"] + params["b2"])


@_exercise(9, "a tanh hidden layer", MLP_WALKTHROUGH, "Sigmoid or ReLU?")
def tanh_layer(forward_tanh, backward_tanh):
    """forward_tanh(params, X) -> (P, cache); backward_tanh(params, cache, Y) -> gradients."""
    X, Y, _ = _small_batch(30)
    params = {name: value + 0.05 for name, value in mlp.init_params(64, 16, 10, seed=1).items()}
    result = _call(forward_tanh, _copy(params), X.copy(), name="forward_tanh",
                   expected="(P, cache), P of shape (30, 10)",
                   hint="Z1 = X @ W1 + b1, A1 = np.tanh(Z1), Z2 = A1 @ W2 + b2, P = softmax(Z2)")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Wrong("a pair (P, cache)", type(result).__name__,
                     "return P and a dict of what backward_tanh needs, as forward does")
    P = _array(result[0], "forward_tanh", (30, 10), "P has one row of 10 probabilities per image")
    want = np.exp(_tanh_log_P(params, X))
    if not _close(P, want):
        if _close(P, mlp.forward(params, X)[0]):
            hint = "those are the ReLU network's probabilities: use A1 = np.tanh(Z1)"
        elif not np.allclose(P.sum(axis=1), 1.0):
            hint = "P's rows must sum to 1: apply softmax to Z2"
        else:
            hint = "A1 = np.tanh(X @ W1 + b1), then P = softmax(A1 @ W2 + b2)"
        expected, value = _first_difference(P, want)
        raise _Wrong(f"P = {expected}", value, hint)
    grads = _call(backward_tanh, _copy(params), result[1], Y.copy(), name="backward_tanh",
                  expected="a dict of gradients for W1, b1, W2 and b2",
                  hint="as the ReLU network's backward, with the tanh derivative for the mask")
    numerical = {name: _numerical_gradient(
        lambda: -np.sum(Y * _tanh_log_P(params, X)) / len(X), params[name]) for name in params}
    hints = {
        "groups": [(["W1", "b1"], "the output layer is right but the hidden layer is not: "
                                  "tanh'(z) = 1 - tanh(z) ** 2, so dZ1 = dA1 * (1 - A1 ** 2) "
                                  "in place of the ReLU mask")],
        "W1": "dW1 = X.T @ dZ1 with dZ1 = (dZ2 @ W2.T) * (1 - A1 ** 2)",
        "b1": "db1 = dZ1.sum(axis=0) with dZ1 = (dZ2 @ W2.T) * (1 - A1 ** 2)",
        "W2": "dW2 = A1.T @ dZ2, with the tanh activations A1",
        "b2": "db2 = dZ2.sum(axis=0), with dZ2 = (P - Y) / N",
    }
    worst = _check_gradients(grads, numerical, params, N=len(X), weight_decay=0.0,
                             biases={"b1", "b2"}, hints=hints)
    return (f"forward_tanh gives the right probabilities and backward_tanh agrees with finite "
            f"differences (largest relative error {worst:.1e}).")


# ----------------------------------------------------------------------------
# Exercise 10: mini-batch stochastic gradient descent


def _mlp_step(params, X, Y, lr):
    """One full-batch step with the script's forward and backward."""
    _, cache = mlp.forward(params, X)
    grads = mlp.backward(params, cache, Y)
    return {name: params[name] - lr * grads[name] for name in params}


@_exercise(10, "mini-batch SGD", MLP_WALKTHROUGH, "Training: gradient descent")
def sgd_epoch(student):
    """student(params, X, Y, lr, batch_size, rng) -> params after one epoch of mini-batches."""
    params = mlp.init_params(64, 16, 10, seed=1)
    expected_form = "the parameters after one epoch, a dict like params"
    usage = "shuffle with order = rng.permutation(N), then step on X[idx], Y[idx] batch by batch"

    def run(X, Y, lr, batch_size, seed):
        new = _call(student, _copy(params), X.copy(), Y.copy(), lr, batch_size,
                    np.random.default_rng(seed), name="sgd_epoch", expected=expected_form,
                    hint=usage)
        if not isinstance(new, dict) or set(new) != set(params):
            raise _Wrong(expected_form, "None" if new is None else type(new).__name__,
                         "return the parameters after the last batch")
        return {name: _array(new[name], f"sgd_epoch's '{name}'", params[name].shape,
                             f"{name} keeps its shape") for name in params}

    def flat(p):
        return np.concatenate([p[name].ravel() for name in sorted(p)])

    X, Y, _ = _small_batch(120)
    # 1. One batch holding every image is one full-batch step.
    got = run(X, Y, 0.5, 120, seed=0)
    if not _close(flat(got), flat(_mlp_step(params, X, Y, 0.5))):
        raise _Wrong("one full-batch step when batch_size is N", "something else",
                     "with batch_size = N the one batch holds every image once: one update, "
                     "with the rows X[idx] and Y[idx] taken by the same idx")
    # 2. Count the updates: with identical images every batch has the same gradient g, and a
    # tiny step makes the epoch move the parameters by (number of batches) * lr * g.
    same_X, same_Y = np.repeat(X[:1], 130, axis=0), np.repeat(Y[:1], 130, axis=0)
    lr = 1e-6
    one = flat(params) - flat(_mlp_step(params, same_X[:1], same_Y[:1], lr))
    moved = flat(params) - flat(run(same_X, same_Y, lr, 20, seed=0))
    updates = float(moved @ one / (one @ one))
    if not math.isclose(updates, 7, rel_tol=1e-3):
        raise _Wrong("7 updates for 130 images in batches of 20 (six of 20 and a last one of "
                     "10)", f"about {updates:.2f} updates' worth of movement",
                     "loop for start in range(0, N, batch_size) and keep the last, smaller "
                     "batch; subtract lr * gradient once per batch")
    # 3. Each image once per epoch: 6 equal batches of distinct images add up, to first order,
    # to 6 times the full-batch step, whatever the order.
    full = flat(params) - flat(_mlp_step(params, X, Y, lr))
    moved = flat(params) - flat(run(X, Y, lr, 20, seed=0))
    off = _relative_error(moved, 6 * full)
    if off > 1e-3:  # a first-order estimate with lr = 1e-6 is good to about 1e-5
        raise _Wrong("batches that together hold every image exactly once",
                     f"updates that add up to something else (relative difference {off:.2g})",
                     "slice one permutation into consecutive batches, idx = order[start:start + "
                     "batch_size], and use the same idx for X and Y")
    # 4. Shuffled with the rng it is given: another seed, another order; the same seed, the same.
    first, again, other = (flat(run(X, Y, 0.5, 20, seed)) for seed in (0, 0, 1))
    if not _close(first, again):
        raise _Wrong("the same result for the same rng seed", "different results",
                     "draw the order from the rng argument, rng.permutation(N), not np.random")
    if _close(first, other):
        raise _Wrong("a new order of the images for another rng seed", "the same result",
                     "shuffle every epoch, order = rng.permutation(N), and step on each batch "
                     "X[idx], Y[idx], not on all of X")
    # What it buys, on the scripts' training split: one epoch of mini-batches against one step.
    X_train, _, y_train, _ = _digits()
    Y_train = slp.one_hot(y_train, 10)
    start = mlp.init_params(64, 32, 10, seed=42)
    after_epoch = mlp.loss(run(X_train, Y_train, 0.1, 32, seed=0), X_train, Y_train)
    after_step = mlp.loss(_mlp_step(start, X_train, Y_train, 0.1), X_train, Y_train)
    return (f"One epoch in batches of 32 ({math.ceil(len(X_train) / 32)} updates) takes the "
            f"training loss from {mlp.loss(start, X_train, Y_train):.4f} to {after_epoch:.4f}; "
            f"one full-batch step only to {after_step:.4f}.")


# ----------------------------------------------------------------------------
# Exercise 11 (explain): the largest learning rate


def _trains(lr, epochs=100):
    """(what the loss did, a sentence) for the script's MLP trained at lr for `epochs` epochs.

    What the loss did is "falls", "stays", "rises" or "overflows"; only "falls" counts as
    training.
    """
    X_train, _, y_train, _ = _digits()
    try:
        _, history = mlp.train(X_train, y_train, epochs=epochs, lr=lr, print_every=epochs,
                               verbose=False)
    except mlp.TrainingDiverged as error:
        return "overflows", f"lr {lr:g} overflows the loss at epoch {error.epoch}"
    first, last = history[0]["loss"], history[-1]["loss"]
    if last < first:
        return "falls", f"lr {lr:g} lowers the loss from {first:.4f} to {last:.4g}"
    if last == first:
        return "stays", f"lr {lr:g} leaves the loss at {first:.4f}"
    return "rises", f"lr {lr:g} raises the loss from {first:.4f} to {last:.4g}"


@_exercise(11, "the largest learning rate", MLP_WALKTHROUGH, "The learning rate")
def max_learning_rate(answer):
    """answer: a learning rate at which 100 epochs lower the loss, while twice it does not."""
    lr = _number(answer, "a learning rate")
    expected = "a learning rate at which 100 epochs lower the loss, while twice it does not"
    if lr <= 0:
        raise _Wrong(expected, f"{lr:g}", "a learning rate is a positive step size")
    outcome, what = _trains(lr)
    if outcome == "stays":
        raise _Wrong(expected, what, "that step is too small to move the loss: try larger rates")
    if outcome != "falls":
        raise _Wrong(expected, what, "that is too large: try smaller rates, a factor of 2 apart")
    outcome_twice, what_twice = _trains(2 * lr)
    if outcome_twice == "falls":
        raise _Wrong(expected, f"{what}, and {what_twice}: the limit is higher",
                     "try larger rates, doubling each time")
    return f"{what} in 100 epochs, and {what_twice}: {lr:g} is within a factor of 2 of the limit."


# ----------------------------------------------------------------------------
# Exercise 12 (explain): starting from zero


@_exercise(12, "zero initialisation", MLP_WALKTHROUGH, "The parameters")
def zero_init_active_units(answer):
    """answer: how many hidden units are active for some image after 100 epochs from zeros."""
    value = _number(answer, "the number of active hidden units")
    X_train, _, y_train, _ = _digits()
    Y_train = slp.one_hot(y_train, 10)
    params = {name: np.zeros_like(p) for name, p in mlp.init_params(64, 32, 10).items()}
    for _ in range(100):
        params = _mlp_step(params, X_train, Y_train, 0.1)
    _, cache = mlp.forward(params, X_train)
    truth = int(cache["mask"].any(axis=0).sum())
    expected = ("the number of hidden units (of 32) with Z1 > 0 for at least one training "
                "image, after 100 epochs from all-zero parameters")
    if value != truth:
        raise _Wrong(expected, f"{value:g}", "what is Z1 = X @ W1 + b1 when W1 and b1 are 0, "
                     "and what gradient reaches W1 through the mask Z1 > 0?")
    return (f"{truth} of 32: the hidden layer never starts. Now explain why, and what train "
            f"accuracy that leaves.")
