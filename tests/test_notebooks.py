"""The notebooks: the scripts' own code, runnable from a fresh kernel, committed with current
outputs."""

import ast
import copy
import re
import socket

import nbformat
import pytest
from conftest import ROOT, default_run
from sync_notebooks import NOTEBOOKS, execute, script_definitions

# How long a fresh run takes is measured in benchmarks/bench.py, never asserted here: a busy
# machine is not a bug.
SIZE_LIMIT_BYTES = 2_000_000  # both notebooks together, figures included
PAIRS = [(script, notebook) for script, notebook in NOTEBOOKS.items()]


def notebook_definitions(notebook):
    """{name: [ast dump, ...]} of every top-level function and class the code cells define."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    found.setdefault(node.name, []).append(ast.dump(node))
    return found


def differences(script, notebook):
    """Names of the script's functions that the notebook lacks, repeats or defines differently."""
    in_notebook = notebook_definitions(notebook)
    wrong = []
    for name, source in script_definitions(ROOT / script).items():
        if name == "main":  # the command-line entry point need not be in the walkthrough
            continue
        expected = ast.dump(ast.parse(source).body[0])
        if in_notebook.get(name) != [expected]:
            wrong.append(name)
    return wrong


def output_texts(notebook):
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                yield output.text
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/"):
                    yield value


def result_lines(notebook):
    """The lines that carry our results: epoch lines, accuracies and tables (all contain a %).

    Rows of scikit-learn's own classifiers are left out: its solvers change between releases
    (LogisticRegression scores one image differently in 1.2 than in 1.9), while every number
    the from-scratch code prints is the same from NumPy 1.24 to 2.5.
    """
    return [line for text in output_texts(notebook) for line in text.splitlines()
            if "%" in line and not line.startswith("scikit-learn ")]


@pytest.fixture(scope="module")
def committed():
    return {notebook: nbformat.read(ROOT / notebook, as_version=4)
            for notebook in NOTEBOOKS.values()}


@pytest.fixture(scope="module")
def fresh(committed):
    """Each notebook executed from a fresh kernel."""
    return {name: execute(copy.deepcopy(notebook)) for name, notebook in committed.items()}


@pytest.mark.parametrize("script, notebook", PAIRS)
def test_notebook_has_every_script_function_verbatim(script, notebook, committed):
    assert differences(script, committed[notebook]) == []


def test_the_identity_check_fails_when_a_function_is_edited_in_one_place(committed):
    notebook = copy.deepcopy(committed["np_mlp_digits.ipynb"])
    for cell in notebook.cells:
        if cell.source.startswith("def backward("):
            cell.source = cell.source.replace("dZ1 = dA1 * mask", "dZ1 = dA1")
        if cell.source.startswith("def one_hot("):
            cell.cell_type = "markdown"  # the function is no longer defined
    assert differences("np_mlp_digits.py", notebook) == ["one_hot", "backward"]
    # a comment or a blank line is not a difference in code
    notebook = copy.deepcopy(committed["np_slp_digits.ipynb"])
    for cell in notebook.cells:
        if cell.source.startswith("def softmax("):
            cell.source = cell.source.replace("    return", "    # a remark\n\n    return")
    assert differences("np_slp_digits.py", notebook) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS.values())
def test_notebook_runs_top_to_bottom_from_a_fresh_kernel(notebook, fresh):
    errors = [o for cell in fresh[notebook].cells for o in cell.get("outputs", [])
              if o.output_type == "error"]
    assert errors == []


@pytest.mark.parametrize("notebook", NOTEBOOKS.values())
def test_committed_results_are_what_a_fresh_run_prints(notebook, committed, fresh):
    committed_lines = result_lines(committed[notebook])
    assert any(line.startswith("epoch 1000 |") for line in committed_lines)
    assert committed_lines == result_lines(fresh[notebook])


@pytest.mark.parametrize("script, notebook", PAIRS)
def test_notebook_training_prints_the_same_lines_as_the_script(script, notebook, committed):
    import np_mlp_digits
    import np_slp_digits

    module = np_slp_digits if script.startswith("np_slp") else np_mlp_digits
    _, history = default_run(module)
    epoch_lines = [line for line in result_lines(committed[notebook]) if line.startswith("epoch ")]
    assert epoch_lines == [module.format_record(record) for record in history]


@pytest.mark.parametrize("notebook", NOTEBOOKS.values())
def test_committed_notebook_is_clean(notebook, committed):
    nb = committed[notebook]
    assert nb.metadata.kernelspec.name == "python3"
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    outputs = [o for cell in code_cells for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, "warnings in outputs"
    text = "\n".join(output_texts(nb))
    local_path = r"/(home|root|tmp|Users|usr)/|[A-Za-z]:\\"
    assert not re.search(local_path, text), "a local path in an output"
    assert socket.gethostname() not in text
    images = [kind for o in outputs for kind in o.get("data", {}) if kind.startswith("image/")]
    assert images and set(images) == {"image/png"}


def test_notebooks_are_small():
    sizes = [(ROOT / notebook).stat().st_size for notebook in NOTEBOOKS.values()]
    assert sum(sizes) < SIZE_LIMIT_BYTES


@pytest.mark.parametrize("notebook", NOTEBOOKS.values())
def test_every_gradient_check_in_the_notebooks_passes(notebook, committed):
    # How many checks each notebook must print is in its own test file (test_*_walkthrough.py).
    checks = gradient_check_lines(committed[notebook])
    assert checks
    for line in checks:
        error = float(re.search(r"relative error ([0-9.e+-]+)", line).group(1))
        assert error <= 1e-6, line


def all_lines(notebook):
    return [line for text in output_texts(notebook) for line in text.splitlines()]


def gradient_check_lines(notebook):
    return [line for line in all_lines(notebook) if "gradient check" in line]
