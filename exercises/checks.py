"""Instant checks for the exercises: each prints a one-line verdict on a student's answer.

    import checks
    checks.softmax_t(softmax_t)   # "Exercise 2 (...): correct. ..." or what to look at

One function per exercise, in the order of the exercise notebooks (its place here is its
number): its cases (inputs and the right answer, from checks' own copy of the scripts, with
the usual settings and others) and its table of known mistakes, each with an idea (the first
hint) and a formula (the hint for the same mistake again; the exercise's own if it has none).
How a check runs the student's code and words its verdict is in verdicts.py.
"""

import copy
import functools
import itertools
import math

import numpy as np

from verdicts import (GRAD, Case, Hint, Mistake, NotDone, Symptom, Wrong, call, conform,
                      exercise, number, reference, walk)

slp, mlp = reference("np_slp_digits"), reference("np_mlp_digits")  # as they were at import
paired_comparison = reference("compare_models").paired_comparison
SLP, MLP = "np_slp_digits.ipynb", "np_mlp_digits.ipynb"  # the lessons, and the labs:
STEPS, START, HOW_GOOD = ("labs/learning_rate_and_batches.ipynb",
                          "labs/initialisation_and_depth.ipynb", "labs/how_good.ipynb")


@functools.lru_cache(maxsize=None)
def _digits():
    return slp.load_data()  # X_train, X_test, y_train, y_test


def _images(n, start=0):
    """n standardised training images, their labels and one-hot rows."""
    X_train, _, y_train, _ = _digits()
    X, y = X_train[start:start + n].copy(), y_train[start:start + n].copy()
    return X, y, slp.one_hot(y, 10)


def _grad_mistakes(right_of, weights):
    """Slips of both lessons' backward: f(g, d, N) of each right gradient g, d its decay."""

    def change(f, only=None):
        def answer(i):
            ref, N, wd = right_of(i), len(i["cache"]["X"]), i.get("weight_decay", 0.0)
            decay = {k: wd * i["params"][k] if k in weights else 0 * ref[k] for k in ref}
            return {k: f(ref[k], decay[k], N) if only in (None, k) else ref[k] for k in ref}
        return answer

    return [
        Mistake("gradients N times too large", change(lambda g, d, N: N * (g - d) + d),
                "the loss is a mean over N images, so its gradient has a 1/N",
                "dZ = (P - Y) / N"),
        Mistake("gradients N times too small", change(lambda g, d, N: (g - d) / N + d),
                "divide by N once: dZ holds it, so sum its rows for the biases",
                "db = dZ.sum(axis=0)"),
        Mistake("gradients with the wrong sign", change(lambda g, d, N: -g), "the gradient "
                "points uphill: prediction minus target", "dZ = (P - Y) / N, not Y - P"),
        Mistake("the data part with the wrong sign", change(lambda g, d, N: d - (g - d)),
                "prediction minus target, not target minus prediction", "dZ = (P - Y) / N"),
        Mistake("half the weight-decay term", change(lambda g, d, N: g - d / 2), "the "
                "derivative of lambda / 2 * w ** 2 is lambda * w: the 1/2 cancels",
                "dW = (the layer's input).T @ dZ + weight_decay * W"),
        Mistake(f"{' and '.join('d' + k for k in weights)} without the weight-decay term",
                change(lambda g, d, N: g - d), "the penalty weight_decay / 2 * sum(W ** 2) has "
                "a gradient on every weight matrix", "add weight_decay * W to each weight's "
                "gradient"),
    ] + [Mistake(f"d{k} without the weight-decay term", change(lambda g, d, N: g - d, only=k),
                 f"d{k} misses the derivative of weight_decay / 2 * sum({k} ** 2)",
                 f"d{k} = ... + weight_decay * {k}") for k in weights if len(weights) > 1]


# ----------------------------------------------------------------------------
# Lesson 1 (np_slp_digits.ipynb)


def _min_max(X_train, X_test, fit=None):
    fit = X_train if fit is None else fit  # the images whose low and high are used
    low, span = fit.min(axis=0), np.ptp(fit, axis=0)
    return tuple((X - low) / np.where(span == 0, 1.0, span) for X in (X_train, X_test))


