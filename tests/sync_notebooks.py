"""Copy every function of the scripts into its notebook, then re-execute both notebooks in place.

The notebooks carry the scripts' functions verbatim, one function per code cell. After
changing a function in a script, run (from the repository's folder):

    .venv/bin/python tests/sync_notebooks.py                       # both notebooks
    .venv/bin/python tests/sync_notebooks.py np_mlp_digits.ipynb   # or just the ones named

Each notebook cell that defines exactly one of the script's functions (or classes) gets that
function's current source; every other cell (prose, checks, figures) is left as it is. Then
the notebook runs top to bottom in a fresh kernel and is saved with its outputs.
"""

import ast
import pathlib
import sys

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = {"np_slp_digits.py": "np_slp_digits.ipynb", "np_mlp_digits.py": "np_mlp_digits.ipynb"}


def script_definitions(path):
    """{name: source} for each top-level function and class of a Python file."""
    source = pathlib.Path(path).read_text(encoding="utf-8")
    return {node.name: ast.get_source_segment(source, node)
            for node in ast.parse(source).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def cell_definition(cell):
    """The name a code cell defines if the cell is one function or class and nothing else."""
    if cell.cell_type != "code":
        return None
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        return None
    if len(body) == 1 and isinstance(body[0], (ast.FunctionDef, ast.ClassDef)):
        return body[0].name
    return None


def sync(notebook, definitions):
    """Overwrite each function cell with the script's source; return the names changed."""
    changed = []
    for cell in notebook.cells:
        name = cell_definition(cell)
        if name in definitions and cell.source != definitions[name]:
            cell.source = definitions[name]
            changed.append(name)
    return changed


def execute(notebook, timeout=300, folder=ROOT):
    """Run every cell in order in a fresh python3 kernel, in `folder` (Jupyter starts a
    notebook in its own folder; the walkthroughs' is the repository's)."""
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            coalesce_streams=True,  # one output per cell and stream: stable diffs
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return notebook


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    unknown = set(names) - set(NOTEBOOKS.values())
    if unknown:
        print(f"error: not a walkthrough notebook: {', '.join(sorted(unknown))}; "
              f"expected any of {', '.join(NOTEBOOKS.values())}", file=sys.stderr)
        return 2
    for script, notebook_name in NOTEBOOKS.items():
        if names and notebook_name not in names:
            continue
        path = ROOT / notebook_name
        notebook = nbformat.read(path, as_version=4)
        changed = sync(notebook, script_definitions(ROOT / script))
        execute(notebook)
        nbformat.write(notebook, path)
        copied = ", ".join(changed) or "no function"
        print(f"{notebook_name}: {copied} copied from {script}; re-executed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
