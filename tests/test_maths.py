"""The maths of both scripts, checked against definitions and independent references."""

import math
import warnings

import numpy as np
import pytest
from conftest import make_params
from compare_models import paired_comparison
from gradient_check import numerical_gradient, relative_error


# --- softmax ---------------------------------------------------------------------------


def test_softmax_rows_are_probabilities(model):
    logits = np.random.RandomState(0).randn(7, 10) * 5
    P = model.softmax(logits)
    assert P.shape == (7, 10)
    assert np.all(P > 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_softmax_matches_its_definition(model):
    logits = np.random.RandomState(1).randn(5, 4)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.softmax(logits), expected, rtol=1e-12)


def test_softmax_ignores_a_constant_added_to_a_row(model):
    logits = np.random.RandomState(2).randn(6, 10)
    shifts = np.array([[-50.0], [0.0], [3.0], [100.0], [700.0], [-700.0]])
    np.testing.assert_allclose(model.softmax(logits + shifts), model.softmax(logits), rtol=1e-9)


def test_softmax_of_huge_logits_is_finite_and_silent(model):
    logits = np.array([[1000.0, -1000.0, 0.0],
                       [-1000.0, -1000.0, -1000.0],
                       [1000.0, 1000.0, 999.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning fails the test
        P = model.softmax(logits)
        log_P = model.log_softmax(logits)
    assert np.isfinite(P).all() and np.isfinite(log_P).all()
    np.testing.assert_allclose(P[0], [1.0, 0.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(P[1], [1 / 3] * 3, rtol=1e-12)
    np.testing.assert_allclose(log_P[0, 1], -2000.0, rtol=1e-12)  # exact, though exp(-2000) is 0


def test_one_hot(model):
    Y = model.one_hot(np.array([2, 0, 1, 2]), 4)
    np.testing.assert_array_equal(Y, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]])
    assert Y.dtype == float


# --- standardise and load_data ---------------------------------------------------------


def test_standardise_uses_training_statistics_only(model):
    rng = np.random.RandomState(3)
    X_train = rng.randn(50, 4) * [1.0, 2.0, 3.0, 4.0] + [5.0, -1.0, 0.0, 10.0]
    X_test = rng.randn(20, 4) * 100 + 1000  # wildly different: must not leak into the scaling
    Z_train, Z_test = model.standardise(X_train, X_test)
    np.testing.assert_allclose(Z_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z_train.std(axis=0), 1.0, rtol=1e-12)
    expected = (X_test - X_train.mean(axis=0)) / X_train.std(axis=0)
    np.testing.assert_allclose(Z_test, expected, rtol=1e-12)


def test_a_pixel_blank_in_training_but_inked_in_test_stays_bounded(model):
    # Pixel 0 is 0 in every training image but 16 (full ink) in a test image: std + 1e-8
    # would turn it into 1.6e9. Dividing by 1 keeps it at 16, the size of its raw value.
    X_train = np.array([[0.0, 1.0], [0.0, 3.0], [0.0, 5.0]])
    X_test = np.array([[16.0, 3.0], [0.0, 1.0]])
    Z_train, Z_test = model.standardise(X_train, X_test)
    assert np.isfinite(Z_train).all() and np.isfinite(Z_test).all()
    np.testing.assert_array_equal(Z_train[:, 0], 0.0)
    assert Z_test[0, 0] == 16.0
    assert np.abs(Z_test).max() <= 16.0


def test_load_data_split_is_stratified_and_standardised_on_train(digits):
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    # stratified: every digit keeps its share (within one image) in the test part
    counts = np.bincount(y_test, minlength=10)
    expected = 360 * np.bincount(np.concatenate([y_train, y_test])) / 1797
    assert np.all(np.abs(counts - expected) <= 1)
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-12)
    # a test set standardised on its own statistics would have mean exactly 0 too
    assert np.abs(X_test.mean(axis=0)).max() > 0.01


def test_load_data_with_test_size_zero_keeps_every_image_for_training(model):
    X_train, X_test, y_train, y_test = model.load_data(test_size=0)
    assert X_train.shape == (1797, 64) and y_train.shape == (1797,)
    assert X_test.shape == (0, 64) and y_test.shape == (0,)


# --- initialisation ----------------------------------------------------------------------


def test_init_params_shapes_scale_and_zero_biases(model):
    params = make_params(model, 64, 10, n_hidden=32)
    expected = {"W": (64, 10), "b": (10,)} if "W" in params else {
        "W1": (64, 32), "b1": (32,), "W2": (32, 10), "b2": (10,)}
    assert {k: v.shape for k, v in params.items()} == expected
    for name, value in params.items():
        if name.startswith("b"):
            np.testing.assert_array_equal(value, 0.0)
        else:  # randn * 0.1: standard deviation 0.1, within sampling error for >= 320 draws
            assert 0.08 < value.std() < 0.12


def test_init_params_draws_from_its_own_random_state(model):
    # W (or W1 then W2) is exactly RandomState(seed).randn(...) * 0.1, in that order,
    # and the global np.random stream is not touched.
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    params = make_params(model, 64, 10, seed=7, n_hidden=32)
    assert np.array_equal(np.random.get_state()[1], before)
    rng = np.random.RandomState(7)
    names = ["W"] if "W" in params else ["W1", "W2"]
    for name in names:
        np.testing.assert_array_equal(params[name], rng.randn(*params[name].shape) * 0.1)


# --- loss and gradient -----------------------------------------------------------------


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_backward_matches_finite_differences(model, digits, weight_decay):
    X_train, _, y_train, _ = digits
    X, y = X_train[:30], y_train[:30]
    Y = model.one_hot(y, 10)
    rng = np.random.RandomState(0)
    params = make_params(model, 64, 10, seed=1, n_hidden=16)
    for name in params:  # non-zero biases, so their gradient is checked away from init
        if name.startswith("b"):
            params[name] = rng.randn(*params[name].shape) * 0.1
    P, cache = model.forward(params, X)
    if "mask" in cache:
        # A step of h may not carry a hidden pre-activation across ReLU's kink at 0, where
        # the function has no derivative; every |Z1| here is orders of magnitude above h.
        Z1 = X @ params["W1"] + params["b1"]
        assert np.abs(Z1).min() > 1e-3
    grads = model.backward(params, cache, Y, weight_decay)
    assert grads.keys() == params.keys()
    numerical = numerical_gradient(lambda p: model.loss(p, X, Y, weight_decay), params)
    for name in params:
        assert grads[name].shape == params[name].shape
        # float64 central differences with eps=1e-5 agree to ~1e-9 on a correct gradient;
        # a wrong factor or a missing term shows up as 1e-2 or more.
        assert relative_error(grads[name], numerical[name]) <= 1e-6, name


def test_the_gradient_check_catches_a_forgotten_relu_mask_and_a_missing_1_over_n(digits):
    import np_mlp_digits as mlp

    X, Y = digits[0][:20], mlp.one_hot(digits[2][:20], 10)
    params = mlp.init_params(64, 8, 10, seed=3)
    _, cache = mlp.forward(params, X)
    numerical = numerical_gradient(lambda p: mlp.loss(p, X, Y), params)
    no_mask = mlp.backward(params, {**cache, "mask": np.ones_like(cache["mask"])}, Y)
    assert relative_error(no_mask["W1"], numerical["W1"]) > 1e-2
    summed = {name: g * len(X) for name, g in mlp.backward(params, cache, Y).items()}
    assert relative_error(summed["W2"], numerical["W2"]) > 1e-2  # summed, not averaged
    assert np.array_equal(params["W1"], mlp.init_params(64, 8, 10, seed=3)["W1"])  # untouched


def test_paired_comparison_counts_the_discordant_images_and_gives_the_exact_p():
    y = np.zeros(20, dtype=int)
    a, b = y.copy(), y.copy()
    b[:8] = 1  # B wrong on images 0-7
    a[7:9] = 1  # A wrong on images 7 and 8: only A right on 0-6, only B right on 8
    only_a, only_b, p = paired_comparison(y, a, b)
    assert (only_a, only_b) == (7, 1)
    # exact two-sided sign test: 2 * P(X <= 1) for X ~ Binomial(8, 1/2) = 2 * 9 / 256
    assert p == pytest.approx(18 / 256, rel=1e-12)
    assert paired_comparison(y, a, a) == (0, 0, 1.0)
    assert paired_comparison(y, b, a)[:2] == (1, 7)


def test_loss_is_mean_cross_entropy_plus_half_weight_decay_times_squared_weights(model):
    rng = np.random.RandomState(4)
    X = rng.randn(8, 5)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    Y = model.one_hot(y, 3)
    params = make_params(model, 5, 3, seed=2, n_hidden=4)
    P, _ = model.forward(params, X)
    cross_entropy = -np.mean(np.log(P[np.arange(8), y]))
    squared_weights = sum(np.sum(v ** 2) for k, v in params.items() if k.startswith("W"))
    assert model.loss(params, X, Y) == pytest.approx(cross_entropy, rel=1e-12)
    expected = cross_entropy + 0.15 * squared_weights
    assert model.loss(params, X, Y, 0.3) == pytest.approx(expected, rel=1e-12)


def test_loss_stays_finite_when_a_probability_underflows(model):
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = model.one_hot(np.array([1, 0]), 2)
    params = make_params(model, 2, 2, n_hidden=2)
    # weights that make each row's true class exp(-2000) ~ 0 in float64: log(P) would be -inf
    if "W" in params:
        params["W"] = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
        expected = 2000.0
    else:
        params["W1"] = np.eye(2) * 1000.0
        params["W2"] = np.array([[1.0, -1.0], [-1.0, 1.0]])
        expected = 2000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = model.loss(params, X, Y)
    assert value == pytest.approx(expected, rel=1e-12)


def test_untrained_loss_is_close_to_ln_10(model, digits):
    X_train, _, y_train, _ = digits
    params = make_params(model, 64, 10)
    value = model.loss(params, X_train, model.one_hot(y_train, 10))
    # Small weights give nearly uniform probabilities, so the loss is near -ln(1/10) = 2.303.
    # Logits of spread ~0.1 * sqrt(64) add a little; 0.15 allows that, but not a loss
    # summed instead of averaged, or weights too large at the start.
    assert abs(value - math.log(10)) < 0.15
