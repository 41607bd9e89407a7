"""Every notebook that teaches (the two lessons and the labs) runs from a fresh kernel, shows
what a fresh run shows, and is committed clean; the lessons hold the scripts' teaching
functions as they are in the scripts, and no command-line or argument plumbing."""

import ast
import copy
import re
import socket
import subprocess
import sys

import nbformat
import pytest
from conftest import (LESSONS, ROOT, TEACHING, code_cells, lines, output_differences, printed,
                      read, text_differences)
from tools.sync_notebooks import PLUMBING, script_definitions

FIGURE_MAKERS = {"plt.subplots", "plt.figure", "plt.subplot_mosaic"}
# Labs that use the scripts' backward as it is, and so have no new gradient to check
NO_NEW_GRADIENT = {"labs/own_handwriting.ipynb", "labs/how_good.ipynb",
                   "labs/learning_rate_and_batches.ipynb", "labs/what_training_changes.ipynb"}


def defined_functions(notebook):
    """{name: [ast dump, ...]} of every top-level function and class the code cells define."""
    found = {}
    for cell in code_cells(notebook):
        for node in ast.parse(cell.source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                found.setdefault(node.name, []).append(ast.dump(node))
    return found


def differences(script, notebook):
    """The script's teaching functions that the notebook lacks, repeats or defines otherwise,
    and the plumbing it defines although it should not."""
    in_notebook = defined_functions(notebook)
    wrong = [name for name in PLUMBING if name in in_notebook]
    for name, source in script_definitions(ROOT / script).items():
        if name not in PLUMBING and in_notebook.get(name) != [ast.dump(ast.parse(source).body[0])]:
            wrong.append(name)
    return wrong


@pytest.mark.parametrize("script, notebook", LESSONS.items())
def test_a_lesson_holds_the_scripts_teaching_functions_and_no_plumbing(script, notebook):
    assert differences(script, read(notebook)) == []


def test_the_comparison_catches_an_edited_function_a_missing_one_and_plumbing():
    notebook = read("np_mlp_digits.ipynb")
    for cell in code_cells(notebook):
        if cell.source.startswith("def backward("):
            cell.source = cell.source.replace("dZ1 = dA1 * mask", "dZ1 = dA1")
        if cell.source.startswith("def one_hot("):
            cell.cell_type = "markdown"
    notebook.cells.append(copy.deepcopy(code_cells(notebook)[-1]))
    notebook.cells[-1].source = "def check_X(X):\n    return X"
    assert sorted(differences("np_mlp_digits.py", notebook)) == ["backward", "check_X", "one_hot"]


@pytest.mark.parametrize("name", TEACHING)
def test_a_notebook_runs_from_a_fresh_kernel_without_errors_or_warnings(name, fresh):
    outputs = [output for cell in code_cells(fresh(name)) for output in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"] == []


@pytest.mark.parametrize("name", TEACHING)
def test_committed_outputs_are_what_a_fresh_run_prints(name, fresh):
    committed = read(name)
    assert len(code_cells(committed)) == len(code_cells(fresh(name)))
    assert output_differences(committed, fresh(name)) == []


def test_a_notebook_run_and_saved_in_jupyter_is_read_as_committed(tmp_path):
    # As JupyterLab saves a notebook a student ran: new outputs, counts and metadata. (The lab
    # as committed: the student may have run this very notebook before running the tests.)
    nbformat.write(read("labs/how_good.ipynb"), tmp_path / "lab.ipynb")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    for command in (["init", "-q"], ["add", "lab.ipynb"], ["commit", "-qm", "lab"]):
        subprocess.run(git + command, check=True)
    saved = nbformat.read(tmp_path / "lab.ipynb", as_version=4)
    for cell in code_cells(saved):
        cell.execution_count, cell.outputs = 41, []
    saved.metadata.language_info.version = "3.99.0"
    nbformat.write(saved, tmp_path / "lab.ipynb")
    committed = read("lab.ipynb", root=tmp_path)
    assert [cell.execution_count for cell in code_cells(committed)][:2] == [1, 2]
    # A change to the code is what a maintainer is testing: the working copy is read.
    saved.cells[-1].source += "\n# changed"
    nbformat.write(saved, tmp_path / "lab.ipynb")
    assert read("lab.ipynb", root=tmp_path).cells[-1].source.endswith("# changed")


def test_the_output_comparison_forgives_last_digits_and_nothing_more():
    # What another CPU may print differently: a last digit rounded the other way, round-off
    assert text_differences("loss 0.2345 | 96.1% | error 1.3e-10", "loss 0.2346 | 96.1% | "
                            "error 1.1e-10") == []
    # What a real change prints: one image more or less, a count, a loss moved, text
    for changed in ["loss 0.2345 | 96.4% | error 1.3e-10", "loss 0.2347 | 96.1% | error 1.3e-10",
                    "loss 0.2345 | 96.1% | error 1.3e-03", "loss 0.2345 | 96.1% | errors 1.3e-10"]:
        assert text_differences("loss 0.2345 | 96.1% | error 1.3e-10", changed) != [], changed
    assert text_differences("7 of 360 differ", "8 of 360 differ") != []
    assert text_differences("a\nb", "a") != []


@pytest.mark.parametrize("name", TEACHING)
def test_a_committed_notebook_is_clean(name):
    notebook = read(name)
    cells = code_cells(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    text = "\n".join(printed(cell) for cell in cells)
    assert not re.search(r"/(home|root|tmp|Users|work)/|[A-Za-z]:\\", text), "a local path"
    assert socket.gethostname() not in text
    images = {kind for cell in cells for o in cell.outputs for kind in o.get("data", {})
              if kind.startswith("image/")}
    assert images <= {"image/png"}


@pytest.mark.parametrize("name", TEACHING)
def test_every_gradient_check_printed_passes(name):
    # (a planted bug's line does not start so: that check is meant to fail)
    checks = [line for line in lines(read(name)) if line.startswith("gradient check")]
    assert checks or name in NO_NEW_GRADIENT
    for line in checks:
        error = float(re.search(r"relative error:? ([0-9.e+-]+)", line).group(1))
        assert error <= 1e-6, line  # float64 central differences: ~1e-9 when right


@pytest.mark.parametrize("name", TEACHING)
def test_every_figure_lays_itself_out(name):
    # The notebooks switch off Jupyter's crop (bbox_inches=None), which would draw every
    # figure twice; a figure that does not lay itself out could then lose its labels.
    sources = [cell.source for cell in code_cells(read(name))]
    if any("plt." in source for source in sources):
        assert any('set_matplotlib_formats("png", bbox_inches=None)' in s for s in sources)
    calls = [node for source in sources for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and ast.unparse(node.func) in FIGURE_MAKERS]
    unlaid = [ast.unparse(call) for call in calls
              if not any(keyword.arg == "layout" and ast.unparse(keyword.value) == "'constrained'"
                         for keyword in call.keywords)]
    assert unlaid == []


def test_the_sync_tool_helps_and_refuses_what_is_not_a_notebook():
    def sync(*args):
        return subprocess.run([sys.executable, "-m", "tools.sync_notebooks", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert sync("--help").stdout.startswith("usage:")
    refused = sync("README.md")
    assert (refused.returncode, refused.stderr) == (
        1, "error: README.md is not a notebook in this repository\n")
