"""The documentation says what the code does: the README's numbers are what the scripts print,
its commands are what CI and the workflow run, the benchmark runs, and every line of code fits
on a projector.

`.venv/bin/python tests/test_docs.py` prints the README's tables and example output for pasting.
"""

import ast
import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, default_run, flat, lines, read, text_differences

import np_mlp_digits
import np_slp_digits

README = ROOT / "README.md"
WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
CONSTRAINTS = ROOT / "tests" / "constraints-lowest.txt"


def readme():
    return README.read_text(encoding="utf-8")


def bash_blocks(text):
    return [block.strip() for block in re.findall(r"^ *```bash\n(.*?)\n *```", text, re.S | re.M)]


# --- the README's numbers --------------------------------------------------------------------


def epoch_table(test_size):
    """The README's table of both scripts' logged epochs for one --test-size."""
    runs = [default_run(module, test_size)[1] for module in (np_slp_digits, np_mlp_digits)]
    splits = ["loss", "train acc", "test acc"] if test_size else ["loss", "train acc"]
    header = ["epoch"] + [f"{name} {split}" for name in ("SLP", "MLP") for split in splits]
    rows = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for slp, mlp in zip(*runs):
        cells = [str(slp["epoch"])]
        for record in (slp, mlp):
            cells += [f"{record['loss']:.4f}", f"{100 * record['train_acc']:.1f}%"]
            if test_size:
                cells.append(f"{100 * record['test_acc']:.1f}%")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def example_output():
    """What `python np_mlp_digits.py` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        np_mlp_digits.main([])
    return out.getvalue()


def assert_in_readme(expected):
    """Printed numbers may differ in the last digit on another CPU; anything more fails."""
    lines, wanted = readme().splitlines(), expected.splitlines()
    message = f"README.md is out of date; the scripts print now:\n\n{expected}"
    assert wanted[0] in lines, message
    start = lines.index(wanted[0])
    found = "\n".join(lines[start:start + len(wanted)])
    assert text_differences(found, expected) == [], message


@pytest.mark.parametrize("test_size", [0.2, 0], ids=["held-out", "test-size 0"])
def test_readme_tables_are_what_the_scripts_print(test_size):
    assert_in_readme(epoch_table(test_size))


def test_readme_example_output_is_what_the_mlp_script_prints():
    assert_in_readme(example_output())


def test_readme_flag_table_is_what_the_scripts_accept():
    # default and meaning, range included, as --help gives them
    rows = {flag: (default, meaning.removesuffix(" (MLP only)")) for flag, default, meaning in
            re.findall(r"^\| `(--[a-z-]+)` \| ([\d.]+) \| (.+) \|$", readme(), re.M)}
    helped = {}
    for module in (np_slp_digits, np_mlp_digits):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            module.main(["--help"])
        helped.update({flag: (default, meaning) for flag, meaning, default in re.findall(
            r"(--[a-z-]+) [A-Z_]+ (.*?) \(default: ([\d.]+)\)", flat(out.getvalue()))})
    assert rows == helped


def readme_section(title):
    return readme().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_mistake_the_readme_names_raises_the_error_it_quotes():
    import builtins

    import numpy as np

    rows = re.findall(r"^\| [^|]+ \| `(.+?)` \| `(\w+): (.+?)` \|$",
                      readme_section("Using the functions"), re.M)
    X_train, X_test, y_train, y_test = np_mlp_digits.load_data()
    params, _ = np_mlp_digits.train(X_train, y_train, epochs=2, verbose=False)
    namespace = {name: getattr(np_mlp_digits, name) for name in
                 ["load_data", "train", "predict", "accuracy"]}
    namespace.update(np=np, X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                     params=params)
    assert len(rows) >= 9
    for code, error, words in rows:
        with pytest.raises(getattr(builtins, error)) as caught:
            eval(code, namespace)
        assert str(caught.value).startswith(words), code


def test_the_functions_the_readme_says_check_nothing_check_nothing():
    import inspect

    section = flat(readme_section("Using the functions"))
    listed, example, result = re.search(
        r"((?:`\w+`, )*`\w+` and `\w+`) check nothing, so they read as the maths "
        r"\(`(.+?)` is the (\w+) class", section).groups()
    names = re.findall(r"`(\w+)`", listed)
    assert {"one_hot", "forward", "loss", "backward"} <= set(names)
    for module in (np_slp_digits, np_mlp_digits):
        for name in names:
            source = inspect.getsource(getattr(module, name))
            assert "check_" not in source and "raise" not in source, name
        row = eval(example, {"one_hot": module.one_hot})[0]
        assert result == "last" and row.argmax() == len(row) - 1


def test_slp_reproduces_the_originally_published_train_accuracies():
    # The table the first version of these scripts published, at one decimal.
    _, history = default_run(np_slp_digits, test_size=0)
    published = [13.0, 94.3, 96.2, 96.8, 97.4, 97.8, 98.2, 98.2, 98.2, 98.2]
    assert [round(100 * r["train_acc"], 1) for r in history[:10]] == published


def prose_words(text):
    """Words a reader reads: outside code blocks and tables."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return len(" ".join(line for line in text.splitlines() if not line.startswith("|")).split())


