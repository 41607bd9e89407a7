"""A multi-layer perceptron for 8x8 handwritten digits, from scratch in NumPy.

    input (64 pixels) -> linear (64 x 32) -> ReLU (32 hidden units)
                      -> linear (32 x 10) -> softmax (10 classes)

Trained with full-batch gradient descent on scikit-learn's digits (1797 images). Every step
of learning is written out: the forward pass, the cross-entropy loss, its gradient by the
chain rule (backpropagation), and the update. Aim: simple and readable, not fast or clever.

Run:
    .venv/bin/python np_mlp_digits.py                # 80/20 stratified split, 1000 epochs
    .venv/bin/python np_mlp_digits.py --test-size 0  # train on all 1797 images (no held-out score)
    .venv/bin/python np_mlp_digits.py --help         # every flag, with its default

np_slp_digits.py is the same program without the hidden layer; diff the two.
"""

import argparse
import math
import numbers
import signal
import sys

import numpy as np


# Data (identical in both scripts) -----------------------------------------------------
def load_data(test_size=0.2, seed=42):
    """Digits as standardised features: X_train, X_test, y_train, y_test. The split is
    stratified (each digit in the same proportion on both sides); test_size=0 keeps all."""
    check_settings(test_size=test_size, seed=seed)
    from sklearn import datasets, model_selection  # here: only the data need its 1-2 s import
    X, y = datasets.load_digits(return_X_y=True)  # X: (1797, 64) ink levels 0..16, y: (1797,)
    if test_size == 0:
        X_train, X_test, y_train, y_test = X, X[:0], y, y[:0]
    else:
        X_train, X_test, y_train, y_test = model_selection.train_test_split(
            X, y, test_size=test_size, stratify=y, random_state=seed)
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


# The model: a hidden ReLU layer, then a linear layer and a softmax ----------------------
def init_params(n_features, n_hidden, n_classes, seed=42):
    """Small random weights and zero biases."""
    # A RandomState of its own: its stream is frozen across NumPy versions, and no global state.
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_features, n_hidden) * 0.1, "b1": np.zeros(n_hidden),  # (F, H), (H,)
            "W2": rng.randn(n_hidden, n_classes) * 0.1, "b2": np.zeros(n_classes)}  # (H, C), (C,)


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
    return float(cross_entropy + weight_decay / 2 * squared_weights)


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
    n_features, _ = check_model(params)
    P, _ = forward(params, check_X(X, n_features))
    return P.argmax(axis=1)


# Training (identical in both scripts but for the hidden layer) --------------------------
def accuracy(params, X, y):
    """Fraction of rows of X whose predicted class is y."""
    _, n_classes = check_model(params)
    return float(np.mean(predict(params, X) == check_y(y, len(X), n_classes)))


def format_record(r):
    """One log line: 'epoch  100 | loss 0.2345 | train acc  94.3% | test acc  93.1%'."""
    loss_text = f"{r['loss']:.4f}" if r["loss"] < 1e5 else f"{r['loss']:.3e}"  # not 300 digits
    line = f"epoch {r['epoch']:4d} | loss {loss_text} | train acc {100 * r['train_acc']:5.1f}%"
    return line + (f" | test acc {100 * r['test_acc']:5.1f}%" if "test_acc" in r else "")


def train(X_train, y_train, X_test=None, y_test=None, *, n_classes=10, epochs=1000, lr=0.1,
          weight_decay=0.0, seed=42, hidden=32, log_every=100, verbose=True):
    """Full-batch gradient descent: every epoch is one update computed from all of X_train,
    whose labels y_train are 0 to n_classes - 1 (the digits: 10), each class at least once.

    Returns (params, history): a record every log_every epochs and at the last (epoch 0 is
    the untrained model) of the loss, train_acc and, given test data, test_acc and test_loss
    (the same loss, penalty included, on the test images), each printed if verbose."""
    check_settings(n_classes=n_classes, epochs=epochs, lr=lr, weight_decay=weight_decay,
                   seed=seed, hidden=hidden, log_every=log_every)
    X_train, y_train, X_test, y_test = check_data(X_train, y_train, X_test, y_test, n_classes)
    has_test = X_test is not None and len(X_test) > 0

    params = init_params(X_train.shape[1], hidden, n_classes, seed=seed)
    Y_train = one_hot(y_train, n_classes)  # (N, C)
    Y_test = one_hot(y_test, n_classes) if has_test else None
    history = []
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported once, below
        for epoch in range(epochs + 1):
            _, cache = forward(params, X_train)  # 1. forward
            train_loss = loss(params, X_train, Y_train, weight_decay, cache=cache)  # 2. loss
            if not math.isfinite(train_loss):  # the weights have overflowed
                when = f"diverged at epoch {epoch}" if epoch else "cannot start"
                raise FloatingPointError(f"training {when}: the loss is not a finite number; "
                                         + advice(lr, weight_decay))
            if epoch % log_every == 0 or epoch == epochs:  # logging, beside the learning
                record = {"epoch": epoch, "loss": train_loss,
                          "train_acc": accuracy(params, X_train, y_train)}
                if has_test:
                    record.update(test_acc=accuracy(params, X_test, y_test),
                                  test_loss=loss(params, X_test, Y_test, weight_decay))
                history.append(record)
                if verbose:
                    print(format_record(record))
            if epoch < epochs:
                grads = backward(params, cache, Y_train, weight_decay)  # 3. backward
                params = {name: params[name] - lr * grads[name] for name in params}  # 4. update
    return params, history


