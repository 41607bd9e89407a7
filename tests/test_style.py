"""Lines short enough for a projector: no code line over 100 characters, in a file or a notebook."""

import ast
import json

import pytest
from conftest import ROOT

LIMIT = 100  # what a projected notebook or editor shows at a readable font size
FIGURE_MAKERS = {"plt.subplots", "plt.figure", "plt.subplot_mosaic"}


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


@pytest.mark.parametrize("name", ["np_slp_digits.ipynb", "np_mlp_digits.ipynb"])
def test_every_figure_lays_itself_out_as_jupyter_does_not_crop_it(name):
    # The walkthroughs switch off Jupyter's crop (bbox_inches=None), which would draw every
    # figure twice. A figure that does not lay itself out could then lose its labels.
    cells = json.loads((ROOT / name).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    assert any('set_matplotlib_formats("png", bbox_inches=None)' in s for s in sources)
    figures = [node for source in sources for node in ast.walk(ast.parse(source))
               if isinstance(node, ast.Call) and ast.unparse(node.func) in FIGURE_MAKERS]
    assert len(figures) >= 5  # the parser finds them (the SLP lesson draws 7)
    unlaid = [ast.unparse(call) for call in figures
              if not any(keyword.arg == "layout" and ast.unparse(keyword.value) == "'constrained'"
                         for keyword in call.keywords)]
    assert unlaid == []
