"""A canvas to draw a digit on in JupyterLab, read live by read_digit.py's recipe and model.

    from drawing_pad import drawing_pad   # with the repository's folder and labs/ on the path
    drawing_pad()          # in a notebook cell: draw with the mouse, a finger or a pen

Beside the canvas: the reading, the ten probabilities and the 8 x 8 cells the network gets
(0..16 ink, as load_digits), updated after every stroke; about 510 x 270 pixels in all, so it
fits a 1024 x 768 projector beside JupyterLab's file browser. Built on ipycanvas (a
maintained widget library for the browser's canvas; it works in JupyterLab 4 and classic
Notebook 7).
"""

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas

import read_digit  # the repository's folder is on the path: the notebook's first cell puts it

SIDE = 200  # the canvas, in screen pixels
CELL = 14  # one of the 8 x 8 cells, in screen pixels


def read_canvas(image, model):
    """(what read_digit.py would print, the ten probabilities, the 64 features) of the
    canvas's pixels (SIDE, SIDE, 4) uint8; ('', None, None) if nothing is drawn yet."""
    grey = image[:, :, :3] @ [0.299, 0.587, 0.114] / 255  # as read_digit.load_image does
    try:
        found = read_digit.steps(grey)
    except read_digit.DigitError:
        return "", None, None
    said, _ = read_digit.read(model, found)
    return said, read_digit.probabilities(model, found["features"]), found["features"]


class Pad(widgets.HBox):
    """The pad's widgets; shown where no kernel runs (GitHub's page of the notebook, a
    notebook saved without widget state), it is one line saying what to do."""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "A drawing pad: run this cell in Jupyter to draw a digit here."
        return bundle


def drawing_pad(model=None, pen=14):
    """The widget: a canvas, a pen-width slider, a clear button, the cells and the reading."""
    model = model or read_digit.load_model()
    canvas = Canvas(width=SIDE, height=SIDE, sync_image_data=True,
                    layout=widgets.Layout(border="2px solid #888"))
    cells = Canvas(width=8 * CELL, height=8 * CELL, layout=widgets.Layout(border="1px solid #888"))
    reading = widgets.HTML()  # 'reads: 7 (0.93)', on one line
    bars = widgets.HTML(layout=widgets.Layout(width="165px"))  # the ten probabilities
    width = widgets.IntSlider(value=pen, min=2, max=30, description="pen",
                              style={"description_width": "32px"},
                              layout=widgets.Layout(width=f"{SIDE + 4}px"))
    clear = widgets.Button(description="clear", layout=widgets.Layout(width=f"{SIDE + 4}px"))
    last = {}  # where the pen is while it touches the canvas

    def blank():
        with hold_canvas(canvas):
            canvas.fill_style = "white"
            canvas.fill_rect(0, 0, SIDE, SIDE)
        show("", None, np.zeros(64))

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

    def show(said, p, features):
        with hold_canvas(cells):
            for i, value in enumerate(np.zeros(64) if features is None else features):
                shade = int(255 - 255 * value / 16)  # 16 = full ink = black
                cells.fill_style = f"rgb({shade}, {shade}, {shade})"
                cells.fill_rect((i % 8) * CELL, (i // 8) * CELL, CELL, CELL)
        if p is None:
            reading.value, bars.value = "<p style='font-size:16px'>draw one digit</p>", ""
            return
        bars.value = "".join(
            f"<div style='font:14px monospace;white-space:nowrap'>{d} <span style='display:"
            f"inline-block;width:{int(100 * p[d])}px;height:11px;background:"
            f"{'#d62728' if d == p.argmax() else '#999'}'></span> {p[d]:.2f}</div>"
            for d in range(10))
        reading.value = (f"<p class='reading' style='font-size:16px;margin:0 0 4px;white-space:"
                         f"nowrap'>reads: <b>{said}</b></p>")

    canvas.on_mouse_down(down)
    canvas.on_mouse_move(move)
    canvas.on_mouse_up(up)
    canvas.on_mouse_out(up)
    canvas.on_touch_start(lambda touches: down(*touches[0]))
    canvas.on_touch_move(lambda touches: move(*touches[0]))
    canvas.on_touch_end(lambda touches: up(0, 0))
    # each change the browser sends back: read again, as read_digit.py reads a file
    canvas.observe(lambda change: show(*read_canvas(canvas.get_image_data(), model)),
                   "image_data")
    clear.on_click(lambda button: blank())
    blank()
    network_gets = widgets.VBox([widgets.HTML("the network gets:"), cells])
    readings = widgets.VBox([reading, widgets.HBox([bars, network_gets])],
                            layout=widgets.Layout(margin="0 0 0 16px"))
    return Pad([widgets.VBox([canvas, width, clear]), readings])