@exercise("min-max scaling", SLP, "Standardising the pixels")
def rescale(student):
    """student(X_train, X_test) -> both scaled by the training images' low and high."""
    rng = np.random.RandomState(0)
    X_train = rng.randint(0, 17, size=(40, 5)).astype(float)
    X_train[:, 0] = 3.0  # pixel 0 is the same in every training image: its range is 0 ...
    X_test = rng.randint(0, 17, size=(12, 5)) * 0.5 + 4.0
    X_test[0, 0] = 16.0  # ... and not in a test image: the constant-pixel trap
    right = _min_max(X_train, X_test)
    zeroed = right[0], np.where(np.arange(5) == 0, 0.0, right[1])  # zeroed in both: right too
    walk(student, "rescale", [Case("for 40 training and 12 test images of 5 pixels",
                                   {"X_train": X_train, "X_test": X_test}, [right, zeroed])], [
        Symptom("nan, inf or a huge value on the pixel constant in training", lambda got, i:
                not np.all(np.abs(got[1]) < 1e6), "its range high - low is 0: x / 0 is inf or "
                "nan, and adding 1e-8 makes a small difference huge"),
        Mistake("the test images scaled by their own low and high", (right[0], _min_max(
            X_test, X_test)[1]), "the test images play unseen digits: scale them with the "
            "training images' numbers"),
        Mistake("low and high of training and test images together", _min_max(
            X_train, X_test, np.vstack([X_train, X_test])), "compute low and high before "
            "looking at X_test"),
        Mistake("low and high of each image (axis=1)", tuple(_min_max(X.T, X.T)[0].T for X in
                                                             (X_train, X_test)),
                "each pixel gets its own low and high: reduce over the images, axis=0"),
        Mistake("z-scores", slp.standardise(X_train, X_test), "that is the lesson's "
                "standardise: this scaling uses each pixel's low and high"),
    ], Hint("(x - low) / (high - low) per pixel, low and high from the training images",
            "span = np.where(high == low, 1.0, high - low); (X - low) / span for both"))
    return "The constant pixel is 0 in training, and a test image's value there stays ordinary."


def _naive_softmax(z, shift=0.0, axis=1):
    exps = np.exp(z - shift)
    return exps / exps.sum(axis=axis, keepdims=True)


@exercise("softmax with a temperature", SLP, "Softmax: scores to probabilities",
          "the softmax", ("softmax", "log_softmax", "forward"))
def softmax_t(student):
    """student(logits, T) -> softmax(logits / T) row by row, finite for any finite logits."""
    logits = np.array([[1000.0, -1000.0, 0.0], [1.0, 2.0, 3.0], [1001.0, 1002.0, 1003.0],
                       [-1000.0, -1001.0, -1003.0]])  # a row far below the others
    cases = [Case(f"at temperature {T:g}", {"logits": logits[rows], "T": T},
                  slp.softmax(logits[rows] / T)) for T, rows in [(1.0, [1, 2]), (1.0, slice(
                      None)), (0.5, slice(None)), (4.0, [0, 1])]]
    z = lambda i: i["logits"] / i["T"]
    walk(student, "softmax_t", cases, [
        Mistake("nan or inf for large logits", lambda i: _naive_softmax(z(i)), "exp(1000) "
                "overflows: shift each row so that its largest entry is 0"),
        Mistake("0 / 0 for a row far below the others", lambda i: _naive_softmax(
            z(i), z(i).max()), "one max for the whole array leaves a low row underflowing: "
            "shift each row by its own"),
        Mistake("columns that sum to 1", lambda i: _naive_softmax(z(i), z(i).max(0), axis=0),
                "each row is one image: normalise rows"),
        Mistake("softmax(logits * T)", lambda i: slp.softmax(i["logits"] * i["T"]), "a high "
                "temperature should flatten the probabilities: divide by T"),
        Mistake("softmax(logits), the temperature left out", lambda i: slp.softmax(
            i["logits"]), "use the T you are given"),
    ], Hint("p_j = exp(z_j / T) / sum_k exp(z_k / T), row by row", "z = logits / T; e = "
            "np.exp(z - z.max(axis=1, keepdims=True)); e / e.sum(axis=1, keepdims=True)"))
    return "Logits of +-1000 stay finite; T = 4 flattens the probabilities, T = 0.5 sharpens them."


def _cross_entropy(logits, y, scale=1.0):  # the script's loss of Z = logits @ I + 0
    C = logits.shape[1]
    return scale * slp.loss({"W": np.eye(C), "b": np.zeros(C)}, logits, slp.one_hot(y, C))


@exercise("cross-entropy from labels", SLP, "The loss: cross-entropy", "the cross-entropy",
          ("log_softmax", "loss", "forward"))
def cross_entropy(student):
    """student(logits, y) -> the mean cross-entropy for integer labels y; finite always."""
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 0.0], [3.0, -2.0, 1.0],
                       [1000.0, -1000.0, 0.0]])  # row 4, true class 1: probability exp(-2000)
    y, many = np.array([0, 1, 2, 0, 1]), np.random.RandomState(1).randn(7, 10) * 3
    cases = [Case(f"for {label}", {"logits": z, "y": t}, _cross_entropy(z, t))
             for label, z, t in [("4 ordinary rows", logits[:4], y[:4]), ("7 rows of 10 "
                                  "classes", many, np.arange(7)), ("a true class of "
                                  "probability exp(-2000)", logits, y)]]
    p = lambda i: slp.softmax(i["logits"])[np.arange(len(i["y"])), i["y"]]
    clipped = "clipping P or adding an epsilon changes the loss: take log p from the logits"
    value = walk(student, "cross_entropy", cases, [
        Mistake("the sum over rows", lambda i: _cross_entropy(**i, scale=len(i["y"])), "the "
                "loss is a mean over the images"),
        Mistake("the mean over all N x C entries", lambda i: _cross_entropy(
            **i, scale=1 / i["logits"].shape[1]), "only each row's true class counts: average "
            "over N rows, not N * C"),
        Mistake("minus the loss", lambda i: _cross_entropy(**i, scale=-1), "minus a "
                "log-probability is positive"),
        Mistake("infinity", lambda i: -np.mean(np.log(p(i))), "np.log(softmax(...)) is log(0) "
                "= -inf where a probability underflows: take log p from the logits"),
        Mistake("the mean over an N x N block", lambda i: -np.mean(slp.log_softmax(
            i["logits"])[:, i["y"]]), "log_P[:, y] takes whole columns: pick one entry per "
            "row", "log_P[np.arange(N), y]"),
        Symptom("a loss off in its last digits", lambda got, i: 0 < abs(
            got - _cross_entropy(**i)) < 1e-6, clipped),
        Symptom("a loss far too small where p underflows", lambda got, i: i["logits"].max() >
                100 and _cross_entropy(**i) - got > 1, clipped),
    ], Hint("the mean over rows of -log p of the true class, log p from the logits",
            "-np.mean(log_P[np.arange(N), y]), log_P = z - m - log(sum(exp(z - m))), m each "
            "row's max"))
    return f"The mean over 5 rows is {value:.4f}: finite, although one true class has p = 0.0."


