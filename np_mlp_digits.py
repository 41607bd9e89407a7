"""A multi-layer perceptron for 8x8 handwritten digits, from scratch in NumPy.

    input (64 pixels) -> linear (64 x 32) -> ReLU (32 hidden units)
                      -> linear (32 x 10) -> softmax (10 classes)

Trained with full-batch gradient descent on scikit-learn's digits (1797 images).
Every step of learning is written out: the forward pass, the cross-entropy loss,
its gradient by the chain rule (backpropagation), and the update.
Aim: simple and readable, not fast or clever.

Run:
    python np_mlp_digits.py                   # 80/20 stratified split, 1000 epochs
    python np_mlp_digits.py --test-size 0     # train on all 1797 images (no held-out score)
    python np_mlp_digits.py --help            # every flag, with its default

np_slp_digits.py is the same program without the hidden layer; diff the two.
"""

import argparse
import math
import os
import signal
import sys
import time

if __name__ == "__main__":  # run as a script; imported, Ctrl-C is the importer's to handle
    def _interrupted_while_loading(signum, frame):
        # Loading NumPy and scikit-learn takes a second or two. Ctrl-C meanwhile ends the
        # script at once, in one line, with 130 (128 + SIGINT), the status a shell expects.
        # Not as a KeyboardInterrupt: raised inside their compiled start-up code, that comes
        # out as a long ImportError blaming the installation.
        print("interrupted", file=sys.stderr)
        os._exit(130)

    signal.signal(signal.SIGINT, _interrupted_while_loading)

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

if __name__ == "__main__":  # loaded: from here on Ctrl-C is a KeyboardInterrupt, for main()
    signal.signal(signal.SIGINT, signal.default_int_handler)


# ----------------------------------------------------------------------------
# Data (identical in both scripts)


def load_data(test_size=0.2, seed=42):
    """Digits as standardised features: X_train, X_test, y_train, y_test.

    A stratified split keeps the ten digits in the same proportions on both sides.
    With test_size=0 every image is training data and the test arrays are empty.
    """
    X, y = load_digits(return_X_y=True)  # X: (1797, 64) ink levels 0..16, y: (1797,)
    if test_size == 0:
        X_train, X_test, y_train, y_test = X, X[:0], y, y[:0]
    else:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, stratify=y, random_state=seed
        )
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


# ----------------------------------------------------------------------------
# The model: a hidden ReLU layer, then a linear layer and a softmax


def init_params(n_features, n_hidden, n_classes, seed=42):
    """Small random weights and zero biases."""
    # A RandomState of its own: its stream is frozen across NumPy versions, so the
    # published numbers reproduce, and the global np.random state is left alone.
    rng = np.random.RandomState(seed)
    return {
        "W1": rng.randn(n_features, n_hidden) * 0.1,  # (F, H)
        "b1": np.zeros(n_hidden),  # (H,)
        "W2": rng.randn(n_hidden, n_classes) * 0.1,  # (H, C)
        "b2": np.zeros(n_classes),  # (C,)
    }


def forward(params, X):
    """Class probabilities for each row of X, and what backward needs."""
    Z1 = X @ params["W1"] + params["b1"]  # (N, F) @ (F, H) -> (N, H)
    mask = Z1 > 0  # (N, H) which hidden units are active
    A1 = Z1 * mask  # ReLU: max(0, Z1)
    Z2 = A1 @ params["W2"] + params["b2"]  # (N, H) @ (H, C) -> (N, C) logits
    # The loss needs log-probabilities. Taking them from the logits, not as log(P), keeps
    # them finite where a probability underflows to 0 (log(0) = -inf).
    log_P = log_softmax(Z2)  # (N, C)
    P = np.exp(log_P)  # (N, C) = softmax(Z2)
    return P, {"X": X, "mask": mask, "A1": A1, "log_P": log_P, "P": P}


def loss(params, X, Y, weight_decay=0.0, cache=None):
    """Mean cross-entropy between P and one-hot Y + weight_decay / 2 * sum of squared weights."""
    if cache is None:  # train passes the cache of the forward pass it has just done
        _, cache = forward(params, X)
    cross_entropy = -np.sum(Y * cache["log_P"]) / len(X)
    squared_weights = np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)  # not biases
    penalty = weight_decay / 2 * squared_weights
    return float(cross_entropy + penalty)


