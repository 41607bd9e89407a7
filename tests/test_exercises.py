"""The exercises: every check passes the solutions, says "not done yet" to the untouched
skeletons and gives each planted mistake its own hint; no solution is printed in a lesson;
and the student notebooks are exactly what tools/make_student_notebooks.py makes."""

import ast
import functools
import itertools
import math
import re
import shutil
import socket
import subprocess
import sys
import textwrap

import nbformat
import numpy as np
import pytest
from conftest import ROOT, flat, in_git, read, text_differences

import np_mlp_digits as mlp
import np_slp_digits as slp
from compare_models import paired_comparison

import checks
import tools.make_student_notebooks as maker

EXERCISES = ROOT / "exercises"
NAMES = maker.NOTEBOOKS
NOTEBOOKS = [f"exercises/{folder}{name}" for name in NAMES for folder in ("solutions/", "")]
NUMBERS = {"slp_exercises.ipynb": list(range(1, 8)), "mlp_exercises.ipynb": list(range(8, 15))}
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


def verdicts(notebook):
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
    assert verdicts(notebook) == {number: "correct." for number in NUMBERS[name]}


@pytest.mark.parametrize("name", NAMES)
def test_student_notebooks_as_shipped_say_not_done_yet_and_raise_nothing(name, fresh):
    notebook = fresh(f"exercises/{name}")
    assert errors_and_warnings(notebook) == []
    assert verdicts(notebook) == {number: "not done yet" for number in NUMBERS[name]}


def printouts(notebook):
    return [stream_text(cell) for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_solutions_show_what_a_fresh_run_prints(name, solutions, fresh):
    pairs = list(zip(printouts(solutions[name]), printouts(fresh(f"exercises/solutions/{name}"))))
    assert len(pairs) == len(printouts(solutions[name]))
    assert [line for committed, now in pairs for line in text_differences(committed, now)] == []


def test_the_printout_comparison_tolerates_last_digits_and_catches_real_changes(solutions):
    text = "".join(printouts(solutions["mlp_exercises.ipynb"]))
    assert "2.3471 -> 0.0102" in text and "3.407e+35" in text
    last_digits = text.replace("0.0102", "0.0103").replace("3.407e+35", "3.9e+35")
    assert text_differences(text, last_digits) == []
    for real_change in [text.replace("2.3471 -> 0.0102", "2.3471 -> 0.0112"),
                        text.replace("3.407e+35", "3.407e+37"),
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
    source = (EXERCISES / "checks.py").read_text(encoding="utf-8")
    for notebook, section in re.findall(r'@_exercise\(\d+, "[^"]+", (\w+), "([^"]+)"\)',
                                        source):  # every hint's "read this" exists
        assert section in lesson_sections(getattr(checks, notebook)), section


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


# --- planted mistakes: each gets its own hint ----------------------------------------------


@pytest.fixture(autouse=True)
def fresh_hints():
    checks._last_wrong.clear()  # each test starts with first hints


def verdict_of(check, capsys, *answers):
    check(*answers)
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and line.endswith("\n"), line
    return line


def rejects(check, capsys, *answers, hint):
    line = verdict_of(check, capsys, *answers)
    assert VERDICT.match(line).group(2) == "not right yet.", line
    assert hint in line, line
    assert '.ipynb, section "' in line and "Traceback" not in line
    return line


def accepts(check, capsys, *answers):
    line = verdict_of(check, capsys, *answers)
    assert VERDICT.match(line).group(2) == "correct.", line


def rescale(X_train, X_test, zero_constant_in_test=False):
    low, span = X_train.min(axis=0), X_train.max(axis=0) - X_train.min(axis=0)
    constant = span == 0
    scaled = [(X - low) / np.where(constant, 1.0, span) for X in (X_train, X_test)]
    if zero_constant_in_test:
        scaled[1][:, constant] = 0.0
    return tuple(scaled)


def test_exercise_1_accepts_zeroing_the_constant_pixel_in_both_splits(capsys):
    accepts(checks.rescale, capsys, rescale)
    accepts(checks.rescale, capsys, lambda a, b: rescale(a, b, zero_constant_in_test=True))
    rejects(checks.rescale, capsys, lambda a, b: (rescale(a, b)[0], rescale(b, b)[0]),
            hint="scale them with the training images' numbers")
    rejects(checks.rescale, capsys, slp.standardise, hint="that is the lesson's standardise")


def softmax_t(logits, T):
    z = logits / T
    exps = np.exp(z - z.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


def test_exercise_2_mistakes_get_their_own_hints(capsys):
    rejects(checks.softmax_t, capsys, lambda z, T: checks._naive_softmax(z / T),
            hint="exp(1000) overflows")
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, 1.0), hint="use the T you are")
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z * T * T, T),
            hint="divide by T")


