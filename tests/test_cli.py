"""The command line as a student meets it: help, a run, and a clear end whatever happens."""

import contextlib
import io
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SCRIPTS, SHELL_ENV

BOTH = ["np_slp_digits.py", "np_mlp_digits.py"]


def run(script, *args, **options):
    """The script in a process of its own, as a student runs it."""
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, env=SHELL_ENV, **options)


def run_main(script, *args):
    """main() in this process: the same code path, without a second or two of imports."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            SCRIPTS[script[3:6]].main(list(args))
            status = 0
        except SystemExit as exit_:  # argparse (--help, a bad flag) or an error
            status = exit_.code
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("script", BOTH)
def test_help_lists_every_flag_with_its_default(script):
    result = run_main(script, "--help")
    flags = {"--epochs": "1000", "--lr": "0.1", "--weight-decay": "0.0", "--test-size": "0.2",
             "--seed": "42", "--print-every": "100"}
    if "mlp" in script:
        flags["--hidden"] = "32"
    help_text = " ".join(result.stdout.split())  # argparse wraps lines
    assert result.returncode == 0
    for flag, default in flags.items():
        after = help_text.split(flag + " ")[-1]
        assert f"(default: {default})" in after.split("--")[0], flag


@pytest.mark.parametrize("script", BOTH)
def test_a_run_names_the_split_of_every_number(script):
    result = run_main(script, "--epochs", "20", "--print-every", "10")
    lines = result.stdout.splitlines()
    assert (result.returncode, result.stderr) == (0, "")
    assert lines[0] == "1437 training images, 360 held-out test images, 64 pixels each"
    assert [line.split("|")[0].split() for line in lines[1:4]] == [
        ["epoch", "0"], ["epoch", "10"], ["epoch", "20"]]
    assert all("| train acc" in line and "| test acc" in line for line in lines[1:4])
    assert lines[4].startswith("held-out test accuracy ") and "on 360 images" in lines[4]
    assert len(lines) == 5


@pytest.mark.parametrize("script", BOTH)
def test_test_size_zero_says_the_accuracy_is_on_training_data(script):
    result = run_main(script, "--epochs", "5", "--test-size", "0")
    assert result.returncode == 0, result.stderr
    assert "test acc" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("train accuracy ")
    assert "no measure of how it does on unseen digits" in result.stdout


@pytest.mark.parametrize("script", BOTH)
def test_importing_a_script_neither_trains_nor_loads_scikit_learn(script):
    # read_digit.py imports the functions and answers at once: only load_data pays for sklearn
    code = f"import sys, {script[:-3]}; print(sorted(sys.modules).count('sklearn'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert (result.returncode, result.stdout, result.stderr) == (0, "0\n", "")


BAD_VALUES = [
    ("--epochs", "ten"), ("--epochs", "0"), ("--epochs", "-5"), ("--epochs", "2.5"),
    ("--lr", "fast"), ("--lr", "0"), ("--lr", "-1"), ("--lr", "inf"), ("--lr", "nan"),
    ("--test-size", "1"), ("--test-size", "-0.1"), ("--test-size", "1.5"), ("--test-size", "half"),
    ("--test-size", "0.001"),  # too few test images to hold one of each digit
    ("--test-size", "0.999"),  # too few training images to hold one of each digit
    ("--weight-decay", "-1e-4"), ("--weight-decay", "nan"), ("--weight-decay", "inf"),
    ("--seed", "-1"), ("--seed", "1.5"), ("--seed", str(2**32)),
    ("--print-every", "0"), ("--print-every", "x"),
]
CASES = [(name, flag, value) for name in sorted(SCRIPTS) for flag, value in BAD_VALUES]
CASES += [("mlp", "--hidden", "0"), ("mlp", "--hidden", "many"),
          ("mlp", "--hidden", "1000000000")]  # 512 GB of weights: refused before it is tried


@pytest.mark.parametrize("name, flag, value", CASES)
def test_a_bad_value_exits_2_with_one_line_naming_the_flag(name, flag, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        SCRIPTS[name].main([flag, value])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2 and captured.out == ""
    assert f": error: argument {flag}: " in captured.err.splitlines()[-1]


@pytest.mark.parametrize("script", BOTH)
def test_a_bad_value_in_a_real_process_gives_no_traceback(script):
    result = run(script, "--test-size", "0.001")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"{script}: error: argument --test-size: must be 0, or 0.01 to 0.99; got 0.001")
    assert "Traceback" not in result.stderr and "test_size =" not in result.stderr


def test_a_flag_and_its_argument_share_one_range(capsys):
    # --print-every is train's log_every: the same words refuse 0 in both
    with pytest.raises(SystemExit):
        SCRIPTS["mlp"].main(["--print-every", "0"])
    flag_error = capsys.readouterr().err.splitlines()[-1].split("--print-every: ")[1]
    with pytest.raises(ValueError) as caught:
        SCRIPTS["mlp"].check_settings(log_every=0)
    assert str(caught.value) == "log_every " + flag_error


DIVERGED = "error: training diverged: "
OVERFLOWED = DIVERGED + "the loss is not a finite number; try a smaller "


@pytest.mark.parametrize("script, flags, message", [
    ("np_slp_digits.py", ["--lr", "1e300"], OVERFLOWED + "--lr"),
    ("np_mlp_digits.py", ["--lr", "1e300"], OVERFLOWED + "--lr"),
    ("np_mlp_digits.py", ["--weight-decay", "1e3"], OVERFLOWED + "--weight-decay"),
    ("np_slp_digits.py", ["--weight-decay", "1e308"], OVERFLOWED + "--weight-decay"),
    # finite, but ended above where it started: the weights grew a hundred thousandfold a step
    ("np_mlp_digits.py", ["--weight-decay", "1e6", "--epochs", "30"], "try a smaller "
                                                                      "--weight-decay"),
    ("np_slp_digits.py", ["--weight-decay", "1e6", "--epochs", "30"], "try a smaller "
                                                                      "--weight-decay"),
    ("np_mlp_digits.py", ["--lr", "1e6", "--epochs", "2"], "try a smaller --lr"),
    ("np_slp_digits.py", ["--lr", "1e6", "--epochs", "2"], "try a smaller --lr"),
])
def test_a_diverging_run_ends_with_one_line_naming_the_flag_and_exit_1(script, flags, message):
    result = run(script, *flags)  # a real process: the warnings filter is the student's
    errors = result.stderr.splitlines()
    assert result.returncode == 1
    assert len(errors) == 1 and errors[0].startswith(DIVERGED) and errors[0].endswith(message)
    assert "held-out test accuracy" not in result.stdout  # no verdict on a diverged model


def test_a_loss_that_rises_for_an_epoch_but_ends_lower_is_not_divergence():
    # lr 2: the loss goes up on a few epochs on the way down (the learning-rate lab), and the
    # run ends far below where it started
    result = run_main("np_mlp_digits.py", "--lr", "2", "--epochs", "100", "--print-every", "1")
    losses = [float(line.split("| loss ")[1].split()[0]) for line in result.stdout.splitlines()
              if line.startswith("epoch")]
    assert any(later > earlier for earlier, later in zip(losses, losses[1:]))
    assert losses[-1] < losses[0] and (result.returncode, result.stderr) == (0, "")


# --- ending without a traceback, whatever happens -------------------------------------------


def start(script, *args, **options):
    return subprocess.Popen([sys.executable, str(ROOT / script), *args], cwd=ROOT, text=True,
                            env=SHELL_ENV, stderr=subprocess.PIPE,
                            **{"stdout": subprocess.PIPE, **options})


def wait_until_mapped(process, library, timeout=60):
    """Until the process has loaded a compiled library (on Linux it shows among the files
    mapped into the process; elsewhere, wait a second)."""
    maps = f"/proc/{process.pid}/maps"
    if not os.path.exists(maps):
        return time.sleep(1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), open(maps) as mapped:
            if library in mapped.read():
                return
        time.sleep(0.005)


# Killed by SIGINT, a process has no traceback and the shell reports 130 (128 + 2): Python
# reports that as the return code -2. (The __main__ block sets this at the end of the file,
# after the imports at its top: in the first moments, while Python starts and NumPy loads,
# Ctrl-C still gets Python's own traceback. scikit-learn, the long load, comes later.)
@pytest.mark.parametrize("script", BOTH)
def test_ctrl_c_while_scikit_learn_loads_ends_quietly(script):
    process = start(script)
    wait_until_mapped(process, "_check_build")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (-signal.SIGINT, "")


def test_ctrl_c_during_training_ends_quietly_and_what_was_printed_stays():
    process = start("np_mlp_digits.py", "--epochs", "1000000", "--print-every", "1")
    first = process.stdout.readline()  # arrives while training runs: each line is flushed
    assert first.startswith("1437 training images")
    assert process.stdout.readline().startswith("epoch    0 |")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (-signal.SIGINT, "")


def test_a_run_killed_into_a_log_file_keeps_every_line_printed(tmp_path):
    # python np_mlp_digits.py > log, then the run is killed (a closed terminal, `timeout`).
    # Its first two lines are printed at once, then nothing for a long time: unless each
    # line is written out as it is printed, they wait in a buffer and die with the process.
    log = tmp_path / "log"
    with open(log, "w") as out:
        process = start("np_mlp_digits.py", "--epochs", "1000000", "--print-every", "1000000",
                        stdout=out)
        deadline = time.monotonic() + 60
        while log.read_text().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.terminate()
        process.wait(timeout=60)
    lines = log.read_text().splitlines()
    assert lines[0].startswith("1437 training images") and lines[1].startswith("epoch    0 |")


@pytest.mark.parametrize("script", BOTH)
def test_a_reader_that_stops_reading_ends_the_run_quietly(script):
    # python np_mlp_digits.py --print-every 1 | head -2
    process = start(script, "--epochs", "5000", "--print-every", "1")
    assert process.stdout.readline() and process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout=60)
    assert (process.returncode, err) == (-signal.SIGPIPE, "")  # the shell's 141, quietly


def test_in_a_log_file_the_epoch_lines_come_before_the_error(tmp_path):
    # python np_mlp_digits.py --weight-decay 1e3 > log 2>&1
    with open(tmp_path / "log", "w") as log:
        result = subprocess.run([sys.executable, str(ROOT / "np_mlp_digits.py"),
                                 "--weight-decay", "1e3", "--print-every", "10"], stdout=log,
                                stderr=subprocess.STDOUT, cwd=ROOT, timeout=120, env=SHELL_ENV)
    lines = (tmp_path / "log").read_text().splitlines()
    assert result.returncode == 1
    assert [line.split("|")[0].strip() for line in lines[1:3]] == ["epoch    0", "epoch   10"]
    assert lines[-1].startswith(DIVERGED)


# --- where nobody can read the output -------------------------------------------------------


@pytest.mark.parametrize("script", BOTH)
def test_a_closed_standard_output_is_one_line_and_exit_1(script):
    # python np_mlp_digits.py >&-
    result = subprocess.run(["sh", "-c", f'"{sys.executable}" "{ROOT / script}" >&-'],
                            capture_output=True, text=True, cwd=ROOT, timeout=120, env=SHELL_ENV)
    assert result.returncode == 1
    assert result.stderr == "error: standard output is closed: there is nowhere to print the " \
                            "results\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("script, args", [("np_slp_digits.py", ["--epochs", "3"]),
                                          ("np_mlp_digits.py", ["--epochs", "3"]),
                                          ("np_mlp_digits.py", ["--help"])])
def test_a_full_disk_is_one_line_and_exit_1(script, args):
    # python np_mlp_digits.py > /dev/full: every write fails (argparse's --help hides that)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, str(ROOT / script), *args], stdout=full,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120,
                                env=SHELL_ENV)
    assert (result.returncode, result.stderr) == (
        1, "error: [Errno 28] No space left on device\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_disk_with_no_room_for_the_error_ends_with_a_failing_status():
    # python np_mlp_digits.py &> /dev/full: nobody can read a word, but the status says so
    # (Python's own 120 when even the error line cannot be written)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, str(ROOT / "np_mlp_digits.py"), "--epochs", "3"],
                                stdout=full, stderr=full, cwd=ROOT, timeout=120, env=SHELL_ENV)
    assert result.returncode in (1, 120)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_main_called_from_python_leaves_blas_threads_as_they_were(name, capsys):
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):  # the suite runs with one
        before = blas_threads()
        SCRIPTS[name].main(["--epochs", "1"])
        assert blas_threads() == before == [2] * len(before)
    capsys.readouterr()