def test_the_readme_is_short_and_starts_a_newcomer_in_order():
    text = readme()
    assert prose_words(text) <= 1200
    start = text.split("## Start here", 1)[1].split("\n## ", 1)[0]
    order = ["np_mlp_digits.py", "np_slp_digits.ipynb", "np_mlp_digits.ipynb", "exercises/",
             "labs/"]
    assert [start.index(name) for name in order] == sorted(start.index(name) for name in order)
    notebooks_only = [c for c in bash_blocks(start) if "jupyter lab" in c]
    assert notebooks_only and "pytest" not in notebooks_only[0]
    assert "--allow-root" in start and "TEACHING.md" in start


def test_the_notebooks_command_adds_allow_root_as_root_and_only_then():
    # Jupyter refuses to start as root without --allow-root: the README's one line must work
    # for root (a container) and for anyone else. Run its arguments after `jupyter lab` in the
    # shell, with printf in place of Jupyter, as this user and, where we are root, as nobody.
    command = next(c for c in bash_blocks(readme()) if "jupyter lab" in c)
    arguments = command.split("jupyter lab", 1)[1]
    shell = ["bash", "-c", "printf '<%s>' lab" + arguments]
    is_root = os.geteuid() == 0
    shown = subprocess.run(shell, capture_output=True, text=True, timeout=60).stdout
    assert shown == ("<lab><--allow-root>" if is_root else "<lab>")
    if is_root and shutil.which("setpriv"):
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + shell
        assert subprocess.run(as_nobody, capture_output=True, text=True,
                              timeout=60).stdout == "<lab>"


def test_the_readme_states_the_writers_and_the_readers_held_out_count():
    text = flat(readme())
    assert "1,797 digits written by **13 people**" in text
    lab = "\n".join(lines(read("labs/own_handwriting.ipynb")))
    count = re.search(r"more writers: (\d+) of 1000 right", lab).group(1)
    assert f"on 1,000 MNIST digits it never saw it reads {count} right" in text


def test_the_lesson_plan_names_every_notebook_and_every_exercise():
    plan = (ROOT / "TEACHING.md").read_text(encoding="utf-8")
    for notebook in ["np_slp_digits.ipynb", "np_mlp_digits.ipynb"]:
        assert notebook in plan
    for lab in (ROOT / "labs").glob("*.ipynb"):
        assert f"`{lab.stem}`" in plan, lab.stem
    assert "Exercises 1–7" in plan and "8–14" in plan


def plan_sections():
    """[(heading, text)] of TEACHING.md, cut at its ## and ### headings."""
    plan = (ROOT / "TEACHING.md").read_text(encoding="utf-8")
    return re.findall(r"^#{2,3} ([^\n]+)\n(.*?)(?=^#{2,3} |\Z)", plan, re.M | re.S)


def plan_problems(sections):
    """Part tables whose "in all" row is not the sum of their parts ("N" or "N + M: ..." read
    aloud + with the class), and lessons and labs without a list of what to cut when behind."""
    problems = []
    for heading, text in sections:
        rows = [row.split("|")[1:-1] for row in text.splitlines() if row.startswith("| ")]
        total = [row for row in rows if "**in all**" in row[0]]
        parts = [row for row in rows if row not in total and row[1].strip().isdigit()]
        if total and parts:
            read_aloud = [re.match(r"\s*(\d+)(?: \+ (\d+))?", row[2]).groups() for row in parts]
            sums = [sum(int(row[1]) for row in parts), sum(int(a) for a, _ in read_aloud),
                    sum(int(b or 0) for _, b in read_aloud)]
            said = re.search(r"\*\*(\d+)\*\*.*?(\d+) read aloud \+ (\d+)", "|".join(total[0]))
            if not said or [int(n) for n in said.groups()] != sums:
                problems.append(f"{heading}: the parts add up to {sums}, the table says "
                                f"{said and said.groups()}")
    cut = "What to cut when behind"
    labs = sorted((ROOT / "labs").glob("*.ipynb"))
    wanted = [f"Lesson {n}" for n in (1, 2)] + [f"lab *{lab.stem.replace('_', ' ')}*"
                                                 for lab in labs]
    for name in wanted:
        if not any(name.lower() in heading.lower() and cut in text
                   or f"{cut}, {name}".lower() in text.lower() for heading, text in sections):
            problems.append(f"{name}: no list of what to cut when behind")
    return problems


