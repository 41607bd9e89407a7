"""Copy the scripts' teaching functions into their lessons, then re-execute the notebooks.

After changing a function in a script, run (from the repository's folder):

    .venv/bin/python -m tools.sync_notebooks                       # both lessons
    .venv/bin/python -m tools.sync_notebooks np_mlp_digits.ipynb   # or just the ones named
    .venv/bin/python -m tools.sync_notebooks labs/*.ipynb          # or re-execute labs

Each lesson cell that defines exactly one of the script's functions gets that function's
current source; every other cell (prose, checks, figures) is left as it is. The plumbing (the
argument checks and the command line) stays in the scripts: the notebooks import it. Then each
notebook runs top to bottom in a fresh kernel, in its own folder, and is saved with its outputs.
"""

import argparse
import ast
import pathlib
import sys

import nbformat

from tools.notebooks import execute

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = {"np_slp_digits.py": "np_slp_digits.ipynb",  # each script, and the lesson that
           "np_mlp_digits.py": "np_mlp_digits.ipynb"}  # teaches its functions
PLUMBING = ["check_settings", "check_X", "check_y", "check_model", "check_data", "advice",
            "add_flag", "main"]


def script_definitions(path):
    """{name: source} for each top-level function and class of a Python file."""
    source = pathlib.Path(path).read_text(encoding="utf-8")
    return {node.name: ast.get_source_segment(source, node) for node in ast.parse(source).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def sync(notebook, definitions):
    """Overwrite each one-function cell with the script's source; return the names changed."""
    changed = []
    for cell in notebook.cells:
        try:
            body = ast.parse(cell.source).body if cell.cell_type == "code" else []
        except SyntaxError:
            continue
        name = body[0].name if len(body) == 1 and isinstance(body[0], ast.FunctionDef) else None
        if name in definitions and name not in PLUMBING and cell.source != definitions[name]:
            cell.source = definitions[name]
            changed.append(name)
    return changed


def main(names):
    scripts = {notebook: script for script, notebook in LESSONS.items()}
    for name in names or scripts:
        path = ROOT / name
        if not path.is_file() or path.suffix != ".ipynb":
            sys.exit(f"error: {name} is not a notebook in this repository")
        notebook = nbformat.read(path, as_version=4)
        changed = []
        if name in scripts:
            changed = sync(notebook, script_definitions(ROOT / scripts[name]))
        execute(notebook, path.parent)
        nbformat.write(notebook, path)
        print(f"{name}: {', '.join(changed) or 'no function'} copied; re-executed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to sync and re-execute, as "
                        "paths from the repository's folder (default: both lessons)")
    main(parser.parse_args().notebooks)
