"""The command line as a student meets it: help, a run, and a clear message for every mistake."""

import subprocess
import sys

import pytest
from conftest import ROOT, SCRIPTS

BOTH = ["np_slp_digits.py", "np_mlp_digits.py"]


def run(script, *args):
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.mark.parametrize("script", BOTH)
def test_help_lists_every_flag_with_its_default(script):
    result = run(script, "--help")
    assert result.returncode == 0
    flags = {"--epochs": "1000", "--lr": "0.1", "--weight-decay": "0.0", "--test-size": "0.2",
             "--seed": "42", "--print-every": "100"}
    if "mlp" in script:
        flags["--hidden"] = "32"
    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    for flag, default in flags.items():
        assert flag in help_text
        after = help_text.split(flag + " ")[-1]
        assert f"(default: {default})" in after.split("--")[0], flag


@pytest.mark.parametrize("script", BOTH)
def test_a_short_run_prints_epoch_lines_and_a_held_out_summary(script):
    result = run(script, "--epochs", "20", "--print-every", "10")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "1437 training images, 360 held-out test images, 64 pixels each"
    assert [line.split("|")[0].split() for line in lines[1:4]] == [["epoch", "0"], ["epoch", "10"], ["epoch", "20"]]
    assert all("| test acc" in line for line in lines[1:4])
    assert lines[4].startswith("held-out test accuracy ") and "on 360 images" in lines[4]


@pytest.mark.parametrize("script", BOTH)
def test_test_size_zero_says_the_accuracy_is_on_training_data(script):
    result = run(script, "--epochs", "5", "--test-size", "0")
    assert result.returncode == 0, result.stderr
    assert "test acc" not in result.stdout
    assert "0 held-out test images" in result.stdout
    assert "train accuracy" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("script", BOTH)
def test_importing_a_script_does_not_train(script):
    module = script.removesuffix(".py")
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


BAD_VALUES = [
    ("--epochs", "ten"), ("--epochs", "0"), ("--epochs", "-5"), ("--epochs", "2.5"),
    ("--lr", "fast"), ("--lr", "0"), ("--lr", "-0.1"), ("--lr", "inf"), ("--lr", "nan"),
    ("--test-size", "1"), ("--test-size", "-0.1"), ("--test-size", "1.5"), ("--test-size", "half"),
    ("--test-size", "0.001"),  # too few test images to hold one of each digit
    ("--weight-decay", "-1e-4"), ("--weight-decay", "nan"), ("--weight-decay", "inf"),
    ("--seed", "-1"), ("--seed", "1.5"), ("--seed", str(2**32)),
    ("--print-every", "0"), ("--print-every", "x"),
]


CASES = [(name, flag, value) for name in sorted(SCRIPTS) for flag, value in BAD_VALUES]
CASES += [("mlp", "--hidden", "0"), ("mlp", "--hidden", "many")]


@pytest.mark.parametrize("name, flag, value", CASES)
def test_bad_values_exit_2_with_a_message_naming_the_flag(name, flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        SCRIPTS[name].main([flag, value])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert f"error: argument {flag}" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("script", BOTH)
def test_a_bad_value_in_a_real_process_gives_no_traceback(script):
    result = run(script, "--lr", "-1")
    assert result.returncode == 2
    assert "error: argument --lr: must be more than 0, got '-1'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("script, lr, epoch", [("np_mlp_digits.py", "10", None), ("np_slp_digits.py", "1e300", 1),
                                               ("np_mlp_digits.py", "1e300", 1)])
def test_divergence_is_reported_once_with_advice_and_exit_1(script, lr, epoch):
    result = run(script, "--lr", lr)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: training diverged at epoch ")
    if epoch is not None:
        assert f"at epoch {epoch}:" in errors[0]
    assert "smaller learning rate" in errors[0] and "--lr" in errors[0]
