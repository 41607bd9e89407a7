"""The exercises: every check passes the solutions, says "not done yet" to the untouched
skeletons, and catches a student's typical mistakes with the hint meant for them; and the
student notebooks are exactly what exercises/make_student_notebooks.py makes."""

import ast
import copy
import re
import socket
import sys

import nbformat
import numpy as np
import pytest
from conftest import ROOT

import np_mlp_digits as mlp
import np_slp_digits as slp

EXERCISES = ROOT / "exercises"
sys.path.insert(0, str(EXERCISES))
import checks  # noqa: E402
import make_student_notebooks as maker  # noqa: E402

NOTEBOOKS = maker.NOTEBOOKS
NUMBERS = {"slp_exercises.ipynb": list(range(1, 8)), "mlp_exercises.ipynb": list(range(8, 13))}
VERDICT = re.compile(r"^Exercise (\d+) \([^)]+\): (correct\.|not done yet|not right yet\.)")
GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")  # nbgrader's pattern for grade_id


def solution_path(name):
    return EXERCISES / "solutions" / name


@pytest.fixture(scope="module")
def solutions():
    return {name: nbformat.read(solution_path(name), as_version=4) for name in NOTEBOOKS}


@pytest.fixture(scope="module")
def students():
    return {name: nbformat.read(EXERCISES / name, as_version=4) for name in NOTEBOOKS}


@pytest.fixture(scope="module")
def fresh(solutions, students):
    """All four notebooks, each run from a fresh kernel in its own folder as Jupyter runs it.

    {("solutions" or "students", name): executed notebook}. The kernels run side by side.
    """
    jobs = {("solutions", name): (copy.deepcopy(nb), solution_path(name).parent)
            for name, nb in solutions.items()}
    jobs.update({("students", name): (copy.deepcopy(nb), EXERCISES)
                 for name, nb in students.items()})
    return dict(zip(jobs, maker.execute(*jobs.values())))


def check_cells(notebook):
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and cell.source.startswith("checks.")]


def stream_text(cell, name="stdout"):
    return "".join(o.text for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == name)


def verdicts(notebook):
    """{exercise number: verdict} from each check cell's one line of output."""
    found = {}
    for cell in check_cells(notebook):
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


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_check_passes_on_the_solutions_run_fresh(name, fresh):
    notebook = fresh["solutions", name]
    assert errors_and_warnings(notebook) == []
    assert verdicts(notebook) == {number: "correct." for number in NUMBERS[name]}


def without_huge_numbers(text):
    # A diverging loss (lr 4 in Exercise 11) grows by a factor per step, and so do the last
    # bits a different BLAS rounds differently: compare such numbers by size only.
    return re.sub(r"\d\.\d+e\+\d\d+", "<huge>", text)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_solutions_show_what_a_fresh_run_prints(name, solutions, fresh):
    def printed(notebook):
        return [without_huge_numbers(stream_text(cell)) for cell in notebook.cells
                if cell.cell_type == "code"]

    assert printed(solutions[name]) == printed(fresh["solutions", name])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_student_notebooks_as_shipped_say_not_done_yet_and_raise_nothing(name, fresh):
    notebook = fresh["students", name]
    assert errors_and_warnings(notebook) == []
    assert verdicts(notebook) == {number: "not done yet" for number in NUMBERS[name]}


# --- the student notebooks are made from the solutions -----------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_student_notebooks_are_what_the_generator_makes(name, solutions):
    made = maker.notebook_text(maker.student_version(solutions[name]))
    assert made == (EXERCISES / name).read_text(encoding="utf-8"), (
        "run: python exercises/make_student_notebooks.py")


def test_the_comparison_fails_when_a_solution_notebook_changes(solutions):
    edited = copy.deepcopy(solutions["slp_exercises.ipynb"])
    task = next(cell for cell in edited.cells if cell.source.startswith("## Exercise 2:"))
    task.source += "\n\nA sentence added to the solutions only."
    made = maker.notebook_text(maker.student_version(edited))
    assert made != (EXERCISES / "slp_exercises.ipynb").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NOTEBOOKS)
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
    source = "x = None  # answer\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n" \
             "def f():\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return 1\n" \
             "    ### END SOLUTION"
    stubbed = maker.stub(source, 3, "A title")
    assert stubbed.splitlines() == [
        "x = None  # answer",
        "# Exercise 3: your working here, if any; then put your answer in the line above",
        "def f():", '    """Doc."""', '    raise NotImplementedError("Exercise 3: A title")']
    with pytest.raises(ValueError):
        maker.stub("### BEGIN SOLUTION\nx = 1", 3, "unclosed")