def test_complex_float32_and_mutating_answers_are_refused_by_name(capsys):
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, T) + 0j,
            hint="find it rather than dropping the imaginary part")
    rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, T).astype(np.float32),
            hint="compute in float64")

    def overwrites_its_logits(logits, T):
        logits -= logits.max(axis=1, keepdims=True)
        logits /= T
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    line = rejects(checks.softmax_t, capsys, overwrites_its_logits, hint="data must not change")
    assert "changed its input logits in place" in line


def test_exercise_3_mistakes_get_their_own_hints(capsys):
    def via_log_of_softmax(logits, y):
        return float(-np.mean(np.log(slp.softmax(logits))[np.arange(len(y)), y]))

    rejects(checks.cross_entropy, capsys, via_log_of_softmax, hint="log(0) = -inf")
    rejects(checks.cross_entropy, capsys, lambda z, y: len(y) * via_log_of_softmax(z, y),
            hint="a mean over the images")


def backward_labels(params, cache, y, weight_decay=0.0, mistake=None):
    X, N = cache["X"], len(y)
    dZ = cache["P"].copy()
    dZ[np.arange(N), y] -= 1
    dZ = -dZ if mistake == "negated" else dZ
    dZ = dZ / N / (N if mistake == "/ N twice" else 1)
    decay = weight_decay * params["W"] / (2 if mistake == "half decay" else 1)
    grads = {"W": X.T @ dZ + decay, "b": dZ.sum(axis=0, keepdims=mistake == "keepdims")}
    return {name: -g for name, g in grads.items()} if mistake == "all negated" else grads


@pytest.mark.parametrize("mistake, hint", [
    ("keepdims", "keepdims=True leaves an extra axis: backward_labels['b'] has shape (10,)"),
    ("half decay", "the 1/2 cancels"),
    ("/ N twice", "divide by N once"),
    ("all negated", "the gradient points uphill"),
    ("negated", "prediction minus target, not target minus prediction"),
])
def test_exercise_4_mistakes_get_their_own_hints(mistake, hint, capsys):
    rejects(checks.backward_labels, capsys,
            lambda p, c, y, wd=0.0: backward_labels(p, c, y, wd, mistake), hint=hint)


def test_a_repeated_mistake_gets_the_formula(capsys):
    def half_decay(p, c, y, wd=0.0):
        return backward_labels(p, c, y, wd, "half decay")

    first = rejects(checks.backward_labels, capsys, half_decay, hint="Hint: the derivative")
    second = rejects(checks.backward_labels, capsys, half_decay,
                     hint="Hint, more exactly: dW = (the layer's input).T @ dZ + weight_decay")
    assert first != second
    accepts(checks.backward_labels, capsys, backward_labels)
    rejects(checks.backward_labels, capsys, half_decay, hint="Hint: the derivative")


def test_exercise_5_and_7_accept_rounding_and_say_when_digits_are_missing(capsys):
    truth = checks._hand_gradient([0, 1])
    accepts(checks.hand_gradient, capsys, round(truth, 3))
    accepts(checks.hand_gradient, capsys, float(str(truth)[:5]))  # cut off, not rounded
    rejects(checks.hand_gradient, capsys, checks._hand_gradient([0, 2]), hint="y = [0, 2]")
    accepts(checks.bias_only_loss, capsys, 4.565)
    accepts(checks.bias_only_loss, capsys, 4.564)
    rejects(checks.bias_only_loss, capsys, 4.56, hint="right to the 2 decimal(s) you gave")
    rejects(checks.bias_only_loss, capsys, 2.303, hint="ln 10 is the loss when all ten")
    rejects(checks.bias_only_loss, capsys, "4.565", hint="not text")
    assert "not done yet" in verdict_of(checks.bias_only_loss, capsys, None)