# Plumbing: checks at the door of the functions above, then the command line -------------
SETTINGS = {  # each setting's type, range and range in words: for the arguments and the flags
    "n_classes": (int, lambda n: n >= 2, "a whole number, 2 or more"),
    "epochs": (int, lambda n: n >= 1, "a whole number, 1 or more"),
    "log_every": (int, lambda n: n >= 1, "a whole number, 1 or more"),
    "seed": (int, lambda n: 0 <= n < 2**32, "a whole number from 0 to 2**32 - 1"),
    "hidden": (int, lambda n: 1 <= n <= 10_000, "a whole number from 1 to 10000"),
    "lr": (float, lambda x: 0 < x < math.inf, "a finite number above 0"),
    "weight_decay": (float, lambda x: 0 <= x < math.inf, "a finite number, 0 or more"),
    "test_size": (float, lambda x: x == 0 or 0.01 <= x <= 0.99, "0, or 0.01 to 0.99")}


def check_settings(**settings):
    """Each setting as SETTINGS says (NumPy's numbers too), or a ValueError naming it."""
    for name, value in settings.items():
        kind, in_range, words = SETTINGS[name]
        number = numbers.Integral if kind is int else numbers.Real
        if isinstance(value, bool) or not isinstance(value, number) or not in_range(value):
            raise ValueError(f"{name} must be {words}; got {value!r:.40}")


def check_X(X, n_features=None, name="X"):
    """X as a finite (N, F) array of numbers, or a ValueError that says what is wrong."""
    X = np.asarray(X)
    if (X.ndim != 2 or X.dtype.kind not in "biuf" or not np.isfinite(X).all()
            or X.shape[1] == 0 or X.shape[1] != (n_features or X.shape[1])):
        raise ValueError(f"{name} must be a 2-D array of finite numbers, one row per image and "
                         f"{n_features or 'F > 0'} columns; got {X.dtype} of shape {X.shape}")
    return X


def check_y(y, n_rows, n_classes, name="y"):
    """y as n_rows integer labels from 0 to n_classes - 1, or a ValueError saying what is wrong."""
    y = np.asarray(y)
    if y.shape != (n_rows,) or y.dtype.kind not in "iu":
        column = " (a column? use y.ravel())" if y.ndim == 2 else ""
        raise ValueError(f"{name} must be {n_rows} integer labels, one per row; got {y.dtype} "
                         f"of shape {y.shape}{column}")
    if n_rows and not 0 <= y.min() <= y.max() < n_classes:
        raise ValueError(f"{name} has labels {y.min()} to {y.max()}; they must be from 0 to "
                         f"{n_classes - 1} (n_classes={n_classes})")
    return y


def check_model(params):
    """(F, C) of finite params W1 (F, H), b1 (H,), W2 (H, C), b2 (C,), or a ValueError."""
    shapes = type(params).__name__  # what the message says, if it is not a dict of arrays
    try:
        shapes = {name: np.shape(value) for name, value in params.items()}
        (F, H), (_, C) = shapes["W1"], shapes["W2"]
        finite = all(np.isfinite(value).all() for value in params.values())
    except (AttributeError, KeyError, TypeError, ValueError):  # no dict of numbers, or W1 not 2-D
        finite = False
    if not finite or shapes != {"W1": (F, H), "b1": (H,), "W2": (H, C), "b2": (C,)}:
        raise ValueError(f"params must be finite W1 (F, H), b1 (H,), W2 (H, C) and b2 (C,); "
                         f"got {str(shapes)[:200]}")
    return F, C