# --- what the notebooks hold ------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_exercise_has_a_task_a_skeleton_and_a_check(name, solutions):
    cells = solutions[name].cells
    headings = [(i, re.match(r"^## Exercise (\d+): (.+)", cell.source))
                for i, cell in enumerate(cells) if cell.cell_type == "markdown"]
    headings = [(i, match) for i, match in headings if match]
    assert [int(match.group(1)) for _, match in headings] == NUMBERS[name]
    for i, match in headings:
        assert re.search(r'Read (the walkthrough\'s section )?\*\*"[^"]+"\*\*', cells[i].source)
        skeleton, check = cells[i + 1], cells[i + 2]
        assert maker.is_solution(skeleton) and skeleton.cell_type == "code"
        assert re.fullmatch(r"checks\.\w+\(\w+(, \w+)*\)", check.source)
        assert check.metadata.nbgrader.grade and check.metadata.nbgrader.locked


def walkthrough_sections(notebook_name):
    notebook = nbformat.read(ROOT / notebook_name, as_version=4)
    return {re.sub(r"^\d+\.\s*", "", line.lstrip("#").strip())
            for cell in notebook.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("name, walkthrough", [("slp_exercises.ipynb", "np_slp_digits.ipynb"),
                                               ("mlp_exercises.ipynb", "np_mlp_digits.ipynb")])
def test_every_walkthrough_section_named_exists(name, walkthrough, solutions):
    sections = walkthrough_sections(walkthrough)
    named = {section for cell in solutions[name].cells if cell.cell_type == "markdown"
             for section in re.findall(r'\*\*"([^"]+)"\*\*', cell.source)}
    assert named and named <= sections
    source = (EXERCISES / "checks.py").read_text(encoding="utf-8")
    in_checks = re.findall(r'@_exercise\(\d+, "[^"]+", (\w+), "([^"]+)"\)', source)
    assert len(in_checks) == 12
    for constant, section in in_checks:
        if getattr(checks, constant) == walkthrough:
            assert section in sections


@pytest.mark.parametrize("name", NOTEBOOKS)
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
        has_markers = maker.BEGIN in cell.source
        assert has_markers == (meta.solution and cell.cell_type == "code")
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NOTEBOOKS)
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
    # Students start clean: no outputs to mistake for their own.
    student_code = [cell for cell in student.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in student_code)


def test_no_line_is_longer_than_100_characters():
    sources = {path.name: path.read_text(encoding="utf-8")
               for path in [EXERCISES / "checks.py", EXERCISES / "make_student_notebooks.py",
                            ROOT / "tests" / "test_exercises.py"]}
    for folder in (EXERCISES, EXERCISES / "solutions"):
        for name in NOTEBOOKS:
            notebook = nbformat.read(folder / name, as_version=4)
            sources[f"{folder.name}/{name}"] = "\n".join(
                cell.source for cell in notebook.cells if cell.cell_type == "code")
    long = [(name, line) for name, text in sources.items() for line in text.splitlines()
            if len(line) > 100]
    assert long == []
    for name in NOTEBOOKS:  # and every code cell is Python that parses
        for cell in nbformat.read(EXERCISES / name, as_version=4).cells:
            if cell.cell_type == "code":
                ast.parse(cell.source)


# --- typical mistakes, planted: each check rejects them with the hint meant for them ------


def verdict_of(check, capsys, *answers):
    check(*answers)
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and line.endswith("\n"), line
    return line


def rejects(check, capsys, *answers, hint):
    line = verdict_of(check, capsys, *answers)
    assert VERDICT.match(line).group(2) == "not right yet.", line
    assert hint in line, line
    assert "walkthrough np_" in line and "Traceback" not in line
    return line


