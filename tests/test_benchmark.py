"""The benchmark still runs (a smoke test: timings depend on the machine; none is asserted)."""

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT

SECTIONS = ["machine", "per epoch, MLP 64-32-10", "per epoch, SLP 64-10",
            "BLAS threads: per epoch, MLP", "scaling with data tiled", "scaling with hidden units",
            "end to end: wall time", "notebooks: a fresh run"]


@pytest.fixture(scope="module")
def quick_run():
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_quick_benchmark_runs_every_section(quick_run):
    assert quick_run.returncode == 0, quick_run.stderr
    assert "Warning" not in quick_run.stderr and "Traceback" not in quick_run.stderr
    for section in SECTIONS:
        assert section in quick_run.stdout, section
    # every timed row has a median and a min-max; the comparisons have a ratio to ours
    rows = [line for line in quick_run.stdout.splitlines()
            if re.search(r"\d (us|s) +[\d.]+-[\d.]+", line)]
    assert len(rows) >= 15
    assert re.search(r"scikit-learn MLPClassifier .* [\d.]+x$", quick_run.stdout, re.M)
    assert "per doubling" in quick_run.stdout
    verdict = r"one-cell notebook: [\d.]+ s, (within|OVER) its budget of 10 s"
    assert re.search(verdict, quick_run.stdout)


def test_the_benchmark_readme_rows_are_rows_the_benchmark_prints(quick_run):
    # benchmarks/README.md's tables are pasted from a full run: their timings are that
    # machine's, but their rows must still be ones the benchmark prints.
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert "benchmarks/bench.py" in text
    for label in ["MLP 64-32-10: ours (train)", "MLP 64-32-10: scikit-learn MLPClassifier",
                  "MLP 64-32-10: matrix products alone (floor)", "SLP 64-10: ours (train)",
                  "MLP ours, other core busy, 1 BLAS thread", "python np_mlp_digits.py"]:
        assert label in text and label in quick_run.stdout, label


def test_the_readme_points_to_the_benchmark_and_quotes_its_notebook_times():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Performance", 1)[1].split("\n## ", 1)[0]
    assert "benchmarks/README.md" in section
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for notebook in ["np_slp_digits.ipynb", "np_mlp_digits.ipynb"]:
        row = re.search(rf"^\| {re.escape(notebook)} \| (\d+) s \|", bench, re.M)
        assert row, f"benchmarks/README.md has no row for {notebook}"
        assert f"`{notebook}` takes about {row.group(1)} s" in " ".join(readme.split())


def test_each_walkthrough_quotes_its_own_measured_run_time():
    # A teacher reads the time in the notebook's first cell: it is the benchmark's median.
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for notebook in ["np_slp_digits.ipynb", "np_mlp_digits.ipynb"]:
        median = re.search(rf"^\| {re.escape(notebook)} \| (\d+) s \|", bench, re.M).group(1)
        quoted = f"about {median} seconds"  # text to find, not a time to measure
        first_cell = "".join(json.loads((ROOT / notebook).read_text(encoding="utf-8"))
                             ["cells"][0]["source"])
        assert quoted in " ".join(first_cell.split()), notebook