def test_the_lesson_plan_adds_up_and_says_what_to_cut_for_every_lesson_and_lab():
    # Each lesson and lab: a section headed by its name (## Lesson 1 ..., ### Lab *how good*)
    # with a "What to cut when behind" list, or a paragraph "What to cut when behind, lab *x*".
    assert plan_problems(plan_sections()) == []


def test_the_plan_check_catches_a_wrong_sum_and_a_missing_cut_list():
    sections = plan_sections()
    heading = next(h for h, _ in sections if h.startswith("Lab *how good*"))

    def new_problems(old, new):
        planted = [(h, t.replace(old, new) if h == heading else t) for h, t in sections]
        return set(plan_problems(planted)) - set(plan_problems(sections))

    assert len(new_problems("| **in all** | **24** |", "| **in all** | **20** |")) == 1
    assert new_problems("What to cut when behind", "If behind") == {
        "lab *how good*: no list of what to cut when behind"}


# --- commands: the README's, CI's and the workflow's are the same -----------------------------


def test_ci_and_the_workflow_run_the_readme_test_command_verbatim():
    test_command = next(c for c in bash_blocks(readme()) if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()
    assert f"run: {test_command}\n" in WORKFLOW.read_text()


def check_jsonschema(path):
    """check-jsonschema's verdict on a workflow file, with the schema it ships (no network)."""
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    command = [found] if found else [sys.executable, "-m", "check_jsonschema"]
    return subprocess.run(command + ["--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_the_workflow_is_valid_for_github_and_a_broken_one_is_not(tmp_path):
    result = check_jsonschema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "tests.yml"  # a job without runs-on is not a workflow GitHub runs
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu"))
    assert check_jsonschema(broken).returncode != 0


def test_the_workflow_tests_the_oldest_and_newest_python_the_readme_promises():
    text = WORKFLOW.read_text()
    oldest, newest = re.search(r"Python (3\.\d+) to (3\.\d+)", readme()).groups()
    assert f'python: "{oldest}"\n            versions: lowest' in text
    assert f'python: "{newest}"\n            versions: newest' in text
    assert "constraints: tests/constraints-lowest.txt" in text


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-scripts.txt",
                                          "tests/requirements.txt"])
def test_the_constraints_pin_every_lower_bound_the_requirements_claim(requirements):
    bounds = dict(re.findall(r"^([A-Za-z0-9_.-]+)>=([0-9][^\s#;]*)",
                             (ROOT / requirements).read_text(), re.M))
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", CONSTRAINTS.read_text(), re.M))
    assert bounds
    for name, version in bounds.items():
        assert pinned.get(name) == version, f"{name}>={version} in {requirements}"


# --- one way to run things: every command a reader is shown is the README's form -------------
#
# The README runs everything with the virtual environment's own programs (`.venv/bin/python`,
# `.venv/bin/pip`, `.venv/bin/jupyter`; on Windows `.venv\Scripts\...`), after making it with
# `python3 -m venv .venv` (Windows: `py -m venv .venv`). A bare `python x.py` fails with "No
# module named 'numpy'" outside the environment, so it is the README's form only where the text
# says "with the virtual environment active" (in the same paragraph, cell or docstring, or the
# one just before). Checked: the documents, the notebooks' cells (lessons, labs, exercises and
# their solutions), and the module docstrings of the files a reader runs, which give the command
# to run them (as nanoGPT's do).

README_FORMS = re.compile(r"(\.venv/bin/|\.venv\\Scripts\\)(python|pip|jupyter)\b"
                          r"|(python3|py) -m venv \.venv\b")
COMMAND = re.compile(r"(python3?|pip3?|jupyter|pytest|py)(\s|$)|\.venv[/\\]")
ACTIVE = "with the virtual environment active"
DOCUMENTS = ["README.md", "TEACHING.md", "exercises/README.md", "benchmarks/README.md",
             "benchmarks/handwriting.md", "data/README.md"]
NOTEBOOKS = sorted(path.relative_to(ROOT).as_posix() for folder in (ROOT, ROOT / "labs",
                   ROOT / "exercises", ROOT / "exercises" / "solutions")
                   for path in folder.glob("*.ipynb"))
RUNNABLE = sorted(path.relative_to(ROOT).as_posix() for pattern in
                  ("*.py", "tools/*.py", "benchmarks/*.py", "labs/*.py", "exercises/*.py")
                  for path in ROOT.glob(pattern) if path.name != "__init__.py")


def paragraphs(markdown):
    """A document's paragraphs: runs of lines between blank lines, a fenced block kept whole."""
    found, current, fenced = [], [], False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        if not line.strip() and not fenced:
            found, current = found + ["\n".join(current)] * bool(current), []
        else:
            current.append(line)
    return found + ["\n".join(current)] * bool(current)


def commands(text, docstring=False):
    """The commands a piece of text shows: its code spans, the lines of its code blocks (not
    ```python ones: Python, not a shell), each part of a line joined by &&, without a trailing
    comment; in a docstring also each line that starts like a command."""
    shown = re.findall(r"(?<!`)`([^`\n]+)`(?!`)", re.sub(r"```.*?```", "", text, flags=re.S))
    for language, block in re.findall(r"```(\w*)\n(.*?)```", text, re.S):
        shown += block.splitlines() if language != "python" else []
    if docstring:
        shown += text.splitlines()
    parts = [part.strip().removeprefix("$ ") for line in shown for part in line.split("&&")]
    return [re.split(r"\s+#", part)[0].strip() for part in parts if COMMAND.match(part)]


def wrong_commands(where, units):
    """'where: command' for each command in `units` (the texts of one file, in order) that is
    not in the README's form."""
    wrong = []
    for i, (text, docstring) in enumerate(units):
        said = [flat(units[j][0]).lower() for j in (i - 1, i) if j >= 0]
        active = any(ACTIVE in each for each in said)
        wrong += [f"{where}: {command}" for command in commands(text, docstring)
                  if not README_FORMS.match(command) and not active]
    return wrong


def texts_a_reader_is_shown():
    """{file: [(text, is a docstring), ...]}: documents by paragraph, notebooks by cell, and the
    module docstrings of the files a reader runs."""
    found = {name: [(part, False) for part in paragraphs((ROOT / name).read_text("utf-8"))]
             for name in DOCUMENTS}
    found.update({name: [(cell.source, False) for cell in read(name).cells]
                  for name in NOTEBOOKS})
    for name in RUNNABLE:
        docstring = ast.get_docstring(ast.parse((ROOT / name).read_text("utf-8")))
        found[name] = [(docstring, True)] if docstring else []
    return found


def test_every_command_shown_is_the_readmes_form():
    wrong = [line for where, units in texts_a_reader_is_shown().items()
             for line in wrong_commands(where, units)]
    assert wrong == [], ("commands not in the README's form: write `.venv/bin/python ...` "
                         "(`.venv/bin/pip`, `.venv/bin/jupyter`), or say 'with the virtual "
                         "environment active' just before them:\n" + "\n".join(wrong))


def test_the_command_check_catches_a_bare_command_and_nothing_the_readme_writes():
    readme_forms = ["python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt",
                    r"`.venv\Scripts\python`", "`py -m venv .venv`",
                    "```bash\n.venv/bin/python -m pytest tests  # all of them\n```",
                    "```python\npython = 3  # Python code, not a command\n```"]
    for text in readme_forms:
        assert wrong_commands("doc", [(text, False)]) == [], text
    for text in ["run `python read_digit.py *.jpg`", "```\npip install numpy\n```",
                 "`jupyter lab`", "```bash\n.venv/bin/pip install x && pytest tests\n```"]:
        assert len(wrong_commands("doc", [(text, False)])) == 1, text
    docstring = "Run:\n    python np_mlp_digits.py --help   # every flag"
    assert wrong_commands("f.py", [(docstring, True)]) == \
        ["f.py: python np_mlp_digits.py --help"]
    active = [("With the virtual environment active:", False), ("```\npython x.py\n```", False)]
    assert wrong_commands("doc", active) == []
    assert wrong_commands("doc", active[::-1]) != []  # said after the command: too late


# --- the benchmark -----------------------------------------------------------------------------


def test_the_quick_benchmark_runs_prints_the_rows_its_readme_quotes_and_leaves_no_files(
        tmp_path):
    result = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--quick"],
                            capture_output=True, text=True, timeout=600, cwd=ROOT,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    rows = re.findall(r"^\| (.+?) \| \d+ (?:µs|s) \| [\d.]+-[\d.]+ \|", result.stdout, re.M)
    bench_readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert len(rows) == 7 and "one-cell.ipynb" in rows
    for label in rows[:6]:  # pasted from a full run: that machine's times, but these rows
        assert f"| {label} |" in bench_readme, label
    assert list(tmp_path.iterdir()) == []  # its one-cell notebook's folder is gone


@pytest.mark.parametrize("threads", ["0", "-1"])
def test_the_benchmark_refuses_fewer_than_one_thread(threads, capsys):
    from benchmarks import bench

    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--threads", threads])
    assert exit_info.value.code == 2 and capsys.readouterr().err.splitlines()[-1].endswith(
        f"error: argument --threads: must be 1 or more; got {threads}")


def bench_process(*args, **options):
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, **options)


