"""The machinery behind checks.py: how a check runs a student's answer and words its verdict.

checks.py holds the exercises; each is a function decorated with @exercise that describes its
cases (inputs and the right answer) and its table of known mistakes (Mistake and Symptom rows,
each with an idea, the first hint, and a formula, the hint for the same mistake again) and
hands them to walk() or number(). This file does the rest:

- the student's function runs on copies of the inputs, in a forked child process where the
  platform has fork (Linux, macOS): a time limit nothing inside can cancel, a loop in compiled
  code or an os._exit included; what it prints comes back, capped. Without fork (Windows) it
  runs in the kernel's own process, with no time limit;
- while it runs, the scripts' functions that the exercise asks the student to write are off
  limits: calling one gives a verdict that names it;
- the references come from checks' own copies of the scripts, loaded when checks is imported:
  nothing a notebook rebinds reaches them;
- one line per check; under nbgrader's autograder a check that does not pass then raises.
"""

import builtins
import contextlib
import copy
import dataclasses
import functools
import importlib
import importlib.util
import io
import math
import os
import pickle
import select
import signal
import sys
import threading
import time
import types
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

# The same arithmetic in another order differs by float64 rounding (~1e-15 relative); every
# known mistake changes values by 1e-3 or more. Gradients get 1e-7: longer sums.
TOL, GRAD = (1e-9, 1e-12), (1e-7, 1e-10)  # (relative, absolute)
TIME_LIMIT = 30  # seconds for the calls of a student's function in one check
PRINT_LIMIT = 2000  # characters of a student's printed output shown with a verdict
FORK = hasattr(os, "fork")  # run the student's code in a child process
SCRIPTS = {"np_slp_digits": "slp", "np_mlp_digits": "mlp", "gradient_check": "gradient_check",
           "compare_models": "compare_models"}  # module: the name a notebook gives it
EXERCISES = []  # every check, in order: an exercise's number is its place here
_last_wrong = {}  # exercise number -> the mistake its last wrong answer made
_running = []  # the exercises whose checks are running, innermost last
_called = []  # off-limits functions the student's code called (even if it hid the error)


