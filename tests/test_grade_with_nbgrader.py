"""nbgrader grades the exercise set as exercises/README.md says: the solutions get every
autograded point, the untouched notebooks none, and answers that call the scripts' own
functions score 0 exactly where they do. nbgrader is not among the requirements (its
dependencies conflict with the oldest versions the tests pin): where it is not installed,
the grading is skipped, and exercises/README.md reports the last run of
tools/grade_with_nbgrader.py; the tool then says what to install."""

import importlib.util

import pytest

import tools.grade_with_nbgrader as grading


def test_without_nbgrader_the_tool_says_what_to_install(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit) as exit_info:
        grading.main([])
    assert "install it with `.venv/bin/pip install nbgrader`" in str(exit_info.value.code)


def test_nbgrader_gives_the_solutions_all_points_and_the_untouched_and_delegating_none(
        tmp_path):
    pytest.importorskip("nbgrader")
    scores = grading.grade(tmp_path)
    for name in grading.NOTEBOOKS:
        assert scores["solutions"][name] == (7, 7, [])
        assert scores["untouched"][name][0] == 0
    delegated = sorted(key.replace("-code", "-check") for key in grading.DELEGATING)
    zero = sorted(check for name in grading.NOTEBOOKS
                  for check in scores["delegating"][name][2])
    assert zero == delegated
    assert sum(scores["delegating"][name][0] for name in grading.NOTEBOOKS) == 14 - len(zero)
