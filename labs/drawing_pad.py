"""A canvas to draw a digit on in JupyterLab, read live by read_digit.py's recipe and model.

    from drawing_pad import drawing_pad
    drawing_pad()          # in a notebook cell: draw with the mouse, a finger or a pen

Beside the canvas: the 8 x 8 cells the network gets (0..16 ink, as load_digits) and its ten
probabilities, updated after every stroke. Built on ipycanvas (a maintained widget library
for the browser's canvas; it works in JupyterLab 4 and classic Notebook 7).
"""

import pathlib
import sys

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import read_digit  # noqa: E402

SIDE = 200  # the canvas, in screen pixels
CELL = 20  # one of the 8 x 8 cells, in screen pixels


def drawing_pad(model=None, pen=14):
    """The widget: a canvas, a pen-width slider, a clear button, the cells and the reading."""
    model = model or read_digit.load_model()
    unlike = read_digit.load_novelty()  # training examples and bar: 'unsure' of a non-digit
    canvas = Canvas(width=SIDE, height=SIDE, sync_image_data=True,
                    layout=widgets.Layout(border="2px solid #888"))
    cells = Canvas(width=8 * CELL, height=8 * CELL, layout=widgets.Layout(border="1px solid #888"))
    reading = widgets.HTML(layout=widgets.Layout(width="260px"))
    width = widgets.IntSlider(value=pen, min=2, max=30, description="pen (px)")
    clear = widgets.Button(description="clear")
    last = {}  # where the pen is while it touches the canvas

    def blank():
        with hold_canvas(canvas):
            canvas.fill_style = "white"
            canvas.fill_rect(0, 0, SIDE, SIDE)
        draw_cells(np.zeros(64))
        reading.value = "<p style='font-size:16px'>draw one digit</p>"

    def down(x, y):
        last["xy"] = (x, y)
        move(x, y)

    def move(x, y):
        if "xy" not in last:
            return
        with hold_canvas(canvas):
            canvas.stroke_style, canvas.line_width = "black", width.value
            canvas.line_cap = canvas.line_join = "round"
            canvas.stroke_line(*last["xy"], x, y)
        last["xy"] = (x, y)

    def up(x, y):
        last.pop("xy", None)

    def draw_cells(features):
        with hold_canvas(cells):
            for i, value in enumerate(features):
                shade = int(255 - 255 * value / 16)  # 16 = full ink = black
                cells.fill_style = f"rgb({shade}, {shade}, {shade})"
                cells.fill_rect((i % 8) * CELL, (i // 8) * CELL, CELL, CELL)

    def read(change=None):
        image = canvas.get_image_data()  # (SIDE, SIDE, 4) uint8, synced from the browser
        grey = image[:, :, :3].mean(axis=2) / 255
        try:
            found = read_digit.steps(grey)
        except read_digit.DigitError:
            draw_cells(np.zeros(64))
            reading.value = "<p style='font-size:16px'>draw one digit</p>"
            return
        draw_cells(found["features"])
        p = read_digit.probabilities(model, found["features"])
        odd = read_digit.oddity(found) or read_digit.novelty(found["features"], *unlike)
        said = read_digit.verdict(p, odd=bool(odd))
        bars = "".join(
            f"<div style='font:14px monospace'>{d} <span style='display:inline-block;"
            f"width:{int(150 * p[d])}px;height:12px;background:"
            f"{'#d62728' if d == p.argmax() else '#999'}'></span> {p[d]:.2f}</div>"
            for d in range(10))
        reading.value = (f"<p class='reading' style='font-size:18px'>reads: <b>{said}</b></p>"
                         + bars)

    canvas.on_mouse_down(down)
    canvas.on_mouse_move(move)
    canvas.on_mouse_up(up)
    canvas.on_mouse_out(up)
    canvas.on_touch_start(lambda touches: down(*touches[0]))
    canvas.on_touch_move(lambda touches: move(*touches[0]))
    canvas.on_touch_end(lambda touches: up(0, 0))
    canvas.observe(read, "image_data")  # each change the browser sends back: read again
    clear.on_click(lambda button: blank())
    blank()
    return widgets.HBox([widgets.VBox([canvas, width, clear]),
                         widgets.VBox([widgets.Label("what the network gets (8 x 8)"), cells]),
                         reading])