# --- the tables' rows ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Hint:
    idea: str  # the first hint
    formula: str = None  # the hint for the same mistake again


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A known mistake, recognised by the answer it gives: a value, or answer(case inputs)."""
    what: str  # what the wrong answer is, shown after "got"
    answer: object
    idea: str
    formula: str = None  # None: the exercise's own formula

    def matches(self, got, inputs, tol):
        want = self.answer(inputs) if callable(self.answer) else self.answer
        return _close(got, want, tol)


@dataclasses.dataclass(frozen=True)
class Symptom:
    """A known mistake, recognised by a property of the answer: test(got, case inputs)."""
    what: str
    test: object
    idea: str
    formula: str = None

    def matches(self, got, inputs, tol):
        return bool(self.test(got, inputs))


@dataclasses.dataclass(frozen=True)
class Case:
    label: str  # "at temperature 0.5": which case, shown after "Expected ..."
    inputs: dict  # the student function's arguments, in order
    right: object  # the right answer, or a list of answers that are all right (ties)
    raised: str = None  # the hint if the student's function raises here; None: the idea


# --- verdicts -------------------------------------------------------------------------------


class Wrong(Exception):  # (expected, got, hint, key): key tells one mistake from another
    pass


class NotDone(Exception):  # an untouched skeleton (NotImplementedError) or an answer still None
    pass


class OffLimits(BaseException):  # a student's `except Exception` does not hide the call
    pass


class TookTooLong(BaseException):
    pass


@dataclasses.dataclass
class Exercise:
    check: str  # its name in checks
    title: str
    where: str  # what to read: 'lesson.ipynb, section "..."'
    asks: str  # what the student writes, as in "Exercise 2 asks you to write the softmax"
    writes: tuple  # the scripts' functions that do it, off limits to the student's code
    number: int = 0
    shown: int = 0  # characters the student's code printed during this check, shown ...
    dropped: int = 0  # ... and not shown

    @property
    def name(self):
        return f"Exercise {self.number} ({self.title})"


def exercise(title, notebook, section, asks="", writes=()):
    """Make a check print one line: correct, not done yet, not right yet, or too slow."""
    def decorate(check):
        ex = Exercise(check.__name__, title, f'{notebook}, section "{section}"', asks, writes,
                      len(EXERCISES) + 1)
        EXERCISES.append(ex)

        @functools.wraps(check)
        def run(*answers):
            ex.shown = ex.dropped = 0
            line = " ".join(_verdict(ex, check, answers).split())  # one line, whatever the repr
            if ex.dropped:
                print(f"... and {ex.dropped} more characters printed by your code, not shown")
            print(line)
            if not line.startswith(f"{ex.name}: correct.") and os.environ.get(
                    "NBGRADER_EXECUTION") in ("autograde", "validate"):
                raise AssertionError(line)
        run.exercise = ex
        return run
    return decorate


def _verdict(ex, check, answers):
    _running.append(ex)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), \
                threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")  # the verdict says it better; one BLAS thread,
            # as the scripts run: on matrices this small a second one only costs
            line = f"{ex.name}: correct. {check(*answers)}"
        _last_wrong.pop(ex.number, None)
        return line
    except NotDone as why:
        if str(why) and not str(why).startswith(f"Exercise {ex.number}:"):
            return f"{ex.name}: not done yet: your code needs something unfinished ({why})."
        return f"{ex.name}: not done yet: fill in the cell above, run it, then this one."
    except Wrong as wrong:
        expected, got, hint, key = wrong.args
        again, _last_wrong[ex.number] = _last_wrong.get(ex.number) == key, key
        said = f"Hint, more exactly: {hint.formula}" if again and hint.formula else \
            f"Hint: {hint.idea}"
        return f"{ex.name}: not right yet. Expected {expected}; got {got}. {said} ({ex.where})."
    except OffLimits as called:
        return (f"{ex.name}: not right yet. Exercise {ex.number} asks you to write {ex.asks}: "
                f"`{called}` is off limits here.")
    except TookTooLong:
        return (f"{ex.name}: took longer than {TIME_LIMIT} s: is there a loop that never ends? "
                f"(Interrupt the kernel if it still runs.)")
    except KeyboardInterrupt:
        return f"{ex.name}: interrupted before a verdict."
    except Exception as error:  # an answer of a form no check foresaw
        return (f"{ex.name}: could not check your answer ({_describe(error)}). Compare its form "
                f"with the skeleton's docstring ({ex.where}).")
    finally:
        _running.pop()


def _describe(error):
    text = (str(error).strip().splitlines() or [""])[0][:120]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the references: checks' own copies of the scripts ----------------------------------------


def _load(name):
    public = importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(f"_reference_{name}", public.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return public, module


_LOADED = {name: _load(name) for name in SCRIPTS}  # (the public module, checks' own copy)
_ORIGINALS = {(name, key): value for name, (public, _) in _LOADED.items()
              for key, value in vars(public).items()
              if isinstance(value, types.FunctionType) and value.__module__ == name}
_SCRIPT_FILES = {f.__code__.co_filename for f in _ORIGINALS.values()}


def reference(name):
    """checks' own copy of the script `name`, loaded from its file when checks was imported."""
    return _LOADED[name][1]


# --- running the student's code ---------------------------------------------------------------


def _gate(*args, _through_=None, **kwargs):  # the code an off-limits function runs instead
    return _through_(args, kwargs)


@dataclasses.dataclass
class _Blocked:
    function: object
    label: str

    def __call__(self, args, kwargs):  # called by _gate; the caller is two frames up
        if sys._getframe(2).f_code.co_filename in _SCRIPT_FILES:
            return self.function(*args, **kwargs)  # a script's helper uses it: let it
        _called.append(self.label)
        raise OffLimits(self.label)


def _off_limits(names):
    """Make every script function called one of `names` raise OffLimits when called from
    outside the scripts, wherever the student's code holds it (module, import, closure);
    returns what undoes it."""
    saved = []
    for module, alias in SCRIPTS.items():
        public = sys.modules.get(module)
        for name in names:
            for f in {_ORIGINALS.get((module, name)), getattr(public, name, None)} - {None}:
                if not isinstance(f, types.FunctionType) or f.__code__.co_name != name or \
                        f.__code__.co_filename not in _SCRIPT_FILES:
                    continue  # the student's own function, or blocked already
                saved.append((f, f.__code__, f.__defaults__, f.__kwdefaults__))
                original = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__,
                                              f.__closure__)
                original.__kwdefaults__ = f.__kwdefaults__
                f.__code__, f.__defaults__ = _gate.__code__, None
                f.__kwdefaults__ = {"_through_": _Blocked(original, f"{alias}.{name}")}

    def undo():
        for f, code, defaults, kwdefaults in saved:
            f.__code__, f.__defaults__, f.__kwdefaults__ = code, defaults, kwdefaults
    return undo


