"""Lines short enough for a projector: no code line over 100 characters, in a file or a notebook."""

import json

import pytest
from conftest import ROOT

LIMIT = 100  # what a projected notebook or editor shows at a readable font size


def code_files():
    ignored = {".venv", ".git", ".pytest_cache", ".ipynb_checkpoints"}
    return sorted(path for pattern in ("*.py", "*.ipynb") for path in ROOT.rglob(pattern)
                  if not ignored & set(path.relative_to(ROOT).parts))


def code_lines(path):
    if path.suffix == ".py":
        return path.read_text(encoding="utf-8").splitlines()
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [line for cell in cells if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines()]


@pytest.mark.parametrize("path", code_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_code_line_is_longer_than_100_characters(path):
    long = [line for line in code_lines(path) if len(line) > LIMIT]
    assert long == [], f"{len(long)} lines over {LIMIT} characters"