def backward(params, cache, Y, weight_decay=0.0):
    """Gradient of loss with respect to every parameter: same keys and shapes as params."""
    X, mask, A1, P = cache["X"], cache["mask"], cache["A1"], cache["P"]
    N = len(X)
    # Softmax followed by cross-entropy has the simple combined gradient P - Y per row
    # (the softmax's Jacobian and the log's 1/p cancel); dividing by N makes it a mean.
    dZ2 = (P - Y) / N  # (N, C)
    dW2 = A1.T @ dZ2 + weight_decay * params["W2"]  # (H, N) @ (N, C) -> (H, C)
    db2 = dZ2.sum(axis=0)  # (C,)
    dA1 = dZ2 @ params["W2"].T  # (N, C) @ (C, H) -> (N, H)
    # ReLU passes the gradient through where the unit was active and blocks it elsewhere.
    dZ1 = dA1 * mask  # (N, H)
    dW1 = X.T @ dZ1 + weight_decay * params["W1"]  # (F, N) @ (N, H) -> (F, H)
    db1 = dZ1.sum(axis=0)  # (H,)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def predict(params, X):
    """The most probable class for each row of X; (N, F) -> (N,) integers."""
    X, _ = check_data(X, allow_empty=True)
    P, _ = forward(params, X)
    return P.argmax(axis=1)


# ----------------------------------------------------------------------------
# Checking what callers pass in (identical in both scripts)


def check_data(X, y=None, names=("X", "y"), n_features=None, allow_empty=False):
    """X as a finite (N, F) array of numbers and y, if given, as N integer labels 0..C-1.

    Returns both as NumPy arrays (lists are fine). Anything else raises a ValueError, or a
    TypeError for values of the wrong kind, that names the argument and says what it expected.
    forward, loss and backward check nothing themselves, so that they read as the maths.
    """
    X_name, y_name = names
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":  # bool, int, unsigned int, float
        raise TypeError(f"{X_name} must be an array of numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        hint = " (for one example, pass X.reshape(1, -1))" if X.ndim == 1 else ""
        raise ValueError(f"{X_name} must be a 2-D array with one row per example, shape (N, F); "
                         f"got shape {X.shape}{hint}")
    if len(X) == 0 and not allow_empty:
        raise ValueError(f"{X_name} has no rows: at least one example is needed")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{X_name} has {X.shape[1]} features per row, but the training data "
                         f"has {n_features}")
    if not np.isfinite(X).all():
        raise ValueError(f"{X_name} contains {np.sum(~np.isfinite(X))} NaN or infinite values; "
                         "remove or replace them before training or predicting")
    if y is None:
        return X, None
    y = np.asarray(y)
    expected = f"{y_name} must be a 1-D array of integer labels 0..C-1"
    if y.ndim != 1:
        raise ValueError(f"{expected}, got shape {y.shape} (for a column, pass y.ravel())")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{expected}, got dtype {y.dtype} (whole numbers as floats? y.astype(int))")
    if len(y) != len(X):
        raise ValueError(f"{X_name} has {len(X)} rows but {y_name} has length {len(y)}: "
                         "one label per row is needed")
    if len(y) and y.min() < 0:
        raise ValueError(f"{expected}, got the label {y.min()}")
    return X, y


def out_of_range(value, low=None, low_ok=True, high=None):
    """What is wrong with a number: 'must be ...' if it is not finite and in [low, high)
    (or (low, high) if not low_ok); '' if nothing is."""
    too_low = low is not None and (value < low or (value == low and not low_ok))
    too_high = high is not None and value >= high
    if math.isfinite(value) and not too_low and not too_high:
        return ""
    bounds = f"{'at least' if low_ok else 'more than'} {low}" if low is not None else "finite"
    if high is not None:
        bounds += f" and less than {high}"
    return f"must be {bounds}"


def check_setting(name, value, kind, low=None, low_ok=True, high=None):
    """value, if it is a whole number (kind=int) or any number (kind=float) in range; else an
    error that names the setting, as check_data does for the data."""
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not (whole or (kind is float and isinstance(value, (float, np.floating)))):
        raise TypeError(f"{name} must be a {'whole ' if kind is int else ''}number, "
                        f"got {value!r}")
    problem = out_of_range(value, low, low_ok, high)
    if problem:
        raise ValueError(f"{name} {problem}, got {value!r}")
    return value


# ----------------------------------------------------------------------------
# Training (the loop is the same in both scripts; only init_params differs)


class TrainingDiverged(ArithmeticError):
    """The loss stopped being finite: the learning rate is too large for this problem."""

    def __init__(self, epoch, lr):
        self.epoch, self.lr = epoch, lr
        super().__init__(
            f"training diverged at epoch {epoch}: the loss is no longer a finite number (the "
            f"weights grew past what float64 can hold). Try a smaller learning rate than {lr:g}, "
            f"e.g. --lr {lr / 10:g}."
        )


