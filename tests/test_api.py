"""The Python API never returns a wrong number in silence: each mistake a reader who copies the
functions can make with load_data, train, predict or accuracy raises a ValueError of one short
line that names the argument. forward, loss, backward and one_hot check nothing, so that they
read as the maths."""

import inspect

import numpy as np
import pytest

import np_mlp_digits
import np_slp_digits


@pytest.fixture(scope="module")
def small(digits):
    """Ten of each digit to train on and 50 test images: every check, quick to train on."""
    X_train, X_test, y_train, y_test = digits
    ten_of_each = np.concatenate([np.flatnonzero(y_train == d)[:10] for d in range(10)])
    return X_train[ten_of_each], X_test[:50], y_train[ten_of_each], y_test[:50]


@pytest.fixture(scope="module")
def trained(small):
    """{module: params} after two epochs: a model to predict and score with."""
    X_train, _, y_train, _ = small
    return {m: m.train(X_train, y_train, epochs=2, verbose=False)[0]
            for m in (np_slp_digits, np_mlp_digits)}


def train(model, X_train, y_train, X_test=None, y_test=None, **settings):
    return model.train(X_train, y_train, X_test, y_test, epochs=settings.pop("epochs", 2),
                       verbose=False, **settings)


def with_label(y, label):
    """y with its first label replaced by `label`."""
    y = y.copy()
    y[0] = label
    return y


def edited(params, change):
    """params with the last bias (b or b2) replaced by change(bias)."""
    bias = "b" if "b" in params else "b2"
    return {**params, bias: change(params[bias])}


# Each case: what a reader might pass, and words the error must contain. (N: 100 training
# images, ten of each digit, and 50 test images.)
def cases(X_train, X_test, y_train, y_test, params, other_params):
    X_nan = X_train.copy()
    X_nan[3, 5] = np.nan
    no_fives, no_nines, zeros_and_ones = y_train != 5, y_train != 9, y_train < 2
    return {
        # the data given to train
        "labels as a column": (lambda m: train(m, X_train, y_train[:, None]),
                               ["y_train must be 100 integer labels", "y.ravel()"]),
        "X_test without y_test": (lambda m: train(m, X_train, y_train, X_test),
                                  ["y_test must be 50 integer labels"]),
        "y_test without X_test": (lambda m: train(m, X_train, y_train, None, y_test),
                                  ["X_test must be a 2-D array", "got object of shape ()"]),
        "one label too few": (lambda m: train(m, X_train, y_train, X_test, y_test[:49]),
                              ["y_test must be 50", "shape (49,)"]),
        "a negative label": (lambda m: train(m, X_train, y_train - 1),
                             ["y_train has labels -1 to 8; they must be from 0 to 9"]),
        "labels as floats": (lambda m: train(m, X_train, y_train.astype(float)),
                             ["y_train must be 100 integer labels", "float64"]),
        "a label of a million": (lambda m: train(m, X_train, with_label(y_train, 10**6)),
                                 ["y_train has labels 0 to 1000000; they must be from 0 to 9"]),
        "a label of 10**8": (lambda m: train(m, X_train, with_label(y_train, 10**8)),
                             ["y_train has labels 0 to 100000000", "(n_classes=10)"]),
        "NaN in the images": (lambda m: train(m, X_nan, y_train),
                              ["X_train must be a 2-D array of finite numbers"]),
        "images without pixels": (lambda m: train(m, X_train[:, :0], y_train),
                                  ["X_train must be", "shape (100, 0)"]),
        "no 5s": (lambda m: train(m, X_train[no_fives], y_train[no_fives]),
                  ["y_train has no label 5;", "every class from 0 to 9 (n_classes=10)"]),
        "no 9s, the top digit": (lambda m: train(m, X_train[no_nines], y_train[no_nines]),
                                 ["y_train has no label 9;", "n_classes=10"]),
        "only 0s and 1s": (lambda m: train(m, X_train[zeros_and_ones], y_train[zeros_and_ones]),
                           ["y_train has no label 2, 3, 4, ...;"]),
        "one class only": (lambda m: train(m, X_train[y_train == 3], y_train[y_train == 3]),
                           ["y_train has no label 0, 1, 2, ...;"]),
        "more classes than images": (lambda m: train(m, X_train, y_train, n_classes=10**8),
                                     ["y_train has no label 10, 11, 12, ...;"]),
        "a test label never trained": (
            lambda m: train(m, X_train[y_train < 9], y_train[y_train < 9], X_test, y_test,
                            n_classes=9),
            ["y_test has labels 0 to 9; they must be from 0 to 8 (n_classes=9)"]),
        "test images with other pixels": (lambda m: train(m, X_train, y_train, X_test[:, :60],
                                                          y_test), ["X_test", "64 columns"]),
        # train's settings
        "a learning rate of 0": (lambda m: train(m, X_train, y_train, lr=0.0),
                                 ["lr must be a finite number above 0; got 0.0"]),
        "no learning rate": (lambda m: train(m, X_train, y_train, lr=None),
                             ["lr must be a finite number above 0; got None"]),
        "an infinite weight decay": (lambda m: train(m, X_train, y_train, weight_decay=np.inf),
                                     ["weight_decay must be a finite number, 0 or more; got"]),
        "no epochs": (lambda m: train(m, X_train, y_train, epochs=0),
                      ["epochs must be a whole number, 1 or more; got 0"]),
        "epochs as text": (lambda m: train(m, X_train, y_train, epochs="10"),
                           ["epochs must be a whole number, 1 or more; got '10'"]),
        "half an epoch": (lambda m: train(m, X_train, y_train, epochs=2.5),
                          ["epochs must be a whole number", "got 2.5"]),
        "a fractional seed": (lambda m: train(m, X_train, y_train, seed=1.5),
                              ["seed must be a whole number from 0 to 2**32 - 1; got 1.5"]),
        "logging every 0 epochs": (lambda m: train(m, X_train, y_train, log_every=0),
                                   ["log_every must be a whole number, 1 or more; got 0"]),
        "True for a size": (
            lambda m: train(m, X_train, y_train, **{"hidden" if m is np_mlp_digits
                                                    else "n_classes": True}),
            ["must be a whole number", "got True"]),
        "a test size of None": (lambda m: m.load_data(test_size=None),
                                ["test_size must be 0, or 0.01 to 0.99; got None"]),
        # predict and accuracy
        "accuracy without labels": (lambda m: m.accuracy(params[m], X_test, None),
                                    ["y must be 50 integer labels"]),
        "a label the model cannot give": (
            lambda m: m.accuracy(params[m], X_test, np.full(50, 10)),
            ["y has labels 10 to 10; they must be from 0 to 9 (n_classes=10)"]),
        "a transposed X": (lambda m: m.predict(params[m], X_test.T), ["X must be", "64 columns",
                                                                      "shape (64, 50)"]),
        "one image as a flat row": (lambda m: m.predict(params[m], X_test[0]),
                                    ["X must be a 2-D array"]),
        "text for images": (lambda m: m.predict(params[m], [["a"] * 64]), ["X must be"]),
        "the other script's model": (lambda m: m.predict(other_params[m], X_test),
                                     ["params must be finite W"]),
        "no params": (lambda m: m.predict(None, X_test), ["params must be", "got NoneType"]),
        "transposed weights": (lambda m: m.predict({k: v.T for k, v in params[m].items()},
                                                   X_test), ["params must be finite W"]),
        "a bias one too short": (lambda m: m.predict(edited(params[m], lambda b: b[:-1]), X_test),
                                 ["params must be finite W", "(9,)"]),
        "a single number for a bias": (lambda m: m.predict(edited(params[m], lambda b: 0.0),
                                                           X_test), ["params must be", "()"]),
        "NaN weights": (lambda m: m.predict({k: v * np.nan for k, v in params[m].items()},
                                            X_test), ["params must be finite W"]),
        "NaN weights, scored": (lambda m: m.accuracy({k: v * np.nan for k, v in params[m].items()},
                                                     X_test, y_test), ["params must be finite W"]),
    }


