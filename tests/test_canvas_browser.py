"""The drawing canvas in a real browser: JupyterLab served on localhost, opened by headless
Chromium (Debian's chromium, /usr/bin/chromium) driven by Playwright on a projector's 1024 x
768 screen; the mouse draws a 7, and the pad, its reading and its probabilities fit the screen.

Outside CI it skips, saying why, when Chromium or Playwright is missing; .ci/run installs
Chromium and sets REQUIRE_BROWSER_TEST=1, so there a missing browser is a failure.
"""

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]  # a 7: the bar, then the stem (canvas fractions)


def missing():
    """Why the test cannot run here ('' if it can)."""
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r tests/requirements.txt)"
    return ""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on localhost with one notebook that shows the drawing pad."""
    reason = missing()
    if reason:
        if os.environ.get("REQUIRE_BROWSER_TEST"):
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("lab")
    cell = (f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'labs')!r}]\n"
            "from drawing_pad import drawing_pad\ndrawing_pad()")
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "pad",
                           "metadata": {}, "outputs": [], "source": cell}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (folder / "pad.ipynb").write_text(json.dumps(notebook))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
               JUPYTER_CONFIG_DIR=str(folder / "config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
         f"--ServerApp.root_dir={folder}", f"--LabApp.user_settings_dir={folder / 'settings'}",
         f"--LabApp.workspaces_dir={folder / 'workspaces'}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.news_url=None"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):  # up to a minute for the server to answer
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within a minute")
        yield f"{base}/lab/tree/pad.ipynb?token={token}", folder
    finally:
        server.terminate()
        server.wait(timeout=30)


# The widest reading the pad can show, for the layout check
WIDEST = "reads: <b>unsure (7 0.55, 1 0.30)</b>"
FITS = """() => {
    const output = document.querySelector('.jp-OutputArea-output');
    const reading = output.querySelector('.reading');
    reading.innerHTML = %r;
    const range = document.createRange();
    range.selectNodeContents(reading);  // the text itself, not the block it sits in
    const box = output.getBoundingClientRect(), text = range.getBoundingClientRect();
    const rows = [...output.querySelectorAll('div')]
        .filter(d => !d.querySelector('div') && d.textContent.match(/^\\d /));
    return {scrolls: output.scrollWidth > output.clientWidth, right: text.right, edge: box.right,
            tall: text.height > 1.6 * parseFloat(getComputedStyle(reading).fontSize),
            rows: rows.length, wrapped: rows.filter(d => d.getBoundingClientRect().height > 20)
                                            .length, bottom: box.bottom};
}""" % WIDEST


def test_drawing_a_seven_with_the_mouse_shows_the_cells_and_reads_7(lab):
    from playwright.sync_api import sync_playwright

    url, folder = lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                             headless=True)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 768})  # a projector
            page.goto(url)
            editor = page.locator(".jp-Cell .jp-InputArea-editor").first
            editor.wait_for(timeout=60_000)
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
            editor.click()
            page.keyboard.press("Shift+Enter")  # run the cell: the pad appears below it
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-OutputArea p')]"
                ".some(p => p.textContent.includes('draw one digit'))", timeout=60_000)
            canvas = page.locator(".jp-OutputArea canvas").first
            box = canvas.bounding_box()
            points = [(box["x"] + u * box["width"], box["y"] + v * box["height"])
                      for u, v in SEVEN]
            page.mouse.move(*points[0])
            page.mouse.down()
            for point in points[1:]:
                page.mouse.move(*point, steps=15)
            page.mouse.up()
            # The pad reads again each time the browser sends the canvas back, stroke by
            # stroke: wait until the reading is the finished digit's, or stays wrong for 30 s.
            reading = page.locator(".jp-OutputArea .reading").first
            for _ in range(60):
                text = reading.inner_text() if reading.count() else ""
                if text.startswith("reads: 7 ("):
                    break
                time.sleep(0.5)
            page.screenshot(path=str(folder / "pad.png"))
            shutil.copy(folder / "pad.png", pathlib.Path(os.environ.get(
                "CANVAS_SCREENSHOT", folder / "pad_copy.png")))
            layout = page.evaluate(FITS) if text.startswith("reads: 7 (") else {}
        finally:
            browser.close()
    assert text.startswith("reads: 7 ("), text
    # Beside JupyterLab's open file browser, at 1024 x 768: nothing scrolls sideways, the
    # widest reading stays on one line inside the output, each probability is one row, and
    # the pad ends above the screen's bottom edge. (The pad's first layout, with the reading
    # in a 260-px column after the cells, wrapped there.)
    assert not layout["scrolls"] and layout["right"] <= layout["edge"], layout
    assert not layout["tall"] and (layout["rows"], layout["wrapped"]) == (10, 0), layout
    assert layout["bottom"] <= 768, layout