def standardise_with_test_statistics(X_train, X_test):
    def own(X):
        std = X.std(axis=0)
        return (X - X.mean(axis=0)) / np.where(std == 0, 1.0, std)

    return own(X_train), own(X_test)


def standardise_with_epsilon(X_train, X_test):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8
    return (X_train - mean) / std, (X_test - mean) / std


def test_standardising_with_test_statistics_is_caught(capsys):
    rejects(checks.standardise, capsys, standardise_with_test_statistics,
            hint="the test images scaled with their own mean and std")
    rejects(checks.standardise, capsys, standardise_with_epsilon, hint="std + 1e-8")


def softmax_without_max_shift(logits):
    exps = np.exp(logits)
    return exps / exps.sum(axis=1, keepdims=True)


def softmax_with_one_max_for_all_rows(logits):
    exps = np.exp(logits - logits.max())
    return exps / exps.sum(axis=1, keepdims=True)


def test_softmax_without_the_max_shift_is_caught(capsys):
    rejects(checks.softmax, capsys, softmax_without_max_shift,
            hint="subtract each row's max before exp")
    rejects(checks.softmax, capsys, softmax_with_one_max_for_all_rows,
            hint="subtract each row's own max")


def cross_entropy_of_log_softmax_probabilities(logits, Y):
    return -np.sum(Y * np.log(slp.softmax(logits))) / len(logits)


def cross_entropy_without_mean(logits, Y):
    return -np.sum(Y * slp.log_softmax(logits))


def test_cross_entropy_mistakes_are_caught(capsys):
    rejects(checks.cross_entropy, capsys, cross_entropy_of_log_softmax_probabilities,
            hint="log(0) = -inf where a probability underflows")
    rejects(checks.cross_entropy, capsys, cross_entropy_without_mean,
            hint="divide it by N to make it a mean")


def slp_backward_planted(mistake):
    def backward(params, cache, Y, weight_decay=0.0):
        X, P = cache["X"], cache["P"]
        dZ = P - Y if mistake == "no / N" else (P - Y) / len(X)
        db = dZ.sum(axis=1) if mistake == "db over the wrong axis" else dZ.sum(axis=0)
        return {"W": X.T @ dZ + weight_decay * params["W"], "b": db}

    return backward


def test_slp_backward_mistakes_are_caught_naming_the_parameter(capsys):
    line = rejects(checks.slp_backward, capsys, slp_backward_planted("no / N"),
                   hint="all are N = 20 times too large")
    assert "dW and db are wrong, relative error" in line  # which, and by how much
    rejects(checks.slp_backward, capsys, slp_backward_planted("db over the wrong axis"),
            hint="db has one number per column of dZ: did you sum over the rows")
    assert "correct." in verdict_of(checks.slp_backward, capsys, slp_backward_planted(None))


def mlp_backward_planted(mistake):
    def backward(params, cache, Y, weight_decay=0.0):
        X, mask, A1, P = cache["X"], cache["mask"], cache["A1"], cache["P"]
        dZ2 = (P - Y) / len(X)
        dA1 = dZ2 @ params["W2"].T
        dZ1 = dA1 if mistake == "no ReLU mask" else dA1 * mask
        return {"W1": X.T @ dZ1 + weight_decay * params["W1"], "b1": dZ1.sum(axis=0),
                "W2": A1.T @ dZ2 + weight_decay * params["W2"], "b2": dZ2.sum(axis=0)}

    return backward


def test_the_forgotten_relu_mask_is_caught(capsys):
    line = rejects(checks.mlp_backward, capsys, mlp_backward_planted("no ReLU mask"),
                   hint="pass through the ReLU, dZ1 = dA1 * mask")
    assert "dW1 and db1 are wrong" in line
    assert "correct." in verdict_of(checks.mlp_backward, capsys, mlp_backward_planted(None))


def forward_tanh(params, X):
    A1 = np.tanh(X @ params["W1"] + params["b1"])
    P = mlp.softmax(A1 @ params["W2"] + params["b2"])
    return P, {"X": X, "A1": A1, "P": P}


