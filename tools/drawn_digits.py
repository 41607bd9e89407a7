"""Digits drawn as a student draws them on a 200 x 200 canvas, and the flaws of photos.

Not anyone's handwriting: each digit is a few pen strokes through hand-placed points, drawn
with a round pen of any width and slant: the plain forms, the other forms a class writes
(STYLES: a 1 with a flag, a crossed 7, an open 4, ...) and letters and shapes that are no
digit (NOT_DIGITS). benchmarks/handwriting_targets.py and the tests use them to check that
the reader reads every form at every pen width and slant, that it is unsure of what is no
digit, and that a photo's flaws never make it confidently wrong. wobble draws each form as
another hand would: those drawings choose the reader's settings, the unwobbled ones judge.
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


STROKES = {  # each digit's plain form: its strokes, (n, 2) arrays of (x, y) in the unit square
    0: [arc(0.5, 0.5, 0.27, 0.4, 90, 450)],
    1: [line((0.5, 0.9), (0.5, 0.1))],  # a plain vertical stroke
    2: [np.vstack([arc(0.5, 0.66, 0.26, 0.24, 160, -40), line((0.22, 0.1), (0.8, 0.1))])],
    3: [arc(0.5, 0.7, 0.24, 0.2, 150, -90), arc(0.5, 0.3, 0.27, 0.2, 90, -150)],
    4: [line((0.62, 0.1), (0.62, 0.9), (0.18, 0.35), (0.82, 0.35))],  # closed: a triangle
    5: [line((0.74, 0.9), (0.32, 0.9), (0.29, 0.55)), arc(0.5, 0.34, 0.26, 0.24, 125, -150)],
    6: [np.vstack([arc(0.62, 0.55, 0.35, 0.38, 80, 180), arc(0.5, 0.3, 0.23, 0.2, 180, 540)])],
    7: [line((0.2, 0.9), (0.8, 0.9), (0.42, 0.1))],
    8: [arc(0.5, 0.71, 0.2, 0.18, 0, 360), arc(0.5, 0.3, 0.25, 0.21, 0, 360)],
    9: [np.vstack([arc(0.5, 0.68, 0.23, 0.21, 0, 360), line((0.73, 0.68), (0.68, 0.1))])],
}

STYLES = {  # the other forms a class writes: {name: (digit, strokes)}
    "1 with a flag": (1, [line((0.3, 0.68), (0.55, 0.9), (0.55, 0.1))]),
    "1 with a flag and a base": (1, [line((0.3, 0.68), (0.55, 0.9), (0.55, 0.1)),
                                     line((0.3, 0.1), (0.8, 0.1))]),
    "7 crossed": (7, [line((0.2, 0.9), (0.8, 0.9), (0.42, 0.1)), line((0.4, 0.5), (0.76, 0.5))]),
    "4 open": (4, [line((0.25, 0.9), (0.18, 0.38), (0.82, 0.38)), line((0.62, 0.72), (0.62, 0.1))]),
    "9 with a straight stem": (9, [np.vstack([arc(0.45, 0.68, 0.23, 0.21, 0, 360),
                                              line((0.68, 0.68), (0.68, 0.1))])]),
}
STYLES.update({f"{digit} plain": (digit, strokes) for digit, strokes in STROKES.items()})

NOT_DIGITS = {  # letters and shapes a student may draw to test the reader: {name: strokes}
    "S": [np.vstack([arc(0.5, 0.7, 0.25, 0.2, 20, 270), arc(0.5, 0.3, 0.25, 0.2, 90, -160)])],
    "H": [line((0.25, 0.9), (0.25, 0.1)), line((0.75, 0.9), (0.75, 0.1)),
          line((0.25, 0.5), (0.75, 0.5))],
    "X": [line((0.2, 0.9), (0.8, 0.1)), line((0.8, 0.9), (0.2, 0.1))],
    "smiley": [arc(0.5, 0.5, 0.4, 0.4, 0, 360), line((0.37, 0.62)), line((0.63, 0.62)),
               arc(0.5, 0.45, 0.2, 0.17, 200, 340)],
    "?": [np.vstack([arc(0.5, 0.7, 0.22, 0.2, 160, -90), line((0.5, 0.5), (0.5, 0.3))]),
          line((0.5, 0.1))],
    "#": [line((0.4, 0.9), (0.32, 0.1)), line((0.68, 0.9), (0.6, 0.1)),
          line((0.15, 0.65), (0.85, 0.65)), line((0.15, 0.35), (0.85, 0.35))],
}


def wobble(strokes, seed, amount=0.04):
    """The strokes as another hand would place them: each stroke stretched, turned and moved
    by a few per cent at random, and every point moved a little (seeded, so reproducible)."""
    rng = np.random.default_rng(seed)
    moved = []
    for stroke in strokes:
        turn = np.eye(2) + rng.normal(0, amount, (2, 2))
        moved.append((stroke - 0.5) @ turn.T + 0.5 + rng.normal(0, amount, 2)
                     + rng.normal(0, amount / 4, stroke.shape))
    return moved


def draw(what, pen=12, size=200, margin=0.15, slant=0.0, seed=None):
    """(size, size) grey levels 0..1: black ink on white paper. what is a digit (its plain
    form), a name in STYLES or NOT_DIGITS, or a list of strokes; slant leans it forward by
    that many degrees (negative: backward); a seed draws it wobbled (see wobble)."""
    strokes = (STROKES[what] if what in STROKES else STYLES[what][1] if what in STYLES
               else NOT_DIGITS[what] if isinstance(what, str) else what)
    if seed is not None:
        strokes = wobble(strokes, seed)
    image = Image.new("L", (size, size), 255)
    canvas = ImageDraw.Draw(image)
    span, lean = size * (1 - 2 * margin), np.tan(np.radians(slant))
    for stroke in strokes:
        x = stroke[:, 0] + lean * (stroke[:, 1] - 0.5)  # y is up: the top moves forward
        points = [(size * margin + span * u, size * margin + span * (1 - v))
                  for u, v in zip(x, stroke[:, 1])]
        if len(points) > 1:
            canvas.line(points, fill=0, width=pen, joint="curve")
        for px, py in (points[0], points[-1]):  # round ends, as a real pen leaves (a dot)
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
