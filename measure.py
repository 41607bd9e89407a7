"""Three measuring tools that the notebooks, labs, exercises and tests share.

    numerical_gradient(f, params)    the slope of f by central differences: what backward must give
    relative_error(a, b)             how far apart two arrays are, relative to their size
    paired_comparison(y, pred_a, pred_b)   two models on the same images, compared image by image
"""

import math

import numpy as np


def numerical_gradient(f, params, eps=1e-5):
    """Central differences (f(w + eps) - f(w - eps)) / (2 eps) for every entry w of every
    parameter: the slope that backward must match, found without any calculus.

    f takes a params dict and returns a number; params is not modified.
    """
    grads = {}
    for name, value in params.items():
        grads[name] = np.zeros_like(value, dtype=float)
        for i in np.ndindex(value.shape):
            step = np.zeros_like(value, dtype=float)
            step[i] = eps
            plus, minus = f({**params, name: value + step}), f({**params, name: value - step})
            grads[name][i] = (plus - minus) / (2 * eps)
    return grads


def relative_error(a, b):
    """max |a - b| / max(|a|, |b|): about 1e-10 for a right gradient in float64, about 1 for a
    wrong one. (Relative, so that large and small gradients are judged alike.)"""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-12)
    return float(np.abs(a - b).max() / scale)


def paired_comparison(y, pred_a, pred_b):
    """Two models' predictions for the same images: (only_a, only_b, p).

    only_a counts the images A gets right and B gets wrong, only_b the reverse; images both get
    right or both get wrong say nothing about which model is better. If the models were equally
    good, each such image would be A's or B's with probability 1/2, like a fair coin: p is the
    exact two-sided probability of a split at least this uneven (the sign test, or exact
    McNemar test). A small p (say below 0.05) means the difference is unlikely to be luck.
    """
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return only_a, only_b, p