class _Capped(io.TextIOBase):
    """Keeps the first PRINT_LIMIT characters written to it, or sends them on to the file
    descriptor `to` at once, and counts the rest."""

    def __init__(self, to=None):
        self.kept, self.size, self.dropped, self.to = [], 0, 0, to

    def write(self, text):
        kept = text[:max(PRINT_LIMIT - self.size, 0)]
        self.kept.append(kept)
        self.size, self.dropped = self.size + len(kept), self.dropped + len(text) - len(kept)
        if self.to is not None and kept:
            os.write(self.to, kept.encode("utf-8", "replace"))
        return len(text)


def _attempt(function, name, inputs, hint, writes, out=None):
    """function(*copies of inputs) -> ("value", result) or ("raised", a verdict exception),
    and what it printed (text, characters dropped), `out` the _Capped to print to. Never
    raises."""
    copies, out = copy.deepcopy(inputs), out or _Capped()
    stdout, stderr, state = sys.stdout, sys.stderr, np.random.get_state()
    np.random.seed(0)  # np.random used instead of the given rng: a known, repeatable order
    del _called[:]
    undo = _off_limits(writes)
    try:
        sys.stdout = sys.stderr = out
        outcome = "value", function(*copies.values())
    except NotImplementedError as error:
        outcome = "raised", NotDone(str(error))
    except (OffLimits, TookTooLong, NotDone, KeyboardInterrupt) as error:
        outcome = "raised", error
    except (Exception, SystemExit) as error:
        outcome = "raised", Wrong(f"a result from {name}", f"{name} raised {_describe(error)}",
                                  hint, ("raised", name, type(error).__name__))
    finally:
        undo()
        sys.stdout, sys.stderr = stdout, stderr
        np.random.set_state(state)
    if _called:  # even where the student's code caught the error
        outcome = "raised", OffLimits(_called[0])
    elif outcome[0] == "value":
        for key, value in inputs.items():
            if isinstance(value, (np.ndarray, dict)) and not _close(copies[key], value, (0, 0)):
                outcome = "raised", Wrong(
                    f"{key} left as it was", f"{name} changed its input {key} in place",
                    Hint("write results into new arrays: the caller's data must not change",
                         "x = x - m makes a new array; x -= m, x[...] = and rng.shuffle(x) "
                         "overwrite the caller's"), ("in place", key))
                break
    return outcome, ("" if out.to is not None else "".join(out.kept), out.dropped)


def _forked(runs):
    """Each run(out) in turn in one child process, which stops after an error: yields each
    result as it comes, with what it printed, or raises TookTooLong once TIME_LIMIT seconds
    have passed in all."""
    reader, writer = os.pipe()
    printed_by, prints_to = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns that a child forked from a process
        warnings.simplefilter("ignore", DeprecationWarning)  # with threads (a kernel) may hang
        pid = os.fork()  # on a lock a thread held: this child takes none of the kernel's
    if pid == 0:  # locks or sockets (print and display go elsewhere), and ends by os._exit
        try:
            os.close(reader)
            os.close(printed_by)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(math.ceil(TIME_LIMIT) + 2)  # ends this process even if orphaned
            ipython = sys.modules.get("IPython")
            shell = ipython and ipython.get_ipython()
            if shell:  # a display() in the student's code shows nothing, rather than
                shell.display_pub.publish = lambda *args, **kwargs: None  # use the kernel's
            builtins.input = _no_input  # sockets; and input() cannot ask through them
            for run in runs:
                result = run(_Capped(prints_to))
                try:
                    data = pickle.dumps(result)
                except Exception as error:  # e.g. a generator or a lambda returned
                    data = pickle.dumps((("value", _Unsendable(_describe(error))), result[1]))
                if len(data) > 1 << 27:  # no answer here is near 128 MB
                    data = pickle.dumps((("value", _Unsendable(f"{len(data) >> 20} MB")),
                                         result[1]))
                with open(writer, "wb", closefd=False) as pipe:  # writes it all, however long
                    pipe.write(len(data).to_bytes(8, "big") + data)
                if result[0][0] == "raised":
                    break
        finally:
            os._exit(0)
    os.close(writer)
    os.close(prints_to)
    pipes, ended = _Pipes(reader, printed_by, time.monotonic() + TIME_LIMIT), None
    try:
        for _ in runs:
            frame = pipes.frame()
            if frame is None:  # the child ended without sending it
                ended = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
                yield ("raised", Ended(f"exit status {ended}")), (pipes.text(), 0)
                return
            outcome, (_, dropped) = pickle.loads(frame)
            yield outcome, (pipes.text(), dropped)
    finally:
        os.close(reader)
        os.close(printed_by)
        if ended is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