@exercise("the gradient from integer labels", SLP, "The gradient", "the gradient",
          ("backward", "numerical_gradient"))
def backward_labels(student):
    """student(params, cache, y, weight_decay) -> {'W', 'b'}, y integer labels (not one-hot)."""

    def right_of(i, Y=None):
        Y = slp.one_hot(i["y"], 10) if Y is None else Y
        return slp.backward(i["params"], i["cache"], Y, i["weight_decay"])

    cases = []
    for n, wd, seed in [(20, 0.1, 1), (7, 0.0, 2), (13, 0.3, 3)]:
        X, y, Y = _images(n, start=10 * seed)
        params = {k: v + 0.05 for k, v in slp.init_params(64, 10, seed=seed).items()}
        i = {"params": params, "cache": slp.forward(params, X)[1], "y": y, "weight_decay": wd}
        cases.append(Case(f"on {n} images with weight_decay {wd:g}", i, right_of(i)))
    walk(student, "backward_labels", cases, _grad_mistakes(right_of, ["W"]) + [
        Mistake("db with the weight-decay term", lambda i: {**right_of(i), "b": right_of(i)[
            "b"] + i["weight_decay"] * i["params"]["b"]}, "the penalty is on weights only"),
        Mistake("P where P - Y belongs", lambda i: right_of(i, Y=0), "the true class's entry "
                "of dZ is p - 1"),
    ], Hint("dZ is P with 1 taken off at each row's true class, divided by N", "dZ = P.copy(); "
            "dZ[np.arange(N), y] -= 1; dZ /= N; dW = X.T @ dZ + weight_decay * W; db = "
            "dZ.sum(axis=0)"), GRAD)
    return "dW and db are right on 7 to 20 images, with and without weight decay."


def _hand_gradient(y, slip=1.0, Y=None):
    """dL/dW[1, 1] of the worked example with labels y, from the script's backward."""
    params = {"W": np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "b": np.array([0, 0, 1.0])}
    cache = slp.forward(params, np.array([[1.0, 2.0], [0.0, -1.0]]))[1]
    Y = slp.one_hot(np.array(y), 3) if Y is None else Y
    return slip * slp.backward(params, cache, Y)["W"][1, 1]


@exercise("one gradient entry on paper", SLP, "A worked example by hand")
def hand_gradient(answer):
    """answer: dL/dW[1, 1] of the worked example with labels y = [0, 1], three decimals."""
    truth = _hand_gradient([0, 1])
    number(answer, "dL/dW[1, 1] to three decimals", truth, [
        Mistake("the worked example's own entry, with y = [0, 2]", _hand_gradient([0, 2]),
                "that is the entry for y = [0, 2]: redo P - Y with image 1 now of class 1",
                "Y[1] = (0, 1, 0): dZ[1, 1] = P[1, 1] - 1"),
        Mistake("P alone, without - Y", _hand_gradient([0, 1], Y=0), "dZ is P - Y: image 1's "
                "true class has p - 1", "dZ = (P - Y) / N"),
        Mistake("the sum over the images, not the mean", _hand_gradient([0, 1], 2), "the loss "
                "is a mean over N = 2 images", "divide by N = 2"),
        Mistake("the wrong sign", _hand_gradient([0, 1], -1), "prediction minus target, not "
                "the other way round", "dZ = (P - Y) / N")],
        Hint("dW = X.T @ dZ: entry [1, 1] sums feature 1 of each image times its dZ for class 1",
             "sum over i of X[i, 1] * (P[i, 1] - Y[i, 1]) / 2"))
    return f"{truth:.4f}: both images push W[1, 1] the same way, image 0 harder."


def _momentum(X_train, y_train, epochs, lr, beta, seed, sign=1, carry=1, average=False):
    """The reference: v = beta * v + grad, params - lr * v, with the script's gradient."""
    params, Y = slp.init_params(X_train.shape[1], 10, seed=seed), slp.one_hot(y_train, 10)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    for _ in range(epochs):
        grads = slp.backward(params, slp.forward(params, X_train)[1], Y)
        velocity = {k: beta * carry * velocity[k] + (1 - beta * average) * grads[k]
                    for k in grads}
        params = {k: params[k] - sign * lr * velocity[k] for k in params}
    return params