def momentum_descent(X_train, y_train, epochs, lr, beta, seed=42):
    return checks._momentum(X_train, y_train, epochs, lr, beta, seed)


def test_exercise_6_catches_settings_hard_coded_and_going_uphill(capsys):
    accepts(checks.momentum_descent, capsys, momentum_descent)
    rejects(checks.momentum_descent, capsys,
            lambda X, y, epochs, lr, beta, seed=42: momentum_descent(X, y, epochs, 0.1, beta),
            hint="use the lr and seed you are given")
    rejects(checks.momentum_descent, capsys,
            lambda X, y, epochs, lr, beta, seed=42: momentum_descent(X, y, epochs, lr, beta),
            hint="use the seed you are given")
    rejects(checks.momentum_descent, capsys,
            lambda X, y, epochs, lr, beta, seed=42: momentum_descent(X, y, epochs, -lr, beta,
                                                                     seed), hint="going uphill")
    line = rejects(checks.momentum_descent, capsys,
                   lambda X, y, epochs, lr, beta, seed=42: momentum_descent(
                       X, y, epochs, lr * 1.01, beta, seed), hint="v = beta * v + gradient")
    expected, got = re.search(r"Expected \S+ = (\S+) .*; got (\S+)\.", line).groups()
    assert expected != got  # the fallback shows an entry that differs, not a blank pixel's


def mlp_backward_planted(mistake):
    def backward(params, cache, Y, weight_decay=0.0):
        X, A1, P = cache["X"], cache["A1"], cache["P"]
        mask = A1 >= 0 if mistake == "A1 >= 0" else A1 > 0
        decay = 0.0 if mistake == "no decay" else weight_decay
        dZ2 = (P - Y) / len(X)
        dZ1 = (dZ2 @ params["W2"].T) * mask
        return {"W1": X.T @ dZ1 + decay * params["W1"], "b1": dZ1.sum(axis=0),
                "W2": A1.T @ dZ2 + decay * params["W2"], "b2": dZ2.sum(axis=0)}

    return backward


def test_exercise_8_names_an_all_true_mask_and_every_weight_missing_decay(capsys):
    accepts(checks.mlp_backward, capsys, mlp_backward_planted(None))
    rejects(checks.mlp_backward, capsys, mlp_backward_planted("A1 >= 0"),
            hint="your mask is all True")
    rejects(checks.mlp_backward, capsys, mlp_backward_planted("no decay"),
            hint="dW1 and dW2 without the weight-decay term")


def forward_leaky(params, X, alpha):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.where(Z1 > 0, Z1, alpha * Z1)
    return mlp.softmax(A1 @ params["W2"] + params["b2"]), {"X": X, "Z1": Z1, "A1": A1}


def backward_leaky(params, cache, Y, alpha, slope=None):
    X, Z1, A1 = cache["X"], cache["Z1"], cache["A1"]
    dZ2 = (mlp.softmax(A1 @ params["W2"] + params["b2"]) - Y) / len(X)
    dZ1 = (dZ2 @ params["W2"].T) * (np.where(Z1 > 0, 1.0, alpha) if slope is None else slope)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def test_exercise_9_leaky_layer(capsys):
    accepts(checks.leaky_layer, capsys, forward_leaky, backward_leaky)
    rejects(checks.leaky_layer, capsys, lambda p, X, alpha: forward_leaky(p, X, 0.01),
            backward_leaky, hint="use the alpha you are given")
    rejects(checks.leaky_layer, capsys, forward_leaky,
            lambda p, c, Y, alpha: backward_leaky(p, c, Y, alpha, c["Z1"] > 0),
            hint="a leaky unit passes gradient where it is off too")


