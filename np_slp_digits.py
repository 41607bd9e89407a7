"""A single-layer softmax classifier for 8x8 handwritten digits, from scratch in NumPy.

    input (64 pixels) -> linear (64 x 10) -> softmax (10 classes)

Trained with full-batch gradient descent on scikit-learn's digits (1797 images). Every step
of learning is written out: the forward pass, the cross-entropy loss, its gradient, and the
update. Aim: simple and readable, not fast or clever.

Run:
    python np_slp_digits.py                   # 80/20 stratified split, 1000 epochs
    python np_slp_digits.py --test-size 0     # train on all 1797 images (no held-out score)
    python np_slp_digits.py --help            # every flag, with its default

np_mlp_digits.py is the same program with one hidden layer added; diff the two.
"""

import argparse
import math
import signal
import sys

if __name__ == "__main__":  # Ctrl-C, or a reader that leaves (`| head`), ends the script
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # quietly, as in any Unix tool
    if hasattr(signal, "SIGPIPE"):  # (Windows has no SIGPIPE)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

# Data (identical in both scripts) -----------------------------------------------------
def load_data(test_size=0.2, seed=42):
    """Digits as standardised features: X_train, X_test, y_train, y_test. The split is
    stratified (each digit in the same proportion on both sides); test_size=0 keeps all."""
    X, y = load_digits(return_X_y=True)  # X: (1797, 64) ink levels 0..16, y: (1797,)
    if test_size == 0:
        X_train, X_test, y_train, y_test = X, X[:0], y, y[:0]
    else:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                            stratify=y, random_state=seed)
    X_train, X_test = standardise(X_train, X_test)
    return X_train, X_test, y_train, y_test


def standardise(X_train, X_test):
    """Per-pixel z-scores, using the training part's mean and standard deviation only."""
    mean = X_train.mean(axis=0)  # (F,)
    std = X_train.std(axis=0)  # (F,)
    # A pixel that is blank in every training image has std 0. Dividing it by 1 leaves it
    # at 0 in training; dividing by std + 1e-8 instead would turn a test image's stray ink
    # there into a feature of ~1e8 that swamps all the others and decides the prediction.
    std = np.where(std == 0, 1.0, std)
    return (X_train - mean) / std, (X_test - mean) / std


def one_hot(y, num_classes):
    """Labels (N,) -> one-hot rows (N, C): row i has a 1 in column y[i]."""
    return np.eye(num_classes)[y]


def log_softmax(logits):
    """Row-wise log of the softmax, log p_j = z_j - log sum_k exp(z_k); (N, C) -> (N, C)."""
    # exp(1000) overflows. Subtracting each row's max changes no probability (it cancels
    # between numerator and denominator) and makes the largest exponent exp(0) = 1.
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits):
    """Row-wise probabilities p_j = exp(z_j) / sum_k exp(z_k); (N, C) -> (N, C)."""
    return np.exp(log_softmax(logits))


# The model: one linear layer and a softmax ----------------------------------------------
def init_params(n_features, n_classes, seed=42):
    """Small random weights and zero biases."""
    # A RandomState of its own: its stream is frozen across NumPy versions, and no global state.
    rng = np.random.RandomState(seed)
    return {"W": rng.randn(n_features, n_classes) * 0.1, "b": np.zeros(n_classes)}  # (F, C), (C,)


def forward(params, X):
    """Class probabilities for each row of X, and what backward needs."""
    Z = X @ params["W"] + params["b"]  # (N, F) @ (F, C) -> (N, C) logits
    # The loss needs log-probabilities. Taking them from the logits, not as log(P), keeps
    # them finite where a probability underflows to 0 (log(0) = -inf).
    log_P = log_softmax(Z)  # (N, C)
    P = np.exp(log_P)  # (N, C) = softmax(Z)
    return P, {"X": X, "log_P": log_P, "P": P}


def loss(params, X, Y, weight_decay=0.0, cache=None):
    """Mean cross-entropy between P and one-hot Y + weight_decay / 2 * sum of squared weights."""
    if cache is None:  # train passes the cache of the forward pass it has just done
        _, cache = forward(params, X)
    cross_entropy = -np.sum(Y * cache["log_P"]) / len(X)
    squared_weights = np.sum(params["W"] ** 2)  # weights only, not biases
    return float(cross_entropy + weight_decay / 2 * squared_weights)


