"""The Python API never returns a wrong number in silence: every mistake a copying reader can
make with train, accuracy or predict raises an error that names the argument (issue 9).

Each test is one case that once gave a wrong number or an unreadable error.
"""

import numpy as np
import pytest
from conftest import make_params


@pytest.fixture(scope="module")
def small(digits):
    """100 training and 50 test images: enough for every check, quick to train on."""
    X_train, X_test, y_train, y_test = digits
    return X_train[:100], X_test[:50], y_train[:100], y_test[:50]


def train_briefly(model, *args, **kwargs):
    return model.train(*args, epochs=kwargs.pop("epochs", 2), verbose=False, **kwargs)


def test_x_test_without_y_test_is_refused(model, small):
    # It used to score the test set against nothing: "test accuracy 0.0".
    X_train, X_test, y_train, _ = small
    with pytest.raises(ValueError, match="X_test and y_test go together"):
        train_briefly(model, X_train, y_train, X_test)
    with pytest.raises(ValueError, match="X_test and y_test go together"):
        train_briefly(model, X_train, y_train, None, small[3])


def test_labels_as_a_column_are_refused_at_once(model, small):
    # (N, 1) labels used to broadcast into (N, F, C) weights: 2.7 GB and minutes of work.
    X_train, X_test, y_train, y_test = small
    message = r"y_train must be a 1-D array of integer labels 0..C-1, got shape \(100, 1\)"
    with pytest.raises(ValueError, match=message):
        train_briefly(model, X_train, y_train[:, None], X_test, y_test)
    with pytest.raises(ValueError, match=message):
        train_briefly(model, X_train, y_train[:, None])  # "succeeded" with train accuracy 0.0
    with pytest.raises(ValueError, match=r"y_test must be a 1-D .* got shape \(50, 1\)"):
        train_briefly(model, X_train, y_train, X_test, y_test[:, None])


def test_accuracy_refuses_labels_that_would_broadcast(model, small):
    X_train, X_test, y_train, y_test = small
    params, _ = train_briefly(model, X_train, y_train)
    with pytest.raises(ValueError, match=r"got shape \(50, 1\)"):
        model.accuracy(params, X_test, y_test[:, None])  # was 0.100 by broadcasting
    with pytest.raises(ValueError, match="X has 50 rows but y has length 1"):
        model.accuracy(params, X_test, y_test[:1])
    with pytest.raises(ValueError, match="X_test has 50 rows but y_test has length 1"):
        train_briefly(model, X_train, y_train, X_test, y_test[:1])


def test_negative_labels_are_refused(model, small):
    # Label -1 used to share one-hot column 9 with the 9s (np.eye(C)[-1] is the last row).
    X_train, _, y_train, _ = small
    with pytest.raises(ValueError, match="got the label -1"):
        train_briefly(model, X_train, y_train - 1)


def test_a_test_label_the_training_never_had_is_named(model, small):
    # The model has one output per label up to y_train's largest, so it can never predict a
    # larger one, and its held-out loss would need a probability it does not have.
    X_train, X_test, y_train, y_test = small
    keep = y_train < 9
    with pytest.raises(ValueError, match="y_test has the label 9, but y_train's labels only go "
                                         "up to 8"):
        train_briefly(model, X_train[keep], y_train[keep], X_test, y_test)
    params, _ = train_briefly(model, X_train[keep], y_train[keep], X_test[y_test < 9],
                              y_test[y_test < 9])  # without the 9s it trains
    assert params


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_the_data_is_named_not_blamed_on_the_learning_rate(model, small, bad):
    X_train, X_test, y_train, y_test = small
    X_bad = X_train.copy()
    X_bad[3, 5] = bad
    with pytest.raises(ValueError, match="X_train contains 1 NaN or infinite values"):
        train_briefly(model, X_bad, y_train)
    X_bad = X_test.copy()
    X_bad[0, 0] = bad
    with pytest.raises(ValueError, match="X_test contains 1 NaN or infinite"):
        train_briefly(model, X_train, y_train, X_bad, y_test)
    params, _ = train_briefly(model, X_train, y_train)
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        model.predict(params, X_bad)