def sgd_epoch_planted(mistake):
    def sgd_epoch(params, X, Y, lr, batch_size, rng, weight_decay=0.0):
        N, sign = len(X), -1 if mistake == "ascent" else 1
        weight_decay = {"no decay": 0.0, "double decay": 2 * weight_decay}.get(mistake,
                                                                              weight_decay)
        order = rng.integers(0, N, N) if mistake == "with replacement" else rng.permutation(N)
        if mistake == "shuffles in place":
            X[:], Y[:] = X[order], Y[order]
            order = np.arange(N)
        total = {name: 0.0 for name in params}
        for start in range(0, N, batch_size):
            rows = order[start:start + batch_size]
            grads = mlp.backward(params, mlp.forward(params, X[rows])[1], Y[rows], weight_decay)
            scale = len(rows) if mistake == "summed" else 1
            if mistake == "one step":
                total = {name: total[name] + grads[name] for name in params}
            elif mistake == "mutates params":
                for name in params:
                    params[name] -= lr * grads[name]
            else:
                params = {name: params[name] - sign * lr * scale * grads[name]
                          for name in params}
        if mistake == "one step":
            params = {name: params[name] - lr * total[name] for name in params}
        return params

    return sgd_epoch


@pytest.mark.parametrize("mistake, hint", [
    ("ascent", "step downhill"), ("summed", "the mean over its images"),
    ("with replacement", "sample without replacement"),
    ("one step", "each batch takes its own step"),
    ("mutates params", "changed its input params in place"),
    ("shuffles in place", "changed its input X in place"),
    ("no decay", "pass weight_decay to mlp.backward"),
    ("double decay", "Hint: slice one permutation"),  # no known mistake: no borrowed hint
])
def test_exercise_10_mistakes_get_their_own_hints(mistake, hint, capsys):
    rejects(checks.sgd_epoch, capsys, sgd_epoch_planted(mistake), hint=hint)


def test_exercise_10_right_answer(capsys):
    accepts(checks.sgd_epoch, capsys, sgd_epoch_planted(None))


def test_explain_answers_are_checked_by_their_number(capsys):
    rejects(checks.max_learning_rate, capsys, 8.0, hint="that is too large")
    rejects(checks.max_learning_rate, capsys, 0.5, hint="try larger")
    rejects(checks.first_w1_update, capsys, 1, hint="dA1 = dZ2 @ W2.T when W2 = 0")
    rejects(checks.first_w1_update, capsys, 0, hint="does not stay there")
    accepts(checks.first_w1_update, capsys, 2)


def test_exercise_13_paired_counts(capsys):
    accepts(checks.paired_counts, capsys, lambda a, b, y: paired_comparison(y, a, b))

    def p_without_the_last_term(a, b, y):
        only_a, only_b, _ = paired_comparison(y, a, b)
        n = only_a + only_b
        return only_a, only_b, min(1, 2 * sum(math.comb(n, k) for k in range(min(only_a, only_b)))
                                   / 2**n) if n else 1.0

    rejects(checks.paired_counts, capsys, p_without_the_last_term, hint="each is a fair coin")
    rejects(checks.paired_counts, capsys, lambda a, b, y: paired_comparison(y, a, b)[:2] + (
        paired_comparison(y, a, b)[2] if np.any(a != b) else float("nan"),),
        hint="two models that always agree")
    rejects(checks.paired_counts, capsys,
            lambda a, b, y: checks._paired(a, b, y, sides=1), hint="two-sided")
    rejects(checks.paired_counts, capsys,
            lambda a, b, y: checks._paired(a, b, y, sides=2, cap=2), hint="at most 1")


def choose_settings(X_fit, y_fit, X_val, y_val, rates, decays, epochs):
    right = {}
    for lr, weight_decay in itertools.product(rates, decays):
        params, _ = mlp.train(X_fit, y_fit, epochs=epochs, lr=lr, weight_decay=weight_decay,
                              verbose=False)
        right[lr, weight_decay] = int(np.sum(mlp.predict(params, X_val) == y_val))
    return max(right, key=right.get)


def test_exercise_14_settings_chosen_on_training_images_are_caught(capsys):
    accepts(checks.choose_settings, capsys, choose_settings)
    rejects(checks.choose_settings, capsys,
            lambda X, y, X_val, y_val, *grid: choose_settings(X, y, X, y, *grid),
            hint="judge on the validation images")
    rejects(checks.choose_settings, capsys, lambda *args: choose_settings(*args)[::-1],
            hint="return (lr, weight_decay), in that order")