class _Pipes:
    """The parent's ends of a child's two pipes: results, each after its length in 8 bytes
    (a check nested in the student's code forks a grandchild that holds the pipe open too,
    so the end of a result cannot be told by the pipe's end), and printed text."""

    def __init__(self, results, printed, deadline):
        self.results, self.printed, self.deadline = results, printed, deadline
        self.data, self.open = {results: bytearray(), printed: bytearray()}, [results, printed]

    def _read(self, timeout):
        ready = select.select(self.open, [], [], timeout)[0]
        for fd in ready:
            chunk = os.read(fd, 1 << 20)
            self.data[fd] += chunk
            if not chunk:  # the child closed it, or ended
                self.open.remove(fd)
        return ready

    def frame(self):
        """The next result, or None if the child ended first; TookTooLong at the deadline."""
        data = self.data[self.results]
        while len(data) < 8 or len(data) < 8 + int.from_bytes(data[:8], "big"):
            left = self.deadline - time.monotonic()
            if self.results not in self.open:
                return None
            if left <= 0 or not self._read(left):
                raise TookTooLong(self.text())
        end = 8 + int.from_bytes(data[:8], "big")
        frame = bytes(data[8:end])
        del data[:end]
        return frame

    def text(self):
        """What the child printed and was not shown yet."""
        while self.printed in self.open and self._read(0):
            pass
        text = bytes(self.data[self.printed]).decode("utf-8", "replace")
        self.data[self.printed].clear()
        return text


class Ended(Exception):  # the process running the student's function ended without an answer
    pass


@dataclasses.dataclass
class _Unsendable:  # a result that cannot travel back from the child
    why: str


def _no_input(prompt=""):
    raise EOFError("input() while a check runs the code")


def _alarm(signum, frame):
    raise TookTooLong


def _in_process(runs):
    """Each run() in turn here, which stops after an error; each stopped by SIGALRM after
    TIME_LIMIT where there is one (the main thread of a Unix process). A check inside the
    student's code keeps the outer check's limit."""
    for run in runs:
        result = _alarmed(run)
        yield result
        if result[0][0] == "raised":
            return


def _alarmed(run):
    if not (hasattr(signal, "setitimer") and threading.current_thread() is
            threading.main_thread()):
        return run()
    outer, start = signal.getitimer(signal.ITIMER_REAL)[0], time.monotonic()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, min(TIME_LIMIT, outer or TIME_LIMIT))
    try:
        return run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # the enclosing check's limit goes on
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def calls(function, name, inputs, hints):
    """The student's function(*each inputs.values()) in turn, in one child process where
    there is fork: yields each result, or raises Wrong, NotDone, OffLimits or TookTooLong;
    hints: the Hint for each inputs if the function raises an error there."""
    if not callable(function):
        raise Wrong(f"the function {name} itself", f"{type(function).__name__} "
                    f"{function!r:.30}", Hint("pass the function by its name, with no () "
                                              "after it"), ("not a function",))
    runs = [functools.partial(_attempt, function, name, each, hint, _running[-1].writes)
            for each, hint in zip(inputs, hints)]
    with contextlib.closing((_forked if FORK else _in_process)(runs)) as results:
        for _ in runs:
            try:
                (kind, result), (printed, dropped) = next(results)
            except TookTooLong as stop:  # what the child printed up to then
                _show(stop.args[0] if stop.args else "", 0)
                raise
            _show(printed, dropped)
            if kind == "raised" and isinstance(result, Ended):
                raise Wrong(f"a result from {name}", f"no result: the process running {name} "
                            f"ended ({result})", Hint(f"os._exit, or a crash in compiled code, "
                                                      f"ends the process: let {name} return "
                                                      f"its result"), ("ended",))
            if kind == "raised":
                raise result
            yield result


