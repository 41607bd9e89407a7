"""What the tests share: both scripts as modules, the default runs, and notebook helpers."""

import ast
import functools
import math
import os
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest
from threadpoolctl import threadpool_limits

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "exercises")]  # the scripts and tools; the checks

import np_mlp_digits  # noqa: E402
import np_slp_digits  # noqa: E402
from tools.notebooks import execute_all as execute_notebooks  # noqa: E402
from tools.sync_notebooks import LESSONS  # noqa: E402

SCRIPTS = {"slp": np_slp_digits, "mlp": np_mlp_digits}
LABS = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "labs").glob("*.ipynb"))
TEACHING = list(LESSONS.values()) + LABS  # every notebook that teaches, run by the suite


# As a student's shell starts a program: output to a pipe or a file is buffered unless the
# program says otherwise (PYTHONUNBUFFERED, set in some environments, would hide that).
SHELL_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def make_params(module, n_features, n_classes, seed=42, n_hidden=32):
    """init_params for either script (the MLP's takes the hidden size as well)."""
    if module is np_mlp_digits:
        return module.init_params(n_features, n_hidden, n_classes, seed=seed)
    return module.init_params(n_features, n_classes, seed=seed)


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread for the whole suite, as the scripts run: a bit slower on an idle machine,
    several times faster on a busy one, and every run in the suite computes the same bits."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(params=sorted(SCRIPTS), ids=sorted(SCRIPTS))
def model(request):
    """Each test that takes `model` runs once for the SLP and once for the MLP."""
    return SCRIPTS[request.param]


@pytest.fixture(scope="session")
def digits():
    """The default split: X_train, X_test, y_train, y_test (identical in both scripts)."""
    return np_slp_digits.load_data()


@functools.lru_cache(maxsize=None)
def default_run(module, test_size=0.2):
    """(params, history) of `module`'s train with its defaults on load_data(test_size), run once.
    Callers must not modify the result."""
    X_train, X_test, y_train, y_test = module.load_data(test_size=test_size)
    return module.train(X_train, y_train, X_test, y_test, verbose=False)


# --- notebooks ------------------------------------------------------------------------------
#
# The tests read the notebooks as committed, and run them from a fresh kernel. A student who
# opens a notebook in Jupyter, runs it and saves it rewrites its outputs, execution counts and
# metadata but not its cells' sources: the tests then read git's committed copy, so the suite
# stays green. A working copy whose sources differ from git's (a change being made) is read as
# it is. The exercise notebooks students write in are always read from git.

STUDENT_NOTEBOOKS = {"exercises/slp_exercises.ipynb", "exercises/mlp_exercises.ipynb"}


@functools.lru_cache(maxsize=None)
def in_git(name, root=ROOT):
    """The committed text of file `name`, or None outside a git checkout (a downloaded zip)."""
    try:
        shown = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=root, capture_output=True,
                               timeout=60)
    except OSError:  # no git
        return None
    return shown.stdout.decode("utf-8") if shown.returncode == 0 else None