def backward(params, cache, Y, weight_decay=0.0):
    """Gradient of loss with respect to every parameter: same keys and shapes as params."""
    X, P = cache["X"], cache["P"]
    N = len(X)
    # Softmax followed by cross-entropy has the simple combined gradient P - Y per row
    # (the softmax's Jacobian and the log's 1/p cancel); dividing by N makes it a mean.
    dZ = (P - Y) / N  # (N, C)
    dW = X.T @ dZ + weight_decay * params["W"]  # (F, N) @ (N, C) -> (F, C)
    db = dZ.sum(axis=0)  # (C,)
    return {"W": dW, "b": db}


def predict(params, X):
    """The most probable class for each row of X; (N, F) -> (N,) integers."""
    if sorted(params) != ["W", "b"]:  # e.g. a model from np_mlp_digits.py
        raise ValueError(f"params must have W and b; got {sorted(params)}")
    P, _ = forward(params, check_X(X, n_features=len(params["W"])))
    return P.argmax(axis=1)


# Checks and training (identical in both scripts but for the hidden layer's size) -------
def check_X(X, n_features=None, name="X"):
    """X as a finite (N, F) array of numbers, or a ValueError that says what is wrong."""
    X = np.asarray(X)
    if (X.ndim != 2 or X.dtype.kind not in "biuf" or not np.isfinite(X).all()
            or X.shape[1] != (n_features or X.shape[1])):
        raise ValueError(f"{name} must be a 2-D array of finite numbers, one row per image and "
                         f"{n_features or 'F'} columns; got {X.dtype} of shape {X.shape}")
    return X


def check_y(y, n_rows, n_classes=None, name="y"):
    """y as n_rows integer labels from 0 up, or a ValueError that says what is wrong."""
    y = np.asarray(y)
    if y.shape != (n_rows,) or y.dtype.kind not in "iu":
        raise ValueError(f"{name} must be {n_rows} integer labels, one per row; got {y.dtype} "
                         f"of shape {y.shape} (a column? use y.ravel())")
    if n_rows and not 0 <= y.min() <= y.max() < (n_classes or np.inf):
        raise ValueError(f"{name} has labels {y.min()} to {y.max()}; they must be from 0 to "
                         f"{n_classes - 1 if n_classes else 'C - 1'}")
    return y


def accuracy(params, X, y):
    """Fraction of rows of X whose predicted class is y."""
    return float(np.mean(predict(params, X) == check_y(y, len(X))))


def format_record(r):
    """One log line: 'epoch  100 | loss 0.2345 | train acc  94.3% | test acc  93.1%'."""
    loss_text = f"{r['loss']:.4f}" if r["loss"] < 1e5 else f"{r['loss']:.3e}"  # not 300 digits
    line = f"epoch {r['epoch']:4d} | loss {loss_text} | train acc {100 * r['train_acc']:5.1f}%"
    return line + (f" | test acc {100 * r['test_acc']:5.1f}%" if "test_acc" in r else "")


