"""How fast is from-scratch NumPy? The scripts' training next to scikit-learn and the matmul floor.

    python benchmarks/bench.py            # the full run, about two minutes
    python benchmarks/bench.py --quick    # tiny sizes, a few seconds (the test suite runs this)

Everything is measured in this one process (but for the end-to-end runs, which must start
Python afresh). The contenders of each comparison take turns, after a warm-up, over several
repeats, so a burst of load from elsewhere hits them alike; the tables show the median and
the min-max of the repeats.

- per epoch: `train` of each script, against scikit-learn's MLPClassifier doing the same
  maths (full-batch SGD, no momentum, no shuffling, no penalty), and against the floor:
  the same epoch's matrix products alone; all with one BLAS thread, as the scripts run;
- BLAS threads: one thread against the default, idle and with the other core kept busy;
- scaling: per-epoch time as the data (digits tiled) and the hidden layer grow;
- end to end: `python np_mlp_digits.py` and `python np_slp_digits.py`, and how much of that
  is starting Python and importing scikit-learn;
- notebooks: each notebook run top to bottom from a fresh kernel, against the time a class
  can wait for it (the budgets below). The test suite runs them too, but asserts no time.

The notebook rows need what tests/requirements.txt installs (nbclient, ipykernel).
"""

import argparse
import contextlib
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # sync_notebooks.execute runs a notebook as the tests do

# Seconds a fresh top-to-bottom run may take on an idle 2-core machine: what a class can wait.
NOTEBOOK_BUDGETS = {
    "np_slp_digits.ipynb": 15,
    "np_mlp_digits.ipynb": 30,
    "labs/pixels_and_penalties.ipynb": 20,
    "exercises/solutions/slp_exercises.ipynb": 10,
    "exercises/solutions/mlp_exercises.ipynb": 10,
}

import np_mlp_digits as mlp  # noqa: E402
import np_slp_digits as slp  # noqa: E402


# ----------------------------------------------------------------------------
# Timing