@exercise("gradient descent with momentum", SLP, "Training: gradient descent")
def momentum_descent(student):
    """student(X_train, y_train, epochs, lr, beta, seed) -> params; v = beta v + g, W -= lr v."""
    cases = []
    for n, epochs, lr, beta, seed in [(200, 5, 0.1, 0.9, 42), (150, 4, 0.3, 0.5, 7)]:
        X, y, Y = _images(n)
        inputs = dict(X_train=X, y_train=y, epochs=epochs, lr=lr, beta=beta, seed=seed)
        cases.append(Case(f"for epochs={epochs}, lr={lr}, beta={beta}, seed={seed}", inputs,
                          _momentum(**inputs)))
    like = lambda **changes: lambda i: _momentum(**{**i, **changes})
    loss = lambda params, i: slp.loss(params, i["X_train"], slp.one_hot(i["y_train"], 10))
    usual = {"lr": 0.1, "beta": 0.9, "seed": 42}  # settings hard-coded: each subset of these
    walk(student, "momentum_descent", cases, [
        Mistake("the starting parameters", like(epochs=0), "each update must be kept: assign "
                "its result back"),
        Mistake("plain gradient descent", like(carry=0), "the velocity must carry over from "
                "one epoch to the next"),
        Mistake("an average, not a sum, in the velocity", like(average=True), "this form adds "
                "the whole gradient: v = beta * v + grad, not + (1 - beta) * grad"),
        *[Mistake(f"what hard-coded {' and '.join(f'{k}={usual[k]}' for k in keys)} would "
                  f"give", like(**{k: usual[k] for k in keys}), f"use the "
                  f"{' and '.join(keys)} you are given, not the usual value"
                  f"{'s' * (len(keys) > 1)}")
          for r in (1, 2, 3) for keys in itertools.combinations(usual, r)],
        Symptom("a training loss higher than at the start", lambda got, i: loss(got, i) > loss(
            slp.init_params(64, 10, seed=i["seed"]), i), "going uphill: step against the "
            "velocity, which follows the gradient"),
    ], Hint("v = beta * v + gradient, then params - lr * v, epochs times", "velocity = {k: "
            "beta * velocity[k] + grads[k]}; params = {k: params[k] - lr * velocity[k]}, from "
            "zero velocity"))
    inputs, right = cases[0].inputs, cases[0].right
    start = slp.init_params(64, 10, seed=42)
    return (f"Same as the reference: training loss {loss(start, inputs):.4f} -> "
            f"{loss(right, inputs):.4f} in 5 epochs at beta 0.9.")


@exercise("a model that knows one bias", SLP, "The loss: cross-entropy")
def bias_only_loss(answer):
    """answer: the training loss when W = 0 and b = (5, 0, ..., 0), three decimals."""
    X_train, _, y_train, _ = _digits()
    truth = slp.loss({"W": np.zeros((64, 10)), "b": np.eye(10)[0] * 5}, X_train,
                     slp.one_hot(y_train, 10))
    other, mean = math.log(math.exp(5) + 9), "mean over images: log(e^5 + 9) - 5 * (share of 0s)"
    number(answer, "the mean training loss of that model", truth, [
        Mistake("the loss of equal logits", math.log(10), "ln 10 is the loss when all ten "
                "logits are equal; here digit 0's is 5", "every image: loss = log(e^5 + 9) - "
                "z_true, z_true = 5 for a 0, else 0"),
        Mistake("the loss of an image that is not a 0", other, "the 0s lose less", mean),
        Mistake("the loss of a 0", other - 5, "that is only the 0s' loss; most images are not "
                "0s", mean)],
        Hint("every image gets the same probabilities: what does a 0 lose, and any other digit?",
             f"log(e^5 + 9) - 5 * {np.mean(y_train == 0):.4f}"))
    return f"{truth:.4f}, twice ln 10: confident and unrelated to the image costs a lot."


# ----------------------------------------------------------------------------
# Lesson 2 (np_mlp_digits.ipynb) and the labs


def _mlp_case(n, hidden, seed):
    X, y, Y = _images(n)
    # Biases away from 0: no unit within a finite-difference step of its kink.
    return X, Y, {k: v + 0.05 for k, v in mlp.init_params(64, hidden, 10, seed=seed).items()}


@exercise("backward without the mask", MLP, "The same, exact: the index algebra",
          "the backward pass", ("backward", "numerical_gradient"))