def train(X_train, y_train, X_test=None, y_test=None, *, epochs=1000, lr=0.1,
          weight_decay=0.0, seed=42, log_every=100, verbose=True):
    """Full-batch gradient descent: every epoch is one update computed from all of X_train.

    Returns (params, history): a record every log_every epochs and at the last (epoch 0 is
    the untrained model) of the loss, train_acc and, given test data, test_acc and test_loss
    (the same loss, penalty included, on the test images), each printed if verbose."""
    X_train = check_X(X_train, name="X_train")
    y_train = check_y(y_train, len(X_train), name="y_train")
    n_classes = y_train.max() + 1
    missing = sorted(set(range(n_classes)) - set(y_train))  # outputs that would never learn
    if missing or not (epochs >= 1 and lr > 0 and weight_decay >= 0):
        raise ValueError(f"need every label 0 to {n_classes - 1} in y_train, epochs >= 1, lr > 0, "
                         f"weight_decay >= 0; got {missing=} {epochs=} {lr=} {weight_decay=}")
    has_test = X_test is not None and len(X_test) > 0
    if has_test:
        X_test = check_X(X_test, n_features=X_train.shape[1], name="X_test")
        y_test = check_y(y_test, len(X_test), n_classes, name="y_test")

    params = init_params(X_train.shape[1], n_classes, seed=seed)
    Y_train = one_hot(y_train, n_classes)  # (N, C)
    history = []
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported once, below
        for epoch in range(epochs + 1):
            _, cache = forward(params, X_train)  # 1. forward
            train_loss = loss(params, X_train, Y_train, weight_decay, cache=cache)  # 2. loss
            if not math.isfinite(train_loss):  # the weights have overflowed
                cause = "weight_decay" if epoch == 0 or lr * weight_decay >= 2 else "lr"
                when = f"diverged at epoch {epoch}" if epoch else "cannot start"
                raise FloatingPointError(f"training {when}: the loss is not a finite number; "
                                         f"try a smaller {cause}")
            if epoch % log_every == 0 or epoch == epochs:  # logging, not learning
                record = {"epoch": epoch, "loss": train_loss,
                          "train_acc": accuracy(params, X_train, y_train)}
                if has_test:
                    record["test_acc"] = accuracy(params, X_test, y_test)
                    record["test_loss"] = loss(params, X_test, one_hot(y_test, n_classes),
                                               weight_decay)
                history.append(record)
                if verbose:
                    print(format_record(record))
            if epoch < epochs:
                grads = backward(params, cache, Y_train, weight_decay)  # 3. backward
                params = {name: params[name] - lr * grads[name] for name in params}  # 4. update
    return params, history


# Command line ---------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add = parser.add_argument
    add("--epochs", type=int, default=1000, help="gradient-descent updates, at least 1")
    add("--lr", type=float, default=0.1, help="learning rate (step size), above 0")
    add("--weight-decay", type=float, default=0.0, help="L2 penalty, 0 or more (in the loss)")
    add("--test-size", type=float, default=0.2, help="fraction held out: 0, or 0.01 to 0.99")
    add("--seed", type=int, default=42, help="seed for the split and the weights, 0 to 2**32-1")
    add("--print-every", type=int, default=100, help="print a line every this many epochs")
    args = parser.parse_args(argv)
    for flag, ok in [("--epochs", args.epochs >= 1), ("--lr", 0 < args.lr < math.inf),
                     ("--weight-decay", 0 <= args.weight_decay < math.inf),
                     ("--test-size", args.test_size == 0 or 0.01 <= args.test_size <= 0.99),
                     ("--seed", 0 <= args.seed < 2**32), ("--print-every", args.print_every >= 1)]:
        if not ok:  # argparse has checked the type; this is the range that --help gives
            parser.error(f"argument {flag}: {getattr(args, flag[2:].replace('-', '_'))} is "
                         "out of range (see --help)")

    X_train, X_test, y_train, y_test = load_data(args.test_size, args.seed)
    print(f"{len(X_train)} training images, {len(X_test)} held-out test images, "
          f"{X_train.shape[1]} pixels each")
    try:  # One BLAS thread: as fast on matrices this small, and 2-3x faster when another
        with threadpool_limits(limits=1, user_api="blas"):  # program keeps a core busy
            _, history = train(X_train, y_train, X_test, y_test, epochs=args.epochs, lr=args.lr,
                               weight_decay=args.weight_decay, seed=args.seed,
                               log_every=args.print_every)
    except FloatingPointError as err:  # train names its argument; here it is a flag
        sys.exit(f"error: {err}".replace("smaller lr", "smaller --lr")
                 .replace("smaller weight_decay", "smaller --weight-decay"))
    if len(X_test):
        print(f"held-out test accuracy {100 * history[-1]['test_acc']:.1f}% "
              f"on {len(X_test)} images never trained on")
    else:
        print(f"train accuracy {100 * history[-1]['train_acc']:.1f}%, on the images trained on "
              "(--test-size 0): no measure of how it does on unseen digits")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # each line reaches `| tee log` as printed
    main()