CASE_NAMES = list(cases(*[np.zeros((9, 9))] * 4, {}, {}))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_mistake_gets_one_short_line_that_names_it(model, small, trained, case):
    other = {np_slp_digits: trained[np_mlp_digits], np_mlp_digits: trained[np_slp_digits]}
    call, words = cases(*small, trained, other)[case]
    with pytest.raises(ValueError) as caught:
        call(model)
    message = str(caught.value)
    for word in words:
        assert word in message
    assert len(message) < 300 and "\n" not in message  # a line, not a dump of the data
    assert "--" not in message  # arguments, not command-line flags


def test_the_number_of_classes_is_an_argument_not_a_guess(model, small):
    X_train, X_test, y_train, y_test = small
    three = y_train < 3  # three classes, as in the wine data: given, they train
    params, history = train(model, X_train[three], y_train[three], n_classes=3)
    assert model.predict(params, X_test).max() <= 2 and history[-1]["train_acc"] > 0.5
    with pytest.raises(ValueError, match="y_train has no label 3, 4, 5, ...;"):
        train(model, X_train[three], y_train[three])  # the default is the ten digits


def test_settings_may_be_numpy_numbers(model, small):
    X_train, _, y_train, _ = small
    as_numpy = dict(epochs=np.int64(3), lr=np.float32(0.1), weight_decay=np.float64(0),
                    seed=np.uint32(7), log_every=np.int8(1), n_classes=np.int64(10))
    _, history = train(model, X_train, y_train, **as_numpy)
    assert [record["epoch"] for record in history] == [0, 1, 2, 3]


def test_lists_work_exactly_like_arrays(model, small):
    X_train, X_test, y_train, y_test = small
    params, history = train(model, X_train, y_train, X_test, y_test, epochs=5)
    as_lists, history_lists = train(model, X_train.tolist(), y_train.tolist(), X_test.tolist(),
                                    y_test.tolist(), epochs=5)
    assert history == history_lists
    assert model.accuracy(params, X_test.tolist(), y_test.tolist()) == history[-1]["test_acc"]
    np.testing.assert_array_equal(model.predict(as_lists, X_test.tolist()),
                                  model.predict(params, X_test))


MATHS = ["forward", "loss", "backward", "init_params", "softmax", "log_softmax", "one_hot"]


def test_the_maths_functions_stay_check_free(model):
    # They read as the maths: no check_ call, no raise. one_hot([-1], 10) is the last class,
    # as NumPy's indexing makes it: train checks the labels before one_hot sees them.
    for name in MATHS:
        source = inspect.getsource(getattr(model, name))
        assert "check_" not in source and "raise" not in source, name
    np.testing.assert_array_equal(model.one_hot([-1], 3), [[0, 0, 1]])