def test_checks_run_from_the_files_the_readme_says_to_copy_for_nbgrader(tmp_path):
    readme = flat((EXERCISES / "README.md").read_text(encoding="utf-8"))
    assert ("`exercises/checks.py`, both scripts, `gradient_check.py` and `compare_models.py` into"
            in readme)
    for name in ["exercises/checks.py", "np_slp_digits.py", "np_mlp_digits.py", "gradient_check.py",
                 "compare_models.py"]:
        shutil.copy(ROOT / name, tmp_path)
    run = subprocess.run([sys.executable, "-c", "import checks; checks.bias_only_loss(4.565)"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin"})
    assert run.stderr == "" and run.stdout.startswith("Exercise 7 (a model that knows one bias)"
                                                      ": correct."), run.stderr


# --- what a student meets besides ---------------------------------------------------------


def test_odd_answers_get_one_line_that_names_them(capsys):
    rejects(checks.rescale, capsys, rescale(np.ones((3, 3)), np.ones((3, 3))),
            hint="pass the function by its name")  # a tuple whose repr has several lines
    rejects(checks.rescale, capsys, lambda a, b: sys.exit(1), hint="rescale raised SystemExit")
    rejects(checks.leaky_layer, capsys, None, backward_leaky, hint="by its name")
    rejects(checks.cross_entropy, capsys, lambda z, y: np.float32(
        -np.mean(np.log(slp.softmax(z))[np.arange(len(y)), y])), hint="compute in float64")
    rejects(checks.cross_entropy, capsys, lambda z, y: float(-np.mean(np.log(
        slp.softmax(z)[np.arange(len(y)), y] + 1e-9))), hint="adding an epsilon")
    rejects(checks.bias_only_loss, capsys, [4.565], hint="return one number, not a list")
    rejects(checks.max_learning_rate, capsys, 1e-320, hint="far below the limit")

    def adds_the_mask_to_its_cache(params, cache, Y, weight_decay=0.0):
        cache["mask"] = cache["A1"] > 0
        return mlp.backward(params, cache, Y, weight_decay)

    rejects(checks.mlp_backward, capsys, adds_the_mask_to_its_cache,
            hint="changed its input cache in place")
    line = rejects(checks.softmax_t, capsys, lambda z, T: softmax_t(z, T) * (1 + 1e-8),
                   hint="p_j = exp(z_j / T)")
    expected, got = re.search(r"Expected [^=]+ = (\S+) .*; got (\S+)\.", line).groups()
    assert expected != got  # enough digits to show where they differ


def test_a_loop_that_never_ends_is_stopped_and_named(capsys, monkeypatch):
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.5)

    def spins(logits, T):
        while True:
            try:
                pass
            except Exception:  # even this does not swallow the time limit
                pass

    line = verdict_of(checks.softmax_t, capsys, spins)
    assert "took longer than 0.5 s: is there a loop that never ends?" in line


def test_an_error_inside_the_students_code_becomes_one_kind_line(capsys):
    line = rejects(checks.softmax_t, capsys,
                   lambda z, T: np.exp(z) / np.exp(z).sum(axis=1), hint="p_j = exp(z_j / T)")
    assert "softmax_t raised ValueError: operands could not be broadcast" in line


def test_an_unfinished_exercise_that_another_needs_is_named(capsys):
    def loop_over_an_unfinished_step(*args):
        raise NotImplementedError("Exercise 4: The gradient, from the labels themselves")

    line = verdict_of(checks.momentum_descent, capsys, loop_over_an_unfinished_step)
    assert line.startswith("Exercise 6 (gradient descent with momentum): not done yet")
    assert "Exercise 4: The gradient, from the labels themselves" in line


def test_under_nbgrader_a_check_that_does_not_pass_raises(capsys, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="not right yet"):
        checks.softmax_t(lambda z, T: checks._naive_softmax(z))
    with pytest.raises(AssertionError, match="not done yet"):
        checks.bias_only_loss(None)
    checks.bias_only_loss(4.565)  # a right answer passes quietly
    assert capsys.readouterr().out.count("\n") == 3