def test_shapes_and_lengths_that_do_not_fit_are_named(model, small):
    X_train, X_test, y_train, y_test = small
    with pytest.raises(ValueError, match=r"X_train must be a 2-D array .* got shape \(64,\)"):
        train_briefly(model, X_train[0], y_train[:1])
    with pytest.raises(ValueError, match="X_train has no rows"):
        train_briefly(model, X_train[:0], y_train[:0])
    with pytest.raises(ValueError, match="X_train has 100 rows but y_train has length 99"):
        train_briefly(model, X_train, y_train[:99])
    with pytest.raises(ValueError, match="X_test has 63 features per row, but the training"):
        train_briefly(model, X_train, y_train, X_test[:, :63], y_test)
    params, _ = train_briefly(model, X_train, y_train)
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        model.predict(params, X_test[0])  # one image, as a reader would first try it
    with pytest.raises(ValueError, match="X has no rows"):
        model.accuracy(params, X_test[:0], y_test[:0])  # was nan with a RuntimeWarning


def test_float_labels_get_a_type_error_with_the_fix(model, small):
    X_train, _, y_train, _ = small
    with pytest.raises(TypeError, match=r"got dtype float64 .*astype\(int\)"):
        train_briefly(model, X_train, y_train.astype(float))
    with pytest.raises(TypeError, match="X_train must be an array of numbers, got dtype <U"):
        train_briefly(model, X_train.astype(str), y_train)


def test_lists_work_exactly_like_arrays(model, small):
    X_train, X_test, y_train, y_test = small
    from_arrays = train_briefly(model, X_train, y_train, X_test, y_test, epochs=5)
    from_lists = train_briefly(model, X_train.tolist(), y_train.tolist(), X_test.tolist(),
                               y_test.tolist(), epochs=5)
    assert from_lists[1] == from_arrays[1]
    assert model.accuracy(from_lists[0], X_test.tolist(), y_test.tolist()) == \
        model.accuracy(from_arrays[0], X_test, y_test)


SETTINGS = [
    ("epochs", 0, ValueError, "epochs must be at least 1, got 0"),
    ("epochs", 2.5, TypeError, "epochs must be a whole number, got 2.5"),
    ("lr", float("nan"), ValueError, "lr must be more than 0, got nan"),
    ("lr", -0.1, ValueError, r"lr must be more than 0, got -0.1"),
    ("lr", "0.1", TypeError, "lr must be a number, got '0.1'"),
    ("weight_decay", -1e-3, ValueError, "weight_decay must be at least 0"),
    ("print_every", 0, ValueError, "print_every must be at least 1, got 0"),  # ZeroDivisionError
    ("log_every", -10, ValueError, "log_every must be at least 1, got -10"),
    ("seed", -1, ValueError, "seed must be at least 0 and less than 4294967296, got -1"),
    ("seed", True, TypeError, "seed must be a whole number, got True"),
]


@pytest.mark.parametrize("name, value, error, message", SETTINGS)
def test_settings_out_of_range_are_named(model, small, name, value, error, message):
    X_train, _, y_train, _ = small
    with pytest.raises(error, match=message):
        train_briefly(model, X_train, y_train, **{name: value})


def test_hidden_units_are_checked(small):
    import np_mlp_digits

    X_train, _, y_train, _ = small
    with pytest.raises(ValueError, match="hidden must be at least 1, got 0"):
        train_briefly(np_mlp_digits, X_train, y_train, hidden=0)


def test_checks_change_no_number(model, digits):
    # The door checks only look: the default run's history is what the maths gives.
    X_train, X_test, y_train, y_test = digits
    params, history = model.train(X_train[:200], y_train[:200], X_test, y_test, epochs=20,
                                  print_every=10, verbose=False)
    start = make_params(model, 64, 10)
    assert history[0]["loss"] == model.loss(start, X_train[:200], model.one_hot(y_train[:200], 10))
    assert history[-1]["test_acc"] == float(np.mean(
        model.forward(params, X_test)[0].argmax(axis=1) == y_test))
