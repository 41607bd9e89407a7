"""Grade the exercise set with nbgrader, as a teacher would, and print the scores.

Run from the repository's folder, in an environment with nbgrader installed (it is not among
the requirements: nbgrader 0.9 needs IPython 8.10 or later, which the oldest ipykernel the
tests pin does not allow):

    .venv/bin/python -m tools.grade_with_nbgrader

In a temporary course folder it copies the solution notebooks and every file the checks need
into source/exercises/ (nbgrader's layout: all in one folder), runs `nbgrader
generate_assignment`, then `nbgrader autograde` on three students' submissions:

- solutions:  the solution notebooks;
- untouched:  the notebooks nbgrader released, handed back as they were;
- delegating: the solutions, with the answers to the exercises that the scripts could answer
              replaced by calls to the scripts (DELEGATING below).

It prints each student's autograded points per notebook and the checks that scored 0. (The
three written explanations are graded by hand: they are not in these points.)
"""

import argparse
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ["slp_exercises.ipynb", "mlp_exercises.ipynb"]
FILES = ["exercises/checks.py", "exercises/verdicts.py", "np_slp_digits.py", "np_mlp_digits.py",
         "gradient_check.py", "compare_models.py"]
DELEGATING = {  # a solution cell's grade_id: an answer that calls the script instead
    "ex02-code": "def softmax_t(logits, T):\n    return slp.softmax(logits / T)",
    "ex03-code": "def cross_entropy(logits, y):\n"
                 "    return float(-np.mean(slp.log_softmax(logits)[np.arange(len(y)), y]))",
    "ex04-code": "def backward_labels(params, cache, y, weight_decay=0.0):\n"
                 "    return slp.backward(params, cache, slp.one_hot(y, 10), weight_decay)",
    "ex08-code": "def backward(params, cache, Y, weight_decay=0.0):\n"
                 "    return mlp.backward(params, {**cache, 'mask': cache['A1'] > 0}, Y, "
                 "weight_decay)",
    "ex13-code": "import math\n\nfrom compare_models import paired_comparison\n\n\n"
                 "def paired_counts(pred_a, pred_b, y):\n"
                 "    return paired_comparison(y, pred_a, pred_b)",
}
ENV = {**os.environ, "PATH": os.pathsep.join(  # nbgrader runs alembic, from this Python's
    [os.path.dirname(sys.executable), os.environ.get("PATH", "")])}  # environment
CONFIG = """c = get_config()
c.CourseDirectory.course_id = "digits"
c.Execute.timeout = 600  # seconds per cell: generous, for a busy machine
"""


def nbgrader(course, *args):
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                         capture_output=True, text=True, timeout=1800, env=ENV)
    if run.returncode:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")


def delegating(notebook):
    """The notebook with the DELEGATING answers in place of the solutions."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in DELEGATING:
            cell.source = DELEGATING[grade_id]
    return notebook


def grade(course):
    """{student: {notebook: (points, out of, [check cells that scored 0])}} for the three
    students, graded in the course folder `course` (made here)."""
    from nbgrader.api import Gradebook

    os.environ["PATH"] = ENV["PATH"]  # the gradebook runs alembic too
    source = course / "source" / "exercises"
    source.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    solutions = {}
    for name in NOTEBOOKS:
        solutions[name] = nbformat.read(ROOT / "exercises" / "solutions" / name, as_version=4)
        nbformat.write(solutions[name], source / name)
    for name in FILES:
        shutil.copy(ROOT / name, source)
    nbgrader(course, "generate_assignment", "exercises", "--force")
    released = {name: nbformat.read(course / "release" / "exercises" / name, as_version=4)
                for name in NOTEBOOKS}
    students = {"solutions": solutions, "untouched": released,
                "delegating": {name: delegating(nb) for name, nb in solutions.items()}}
    for student, notebooks in students.items():
        folder = course / "submitted" / student / "exercises"
        folder.mkdir(parents=True)
        for name, notebook in notebooks.items():
            nbformat.write(notebook, folder / name)
    nbgrader(course, "autograde", "exercises", "--force")
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in students:
            scores[student] = {}
            for name in NOTEBOOKS:
                notebook = gradebook.find_submission_notebook(name[:-len(".ipynb")],
                                                              "exercises", student)
                zero = sorted(grade.name for grade in notebook.grades
                              if grade.cell_type == "code" and grade.score == 0)
                scores[student][name] = (notebook.code_score, notebook.max_code_score, zero)
    return scores


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    if importlib.util.find_spec("nbgrader") is None:
        sys.exit("error: nbgrader is not installed here; install it with "
                 "`.venv/bin/pip install nbgrader` (exercises/README.md says why it is not "
                 "among the requirements)")
    with tempfile.TemporaryDirectory() as folder:
        scores = grade(pathlib.Path(folder))
    for student, notebooks in scores.items():
        for name, (points, out_of, zero) in notebooks.items():
            print(f"{student:<11} {name:<20} {points:g} of {out_of:g} points"
                  + (f"; 0 for {', '.join(zero)}" if zero and points else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
