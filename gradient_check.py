"""Checking a gradient without calculus, for the lessons, labs, exercises and tests.

    numerical_gradient(f, params)   the slope of f by central differences: what backward must give
    relative_error(a, b)            how far apart two arrays are, relative to their size
"""

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
