"""The exercise notebooks: every check passes the solutions and says "not done yet" to the
untouched skeletons; the notebooks, the checks and the README's table name the same exercises
in the same order; no solution is printed in a lesson; the student notebooks are exactly what
tools/make_student_notebooks.py makes. (The checks themselves: test_exercise_checks.py.)"""

import ast
import functools
import re
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, flat, in_git, read, text_differences

import checks
import tools.make_student_notebooks as maker
import verdicts

EXERCISES = ROOT / "exercises"
NAMES = maker.NOTEBOOKS
NOTEBOOKS = [f"exercises/{folder}{name}" for name in NAMES for folder in ("solutions/", "")]
CHECKS = {name: re.findall(r"^checks\.(\w+)\(", "\n".join(
    cell.source for cell in read(f"exercises/solutions/{name}").cells), re.MULTILINE)
    for name in NAMES}  # the checks each notebook calls, in order
NUMBERS = {name: [getattr(checks, check).exercise.number for check in CHECKS[name]]
           for name in NAMES}
LESSON_OF = {"slp_exercises.ipynb": "np_slp_digits.ipynb",
                "mlp_exercises.ipynb": "np_mlp_digits.ipynb"}
VERDICT = re.compile(r"^Exercise (\d+) \([^)]+\): (correct\.|not done yet|not right yet\.)")
GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")  # nbgrader's pattern for grade_id


@pytest.fixture(scope="module")
def solutions():
    return {name: read(f"exercises/solutions/{name}") for name in NAMES}


@pytest.fixture(scope="module")
def students():
    return {name: read(f"exercises/{name}") for name in NAMES}


def stream_text(cell, name="stdout"):
    return "".join(o.text for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == name)


def verdict_lines(notebook):
    """{exercise number: verdict} from each check cell's one line of output."""
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.startswith("checks."):
            lines = stream_text(cell).splitlines()
            assert len(lines) == 1, f"{cell.source}: expected one line, got {lines}"
            match = VERDICT.match(lines[0])
            assert match, lines[0]
            found[int(match.group(1))] = match.group(2)
    return found


def errors_and_warnings(notebook):
    return [o for cell in notebook.cells for o in cell.get("outputs", [])
            if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]


# --- the notebooks, run as a class would run them ---------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_check_passes_on_the_solutions_run_fresh(name, fresh):
    notebook = fresh(f"exercises/solutions/{name}")
    assert errors_and_warnings(notebook) == []
    assert verdict_lines(notebook) == {number: "correct." for number in NUMBERS[name]}


@pytest.mark.parametrize("name", NAMES)
def test_student_notebooks_as_shipped_say_not_done_yet_and_raise_nothing(name, fresh):
    notebook = fresh(f"exercises/{name}")
    assert errors_and_warnings(notebook) == []
    assert verdict_lines(notebook) == {number: "not done yet" for number in NUMBERS[name]}


def printouts(notebook):
    return [stream_text(cell) for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_solutions_show_what_a_fresh_run_prints(name, solutions, fresh):
    pairs = list(zip(printouts(solutions[name]), printouts(fresh(f"exercises/solutions/{name}"))))
    assert len(pairs) == len(printouts(solutions[name]))
    assert [line for committed, now in pairs for line in text_differences(committed, now)] == []


def test_the_printout_comparison_tolerates_last_digits_and_catches_real_changes(solutions):
    text = "".join(printouts(solutions["mlp_exercises.ipynb"]))
    assert "2.6803 -> 0.01454" in text and "5.356e+37" in text
    last_digits = text.replace("0.01454", "0.01455").replace("5.356e+37", "5.9e+37")
    assert text_differences(text, last_digits) == []
    for real_change in [text.replace("2.6803 -> 0.01454", "2.6803 -> 0.01554"),
                        text.replace("5.356e+37", "5.356e+39"),
                        text.replace("train accuracy", "test accuracy")]:
        assert text_differences(text, real_change) != []


# --- no exercise is answered in its lesson ------------------------------------------


def statements(source):
    """Each statement list of the code (cell, bodies of defs and loops), normalised by ast."""
    tree = ast.parse(textwrap.dedent(source))
    return [[ast.unparse(node) for node in body]
            for holder in ast.walk(tree)
            for body in (getattr(holder, "body", None), getattr(holder, "orelse", None))
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt)]