def accuracy(params, X, y):
    """Fraction of rows of X whose predicted class is y."""
    X, y = check_data(X, y)
    return float(np.mean(predict(params, X) == y))


def format_record(record):
    """One log line: 'epoch  100 | loss 0.2345 | train acc  94.3% | test acc  93.1%'."""
    value = record["loss"]
    loss_text = f"{value:.4f}" if value < 1e5 else f"{value:.3e}"  # 1e300 has 300 digits
    line = f"epoch {record['epoch']:4d} | loss {loss_text} | "
    line += f"train acc {100 * record['train_acc']:5.1f}%"
    if "test_acc" in record:
        line += f" | test acc {100 * record['test_acc']:5.1f}%"
    return line


def train(X_train, y_train, X_test=None, y_test=None, *, epochs=1000, lr=0.1,
          weight_decay=0.0, seed=42, print_every=100, hidden=32, log_every=None, verbose=True):
    """Full-batch gradient descent: every epoch is one update computed from all of X_train.

    Returns (params, history). history has one dict per logged epoch with its epoch, loss,
    train_acc and, when there is a test set, test_acc and test_loss (the same loss, penalty
    included, on the test set: for learning curves). Epoch e is the model after e updates:
    epoch 0 is untrained, epoch `epochs` is the result. Lines are printed every `print_every`
    epochs (if verbose) and history is kept every `log_every` epochs as well (default:
    print_every) -- log more often for smooth curves. hidden is the number of hidden units.
    """
    # Every argument is checked here, once, so that a mistake gets a message that names it
    # instead of a wrong number or an error from deep inside NumPy.
    X_train, y_train = check_data(X_train, y_train, names=("X_train", "y_train"))
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test go together: pass both to score held-out images, "
                         "or neither")
    if X_test is not None:
        X_test, y_test = check_data(X_test, y_test, names=("X_test", "y_test"),
                                    n_features=X_train.shape[1], allow_empty=True)
    check_setting("epochs", epochs, int, low=1)
    check_setting("lr", lr, float, low=0, low_ok=False)
    check_setting("weight_decay", weight_decay, float, low=0)
    check_setting("seed", seed, int, low=0, high=2**32)
    check_setting("print_every", print_every, int, low=1)
    log_every = check_setting("log_every", log_every or print_every, int, low=1)
    check_setting("hidden", hidden, int, low=1)

    n_classes = int(y_train.max()) + 1
    has_test = X_test is not None and len(X_test) > 0
    if has_test and y_test.max() >= n_classes:
        raise ValueError(f"y_test has the label {y_test.max()}, but y_train's labels only go up "
                         f"to {n_classes - 1}: the model has outputs for 0..{n_classes - 1} only, "
                         "so it can never predict it; train on every label you test on")
    params = init_params(X_train.shape[1], hidden, n_classes, seed=seed)
    Y_train = one_hot(y_train, n_classes)  # (N, C)
    Y_test = one_hot(y_test, n_classes) if has_test else None  # (N_test, C)
    history = []
    # A too-large learning rate overflows the weights. That is caught below and reported
    # once as TrainingDiverged, instead of as a stream of RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs + 1):
            _, cache = forward(params, X_train)  # 1. forward
            train_loss = loss(params, X_train, Y_train, weight_decay, cache=cache)  # 2. loss
            if not math.isfinite(train_loss):
                raise TrainingDiverged(epoch, lr)

            printed = epoch % print_every == 0 or epoch == epochs  # logging, not learning
            if printed or epoch % log_every == 0:
                record = {"epoch": epoch, "loss": train_loss,
                          "train_acc": accuracy(params, X_train, y_train)}
                if has_test:
                    record["test_acc"] = accuracy(params, X_test, y_test)
                    record["test_loss"] = loss(params, X_test, Y_test, weight_decay)
                history.append(record)
                if verbose and printed:
                    print(format_record(record))
            if epoch == epochs:
                break

            grads = backward(params, cache, Y_train, weight_decay)  # 3. backward
            params = {name: params[name] - lr * grads[name] for name in params}  # 4. update
    return params, history


# ----------------------------------------------------------------------------
# Command line


