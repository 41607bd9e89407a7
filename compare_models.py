"""Comparing two models on the same images, image by image, for the lessons, labs and tests.

    paired_comparison(y, pred_a, pred_b)   the images only A gets right, those only B gets
                                           right, and the exact sign test's p
"""

import math

import numpy as np


def paired_comparison(y, pred_a, pred_b):
    """Two models' predictions for the same images: (only_a, only_b, p).

    only_a counts the images A gets right and B gets wrong, only_b the reverse; images both get
    right or both get wrong say nothing about which model is better. If the models were equally
    good, each such image would be A's or B's with probability 1/2, like a fair coin: p is the
    exact two-sided probability of a split at least this uneven *if the two were equally good*
    (the sign test, or exact McNemar test). p is not the chance that the difference is luck. A
    small p (say below 0.05) says a split this uneven would be rare between equal models; a
    large p with few disagreements says little either way: with 8 disagreements, even a
    model right on every one of them (8 to 0) gives p = 0.008, and 6 to 2 gives p = 0.29.
    """
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return only_a, only_b, p