def mlp_backward(student):
    """student(params, cache, Y, weight_decay), cache without 'mask' -> the four gradients."""
    masked = lambda mask: lambda i: mlp.backward(  # the script's backward with another mask
        i["params"], {**i["cache"], "mask": mask(i["cache"])}, i["Y"], i["weight_decay"])
    cases = []
    for n, hidden, weight_decay, seed in [(30, 16, 0.1, 1), (12, 8, 0.0, 2)]:
        X, Y, params = _mlp_case(n, hidden, seed)
        cache = {k: v for k, v in mlp.forward(params, X)[1].items() if k != "mask"}
        inputs = {"params": params, "cache": cache, "Y": Y, "weight_decay": weight_decay}
        cases.append(Case(f"on {n} images, {hidden} hidden units, weight_decay "
                          f"{weight_decay:g}", inputs, masked(lambda c: c["A1"] > 0)(inputs)))
    walk(student, "backward", cases, [
        Mistake("the gradient through every unit, as with no mask at all or a mask that is all "
                "True (A1 >= 0)", masked(lambda c: np.ones_like(c["A1"])), "a unit that was "
                "off passes no gradient back: keep dA1 only where A1 > 0 (A1 = max(0, Z1) is "
                "never negative, so A1 >= 0 holds everywhere)", "dZ1 = dA1 * (A1 > 0)"),
        Mistake("dA1 times A1", masked(lambda c: c["A1"]), "the ReLU's slope is 1 where the "
                "unit is on, whatever its value", "dZ1 = dA1 * (A1 > 0)"),
        *_grad_mistakes(masked(lambda c: c["A1"] > 0), ["W1", "W2"]),
    ], Hint("work back from dZ2 = (P - Y) / N; the ReLU passes dA1 where the unit was on",
            "dW2 = A1.T @ dZ2 + wd * W2; dA1 = dZ2 @ W2.T; dZ1 = dA1 * (A1 > 0); dW1 = X.T @ "
            "dZ1 + wd * W1; biases: sum the rows"), GRAD)
    return "All four gradients are right, with and without weight decay, from A1 alone."


def _leaky(params, X, Y, alpha, slope=None):
    """P and the gradient of the leaky network: the script's backward, the slope as mask."""
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.where(Z1 > 0, Z1, alpha * Z1)
    P = mlp.softmax(A1 @ params["W2"] + params["b2"])
    mask = np.where(Z1 > 0, 1.0, alpha) if slope is None else slope(Z1, alpha)
    return P, mlp.backward(params, {"X": X, "mask": mask, "A1": A1, "P": P}, Y)


@exercise("a leaky-ReLU layer", MLP, "The same, exact: the index algebra",
          "the leaky layer's backward pass", ("backward", "numerical_gradient"))
def leaky_layer(forward_leaky, backward_leaky):
    """forward_leaky(params, X, alpha) -> (P, cache); backward_leaky(params, cache, Y, alpha)."""
    X, Y, params = _mlp_case(30, 16, 1)
    P_hint = Hint("A1 = Z1 where Z1 > 0, alpha * Z1 elsewhere",
                  "P = mlp.softmax(np.where(Z1 > 0, Z1, alpha * Z1) @ W2 + b2)")

    def forward(inputs):  # forward_leaky's pair (P, cache)
        result = call(forward_leaky, "forward_leaky", inputs, P_hint)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Wrong("a pair (P, cache)", type(result).__name__, Hint(
                "return P and what backward_leaky needs, as mlp.forward does"), ("pair",))
        return result

    inputs = [{"params": params, "X": X, "alpha": a} for a in (0.01, 0.2)]
    walk(forward_leaky, "forward_leaky", [Case(f"with alpha {i['alpha']:g}", i, _leaky(
        params, X, Y, i["alpha"])[0]) for i in inputs], [
        Mistake("the ReLU network's P", mlp.forward(params, X)[0], "a leaky unit passes "
                "alpha * z where z <= 0, not 0"),
        Mistake("P for alpha 0.01", _leaky(params, X, Y, 0.01)[0], "use the alpha you are "
                "given"),
    ], P_hint, answer_of=lambda i: forward(i)[0])
    slope = lambda f: lambda i: _leaky(params, X, Y, i["alpha"], f)[1]  # the slope f(Z1, alpha)
    walk(backward_leaky, "backward_leaky", [Case(f"with alpha {i['alpha']:g}", {
        "params": params, "cache": forward(i)[1], "Y": Y, "alpha": i["alpha"]}, _leaky(
            params, X, Y, i["alpha"])[1]) for i in inputs], [
        Mistake("the ReLU's gradient: slope 0 where the unit is off", slope(
            lambda Z, a: 1.0 * (Z > 0)), "a leaky unit passes gradient where it is off too"),
        Mistake("slope 1 everywhere", slope(lambda Z, a: np.ones_like(Z)), "the slope where "
                "z <= 0 is alpha, not 1"),
        Mistake("what alpha = 0.01 gives", slope(lambda Z, a: np.where(Z > 0, 1, 0.01)),
                "use the alpha you are given"),
    ], Hint("as the ReLU network's backward, with the leaky slope in place of the mask",
            "dZ1 = (dZ2 @ W2.T) * np.where(Z1 > 0, 1, alpha)"), GRAD)
    return "P and the four gradients are right for alpha 0.01 and 0.2."