def solution_blocks(notebook):
    for cell in notebook.cells:
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION",
                                cell.source, re.DOTALL):
            yield textwrap.dedent(block)


def printed_in(block, lesson_bodies):
    """True if the block's statements, in order, appear together in a lesson's code."""
    wanted = statements(block)[0]
    n = len(wanted)
    return any(body[i:i + n] == wanted for body in lesson_bodies
               for i in range(len(body) - n + 1))


@functools.lru_cache(maxsize=None)
def lesson_statements():
    return [body for name in NAMES for source in lesson_code(name)
            for body in statements(source)]


@functools.lru_cache(maxsize=None)
def lesson_code(name):
    notebook = read(LESSON_OF[name])
    return tuple(cell.source for cell in notebook.cells if cell.cell_type == "code"
                 and not cell.source.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_is_printed_in_a_lesson(name, solutions):
    cells = lesson_statements()
    blocks = list(solution_blocks(solutions[name]))
    assert len(blocks) >= len(NUMBERS[name])
    assert [block for block in blocks if printed_in(block, cells)] == []


def test_a_solution_copied_from_the_lesson_is_caught():
    cells = lesson_statements()
    backward_cell = next(source for source in lesson_code("mlp_exercises.ipynb")
                         if source.startswith("def backward("))
    body = ast.parse(backward_cell).body[0].body[1:]  # the function's statements, no docstring
    copied = "\n".join(ast.unparse(node) for node in body)
    assert printed_in(copied, cells)
    assert printed_in("# a comment and other spacing\n" + copied.replace(" = ", "="), cells)
    assert not printed_in(copied.replace("dA1 * mask", "dA1 * (A1 > 0.5)"), cells)


# --- the student notebooks are made from the solutions -----------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_committed_student_notebooks_are_what_the_generator_makes(name, solutions):
    made = maker.notebook_text(maker.student_version(solutions[name]))
    committed = in_git(f"exercises/{name}") or (EXERCISES / name).read_text(encoding="utf-8")
    assert made == committed, "run python -m tools.make_student_notebooks, and commit its output"


@pytest.mark.parametrize("name", NAMES)
def test_student_notebooks_hold_no_solution(name, solutions, students):
    for solution, student in zip(solutions[name].cells, students[name].cells):
        assert student.get("id") == solution.get("id")
        assert "SOLUTION" not in student.source
        if not maker.is_solution(solution):
            assert student.source == solution.source
        elif student.cell_type == "code":
            assert ('raise NotImplementedError("Exercise ' in student.source
                    or re.search(r"^\w+ = None  # Exercise \d+", student.source, re.MULTILINE))
        else:
            assert student.source.startswith("**Your explanation (Exercise ")


def test_the_generator_stubs_each_block_at_its_indentation():
    source = "x = None  # Exercise 3\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n" \
             "def f():\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return 1\n" \
             "    ### END SOLUTION"
    stubbed = maker.stub(source, 3, "A title")
    assert stubbed.splitlines() == [
        "x = None  # Exercise 3",
        "# Exercise 3: your working here, if any; then put your answer in the line above",
        "def f():", '    """Doc."""', '    raise NotImplementedError("Exercise 3: A title")']
    assert maker.stub("### BEGIN SOLUTION\nf(2)\n### END SOLUTION", 4, "T") == (
        "# Exercise 4: your code here (see the task above)")
    with pytest.raises(ValueError):
        maker.stub("### BEGIN SOLUTION\nx = 1", 3, "unclosed")


# --- what the notebooks hold ------------------------------------------------------------


def lesson_sections(notebook_name):
    notebook = read(notebook_name)
    return {re.sub(r"^\d+\.\s*", "", line.lstrip("#").strip())
            for cell in notebook.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")}


def test_the_notebooks_call_every_check_once_in_the_order_that_numbers_them():
    assert CHECKS[NAMES[0]] + CHECKS[NAMES[1]] == [ex.check for ex in verdicts.EXERCISES]


@pytest.mark.parametrize("name", NAMES)
def test_each_exercise_has_a_task_a_skeleton_and_a_check_naming_real_sections(name, solutions):
    cells, sections = solutions[name].cells, lesson_sections(LESSON_OF[name])
    headings = [(i, re.match(r"^## Exercise (\d+): (.+)", cell.source))
                for i, cell in enumerate(cells) if cell.cell_type == "markdown"]
    headings = [(i, match) for i, match in headings if match]
    assert [int(match.group(1)) for _, match in headings] == NUMBERS[name]
    for i, _ in headings:
        named = re.findall(r'\*\*"([^"]+)"\*\*', cells[i].source)
        labs = re.findall(r"`(labs/\w+\.ipynb)`", cells[i].source)
        assert (named or labs) and set(named) <= sections
        assert all((ROOT / lab).is_file() for lab in labs), labs
        skeleton, check = cells[i + 1], cells[i + 2]
        assert maker.is_solution(skeleton) and skeleton.cell_type == "code"
        assert re.fullmatch(r"checks\.\w+\(\w+(, \w+)*\)", check.source)
        assert check.metadata.nbgrader.grade and check.metadata.nbgrader.locked


@pytest.mark.parametrize("ex", verdicts.EXERCISES, ids=lambda ex: ex.check)
def test_every_hint_names_a_section_that_exists(ex):
    notebook, section = re.fullmatch(r'(\S+), section "([^"]+)"', ex.where).groups()
    assert section in lesson_sections(notebook)


def test_the_readme_table_lists_every_exercise_with_where_to_read():
    readme = (EXERCISES / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d) \| (\d+) \| ([^|]+) \| ([^|]+) \|$", readme, re.MULTILINE)
    assert [int(number) for _, number, _, _ in rows] == [ex.number for ex in verdicts.EXERCISES]
    for (lesson, _, _, where), ex in zip(rows, verdicts.EXERCISES):
        notebook, section = re.fullmatch(r'(\S+), section "([^"]+)"', ex.where).groups()
        assert section in where, (ex.number, where)
        assert notebook.startswith("labs/") == ("lab `" in where), (ex.number, where)
        assert int(lesson) == 1 + (ex.check in CHECKS[NAMES[1]])


@pytest.mark.parametrize("name", NAMES)
def test_cells_carry_nbgrader_metadata(name, solutions):
    ids = []
    for cell in solutions[name].cells:
        meta = cell.metadata.nbgrader
        assert meta.schema_version == 3
        assert {"grade", "solution", "locked", "grade_id"} <= set(meta)
        assert GRADE_ID.match(meta.grade_id)
        ids.append(meta.grade_id)
        if meta.grade:
            assert meta.points > 0
        if cell.cell_type == "markdown" and (meta.grade or meta.solution):
            assert meta.grade and meta.solution  # nbgrader's rule for written answers
        assert (maker.BEGIN in cell.source) == (meta.solution and cell.cell_type == "code")
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebooks_are_clean(name, solutions, students):
    solution, student = solutions[name], students[name]
    for notebook in (solution, student):
        assert notebook.metadata.kernelspec.name == "python3"
        assert errors_and_warnings(notebook) == []
    code = [cell for cell in solution.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    text = "\n".join(stream_text(cell) for cell in code)
    assert not re.search(r"/(home|root|tmp|Users|usr|work)/|[A-Za-z]:\\", text)
    assert socket.gethostname() not in text
    student_code = [cell for cell in student.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in student_code)


# --- the files a check needs -------------------------------------------------------------

FLAT = ["exercises/checks.py", "exercises/verdicts.py", "np_slp_digits.py", "np_mlp_digits.py",
        "gradient_check.py", "compare_models.py"]


def test_checks_run_from_the_files_the_readme_says_to_copy_for_nbgrader(tmp_path):
    readme = flat((EXERCISES / "README.md").read_text(encoding="utf-8"))
    assert ("`exercises/checks.py`, `exercises/verdicts.py`, both scripts, `gradient_check.py` "
            "and `compare_models.py` into" in readme)
    for name in FLAT:  # nbgrader's layout: every file in one folder
        shutil.copy(ROOT / name, tmp_path)
    run = subprocess.run([sys.executable, "-c", "import checks; checks.bias_only_loss(4.565)"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin"})
    assert run.stderr == "" and run.stdout.startswith("Exercise 7 (a model that knows one bias)"
                                                      ": correct."), run.stderr


def test_no_file_of_the_checks_edits_sys_path():
    for name in ("checks.py", "verdicts.py"):
        assert "sys.path" not in (EXERCISES / name).read_text(encoding="utf-8"), name
