"""The command line as a student meets it: help, a run, and a clear message for every mistake."""

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest
from conftest import ROOT, SCRIPTS

BOTH = ["np_slp_digits.py", "np_mlp_digits.py"]


def run(script, *args):
    """The script in a process of its own, as a student runs it."""
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def run_main(script, *args):
    """main() in this process: the same code path, without a second or two of imports."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = SCRIPTS[script.removesuffix("_digits.py").removeprefix("np_")].main(list(args))
        except SystemExit as exit_:  # argparse: --help, or a bad flag
            status = exit_.code
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("script", BOTH)
def test_help_lists_every_flag_with_its_default(script):
    result = run_main(script, "--help")
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
    result = run_main(script, "--epochs", "20", "--print-every", "10")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "1437 training images, 360 held-out test images, 64 pixels each"
    epochs = [line.split("|")[0].split() for line in lines[1:4]]
    assert epochs == [["epoch", "0"], ["epoch", "10"], ["epoch", "20"]]
    assert all("| test acc" in line for line in lines[1:4])
    assert lines[4].startswith("held-out test accuracy ") and "on 360 images" in lines[4]


@pytest.mark.parametrize("script", BOTH)
def test_test_size_zero_says_the_accuracy_is_on_training_data(script):
    result = run_main(script, "--epochs", "5", "--test-size", "0")
    assert result.returncode == 0, result.stderr
    assert "test acc" not in result.stdout
    assert "0 held-out test images" in result.stdout
    assert "train accuracy" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize("script", BOTH)
def test_importing_a_script_does_not_train(script):
    module = script.removesuffix(".py")
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                            text=True, cwd=ROOT)
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


@pytest.mark.parametrize("script, lr, epoch", [("np_mlp_digits.py", "10", None),
                                               ("np_slp_digits.py", "1e300", 1),
                                               ("np_mlp_digits.py", "1e300", 1)])
def test_divergence_is_reported_once_with_advice_and_exit_1(script, lr, epoch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail the test
        result = run_main(script, "--lr", lr)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: training diverged at epoch ")
    if epoch is not None:
        assert f"at epoch {epoch}:" in errors[0]
    assert "smaller learning rate" in errors[0] and "--lr" in errors[0]


# --- ending without a traceback, whatever happens (issue 9) ------------------------------


def start(script, *args):
    return subprocess.Popen([sys.executable, str(ROOT / script), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_until_mapped(process, library, timeout=30):
    """Until the process has loaded a compiled library: on Linux it shows among the files
    mapped into the process; elsewhere, wait 0.5 s."""
    maps = f"/proc/{process.pid}/maps"
    if not os.path.exists(maps):
        time.sleep(0.5)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), open(maps) as mapped:
            if library in mapped.read():
                return
        time.sleep(0.005)


# The instants a Ctrl-C used to be reported as a broken installation: NumPy's and
# scikit-learn's compiled start-up code turned the KeyboardInterrupt into a long ImportError.
# (Before the script's first line, while Python itself starts, about 50 ms, a Ctrl-C still
# gets Python's own traceback: no script can change that, so the test waits past it.)
LOADING = {"NumPy's compiled core": "_multiarray_umath",
           "scikit-learn's first compiled module": "_check_build"}


@pytest.mark.parametrize("script", BOTH)
@pytest.mark.parametrize("library", LOADING.values(), ids=LOADING.keys())
def test_ctrl_c_while_loading_ends_in_one_line_with_status_130(script, library):
    process = start(script)
    wait_until_mapped(process, library)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "interrupted\n")


def test_ctrl_c_during_training_ends_in_one_line_with_status_130():
    # main() is the same in both scripts (test_training.py checks the twins)
    process = start("np_mlp_digits.py", "--epochs", "1000000")
    assert process.stdout.readline().startswith("1437 training images")  # training has begun
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (130, "interrupted\n")


@pytest.mark.parametrize("script", BOTH)
def test_a_reader_that_stops_reading_ends_the_run_quietly(script):
    # python np_mlp_digits.py --print-every 1 | head -2
    process = start(script, "--epochs", "5000", "--print-every", "1")
    assert process.stdout.readline() and process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout=60)
    assert (process.returncode, err) == (141, "")  # 128 + SIGPIPE, like any Unix tool


def test_a_network_too_large_for_memory_names_the_flag():
    # 64 x 10^9 weights are 512 GB: more than any machine this runs on.
    result = run_main("np_mlp_digits.py", "--hidden", "1000000000")
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert errors[0].startswith("error: not enough memory for this run (Unable to allocate ")
    assert "GiB" in errors[0] and errors[0].endswith("try a smaller --hidden")


def test_in_a_log_file_the_epoch_lines_come_before_the_error(tmp_path):
    # python np_mlp_digits.py --lr 10 > log 2>&1
    with open(tmp_path / "log", "w") as log:
        result = subprocess.run([sys.executable, str(ROOT / "np_mlp_digits.py"), "--lr", "10"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, timeout=120)
    lines = (tmp_path / "log").read_text().splitlines()
    assert result.returncode == 1
    assert [line.split("|")[0].strip() for line in lines[1:4]] == [
        "epoch    0", "epoch  100", "epoch  200"]
    assert lines[-1].startswith("error: training diverged at epoch 213")


@pytest.mark.parametrize("script", BOTH)
def test_a_loss_that_did_not_fall_gets_a_warning_about_the_learning_rate(script):
    result = run_main(script, "--lr", "1e-300", "--epochs", "20", "--print-every", "10")
    assert result.returncode == 0
    start_loss = "2.3853" if "slp" in script else "2.3471"
    assert result.stderr.splitlines() == [
        f"warning: the training loss did not fall ({start_loss} at epoch 0 and at the end): "
        "--lr 1e-300 is too small to make progress; try a larger --lr"]


def test_a_loss_that_rose_on_the_way_gets_a_warning_even_though_it_came_back():
    # MLP --lr 4: loss 2.35 -> 1e272 -> 5.42, and exit 0 at 85.8 % without a word.
    result = run_main("np_mlp_digits.py", "--lr", "4")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "warning: the training loss rose from 2.3471 to 1.03e+272 on the way and ended at "
        "5.4240: --lr 4 is close to diverging; try a smaller --lr"]


@pytest.mark.parametrize("script", BOTH)
def test_with_weight_decay_the_run_says_the_loss_includes_the_penalty(script):
    result = run_main(script, "--weight-decay", "0.001", "--epochs", "2")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[1] == (
        "loss = mean cross-entropy + 0.001/2 * sum of squared weights (--weight-decay)")


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_main_called_from_python_leaves_blas_threads_as_they_were(name, capsys):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    assert SCRIPTS[name].main(["--epochs", "1"]) == 0
    assert blas_threads() == before
    capsys.readouterr()