def sources(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def read(name, root=ROOT):
    """The notebook `name` (a path from the repository's folder) as committed; see above."""
    working = nbformat.read(root / name, as_version=4)
    text = in_git(name, root)
    if text is None:
        return working
    committed = nbformat.reads(text, as_version=4)
    if name in STUDENT_NOTEBOOKS or sources(committed) == sources(working):
        return committed
    return working


def pytest_collection_finish(session):
    """Note which notebooks the selected tests run fresh, so that the first to ask runs them
    all, two kernels at a time: a test file run alone runs only its own notebooks."""
    for item in session.items:
        if "fresh" in item.fixturenames:
            named = getattr(item, "callspec", None) and item.callspec.params.get("name")
            FRESH_WANTED.update(notebooks_of(item.module) or [named])


FRESH_WANTED = set()
FRESH_RUNS = {}


def notebooks_of(module):
    """The notebooks a test module is about: its NOTEBOOK, or its list NOTEBOOKS."""
    return [module.NOTEBOOK] if hasattr(module, "NOTEBOOK") else getattr(module, "NOTEBOOKS", [])


@pytest.fixture(scope="module")
def notebook(request):
    """The test module's NOTEBOOK, as committed (see read)."""
    return read(request.module.NOTEBOOK)


@pytest.fixture(scope="session")
def fresh():
    """fresh(name): the notebook `name` run top to bottom from a fresh kernel in its own folder,
    once per session. A test module that uses it names its notebooks in NOTEBOOK or NOTEBOOKS
    (or its tests take a parameter `name`)."""
    def run(name):
        if name not in FRESH_RUNS:
            names = sorted((FRESH_WANTED | {name}) - set(FRESH_RUNS))
            notebooks = execute_notebooks([(read(each), (ROOT / each).parent) for each in names])
            FRESH_RUNS.update(zip(names, notebooks))
        return FRESH_RUNS[name]
    return run


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(cell):
    """What a code cell showed as text: its printed streams and its text results."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "text/plain" in output.get("data", {}) and "image/png" not in output["data"]:
            parts.append(output["data"]["text/plain"])
    return "".join(parts)


def lines(notebook):
    """Every line of text that the notebook's code cells show, in order."""
    return [line for cell in code_cells(notebook) for line in printed(cell).splitlines()]


def prose(notebook):
    """The notebook's markdown, as one string."""
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def numbers(text):
    """Every number in `text`, in order, as floats."""
    return [float(x) for x in re.findall(r"-?\d+\.\d+|-?\d+", text)]


def flat(text):
    """Text with every run of white space as one space: line breaks in prose do not matter."""
    return " ".join(text.split())


def told(notebook):
    """The notebook's prose, flat."""
    return flat(prose(notebook))


def cell_printing(notebook, text):
    """The printed text of the one code cell whose output contains `text`."""
    found = [printed(cell) for cell in code_cells(notebook) if text in printed(cell)]
    assert len(found) == 1, f"{len(found)} cells print {text!r}"
    return found[0]


def printed_line(notebook, start):
    """The one printed line that starts with `start`."""
    found = [line for line in lines(notebook) if line.startswith(start)]
    assert len(found) == 1, f"{len(found)} printed lines start with {start!r}"
    return found[0]


def both_say(notebook, *texts):
    """Each text is printed by a code cell and quoted in the prose."""
    shown = "\n".join(lines(notebook))
    for text in texts:
        assert text in shown, f"{text!r} is not printed"
        assert text in told(notebook), f"{text!r} is not in the prose"


def defined(notebook, namespace, *names):
    """Run the notebook's own top-level definitions of `names` (every function it defines if
    none are named), and nothing else, in `namespace`: a dict of what they use. Returns it."""
    for cell in code_cells(notebook):
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and (not names or node.name in names):
                exec(ast.unparse(node), namespace)  # noqa: S102 (the repository's own code)
    return namespace


NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def numbers_agree(a, b):
    """Two printed numbers agree if they differ by at most one unit in the last printed place.

    NumPy and OpenBLAS take different code paths on different CPUs (AVX2, AVX-512), so the
    last bits of a float differ between machines and a printed last digit can round the other
    way. Values below 1e-6 in size (a gradient check's relative error, round-off itself) agree
    with each other whatever their digits. Whole numbers (counts, labels, epochs) must be equal:
    they are exactly determined, and one image more or less is a real change. A diverging loss
    multiplies those last-bit differences at every step, so other numbers of 1e6 and more need
    only agree within a factor of 10.
    """
    if a == b:
        return True
    x, y = float(a), float(b)
    if abs(x) < 1e-6 and abs(y) < 1e-6:
        return True
    if NUMBER.fullmatch(a) and "." not in a and "e" not in a.lower():
        return False  # a whole number
    if max(abs(x), abs(y)) >= 1e6:
        return x * y > 0 and abs(math.log10(x / y)) <= 1
    mantissa = a.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(a.lower().split("e")[1]) if "e" in a.lower() else 0
    return abs(x - y) <= 1.01 * 10.0 ** (exponent - decimals)


def text_differences(committed, fresh):
    """The lines of two printed texts that differ by more than last-digit rounding."""
    a, b = committed.splitlines(), fresh.splitlines()
    if len(a) != len(b):
        return [f"{len(a)} lines committed, {len(b)} printed now"]
    wrong = []
    for line_a, line_b in zip(a, b):
        numbers_a, numbers_b = NUMBER.findall(line_a), NUMBER.findall(line_b)
        if (NUMBER.split(line_a) != NUMBER.split(line_b) or len(numbers_a) != len(numbers_b)
                or not all(map(numbers_agree, numbers_a, numbers_b))):
            wrong.append(f"committed: {line_a!r}\n     now: {line_b!r}")
    return wrong


def output_differences(committed, fresh):
    """Every code cell's printed text, committed against fresh, compared as text_differences."""
    return [difference for old, new in zip(code_cells(committed), code_cells(fresh))
            for difference in text_differences(printed(old), printed(new))]