def _sgd(params, X, Y, lr, batch_size, rng, weight_decay, sign=1, summed=False,
         one_step=False, keep_last=True, order=None, bias_decay=False):
    """The reference epoch (or, with a flag, a known slip) with the script's gradient;
    order(rng, N): the order of the images, if not rng.permutation(N)."""
    order = order(rng, len(X)) if order else rng.permutation(len(X))
    start_params, total = params, {k: 0.0 for k in params}
    for start in range(0, len(X) if keep_last else len(X) // batch_size * batch_size,
                       batch_size):
        rows = order[start:start + batch_size]
        at = start_params if one_step else params
        grads = mlp.backward(at, mlp.forward(at, X[rows])[1], Y[rows], weight_decay)
        grads = {k: g + weight_decay * at[k] * (bias_decay and k[0] == "b")
                 for k, g in grads.items()}
        total = {k: total[k] + grads[k] for k in grads}
        if not one_step:
            params = {k: params[k] - sign * lr * len(rows) ** summed * grads[k] for k in params}
    return {k: start_params[k] - lr * total[k] for k in total} if one_step else params


@exercise("mini-batch SGD with weight decay", STEPS, "Mini-batches: how much data per step?")
def sgd_epoch(student):
    """student(params, X, Y, lr, batch_size, rng, weight_decay) -> params after one epoch."""
    like = lambda **flags: lambda i: _sgd(**{**copy.deepcopy(i), **flags})
    cases = []
    for n, batch_size, lr, weight_decay, seed in [(120, 20, 0.5, 0.0, 0), (130, 32, 0.3, 0.01, 1)]:
        X, _, Y = _images(n)
        inputs = {"params": mlp.init_params(64, 16, 10, seed=1), "X": X, "Y": Y, "lr": lr,
                  "batch_size": batch_size, "rng": np.random.default_rng(seed),
                  "weight_decay": weight_decay}
        cases.append(Case(f"for N={n}, batch_size={batch_size}, lr={lr}, weight_decay="
                          f"{weight_decay:g}", inputs, like()(inputs)))
    walk(student, "sgd_epoch", cases, [
        Mistake("gradient ascent: the loss went up", like(sign=-1), "step downhill, against "
                "the gradient"),
        Mistake("steps with summed, not averaged, batch gradients", like(summed=True), "a "
                "batch's gradient is the mean over its images, as backward computes it"),
        Mistake("one accumulated step per epoch", like(one_step=True), "each batch takes its "
                "own step, so the next batch's gradient is taken where the last step landed"),
        Mistake("the last, smaller batch left out", like(keep_last=False), "keep the last "
                "batch, even when it is smaller", "for start in range(0, N, batch_size)"),
        Mistake("the images in their stored order", like(order=lambda rng, N: np.arange(N)),
                "shuffle every epoch with the rng you are given"),
        Mistake("an order from np.random, not from rng", like(order=lambda rng, N: np.random.
                RandomState(0).permutation(N)), "np.random.permutation draws from NumPy's "
                "global generator: use the rng you are given, so that a run repeats",
                "order = rng.permutation(N)"),
        *[Mistake(f"the order of a fresh default_rng({s})", like(order=lambda rng, N, s=s:
                  np.random.default_rng(s).permutation(N)), "a new generator made inside "
                  "the epoch gives the same order every epoch: use the rng you are given",
                  "order = rng.permutation(N)") for s in (0, 42)],
        Mistake("some images used twice or not at all", like(order=lambda rng, N: rng.integers(
            0, N, N)), "sample without replacement: each image once per epoch",  # = rng.choice
            "rng.permutation(N), not rng.integers or rng.choice"),
        Mistake("no weight decay", like(weight_decay=0.0), "pass weight_decay to mlp.backward"),
        Mistake("weight decay counted twice", lambda i: _sgd(**{**copy.deepcopy(i), "weight_"
                "decay": 2 * i["weight_decay"]}), "mlp.backward already adds weight_decay * W: "
                "add nothing more", "grads = mlp.backward(params, cache, Y[rows], weight_decay)"
                "; params - lr * grads"),
        Mistake("weight decay on the biases too", like(bias_decay=True), "the penalty is on "
                "the weights only, and mlp.backward adds it to them: the biases get none"),
        Mistake("what a hard-coded lr=0.1 gives", like(lr=0.1), "use the lr you are given"),
        *[Mistake(f"what a hard-coded batch_size={b} gives", like(batch_size=b), "use the "
                  "batch_size you are given") for b in (10, 16, 20, 32, 50, 64, 100, 128)],
    ], Hint("slice one permutation into consecutive batches; one step per batch", "order = "
            "rng.permutation(N); for start in range(0, N, B): rows = order[start:start + B]; "
            "params = params - lr * the gradient on X[rows], Y[rows], weight_decay"))
    return "Every update matches the reference epoch, with and without weight decay."


@functools.lru_cache(maxsize=None)
def _outcome(lr, scale=3):
    """(do 100 epochs of the script's training, on the standardised training images times
    scale, lower the loss, what they did)."""
    X_train, _, y_train, _ = _digits()
    try:
        _, history = mlp.train(scale * X_train, y_train, epochs=100, lr=lr, verbose=False)
    except FloatingPointError as error:  # "training diverged at epoch 7: ..."
        return False, f"at lr {lr:g} {str(error).split(':')[0]}"
    first, last = history[0]["loss"], history[-1]["loss"]
    return last < first, f"lr {lr:g} takes the loss from {first:.4f} to {last:.4g}"