def interleaved(contenders, repeats, warmup=1):
    """{name: [seconds, ...]}: each contender once per round, round after round."""
    times = {name: [] for name in contenders}
    for round_ in range(warmup + repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def summary(seconds, scale=1.0):
    """'median (min-max)' of a list of times, multiplied by scale."""
    values = [s * scale for s in seconds]
    return statistics.median(values), min(values), max(values)


def print_table(title, rows, unit, reference=None):
    """rows: {name: [seconds per item, ...]}; the ratio column is relative to `reference`."""
    print(f"\n{title}")
    header = f"  {'':<52}{'median':>10}{'min-max':>20}"
    print(header + ("" if reference is None else f"{'ratio':>8}"))
    ref = None if reference is None else statistics.median(rows[reference])
    for name, seconds in rows.items():
        median, low, high = summary(seconds, 1e6 if unit == "us" else 1.0)
        fmt = ".0f" if unit == "us" else ".2f"
        line = f"  {name:<52}{median:>8{fmt}} {unit}{f'{low:{fmt}}-{high:{fmt}}':>19}"
        if ref is not None:
            line += f"{statistics.median(seconds) / ref:>7.2f}x"
        print(line)


# ----------------------------------------------------------------------------
# The contenders: one training run each, `epochs` full-batch steps


def ours(module, X, y, epochs, hidden):
    kwargs = {"hidden": hidden} if module is mlp else {}
    return lambda: module.train(X, y, epochs=epochs, print_every=epochs, verbose=False, **kwargs)


def scikit_learn(X, y, epochs, hidden):
    """MLPClassifier doing the same maths as `train`: one full-batch SGD step per epoch."""
    clf = MLPClassifier(hidden_layer_sizes=(hidden,) if hidden else (), solver="sgd",
                        batch_size=len(X),
                        learning_rate_init=0.1, momentum=0.0, alpha=0.0, shuffle=False, tol=0.0,
                        n_iter_no_change=10**9, max_iter=epochs, random_state=0)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge": max_iter is reached on purpose
            clf.fit(X, y)

    return run


def matmul_floor(X, y, epochs, hidden):
    """The matrix products of `epochs` forward + backward passes and nothing else."""
    rng = np.random.RandomState(0)
    N, F = X.shape
    C = int(y.max()) + 1
    if not hidden:  # single layer: X @ W forward, X.T @ dZ backward
        W, dZ = rng.randn(F, C), rng.randn(N, C)

        def run():
            for _ in range(epochs):
                X @ W
                X.T @ dZ

        return run
    W1, W2 = rng.randn(F, hidden), rng.randn(hidden, C)
    A1, dZ1, dZ2 = rng.randn(N, hidden), rng.randn(N, hidden), rng.randn(N, C)

    def run():
        for _ in range(epochs):
            X @ W1  # forward, hidden layer
            A1 @ W2  # forward, output layer
            A1.T @ dZ2  # backward: dW2
            dZ2 @ W2.T  # backward: dA1
            X.T @ dZ1  # backward: dW1

    return run


def threads_limited(run, threads):
    """run, with BLAS (every copy loaded: NumPy's and SciPy's) limited to one thread if asked."""

    def limited():
        with threadpool_limits(limits=1 if threads == "1 BLAS thread" else None, user_api="blas"):
            run()

    return limited


def per_epoch(contenders, epochs, repeats):
    times = interleaved(contenders, repeats)
    return {name: [s / epochs for s in seconds] for name, seconds in times.items()}


@contextlib.contextmanager
def busy_other_core():
    """A second process spinning on the CPU, like another student's kernel on a shared server."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it get going before anything is timed
        yield
    finally:
        spinner.kill()
        spinner.wait()


# ----------------------------------------------------------------------------
# The report


def describe_machine():
    print("machine")
    print(f"  {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    model = platform.processor()
    if os.path.exists("/proc/cpuinfo"):  # Linux names the CPU model there; platform often does not
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo
                     if line.startswith("model name")]
            model = names[0] if names else model
    print(f"  CPU: {model or 'unknown'}")
    print(f"  NumPy {np.__version__}", end="")
    for pool in threadpool_info():
        if pool["user_api"] == "blas":
            print(f", BLAS: {pool['internal_api']} {pool['version']} ({pool['architecture']}, "
                  f"{pool['num_threads']} threads by default)", end="")
    print()


def end_to_end(repeats, epochs, warmup=1):
    command = [sys.executable]
    extra = [] if epochs is None else ["--epochs", str(epochs)]

    def script(name):
        return lambda: subprocess.run(command + [str(ROOT / name)] + extra, check=True,
                                      capture_output=True)

    def imports(modules):
        return lambda: subprocess.run(command + ["-c", f"import {modules}"], check=True)

    times = interleaved({
        "python np_mlp_digits.py": script("np_mlp_digits.py"),
        "python np_slp_digits.py": script("np_slp_digits.py"),
        "python -c 'import numpy'": imports("numpy"),
        "python -c 'import numpy, sklearn (as the scripts)'": imports(
            "numpy, sklearn.datasets, sklearn.model_selection"),
    }, repeats, warmup)
    shortened = "" if epochs is None else f" (--epochs {epochs})"
    print_table("end to end: wall time of a fresh process" + shortened, times, "s")
    sklearn_import = (statistics.median(times["python -c 'import numpy, sklearn (as the scripts)'"])
                      - statistics.median(times["python -c 'import numpy'"]))
    print(f"  importing scikit-learn's parts takes {sklearn_import:.2f} s of that")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, a few seconds: checks that it runs")
    args = parser.parse_args(argv)
    epochs, repeats = (5, 2) if args.quick else (200, 7)
    tiles, hiddens = ((1, 2), (8, 16)) if args.quick else ((1, 4, 16), (32, 128, 512))

    describe_machine()
    X, _, y, _ = mlp.load_data()
    if args.quick:
        X, y = X[:200], y[:200]
    print(f"\ndata: {len(X)} training images x {X.shape[1]} pixels; {epochs} epochs a run, "
          f"{repeats} repeats after a warm-up;\n"
          "1 BLAS thread (as the scripts run) except in the BLAS threads table")

    # The scripts run with one BLAS thread (see their main()), so every contender does here too,
    # but in the section that measures exactly that choice.
    one_thread = threadpool_limits(limits=1, user_api="blas")
    for module, hidden, label in [(mlp, 32, "MLP 64-32-10"), (slp, 0, "SLP 64-10")]:
        rows = per_epoch({
            f"{label}: ours (train)": ours(module, X, y, epochs, hidden),
            f"{label}: scikit-learn MLPClassifier": scikit_learn(X, y, epochs, hidden),
            f"{label}: matrix products alone (floor)": matmul_floor(X, y, epochs, hidden),
        }, epochs, repeats)
        print_table(f"per epoch, {label} (ratio to ours)", rows, "us",
                    reference=f"{label}: ours (train)")

    one_thread.restore_original_limits()
    rows = {}
    for where, load in [("idle", contextlib.nullcontext), ("other core busy", busy_other_core)]:
        with load():  # the load runs through both contenders' turns
            rows.update(per_epoch({
                f"MLP ours, {where}, {threads}":
                    threads_limited(ours(mlp, X, y, epochs, 32), threads)
                for threads in ("default threads", "1 BLAS thread")
            }, epochs, repeats))
    print_table("BLAS threads: per epoch, MLP (ratio to idle, default threads)", rows, "us",
                reference="MLP ours, idle, default threads")

    one_thread = threadpool_limits(limits=1, user_api="blas")
    rows = {}
    for tile in tiles:
        X_big, y_big = np.tile(X, (tile, 1)), np.tile(y, tile)
        rows[f"MLP ours, N = {len(X_big)}"] = ours(mlp, X_big, y_big, epochs, 32)
    scaling(per_epoch(rows, epochs, repeats), tiles, "data tiled")
    rows = {f"MLP ours, hidden = {h}": ours(mlp, X, y, epochs, h) for h in hiddens}
    scaling(per_epoch(rows, epochs, repeats), hiddens, "hidden units")
    one_thread.restore_original_limits()

    # quick: no warm-up round of fresh processes, which only steadies the timings (5 s saved)
    end_to_end(1 if args.quick else 5, 3 if args.quick else None, 0 if args.quick else 1)
    notebooks(args.quick)
    return 0


def notebooks(quick):
    """Each notebook from a fresh kernel, top to bottom, as a teacher runs it before class."""
    import nbformat
    from sync_notebooks import execute

    if quick:  # the code path only: a one-cell notebook stands in for the real ones
        stand_in = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        stand_in.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        runs = {"quick: a one-cell notebook": lambda: execute(stand_in)}
        budgets = {"quick: a one-cell notebook": 10}
    else:
        paths = [name for name in NOTEBOOK_BUDGETS if (ROOT / name).exists()]
        runs = {name: lambda name=name: execute(nbformat.read(ROOT / name, as_version=4),
                                                folder=(ROOT / name).parent)
                for name in paths}
        budgets = {name: NOTEBOOK_BUDGETS[name] for name in paths}
    # five runs each: on a shared machine one run can take half as long again as the next
    times = interleaved(runs, repeats=1 if quick else 5, warmup=0)
    print_table("notebooks: a fresh run, top to bottom (budget: what a class can wait)", times, "s")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        verdict = "within" if median <= budgets[name] else "OVER"
        print(f"  {name}: {median:.1f} s, {verdict} its budget of {budgets[name]} s")


def scaling(rows, sizes, what):
    print_table(f"scaling with {what}: per epoch (ratio to the smallest)", rows, "us",
                reference=next(iter(rows)))
    medians = [statistics.median(seconds) for seconds in rows.values()]
    for (a, ta), (b, tb) in zip(zip(sizes, medians), zip(sizes[1:], medians[1:])):
        doublings = np.log2(b / a)
        per_doubling = (tb / ta) ** (1 / doublings)
        print(f"  {what} {a} -> {b}: time x{tb / ta:.2f}, i.e. x{per_doubling:.2f} per doubling"
              f" (linear would be x2.00)")


if __name__ == "__main__":
    sys.exit(main())
