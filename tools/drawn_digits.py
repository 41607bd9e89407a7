"""Digits drawn as a student draws them on a 200 x 200 canvas, and the flaws of photos.

Not anyone's handwriting: each digit is a few pen strokes through hand-placed points, drawn
with a round pen of any width. benchmarks/handwriting_targets.py and the tests use them to
check that the reader reads every pen width and that a photo's flaws never make it
confidently wrong.
"""

import io

import numpy as np
from PIL import Image, ImageDraw


def arc(cx, cy, rx, ry, start, end, n=40):
    """Points along an ellipse from angle start to end (degrees), in the unit square, y up."""
    angles = np.radians(np.linspace(start, end, n))
    return np.column_stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)])


def line(*points):
    return np.array(points, dtype=float)


STROKES = {  # each digit: its strokes, (n, 2) arrays of (x, y) in the unit square, y up
    0: [arc(0.5, 0.5, 0.27, 0.4, 90, 450)],
    1: [line((0.5, 0.9), (0.5, 0.1))],  # a plain vertical 1, the one the 13 writers lack
    2: [np.vstack([arc(0.5, 0.66, 0.26, 0.24, 160, -40), line((0.22, 0.1), (0.8, 0.1))])],
    3: [arc(0.5, 0.7, 0.24, 0.2, 150, -90), arc(0.5, 0.3, 0.27, 0.2, 90, -150)],
    4: [line((0.62, 0.1), (0.62, 0.9), (0.18, 0.35), (0.82, 0.35))],
    5: [line((0.74, 0.9), (0.32, 0.9), (0.29, 0.55)), arc(0.5, 0.34, 0.26, 0.24, 125, -150)],
    6: [np.vstack([arc(0.62, 0.55, 0.35, 0.38, 80, 180), arc(0.5, 0.3, 0.23, 0.2, 180, 540)])],
    7: [line((0.2, 0.9), (0.8, 0.9), (0.42, 0.1))],
    8: [arc(0.5, 0.71, 0.2, 0.18, 0, 360), arc(0.5, 0.3, 0.25, 0.21, 0, 360)],
    9: [np.vstack([arc(0.5, 0.68, 0.23, 0.21, 0, 360), line((0.73, 0.68), (0.68, 0.1))])],
}


def draw(digit, pen=12, size=200, margin=0.15, slant=0.0):
    """(size, size) grey levels 0..1: the digit in black ink on white paper."""
    image = Image.new("L", (size, size), 255)
    canvas = ImageDraw.Draw(image)
    span = size * (1 - 2 * margin)
    for stroke in STROKES[digit]:
        x = stroke[:, 0] + slant * (stroke[:, 1] - 0.5)
        points = [(size * margin + span * u, size * margin + span * (1 - v))
                  for u, v in zip(x, stroke[:, 1])]
        canvas.line(points, fill=0, width=pen, joint="curve")
        for px, py in (points[0], points[-1]):  # round ends, as a real pen leaves
            canvas.ellipse([px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2], fill=0)
    return np.asarray(image, dtype=float) / 255


def png_bytes(image, mode="L", **save):
    """An image (array 0..1 or a PIL image) as the bytes of a PNG file (or **save's format)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(np.round(255 * image).astype(np.uint8), mode=None)
    buffer = io.BytesIO()
    image.save(buffer, format=save.pop("format", "PNG"), **save)
    return buffer.getvalue()


# Photo flaws, each applied to a clean drawing (grey 0..1, 200 x 200).

def speck(grey):
    out = grey.copy()
    out[12:18, 180:186] = 0.55  # one faint speck near a corner
    return out


def lighting(grey):
    shade = np.linspace(1.0, 0.45, grey.shape[1])[None, :]  # a lamp on the left
    return grey * shade


def ruled(grey):
    out = grey.copy()
    for row in range(10, grey.shape[0], 30):  # dark rules every 30 px
        out[row:row + 2] = np.minimum(out[row:row + 2], 0.35)
    return out


def frame(grey):
    out = grey.copy()
    out[6:9, 6:-6] = out[-9:-6, 6:-6] = 0.1
    out[6:-6, 6:9] = out[6:-6, -9:-6] = 0.1
    return out


def grey_paper(grey):
    return 0.45 * grey  # paper at 45 % grey, ink black


def white_on_transparent(grey):
    """An RGBA image: white ink where the drawing is, fully transparent elsewhere."""
    rgba = np.zeros(grey.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = np.round(255 * (1 - grey)).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


def exif_rotated(grey):
    """The drawing stored turned a quarter, with the EXIF tag (6) that says how to turn it
    back, as phones save photos."""
    image = Image.fromarray(np.round(255 * grey).astype(np.uint8)).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    return image, exif


FLAWS = {"speck": speck, "lighting gradient": lighting, "ruled paper": ruled,
         "thin frame": frame, "45 % grey paper": grey_paper}


def flawed_files(grey):
    """{flaw: (file bytes, suffix)} for every photo flaw applied to one drawing."""
    files = {name: (png_bytes(flaw(grey)), ".png") for name, flaw in FLAWS.items()}
    files["white ink, transparent"] = (png_bytes(white_on_transparent(grey)), ".png")
    rotated, exif = exif_rotated(grey)
    files["EXIF-rotated photo"] = (png_bytes(rotated, format="JPEG", exif=exif, quality=90),
                                   ".jpg")
    return files