@exercise("the largest learning rate for tripled pixels", STEPS, "The learning rate")
def max_learning_rate(answer):
    """answer: a learning rate at which 100 epochs on 3 * X_train lower the loss, while twice
    it does not."""
    if answer is None:
        raise NotDone()
    lr = conform(answer, 0.0, "a learning rate", float64=False)
    expected = "a rate at which 100 epochs on 3 * X_train lower the loss, while twice it does not"
    if not 0 < lr < math.inf:
        raise Wrong(expected, f"{lr:g}", Hint("a learning rate is a positive, finite step "
                                              "size"), ("range",))
    if lr < 0.01:  # the limit is near 1: no need to train to tell that this is far below it
        raise Wrong(expected, f"{lr:g}", Hint("far below the limit: try larger rates, doubling "
                                              "each time"), ("small",))
    (falls, what), (falls_twice, what_twice) = _outcome(lr), _outcome(2 * lr)
    if not falls:
        if _outcome(lr, scale=1)[0] and not _outcome(2 * lr, scale=1)[0]:  # the lab's limit
            raise Wrong(expected, what, Hint("that is too large: it would be right for X_train "
                                             "itself; train on 3 * X_train"), ("unscaled",))
        raise Wrong(expected, what, Hint("that is too large: try smaller rates, a factor of 2 "
                                         "apart"), ("large",))
    if falls_twice:
        raise Wrong(expected, f"{what}, and {what_twice}", Hint("the limit is higher: try "
                                                                "larger rates, doubling each "
                                                                "time"), ("higher",))
    return f"{what}, and {what_twice}: {lr:g} is within a factor of 2 of the limit."


@exercise("a zero output layer", START, "The hidden layer: equal units stay equal")
def first_w1_update(answer):
    """answer: the first update (1, 2, ...) that changes W1 when W2 starts at 0, or 0 if none."""
    X, y = _digits()[::2]
    params, Y, truth = {**mlp.init_params(64, 32, 10), "W2": np.zeros((32, 10))}, slp.one_hot(
        y, 10), 0
    for update in range(1, 11):
        grads = mlp.backward(params, mlp.forward(params, X)[1], Y)
        if np.any(grads["W1"]):
            truth = update
            break
        params = {k: params[k] - 0.1 * grads[k] for k in params}
    number(answer, "the number of the first update that changes W1", truth, [
        Mistake("the first update", 1, "dW1 comes back through W2: what is dA1 = dZ2 @ W2.T "
                "when W2 = 0?", "update 1: dA1 = dZ2 @ 0 = 0, so dW1 = 0; W2 changes, since A1 "
                "is not 0")],
        Hint("W2 starts at 0 but does not stay there: what does the first update do to it?",
             "dW2 = A1.T @ dZ2, and A1 = max(0, X @ W1 + b1) is not 0 with random W1"),
        decimals=0, least=0)
    return f"Update {truth}: the first moves only W2 and b2. Now explain why, and if it trains."


def _paired(pred_a, pred_b, y, sides, cap=1.0):
    """A slip of compare_models.paired_comparison: a p-value of one tail, or one not capped at 1."""
    only_a, only_b, _ = paired_comparison(y, pred_a, pred_b)
    n = only_a + only_b
    tail = sum(math.comb(n, k) for k in range(min(only_a, only_b) + 1)) / 2**n
    return only_a, only_b, min(cap, sides * tail)


def _paired_hint(got, right, inputs):  # the counts, or p given the counts
    if got is None or tuple(got[:2]) != tuple(right[:2]):
        return Hint("count the images only one model gets right: both right or both wrong "
                    "says nothing", "only_a = np.sum((pred_a == y) & (pred_b != y))")
    return Hint("if the models were equally good, each of the n images is a fair coin: p is "
                "the chance of a split at least this uneven", "p = min(1, 2 * sum(comb(n, k) "
                "for k <= min(only_a, only_b)) / 2 ** n), n = only_a + only_b")


@exercise("paired counts", HOW_GOOD, "Comparing two models on the same images",
          "the paired comparison", ("paired_comparison",))
