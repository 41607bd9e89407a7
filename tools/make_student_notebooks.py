"""Make the student exercise notebooks from the solution notebooks, with one command.

Run from the repository's folder:

    .venv/bin/python -m tools.make_student_notebooks            # write exercises/*_exercises.ipynb
    .venv/bin/python -m tools.make_student_notebooks --execute  # re-run the solutions first
    .venv/bin/python -m tools.make_student_notebooks --check    # only report if they are current

The solution notebooks in exercises/solutions/ are the single source; the student notebooks
in exercises/ are made from them and never edited by hand (a test compares the two).
Cells whose nbgrader metadata marks them as solution cells change; every other cell is copied:

- in a code cell, each block from `### BEGIN SOLUTION` to `### END SOLUTION` (nbgrader's
  markers) is replaced, at the block's indentation, by
  `raise NotImplementedError("Exercise N: <title>")` inside a function, or by a comment at the
  top level of a cell, where a raise would stop "Run All" (a cell that asks for a number sets
  it to None before the block, so its check says "not done yet");
- a markdown solution cell (a written explanation) becomes an empty answer box.

N and the title come from the cell's exercise heading, "## Exercise N: <title>". Outputs and
execution counts are cleared: a student starts from a clean notebook, and the checks of an
unfinished notebook would only print "not done yet".
"""

import argparse
import pathlib
import re
import sys

import nbformat

from tools.notebooks import execute_all

EXERCISES = pathlib.Path(__file__).resolve().parent.parent / "exercises"
NOTEBOOKS = ["slp_exercises.ipynb", "mlp_exercises.ipynb"]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADING = re.compile(r"^#+ Exercise (\d+): (.+)$", re.MULTILINE)


def is_solution(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("solution", False)


def stub(source, number, title):
    """source with each solution block replaced by a stub at the block's indentation."""
    lines, out, inside = source.split("\n"), [], False
    for line in lines:
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"Exercise {number}: {BEGIN} inside a solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if indent:
                out.append(f'{indent}raise NotImplementedError("Exercise {number}: {title}")')
            elif any(re.match(r"\w+ = None  # Exercise", previous) for previous in out):
                out.append(f"# Exercise {number}: your working here, if any; then put your "
                           f"answer in the line above")
            else:
                out.append(f"# Exercise {number}: your code here (see the task above)")
        elif marker == END:
            if not inside:
                raise ValueError(f"Exercise {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"Exercise {number}: {BEGIN} without {END}")
    return "\n".join(out)


def student_version(solution):
    """A copy of the solution notebook with the solutions taken out and the outputs cleared."""
    notebook = nbformat.from_dict(solution)  # a deep copy
    exercise = None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = HEADING.search(cell.source)
            if heading:
                exercise = int(heading.group(1)), heading.group(2).strip()
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if not is_solution(cell):
            if BEGIN in cell.source or END in cell.source:
                raise ValueError(f"cell {cell.get('id')}: solution markers in a cell that "
                                 f"nbgrader's metadata does not mark as a solution cell")
            continue
        if exercise is None:
            raise ValueError(f"cell {cell.get('id')}: a solution cell before any exercise heading")
        number, title = exercise
        if cell.cell_type == "markdown":
            cell.source = (f"**Your explanation (Exercise {number}):** "
                           f"*double-click this cell and write it here.*")
        elif BEGIN not in cell.source:
            raise ValueError(f"Exercise {number}: a solution code cell without {BEGIN}")
        else:
            cell.source = stub(cell.source, number, title)
    return notebook


def notebook_text(notebook):
    """The notebook's file contents, exactly as nbformat.write saves it."""
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make the student exercise notebooks from "
                                     "the solution notebooks in exercises/solutions/.")
    parser.add_argument("--execute", action="store_true",
                        help="re-run the solution notebooks in place first (a few seconds each)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit with status 1 if a student notebook is stale")
    args = parser.parse_args(argv)
    solutions = {name: nbformat.read(EXERCISES / "solutions" / name, as_version=4)
                 for name in NOTEBOOKS}
    if args.execute and not args.check:
        execute_all([(solutions[name], EXERCISES / "solutions") for name in NOTEBOOKS])
        for name in NOTEBOOKS:
            nbformat.write(solutions[name], EXERCISES / "solutions" / name)
            print(f"solutions/{name}: re-executed")
    stale = []
    for name in NOTEBOOKS:
        student_path = EXERCISES / name
        text = notebook_text(student_version(solutions[name]))
        current = student_path.read_text(encoding="utf-8") if student_path.exists() else None
        if args.check:
            if text != current:
                stale.append(name)
        elif text != current:
            student_path.write_text(text, encoding="utf-8")
            print(f"{name}: written from solutions/{name}")
        else:
            print(f"{name}: already current")
    if stale:
        print(f"not made from the current solutions: {', '.join(stale)}; run "
              ".venv/bin/python -m tools.make_student_notebooks", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