def backward_tanh_with_relu_derivative(params, cache, Y):
    X, A1, P = cache["X"], cache["A1"], cache["P"]
    dZ2 = (P - Y) / len(X)
    dZ1 = (dZ2 @ params["W2"].T) * (A1 > 0)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def test_a_tanh_layer_with_the_relu_derivative_is_caught(capsys):
    rejects(checks.tanh_layer, capsys, forward_tanh, backward_tanh_with_relu_derivative,
            hint="dZ1 = dA1 * (1 - A1 ** 2)")


def one_step(params, X, Y, lr):
    _, cache = mlp.forward(params, X)
    grads = mlp.backward(params, cache, Y)
    return {name: params[name] - lr * grads[name] for name in params}


def sgd_epoch_dropping_the_last_batch(params, X, Y, lr, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X) - batch_size + 1, batch_size):
        batch = order[start:start + batch_size]
        params = one_step(params, X[batch], Y[batch], lr)
    return params


def sgd_epoch_without_shuffling(params, X, Y, lr, batch_size, rng):
    for start in range(0, len(X), batch_size):
        params = one_step(params, X[start:start + batch_size], Y[start:start + batch_size], lr)
    return params


def test_mini_batch_mistakes_are_caught(capsys):
    rejects(checks.sgd_epoch, capsys, sgd_epoch_dropping_the_last_batch,
            hint="keep the last, smaller batch")
    rejects(checks.sgd_epoch, capsys, sgd_epoch_without_shuffling,
            hint="order = rng.permutation(N)")


def test_training_step_and_loop_mistakes_are_caught(capsys):
    def uphill(params, X, Y, lr):
        _, cache = slp.forward(params, X)
        grads = slp.backward(params, cache, Y)
        return {name: params[name] + lr * grads[name] for name in params}

    def one_update_too_many(X_train, y_train, epochs, lr, seed=42):
        return slp.train(X_train, y_train, epochs=epochs + 1, lr=lr, seed=seed, verbose=False)[0]

    def like_train(X_train, y_train, epochs, lr, seed=42):
        return slp.train(X_train, y_train, epochs=epochs, lr=lr, seed=seed, verbose=False)[0]

    rejects(checks.step, capsys, uphill, hint="subtract lr * gradient")
    rejects(checks.gradient_descent, capsys, one_update_too_many, hint="exactly 5 updates")
    assert "correct." in verdict_of(checks.gradient_descent, capsys, like_train)


def test_explain_answers_are_checked_by_their_number(capsys):
    rejects(checks.zero_weights_loss, capsys, 2.3853, hint="the script's untrained loss")
    assert "correct." in verdict_of(checks.zero_weights_loss, capsys, 2.303)
    rejects(checks.max_learning_rate, capsys, 8.0, hint="that is too large")
    rejects(checks.max_learning_rate, capsys, 0.5, hint="try larger rates")
    rejects(checks.zero_init_active_units, capsys, 32, hint="the mask Z1 > 0")
    rejects(checks.zero_init_active_units, capsys, "0", hint="write the number itself")


# --- what a student meets besides ---------------------------------------------------------


def test_an_error_inside_the_students_code_becomes_one_kind_line(capsys):
    def broadcasts_wrongly(logits):
        return np.exp(logits) / np.exp(logits).sum(axis=1)  # (4, 3) / (4,)

    line = rejects(checks.softmax, capsys, broadcasts_wrongly, hint="keepdims=True")
    assert "softmax raised ValueError: operands could not be broadcast" in line


def test_an_unfinished_exercise_that_another_needs_is_named(capsys):
    def loop_over_an_unfinished_step(X_train, y_train, epochs, lr, seed=42):
        raise NotImplementedError("Exercise 5: One step of gradient descent")

    line = verdict_of(checks.gradient_descent, capsys, loop_over_an_unfinished_step)
    assert line.startswith("Exercise 6 (the training loop): not done yet")
    assert "Exercise 5: One step of gradient descent" in line


def test_under_nbgrader_a_check_that_does_not_pass_raises(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="not right yet"):
        checks.softmax(softmax_without_max_shift)
    with pytest.raises(AssertionError, match="not done yet"):
        checks.zero_weights_loss(None)
    checks.zero_weights_loss(2.303)  # a right answer passes quietly
    assert capsys.readouterr().out.count("\n") == 3