def paired_counts(student):
    """student(pred_a, pred_b, y) -> (only_a_right, only_b_right, two-sided exact p-value)."""
    rng = np.random.RandomState(3)
    y = rng.randint(0, 10, 300)
    a, b = (np.where(rng.rand(300) < share, y, rng.randint(0, 10, 300)) for share in (0.9, 0.8))
    six, other = np.arange(1, 7), np.array([1, 2, 0, 0, 5, 0])
    never = "two models that always agree leave n = 0 images to test: p is 1"
    cases = [Case(label, {"pred_a": a, "pred_b": b, "y": t}, paired_comparison(t, a, b), raised)
             for label, a, b, t, raised in [
                 ("for 6 images", six, other, six, None), ("for 6 images, swapped", other, six,
                                                           six, None),
                 ("for 300 images", a, b, y, None), ("for two models that always agree (n = 0)",
                                                     six, six, other, never),
                 ("for two models each right alone once", np.array([1, 2, 0, 4]), np.array(
                     [1, 0, 3, 4]), np.array([1, 2, 3, 4]), None)]]
    counts = walk(student, "paired_counts", cases, [
        Mistake("a one-sided p-value", lambda i: _paired(**i, sides=1), "two-sided: either "
                "model could have been the better one", "p = 2 * P(X <= min(b, c)), X ~ "
                "Binomial(b + c, 1/2)"),
        Mistake("a p-value above 1", lambda i: _paired(**i, sides=2, cap=math.inf), "a "
                "probability is at most 1: equal counts give p = 1", "p = min(1, 2 * P(X <= "
                "min(b, c)))"),
        Mistake("the counts swapped", lambda i: paired_comparison(i["y"], i["pred_b"],
                                                                  i["pred_a"]),
                "only_a counts the images A gets right and B wrong"),
        Symptom("counts of disagreements", lambda got, i: got[0] + got[1] == np.sum(
            i["pred_a"] != i["pred_b"]) != sum(paired_comparison(**i)[:2]), "images where "
            "both are wrong, differently, favour neither model", "(pred_a == y) & (pred_b != "
            "y)"),
        Symptom("p other than 1 for n = 0", lambda got, i: got[:2] == (0, 0) and got[2] != 1,
                never, "if n == 0: return 0, 0, 1.0"),
    ], _paired_hint)
    return (f"Right on all five examples; e.g. {counts[0]} image against {counts[1]} gives "
            f"p = {counts[2]:.3g}: no evidence either way.")


@functools.lru_cache(maxsize=None)
def _val_counts(n, rates, decays, epochs):
    """{(lr, weight_decay): (validation images right, training images right)}, the first n of
    500 training images to fit, the rest to validate."""
    X, y, _ = _images(500)
    counts = {}
    for lr, weight_decay in itertools.product(rates, decays):
        params, _ = mlp.train(X[:n], y[:n], epochs=epochs, lr=lr, weight_decay=weight_decay,
                              verbose=False)
        counts[lr, weight_decay] = tuple(int(np.sum(mlp.predict(params, images) == labels))
                                         for images, labels in ((X[n:], y[n:]), (X[:n], y[:n])))
    return counts


def _grid(i, epochs=None):  # the counts for a case's inputs
    return _val_counts(len(i["X_fit"]), i["rates"], i["decays"], epochs or i["epochs"])


def _best(counts, key=lambda c: c[0], pick=max):
    top = pick(key(c) for c in counts.values())
    return [(float(lr), float(wd)) for (lr, wd), c in counts.items() if key(c) == top]


def _best_by(key, pick=max, epochs=None):  # one of the best by key, not by validation
    return lambda got, i: got in _best(_grid(i, epochs), key, pick) and got not in _best(
        _grid(i))


@exercise("settings chosen on validation images", HOW_GOOD, "Nested selection")
def choose_settings(student):
    """student(X_fit, y_fit, X_val, y_val, rates, decays, epochs) -> (lr, weight_decay)."""
    X, y, _ = _images(500)
    cases = []  # in the second, the pair with the most training images right is not the
    # best on validation, and 200 or 1000 epochs would choose another pair in the first
    for n, rates, decays, epochs in [(250, (0.03, 0.3), (0.0, 0.03), 20),
                                     (100, (0.3, 1.0, 3.0), (0.0, 0.01, 0.1), 60)]:
        inputs = {"X_fit": X[:n], "y_fit": y[:n], "X_val": X[n:], "y_val": y[n:],
                  "rates": rates, "decays": decays, "epochs": epochs}
        cases.append(Case(f"for rates {rates} and decays {decays}", inputs, _best(
            _grid(inputs))))
    walk(student, "choose_settings", cases, [
        Symptom("the pair with the most training images right", _best_by(lambda c: c[1]),
                "a setting that fits its own images best may not generalise: judge on the "
                "validation images"),
        Symptom("the pair with the fewest validation images right", _best_by(lambda c: c[0],
                                                                             min),
                "keep the pair with the most validation images right"),
        Symptom("the pair in the wrong order", lambda got, i: got[::-1] in _grid(i),
                "return (lr, weight_decay), in that order"),
        Symptom("a pair not from the grid", lambda got, i: got not in _grid(i),
                "choose among the rates and decays you are given"),
        *[Symptom(f"the best pair after {e} epochs", _best_by(lambda c: c[0], epochs=e),
                  f"use the epochs you are given{how}", "mlp.train(X_fit, y_fit, "
                  "epochs=epochs, lr=lr, weight_decay=wd, verbose=False)")
          for e, how in [(200, ", not 200"), (1000, ": without epochs=epochs, train runs its "
                                                   "default 1000")]],
    ], Hint("train with every pair on the fitting images, then count right answers on the "
            "validation images", "for lr, wd in itertools.product(rates, decays): mlp.train("
            "X_fit, y_fit, epochs=epochs, lr=lr, weight_decay=wd, verbose=False); keep the "
            "best pair"))
    return "The pair you chose has the most validation images right (ties are all accepted)."
