"""The Python API never returns a wrong number in silence: each mistake a reader who copies the
functions can make with train, predict or accuracy raises a ValueError that names the argument.
forward, loss and backward check nothing, so that they read as the maths."""

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


# Each case: what a reader might pass, and words the error must contain. (N: 100 training
# images, 50 test images.)
def cases(X_train, X_test, y_train, y_test, params, other_params):
    X_nan = X_train.copy()
    X_nan[3, 5] = np.nan
    no_fives = y_train != 5
    return {
        "labels as a column": (lambda m: train(m, X_train, y_train[:, None]),
                               ["y_train must be 100 integer labels", "y.ravel()"]),
        "X_test without y_test": (lambda m: train(m, X_train, y_train, X_test),
                                  ["y_test must be 50 integer labels"]),
        "one label too few": (lambda m: train(m, X_train, y_train, X_test, y_test[:49]),
                              ["y_test must be 50", "shape (49,)"]),
        "a negative label": (lambda m: train(m, X_train, y_train - 1),
                             ["y_train has labels -1 to 8"]),
        "labels as floats": (lambda m: train(m, X_train, y_train.astype(float)),
                             ["y_train must be 100 integer labels", "float64"]),
        "NaN in the images": (lambda m: train(m, X_nan, y_train),
                              ["X_train must be a 2-D array of finite numbers"]),
        "no 5s but 9s": (lambda m: train(m, X_train[no_fives], y_train[no_fives]),
                         ["need every label 0 to 9 in y_train", "missing=[5]"]),
        "a test label never trained": (
            lambda m: train(m, X_train[y_train < 9], y_train[y_train < 9], X_test, y_test),
            ["y_test has labels 0 to 9; they must be from 0 to 8"]),
        "test images with other pixels": (lambda m: train(m, X_train, y_train, X_test[:, :60],
                                                          y_test), ["X_test", "64 columns"]),
        "a learning rate of 0": (lambda m: train(m, X_train, y_train, lr=0.0), ["lr > 0"]),
        "no epochs": (lambda m: train(m, X_train, y_train, epochs=0), ["epochs >= 1"]),
        "accuracy without labels": (lambda m: m.accuracy(params[m], X_test, None),
                                    ["y must be 50 integer labels"]),
        "a transposed X": (lambda m: m.predict(params[m], X_test.T), ["X must be", "64 columns",
                                                                      "shape (64, 50)"]),
        "one image as a flat row": (lambda m: m.predict(params[m], X_test[0]),
                                    ["X must be a 2-D array"]),
        "text for images": (lambda m: m.predict(params[m], [["a"] * 64]), ["X must be"]),
        "the other script's model": (lambda m: m.predict(other_params[m], X_test),
                                     ["params must have"]),
    }


CASE_NAMES = list(cases(*[np.zeros((9, 9))] * 4, {}, {}))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_mistake_gets_an_error_that_names_it(model, small, trained, case):
    other = {np_slp_digits: trained[np_mlp_digits], np_mlp_digits: trained[np_slp_digits]}
    call, words = cases(*small, trained, other)[case]
    with pytest.raises(ValueError) as caught:
        call(model)
    for word in words:
        assert word in str(caught.value)
    assert "--" not in str(caught.value)  # arguments, not command-line flags


def test_lists_work_exactly_like_arrays(model, small):
    X_train, X_test, y_train, y_test = small
    params, history = train(model, X_train, y_train, X_test, y_test, epochs=5)
    as_lists, history_lists = train(model, X_train.tolist(), y_train.tolist(), X_test.tolist(),
                                    y_test.tolist(), epochs=5)
    assert history == history_lists
    assert model.accuracy(params, X_test.tolist(), y_test.tolist()) == history[-1]["test_acc"]
    np.testing.assert_array_equal(model.predict(as_lists, X_test.tolist()),
                                  model.predict(params, X_test))


def test_the_maths_functions_stay_check_free(model):
    # forward, loss and backward read as the maths: no check_ call inside them
    import inspect

    for name in ["forward", "loss", "backward", "init_params", "softmax", "log_softmax"]:
        assert "check_" not in inspect.getsource(getattr(model, name)), name