@pytest.mark.parametrize("killed", ["by SIGTERM", "by Ctrl-C"])
def test_a_killed_benchmark_ends_quietly_and_leaves_no_process_or_file_behind(killed, tmp_path):
    psutil = pytest.importorskip("psutil")  # comes with ipykernel
    bench = bench_process("-m", "benchmarks.bench", "--quick", start_new_session=True,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    deadline = time.monotonic() + 120
    while not psutil.Process(bench.pid).children() and time.monotonic() < deadline:
        time.sleep(0.01)  # until it runs its notebook, in a process of its own with a kernel
    started = psutil.Process(bench.pid).children(recursive=True)
    if killed == "by SIGTERM":
        bench.terminate()  # as `timeout` or a closed terminal would
    else:  # a terminal's Ctrl-C reaches every process of its group, the notebook's too
        os.killpg(bench.pid, signal.SIGINT)
    _, err = bench.communicate(timeout=60)
    assert (bench.returncode, err) == (130, "")
    assert started and psutil.wait_procs(started, timeout=30)[1] == []  # all of them gone
    assert list(tmp_path.iterdir()) == []


# scikit-learn's MLPClassifier.fit catches KeyboardInterrupt and carries on (and would have
# its interrupted fit timed): a signal must end the benchmark inside it all the same.
INSIDE_A_FIT = """
import numpy as np
from benchmarks import bench
bench.stop_on_signals()
X, y = np.random.RandomState(0).randn(30, 64), np.arange(30) % 10
fit = bench.scikit_learn(X, y, epochs=10**7, hidden=32)  # hours, unless stopped
print("fitting", flush=True)
print(bench.interleaved({"scikit-learn": fit}, repeats=1))
"""


@pytest.mark.parametrize("ending", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_inside_scikit_learns_fit_ends_the_benchmark_with_no_timing(ending):
    bench = bench_process("-c", INSIDE_A_FIT)
    assert bench.stdout.readline() == "fitting\n"
    time.sleep(0.5)  # well inside fit, which prints nothing
    bench.send_signal(getattr(signal, ending))
    try:
        out, err = bench.communicate(timeout=60)  # a swallowed signal fits for hours
    finally:
        bench.kill()
    assert (bench.returncode, out, err) == (130, "", "")


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux's /proc")
def test_ctrl_c_while_the_benchmark_imports_is_quiet():
    # Ctrl-C while scikit-learn loads, seconds before the first table
    bench = bench_process("-m", "benchmarks.bench", "--quick")
    deadline, maps = time.monotonic() + 60, Path(f"/proc/{bench.pid}/maps")
    while time.monotonic() < deadline and bench.poll() is None:
        with contextlib.suppress(OSError):
            if "_check_build" in maps.read_text():
                break
        time.sleep(0.005)
    bench.send_signal(signal.SIGINT)
    out, err = bench.communicate(timeout=60)
    assert (bench.returncode, out, err) == (130, "", "")


def test_every_notebook_time_quoted_is_the_benchmarks_median():
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    medians = dict(re.findall(r"^\| (\S+\.ipynb) \| (\d+) s \|", bench, re.M))
    assert {"np_slp_digits.ipynb", "np_mlp_digits.ipynb"} <= set(medians)
    for notebook in medians:  # a teacher reads the time in the notebook's first cell
        first_cell = json.loads((ROOT / notebook).read_text(encoding="utf-8"))["cells"][0]
        quoted = re.search(r"about (\d+) seconds", flat("".join(first_cell["source"])))
        assert quoted or "labs/" in notebook or "exercises/" in notebook, notebook
        assert not quoted or quoted.group(1) == medians[notebook], notebook


# --- every line fits on a projector --------------------------------------------------------------


def code_files():
    ignored = {".venv", ".git", ".pytest_cache", ".ipynb_checkpoints", "node_modules"}
    return sorted(path for pattern in ("*.py", "*.ipynb") for path in ROOT.rglob(pattern)
                  if not ignored & set(path.relative_to(ROOT).parts))


def test_no_code_line_is_longer_than_100_characters():
    long = []
    for path in code_files():
        if path.suffix == ".py":
            lines = path.read_text(encoding="utf-8").splitlines()
        else:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            lines = [line for cell in cells if cell["cell_type"] == "code"
                     for line in "".join(cell["source"]).splitlines()]
        long += [f"{path.relative_to(ROOT)}: {line}" for line in lines if len(line) > 100]
    assert long == []


# --- a house a maintainer can walk ---------------------------------------------------------------


def repository_texts():
    """{path: text} of every file the repository keeps, but the tests (which name the
    temporary files they make) and the binary data."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    names = listed.stdout.split() if listed.returncode == 0 else [
        path.relative_to(ROOT).as_posix() for path in code_files()]
    return {name: (ROOT / name).read_text(encoding="utf-8") for name in names
            if (ROOT / name).is_file() and not name.startswith("tests/")
            and Path(name).suffix not in {".npz", ".png", ".jpg"}}


FILE_NAME = re.compile(r"(?<![\w./$*-])((?:[\w-]+/)*[\w-]+\.(?:py|ipynb|md|txt|yml|npz))\b")
MADE_WHEN_RUN = {"one-cell.ipynb",  # the quick benchmark's notebook, in a temporary folder
                 "nbgrader_config.py",  # written by tools/grade_with_nbgrader.py
                 "lesson.ipynb"}  # a placeholder in a docstring: 'lesson.ipynb, section "..."'


def unresolved_names(texts):
    """The file names the texts mention that name no file of the repository."""
    kept = {path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*") if path.is_file()}
    kept |= MADE_WHEN_RUN
    wrong = []
    for name, text in texts.items():
        for mentioned in set(FILE_NAME.findall(text)):
            if not (mentioned in kept or f"{Path(name).parent}/{mentioned}" in kept
                    or any(path.endswith("/" + mentioned) for path in kept)):
                wrong.append(f"{name}: {mentioned}")
    return sorted(wrong)


def test_every_file_the_repository_names_exists():
    assert unresolved_names(repository_texts()) == []
    assert unresolved_names({"a.md": "see tests/test_readme.py"}) == ["a.md: tests/test_readme.py"]


def test_the_path_is_edited_only_in_a_notebooks_first_cell_and_the_tests_conftest():
    edits = []
    for path in code_files():
        name = path.relative_to(ROOT).as_posix()
        if path.suffix == ".py":
            sources = [] if name == "tests/conftest.py" else [path.read_text(encoding="utf-8")]
        else:  # a notebook: its first code cell says where the scripts are
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"][1:]
        for source in sources:
            if path.suffix == ".ipynb":  # IPython's magics are no Python
                source = "\n".join(line for line in source.splitlines()
                                   if not line.startswith(("%", "!")))
            tree = ast.parse(source)
            if any(isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.path"
                   for node in ast.walk(tree)):
                edits.append(name)
    assert edits == []


def test_the_repository_speaks_of_itself_with_one_word_for_a_lesson():
    words = re.compile("|".join(["walk" + "through", r"\bissue #?\d", r"\bthe issue\b",
                                 "review" + "er"]), re.IGNORECASE)
    texts = repository_texts()
    texts.update({path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
                  for path in (ROOT / "tests").glob("*.py")})
    assert [f"{name}: {found}" for name, text in texts.items()
            for found in words.findall(text)] == []


if __name__ == "__main__":
    print(epoch_table(test_size=0.2), end="\n\n")
    print(epoch_table(test_size=0), end="\n\n")
    print(example_output())
