"""How fast is from-scratch NumPy, and how long does each notebook take a class?

    .venv/bin/python -m benchmarks.bench            # per-epoch tables and every notebook
    .venv/bin/python -m benchmarks.bench --quick    # tiny sizes, a one-cell notebook: it runs
    .venv/bin/python -m benchmarks.bench --threads 2 --no-notebooks  # two BLAS threads

Per epoch, for each model: the script's `train`, scikit-learn's MLPClassifier doing the same
maths (full-batch SGD, no momentum, no shuffling, no penalty), and the floor: that epoch's
matrix products alone. The three take turns after a warm-up, so a burst of load from
elsewhere hits them alike; each row is the median (and min-max) of the repeats.
Notebooks: each run top to bottom from a fresh kernel, against what a class can wait for it.
No test asserts a time: a busy machine is not a bug.
"""

import signal
import sys


def stop(signum, frame):
    """Ctrl-C, SIGTERM or SIGHUP: end at once, with the shell's status for Ctrl-C and no
    traceback. SystemExit, not KeyboardInterrupt: scikit-learn's MLPClassifier.fit catches a
    KeyboardInterrupt and goes on, and its interrupted fit would be timed. On the way out,
    subprocess.run ends the notebook's process and the temporary folder is removed."""
    raise SystemExit(130)


def stop_on_signals():
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


if __name__ == "__main__":  # before the imports below: they take a few seconds
    stop_on_signals()

import argparse  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import np_mlp_digits as mlp  # noqa: E402
import np_slp_digits as slp  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Seconds a fresh top-to-bottom run may take on an idle 2-core machine: what a class can wait.
BUDGETS = {"np_slp_digits.ipynb": 15, "np_mlp_digits.ipynb": 15}
BUDGETS.update({path.relative_to(ROOT).as_posix(): 20 for path in ROOT.glob("labs/*.ipynb")})
BUDGETS.update({path.relative_to(ROOT).as_posix(): 10
                for path in ROOT.glob("exercises/solutions/*.ipynb")})


def ours(module, X, y, epochs, hidden):
    sizes = {"hidden": hidden} if hidden else {}
    return lambda: module.train(X, y, epochs=epochs, log_every=epochs, verbose=False, **sizes)


def scikit_learn(X, y, epochs, hidden):
    clf = MLPClassifier(hidden_layer_sizes=(hidden,) if hidden else (), solver="sgd",
                        batch_size=len(X), learning_rate_init=0.1, momentum=0.0, alpha=0.0,
                        shuffle=False, max_iter=epochs, tol=0.0, n_iter_no_change=10**9)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "did not converge": it is not meant to
            clf.fit(X, y)
    return run


def floor(X, y, epochs, hidden):
    """The matrix products of `epochs` forward and backward passes, and nothing else."""
    rng = np.random.RandomState(0)
    (N, F), C, H = X.shape, int(y.max()) + 1, hidden or 0
    W, W1, W2 = rng.randn(F, C), rng.randn(F, H), rng.randn(H, C)
    dZ, A1, dZ1 = rng.randn(N, C), rng.randn(N, H), rng.randn(N, H)

    def run():
        for _ in range(epochs):
            if hidden:  # X @ W1, A1 @ W2 forward; A1.T @ dZ2, dZ2 @ W2.T, X.T @ dZ1 backward
                X @ W1, A1 @ W2, A1.T @ dZ, dZ @ W2.T, X.T @ dZ1
            else:  # X @ W forward, X.T @ dZ backward
                X @ W, X.T @ dZ
    return run


def interleaved(contenders, repeats):
    """{name: [seconds, ...]}: each contender once per round, after one warm-up round."""
    times = {name: [] for name in contenders}
    for round_ in range(repeats + 1):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def per_epoch_table(label, module, hidden, epochs, repeats, X, y):
    contenders = {f"{label}: ours (train)": ours(module, X, y, epochs, hidden),
                  f"{label}: scikit-learn MLPClassifier": scikit_learn(X, y, epochs, hidden),
                  f"{label}: matrix products alone (floor)": floor(X, y, epochs, hidden)}
    times = interleaved(contenders, repeats)
    reference = statistics.median(next(iter(times.values())))
    print("\n| per epoch | median | min-max | ratio |\n|---|---:|---:|---:|")
    for name, seconds in times.items():
        us = [1e6 * s / epochs for s in seconds]
        print(f"| {name} | {statistics.median(us):.0f} µs | {min(us):.0f}-{max(us):.0f} | "
              f"{statistics.median(seconds) / reference:.2f}× |")


def notebook_seconds(path):
    """One fresh-kernel run of a notebook, in its own folder as Jupyter runs it, timed in a
    process of its own: Ctrl-C or a kill then ends that process, and its kernel with it."""
    code = ("import sys, time, nbformat, nbclient; nb = nbformat.read(sys.argv[1], 4); "
            "c = nbclient.NotebookClient(nb, timeout=600, resources={'metadata': "
            "{'path': sys.argv[2]}}); t = time.perf_counter(); c.execute(); "
            "print(time.perf_counter() - t)")
    run = subprocess.run([sys.executable, "-c", code, str(path), str(path.parent)],
                         capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"error: {path.name} failed to run:\n{run.stderr[-2000:]}")
    return float(run.stdout)


def notebooks_table(quick, repeats):
    if quick:  # the code path, on a notebook of one cell, in a folder removed afterwards
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / "one-cell.ipynb"
            cells = [nbformat.v4.new_code_cell("1 + 1")]
            nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
            return notebook_rows({path: 10}, repeats, name=lambda path: path.name)
    budgets = {ROOT / name: seconds for name, seconds in BUDGETS.items()}
    notebook_rows(budgets, repeats, name=lambda path: path.relative_to(ROOT).as_posix())


def notebook_rows(budgets, repeats, name):
    """The notebooks' table: each run `repeats` times, against its budget in seconds."""
    print("\n| notebook (fresh kernel) | median | min-max | budget |\n|---|---:|---:|---:|")
    for path, budget in budgets.items():
        seconds = [notebook_seconds(path) for _ in range(repeats)]
        median = statistics.median(seconds)
        verdict = "" if median <= budget else " OVER"
        print(f"| {name(path)} | {median:.0f} s | {min(seconds):.1f}-{max(seconds):.1f} | "
              f"{budget} s{verdict} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads, 1 or more (the scripts: 1)")
    parser.add_argument("--no-notebooks", action="store_true", help="the per-epoch tables only")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"argument --threads: must be 1 or more; got {args.threads}")
    X, _, y, _ = mlp.load_data()
    epochs, repeats = (3, 1) if args.quick else (200, 7)
    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}, "
          f"{args.threads} BLAS thread(s); {len(X)} training images")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        per_epoch_table("MLP 64-32-10", mlp, 32, epochs, repeats, X, y)
        per_epoch_table("SLP 64-10", slp, None, epochs, repeats, X, y)
    if not args.no_notebooks:
        notebooks_table(args.quick, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