def call(function, name, inputs, hint=Hint("")):
    """The student's function(*inputs.values()), as calls runs it."""
    with contextlib.closing(calls(function, name, [inputs], [hint])) as result:
        return next(result)


def _show(printed, dropped):
    """Print what the student's code printed, up to PRINT_LIMIT characters in one check."""
    ex = _running[-1]
    shown = printed[:max(PRINT_LIMIT - ex.shown, 0)]
    ex.shown, ex.dropped = ex.shown + len(shown), ex.dropped + dropped + len(printed) - len(shown)
    if shown:
        print(shown, end="" if shown.endswith("\n") else "\n")


# --- judging answers --------------------------------------------------------------------------


def conform(value, like, what, float64=True):
    """value in the form of the reference answer `like`: a number, an array, a dict, a tuple;
    float64=False accepts a number in another float type (a number the student worked out)."""
    if value is None:
        raise Wrong(f"{what} to give a result", "None", Hint("did you forget the return "
                                                             "statement?"), ("None",))
    if isinstance(value, _Unsendable):
        raise Wrong(f"{what} as {type(like).__name__}", f"an object that cannot be compared "
                    f"({value.why})", Hint("return the numbers the docstring names"), ("odd",))
    if isinstance(like, dict):
        if not isinstance(value, dict) or set(value) != set(like):
            raise Wrong(f"{what}: a dict with the keys {sorted(like)}", f"keys {sorted(value)}"
                        if isinstance(value, dict) else type(value).__name__,
                        Hint("return {name: array}, one entry for each parameter"), ("keys",))
        return {k: conform(value[k], like[k], f"{what}[{k!r}]") for k in like}
    if isinstance(like, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(like):
            raise Wrong(f"{what}: {len(like)} results", type(value).__name__,
                        Hint("return them separated by commas: return a, b, c"), ("tuple",))
        return tuple(conform(v, w, f"{what}[{k}]") for k, (v, w) in enumerate(zip(value, like)))
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # e.g. a list of arrays of different shapes
        array = np.asarray(None)
    kind, whole, shape = array.dtype.kind, isinstance(like, int), np.shape(like)
    if kind == "c":
        raise Wrong(f"{what} as real numbers", "complex numbers", Hint(
            "a complex number came from somewhere (a square root or power of a negative "
            "number?): find it rather than dropping the imaginary part"), ("complex",))
    if kind not in "iuf" or whole and (array.ndim or kind == "f" and not (
            np.isfinite(array) and array == np.round(array))):
        form = "a whole number" if whole else "a number" if not shape else "an array"
        raise Wrong(f"{what} as {form}", f"{type(value).__name__} {value!r:.30}", Hint(
            "a count is a whole number, e.g. int(np.sum(mask))" if whole else "numbers in the "
            "form the docstring names, not text, booleans or a list"), ("form",))
    if whole:
        return int(array)
    if shape and not isinstance(value, np.ndarray) and array.ndim:
        raise Wrong(f"{what} as a NumPy array", f"a {type(value).__name__}", Hint(
            "compute with arrays, or turn the result into one: np.array(rows)"), ("list",))
    if array.dtype != np.float64 and (shape or kind == "f" and float64):
        raise Wrong(f"{what} in float64", f"{array.dtype} values", Hint(
            "compute in float64, NumPy's default: float32 keeps about 7 digits, too few "
            "here, and integers none"), ("dtype",))
    if array.shape != shape:
        hint = ("return one number, not a list or an array" if not shape else
                f"keepdims=True leaves an extra axis: {what} has shape {shape}"
                if np.squeeze(array).shape == shape else f"{what} has shape {shape}: write the "
                f"shape of every array as you go")
        raise Wrong(f"shape {shape}", f"shape {array.shape}", Hint(hint), ("shape",))
    return array.astype(float) if array.ndim else float(array)


def _close(got, want, tol=TOL):
    """True if got is want within (relative, absolute) tolerances; dicts and tuples entrywise."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            _close(got[k], want[k], tol) for k in want)
    if isinstance(want, tuple):
        return len(got) == len(want) and all(_close(g, w, tol) for g, w in zip(got, want))
    return np.shape(got) == np.shape(want) and bool(np.allclose(got, want, *tol, equal_nan=True))


def _where_differs(got, want, what):
    """(expected, got) as text at the entry that differs most: ("W[3, 5] = 0.1", "0.2")."""
    if isinstance(want, (dict, tuple)):
        keys = want if isinstance(want, dict) else range(len(want))
        worst = max(keys, key=lambda k: _gap(got[k], want[k]))
        return _where_differs(got[worst], want[worst], f"{what}[{worst!r}]")
    gap = np.nan_to_num(np.abs(np.subtract(got, want)), nan=np.inf)
    index = np.unravel_index(np.argmax(gap), np.shape(want))
    place = f"[{', '.join(map(str, index))}]" if index else ""
    w, g = np.asarray(want)[index], np.asarray(got)[index]
    d = next(d for d in (6, 9, 12, 17) if f"{w:.{d}g}" != f"{g:.{d}g}" or d == 17)  # digits
    return f"{what}{place} = {w:.{d}g}", f"{g:.{d}g}"


def _gap(a, b):  # how far apart, relative to their size
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.nan_to_num(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12),
                         nan=np.inf)


def _joined(found, fallback):
    """(what, Hint, key) of the known mistakes `found`: two may give the same answer."""
    ideas = list(dict.fromkeys(row.idea for row in found))
    formulas = list(dict.fromkeys(row.formula or fallback.formula for row in found))
    idea = ideas[0] if len(ideas) == 1 else "either " + "; or ".join(ideas)
    return (" or ".join(row.what for row in found), Hint(idea, "; ".join(formulas)),
            tuple(row.what for row in found))


def walk(student, name, cases, mistakes, fallback, tol=TOL, answer_of=None):
    """For each case the student's answer is right, a known mistake or wrong; returns the
    student's answer to the last case. fallback: the Hint for an answer no row knows, shown
    with the entry that differs most; a function (got, right, inputs) -> Hint picks one
    (got is None for the hint shown if the student's function raises an error).
    answer_of(inputs): how to get an answer, if not by calling student(*inputs.values())."""
    rights = [case.right if isinstance(case.right, list) else [case.right] for case in cases]
    hints = [Hint(case.raised) if case.raised else fallback if isinstance(fallback, Hint) else
             fallback(None, right[0], case.inputs) for case, right in zip(cases, rights)]
    answers = (answer_of(case.inputs) for case in cases) if answer_of else calls(
        student, name, [case.inputs for case in cases], hints)
    with contextlib.closing(answers):  # a wrong answer ends the student's process at once
        for case, right, raw in zip(cases, rights, answers):
            got = conform(raw, right[0], name)
            if any(_close(got, want, tol) for want in right):
                continue
            hint = fallback if isinstance(fallback, Hint) else fallback(got, right[0],
                                                                        case.inputs)
            label = f" {case.label}" if case.label else ""
            found = [row for row in mistakes if row.matches(got, case.inputs, tol)]
            if found:
                raise Wrong(f"the right answer{label}", *_joined(found, hint))
            expected, value = _where_differs(got, right[0], name)
            raise Wrong(f"{expected}{label}", value, hint, ("other", expected, value))
    return got


def number(value, what, truth, mistakes, fallback, decimals=3, least=None):
    """A number the student worked out, to `decimals` decimals (0: a whole number): right,
    too few digits, below `least`, a known mistake (Mistake rows holding values) or wrong."""
    if value is None:
        raise NotDone()
    whole = decimals == 0
    given = conform(value, 0 if whole else 0.0, what, float64=False)
    shown = np.format_float_positional(np.asarray(value, dtype=float if whole else None)[()],
                                       trim="-")  # float32 shows its own shortest digits
    if least is not None and given < least:
        raise Wrong(what, shown, Hint(f"it is at least {least:g}: {shown} is "
                                      f"{'negative' if given < 0 else 'too small'}"), ("least",))
    tolerance = 10.0 ** -decimals if not whole else 0  # rounded, or cut off
    if abs(given - truth) <= tolerance:
        return given
    digits = len(shown.partition(".")[2])
    if not whole and digits < decimals and round(truth, digits) == round(given, digits):
        raise Wrong(what, shown, Hint(f"right to the {digits} decimal(s) you gave: give "
                                      f"{decimals}"), ("digits",))
    found = [row for row in mistakes if abs(given - row.answer) <= tolerance]
    if found:
        known, hint, key = _joined(found, fallback)
        raise Wrong(what, f"{shown}, {known}", hint, key)
    raise Wrong(what, shown, fallback, ("other", given))