def _number(kind, low=None, low_ok=True, high=None):
    """An argparse type: a finite int or float in [low, high) -- or (low, high) if not low_ok."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            expected = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        problem = out_of_range(value, low, low_ok, high)
        if problem:
            raise argparse.ArgumentTypeError(f"{problem}, got {text!r}")
        return value

    return parse


def build_parser():
    parser = argparse.ArgumentParser(
        description="Train a one-hidden-layer ReLU network on scikit-learn's 8x8 digits "
        "with full-batch gradient descent, printing loss and train/test accuracy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--epochs", type=_number(int, 1), default=1000,
                        help="number of gradient-descent updates (each uses every training image)")
    parser.add_argument("--lr", type=_number(float, 0, low_ok=False), default=0.1,
                        help="learning rate: the step size of each update")
    parser.add_argument("--weight-decay", type=_number(float, 0), default=0.0,
                        help="L2 penalty strength: adds weight_decay/2 * sum(W**2) to the loss")
    parser.add_argument("--test-size", type=_number(float, 0, high=1), default=0.2,
                        help="fraction of images held out for testing; 0 trains on all of them")
    parser.add_argument("--seed", type=_number(int, 0, high=2**32), default=42,
                        help="random seed for the train/test split and the initial weights")
    parser.add_argument("--print-every", type=_number(int, 1), default=100,
                        help="print a line every this many epochs (and at the last one)")
    parser.add_argument("--hidden", type=_number(int, 1), default=32,
                        help="number of hidden ReLU units")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # One BLAS thread: on matrices this small a second one gains ~7 % on an idle machine, but
        # makes training 2-3x slower while another process keeps a core busy (benchmarks/).
        # The limit lasts for this run only: calling main() from Python leaves BLAS as it was.
        with threadpool_limits(limits=1, user_api="blas"):
            return run(parser, args)
    except KeyboardInterrupt:
        _to_stderr("interrupted")  # one line, not a traceback
        return 130  # 128 + SIGINT, the status a shell expects after Ctrl-C


def run(parser, args):
    """Load, train and report, as the flags say; returns the exit status."""
    try:
        X_train, X_test, y_train, y_test = load_data(args.test_size, args.seed)
    except ValueError as err:  # e.g. too few test images for a stratified split
        parser.error(f"argument --test-size: {err}")
    print(f"{len(X_train)} training images, {len(X_test)} held-out test images, "
          f"{X_train.shape[1]} pixels each")
    if args.weight_decay:
        print(f"loss = mean cross-entropy + {args.weight_decay:g}/2 * sum of squared weights "
              "(--weight-decay)")

    start = time.perf_counter()
    try:
        params, history = train(X_train, y_train, X_test, y_test, epochs=args.epochs, lr=args.lr,
                                weight_decay=args.weight_decay, seed=args.seed,
                                print_every=args.print_every, hidden=args.hidden)
    except TrainingDiverged as err:
        _to_stderr(f"error: {err}")
        return 1
    except MemoryError as err:
        _to_stderr(f"error: not enough memory for this run ({err}); try a smaller --hidden")
        return 1
    seconds = time.perf_counter() - start

    final = history[-1]
    if len(X_test):
        print(f"held-out test accuracy {100 * final['test_acc']:.1f}% on {len(X_test)} images "
              f"never trained on ({seconds:.2f} s of training)")
    else:
        print(f"no held-out images (--test-size 0): train accuracy "
              f"{100 * final['train_acc']:.1f}% is on fitted data, not a measure of "
              f"generalisation ({seconds:.2f} s of training)")
    # Finite but wrong: judged from the printed epochs, as a student would read them.
    losses = [record["loss"] for record in history]
    if max(losses) > 10 * losses[0] or losses[-1] > losses[0]:
        _to_stderr(f"warning: the training loss rose from {losses[0]:.4f} to {max(losses):.3g} "
                   f"on the way and ended at {losses[-1]:.4f}: --lr {args.lr:g} is close to "
                   "diverging; try a smaller --lr")
    elif losses[-1] == losses[0]:
        _to_stderr(f"warning: the training loss did not fall ({losses[0]:.4f} at epoch 0 and at "
                   f"the end): --lr {args.lr:g} is too small to make progress; try a larger --lr")
    return 0


def _to_stderr(line):
    """A message for the user, after everything printed so far (in a log file too)."""
    sys.stdout.flush()  # stdout to a file is buffered; without this, stderr would come first
    print(line, file=sys.stderr)


if __name__ == "__main__":
    try:
        status = main()
        sys.stdout.flush()  # a closed pipe shows up here at the latest
    except BrokenPipeError:
        # The reader of our output has gone (`| head -2`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no 2nd error at exit
        status = 141  # 128 + SIGPIPE, what a shell reports for a program whose reader left
    sys.exit(status)
