"""Draw the example digits in this folder: pen strokes through hand-placed points, drawn by code.

They are not anyone's handwriting. Each digit is a few strokes (lines and elliptic arcs) in a
unit square, drawn by matplotlib with a thick round pen, on papers, inks, canvas sizes and
file formats that differ the way photos and paint-program files of digits do:

    one.png     a 1 written with a flag at the top, marker on white
    two.png     black ink on white, square canvas
    three.png   white chalk on black (light on dark), tall canvas
    four.jpg    blue ink on cream paper, wide canvas, digit off-centre, JPEG
    five.png    black ink on a transparent background (as many paint programs save it)
    seven.png   thin grey pencil on white, slanted

Run from the repository's folder to redraw them:

    .venv/bin/python images/make_images.py
"""

import pathlib

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FOLDER = pathlib.Path(__file__).resolve().parent


def arc(cx, cy, rx, ry, start, end, n=60):
    """Points along an ellipse from angle start to end in degrees (anticlockwise if end > start)."""
    angles = np.radians(np.linspace(start, end, n))
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def line(*points):
    return np.array(points, dtype=float)


# Each digit: a list of strokes, each an (n, 2) array of (x, y) in the unit square, y up.
STROKES = {
    1: [line((0.3, 0.7), (0.6, 0.9), (0.6, 0.1))],
    2: [np.vstack([arc(0.5, 0.68, 0.26, 0.22, 160, -30), line((0.2, 0.12), (0.82, 0.12))])],
    3: [arc(0.5, 0.71, 0.24, 0.19, 150, -90), arc(0.5, 0.31, 0.28, 0.21, 90, -150)],
    4: [line((0.62, 0.1), (0.62, 0.9), (0.15, 0.36), (0.85, 0.36))],
    5: [line((0.76, 0.9), (0.32, 0.9), (0.28, 0.55)), arc(0.5, 0.34, 0.27, 0.23, 125, -150)],
    7: [line((0.18, 0.88), (0.82, 0.88), (0.42, 0.1))],
}


def draw(path, digit, size, ink, paper, width, *, box=(0, 0, 1, 1), slant=0.0,
         transparent=False, **save):
    """Draw digit's strokes into box (x0, y0, x1, y1 as fractions of the canvas) and save."""
    w, h = size
    fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")
    x0, y0, x1, y1 = box
    for stroke in STROKES[digit]:
        x = stroke[:, 0] + slant * (stroke[:, 1] - 0.5)  # a forward lean, as in handwriting
        ax.plot(x0 + (x1 - x0) * x, y0 + (y1 - y0) * stroke[:, 1], color=ink, linewidth=width,
                solid_capstyle="round", solid_joinstyle="round")
    fig.savefig(path, dpi=100, facecolor="none" if transparent else paper,
                transparent=transparent, **save)
    plt.close(fig)


def main():
    draw(FOLDER / "one.png", 1, (200, 200), "black", "white", 12, box=(0.2, 0.1, 0.8, 0.9))
    draw(FOLDER / "two.png", 2, (200, 200), "black", "white", 14, box=(0.2, 0.12, 0.8, 0.88))
    draw(FOLDER / "three.png", 3, (160, 240), "white", "black", 12, box=(0.15, 0.1, 0.85, 0.9))
    draw(FOLDER / "four.jpg", 4, (320, 200), "#1f3a93", "#f3ead2", 13, box=(0.5, 0.15, 0.85, 0.9),
         pil_kwargs={"quality": 85})
    draw(FOLDER / "five.png", 5, (220, 220), "black", "white", 15, box=(0.2, 0.1, 0.8, 0.9),
         transparent=True)
    draw(FOLDER / "seven.png", 7, (200, 260), "#555555", "white", 7, box=(0.2, 0.1, 0.8, 0.9),
         slant=0.25)


if __name__ == "__main__":
    main()