def check_data(X_train, y_train, X_test, y_test, n_classes):
    """train's data as arrays, each class 0 to n_classes - 1 in y_train, or a ValueError."""
    X_train = check_X(X_train, name="X_train")
    y_train = check_y(y_train, len(X_train), n_classes, name="y_train")
    seen = np.unique(y_train)
    if len(seen) < n_classes:  # a class never seen is never learnt: name the first three
        missing = np.setdiff1d(np.arange(min(n_classes, len(seen) + 3)), seen)[:3]
        more = ", ..." if n_classes - len(seen) > 3 else ""
        raise ValueError(f"y_train has no label {', '.join(map(str, missing))}{more}; train "
                         f"needs every class from 0 to {n_classes - 1} (n_classes={n_classes})")
    if X_test is not None or y_test is not None:
        X_test = check_X(X_test, X_train.shape[1], name="X_test")
        y_test = check_y(y_test, len(X_test), n_classes, name="y_test")
    return X_train, y_train, X_test, y_test


def advice(lr, weight_decay, names=("lr", "weight_decay")):
    """What to make smaller when the loss diverges: lr, or weight_decay if it alone grows W."""
    lr_name, decay_name = names  # the decay step multiplies W by 1 - lr * weight_decay
    return f"try a smaller {decay_name if lr * weight_decay >= 2 else lr_name}"


def add_flag(parser, flag, setting, default, meaning):
    """A flag that sets a setting, read with the type and range that SETTINGS gives it."""
    kind, in_range, words = SETTINGS[setting]

    def read(text):
        if not in_range(value := kind(text)):
            raise argparse.ArgumentTypeError(f"must be {words}; got {text}")
        return value
    read.__name__ = kind.__name__  # argparse names it for a wrong type: "invalid int value"
    parser.add_argument(flag, type=read, default=default, dest=setting,
                        metavar=kind.__name__.upper(), help=f"{meaning}: {words}")


def main(argv=None):
    """Train with the flags' settings, print how it goes, and end with a verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    # argparse's own print_help hides a failed write (`--help >/dev/full` would succeed)
    parser.print_help = lambda file=None: print(parser.format_help(), end="", file=file)
    add_flag(parser, "--epochs", "epochs", 1000, "gradient-descent updates")
    add_flag(parser, "--lr", "lr", 0.1, "learning rate (step size)")
    add_flag(parser, "--weight-decay", "weight_decay", 0.0, "L2 penalty (in the printed loss)")
    add_flag(parser, "--test-size", "test_size", 0.2, "fraction of the images held out")
    add_flag(parser, "--seed", "seed", 42, "seed for the split and the initial weights")
    add_flag(parser, "--print-every", "log_every", 100, "print a line every this many epochs")
    add_flag(parser, "--hidden", "hidden", 32, "hidden ReLU units")
    settings = vars(parser.parse_args(argv))  # train's arguments, once test_size is out
    X_train, X_test, y_train, y_test = load_data(settings.pop("test_size"), settings["seed"])
    print(f"{len(X_train)} training images, {len(X_test)} held-out test images, "
          f"{X_train.shape[1]} pixels each")
    fix = advice(settings["lr"], settings["weight_decay"], names=("--lr", "--weight-decay"))
    from threadpoolctl import threadpool_limits  # here: only the command line caps threads
    try:  # One BLAS thread: a bit slower on an idle machine, 2-3x faster when another
        with threadpool_limits(limits=1, user_api="blas"):  # program keeps a core busy
            _, history = train(X_train, y_train, X_test, y_test, **settings)
    except FloatingPointError:  # the loss overflowed (train's message names its arguments)
        sys.exit(f"error: training diverged: the loss is not a finite number; {fix}")
    if history[-1]["loss"] > history[0]["loss"]:  # not one noisy epoch: the whole run
        sys.exit(f"error: training diverged: the loss ended above where it started; {fix}")
    if len(X_test):
        print(f"held-out test accuracy {100 * history[-1]['test_acc']:.1f}% "
              f"on {len(X_test)} images never trained on")
    else:
        print(f"train accuracy {100 * history[-1]['train_acc']:.1f}%, on the images trained on "
              "(--test-size 0): no measure of how it does on unseen digits")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the run quietly, as in any
    if hasattr(signal, "SIGPIPE"):  # Unix tool, and so does a reader that leaves (`| head`)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # (Windows has no SIGPIPE)
    if sys.stdout is None:  # started with standard output closed (`>&-`)
        sys.exit("error: standard output is closed: there is nowhere to print the results")
    sys.stdout.reconfigure(line_buffering=True)  # each line reaches `| tee log` as printed
    try:
        main()
    except OSError as err:  # the output cannot be written (`>/dev/full`): say so once, and
        sys.stdout = None  # drop the unwritten lines, or Python retries them as it exits
        sys.exit(f"error: {err}")
