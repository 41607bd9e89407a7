"""Read handwritten digits from image files with the MLP of np_mlp_digits.py.

    .venv/bin/python read_digit.py IMAGE [IMAGE ...]    # one line per image: 'seven.png: 7 (0.93)'

An image becomes the 64 features of scikit-learn's digits by their recipe (optdigits, see
load_digits().DESCR): the digit as a black-and-white 32 x 32 bitmap counted in 4 x 4 blocks,
once ink is told from paper, specks and ruled lines dropped, the slant taken out and the
strokes made as bold as theirs: a function a step, each shown in labs/own_handwriting.ipynb.
The model (models/read_digit.npz, from tools/make_read_digit_model.py) keeps its training
images: one farther from all of them than most real digits are is 'unsure'. One digit per
image: it reads no numbers or words.
"""

import argparse
import os
import pathlib
import re
import stat
import sys
import warnings
import zipfile

if __name__ == "__main__":  # Ctrl-C, or a reader that leaves (`| head -1`), ends the program
    import signal  # quietly at any moment, as any Unix tool does (the shell says 130, 141)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):  # (Windows has no SIGPIPE)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from np_mlp_digits import forward

ROOT = pathlib.Path(__file__).resolve().parent
MODEL_FILE = ROOT / "models" / "read_digit.npz"
MAKE_MODEL = ".venv/bin/python -m tools.make_read_digit_model"  # the command that makes it
ARRAYS = ("W1", "b1", "W2", "b2", "mean", "std", "examples", "novel_above")  # in the file

UNSURE_BELOW = 0.7  # a top probability under this is reported as 'unsure'
WORK_SIDE = (96, 256)  # the image is scaled so its long side is in this range: caps the work
MIN_SIDE = 16  # fewer pixels than this on a side cannot hold a readable digit
MAX_PIXELS = 100_000_000  # larger files are refused before they are decoded (memory)
TOO_LARGE = "too large to read safely ({:,} pixels, over {:,}); scale it down to 1000 x 1000"
INK = 313  # inked pixels of the 32 x 32 bitmap: the median of the 1,797 digits (see the lab)
WIDEST = 1.7  # width / height of the upright digit; MNIST's widest of 2,500 is 1.64
MOST_MARKS = 2  # separate large marks; no MNIST digit has more than 2 (a 5's flag, a 7's bar)
NOVEL_PERCENTILE = 97  # the novelty bar: 97 % of MNIST training digits have a neighbour closer


# --- From a file to an array of grey levels -------------------------------------------------
class DigitError(Exception):
    """An image that cannot be read as a digit; the message says why and what to do."""


def load_image(path):
    """The image in a file as (grey, alpha, notes): (H, W) floats 0..1 (alpha None if opaque).
    Only a regular file is opened (a pipe may never end); a large image is decoded small."""
    notes, name = [], os.fspath(path)
    if not name or "\0" in name:
        raise DigitError("the name is empty or holds a NUL character; give an image's path")
    try:
        kind = os.stat(name).st_mode
        if not stat.S_ISREG(kind):
            raise DigitError("is a folder, not an image; give the path of an image file in it"
                             if stat.S_ISDIR(kind) else "not a regular file (a pipe, a device, "
                             "...); save the image to a file and give that")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            image = Image.open(name)
        with image:  # closed when done, whatever happens
            width, height = image.size  # the file's own size, before anything is decoded
            if width * height > MAX_PIXELS:
                raise DigitError(TOO_LARGE.format(width * height, MAX_PIXELS))
            if min(width, height) < MIN_SIDE:
                raise DigitError(f"only {width} x {height} pixels, too small to hold a digit; "
                                 f"use an image at least {MIN_SIDE} pixels on a side")
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"it has {image.n_frames} frames; only the first is read")
            image.draft("RGB", (4 * WORK_SIDE[1],) * 2)  # a JPEG is decoded small
            upright = ImageOps.exif_transpose(image)  # a phone's 'rotate on display' tag
            upright.thumbnail((4 * WORK_SIDE[1],) * 2, Image.Resampling.BOX)
            return (*grey_levels(upright), notes)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:  # one for all
        if isinstance(error, UnidentifiedImageError):
            why = "not an image file that can be read; save the digit as a PNG or JPEG image"
        elif isinstance(error, Image.DecompressionBombError):  # Pillow's own limit, above ours
            why = TOO_LARGE.format(int(re.search(r"(\d+) pixels", str(error))[1]), MAX_PIXELS)
        elif getattr(error, "strerror", None):  # the system's words: a loop, a long name, ...
            why = f"cannot be opened: {error.strerror.lower()}; check the path and permissions"
        else:
            why = f"the image data is damaged or incomplete ({error}); save the image again"
        raise DigitError(why) from None


def grey_levels(image):
    """(grey, alpha) of a Pillow image as floats 0..1. 16-bit images (0..65535) and floating
    point ones (0..1, or 0..255) are scaled first: converted to 8 bits they would clip."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=float)
        full = 65535 if image.mode != "F" else 1 if values.max() <= 1 else 255
        return np.clip(values / full, 0, 1), None
    rgba = np.asarray(image.convert("RGBA"), dtype=float) / 255  # (H, W, 4)
    grey = rgba[:, :, :3] @ [0.299, 0.587, 0.114]  # (H, W) brightness, as Pillow's 'L'
    return grey, (rgba[:, :, 3] if rgba[:, :, 3].min() < 0.5 else None)


def to_work_size(image):
    """image (H, W) scaled so its long side lies in WORK_SIDE: the same work for any file."""
    long_side = max(image.shape)
    scale = min(max(long_side, WORK_SIDE[0]), WORK_SIDE[1]) / long_side
    if scale == 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image.astype(np.float32)).resize(size, resample), float)


# --- The recipe: ink, the digit's pixels, slant, boldness, 32 x 32, 4 x 4 blocks ------------
def ink_from_grey(grey, alpha=None):
    """(H, W) ink 0..1: how much darker (or lighter) than the paper near it each pixel is. Paper
    covers most of the image, so the median is paper and ink the long tail (dark on grey, chalk
    on a blackboard); the paper is measured block by block, so uneven light is no ink."""
    if alpha is not None and np.mean(alpha < 0.5) > 0.1:
        return alpha
    median = np.median(grey)
    if np.percentile(grey, 99.5) - median > median - np.percentile(grey, 0.5):
        grey = 1 - grey  # light ink on dark paper: flip, so ink is dark from here on
    # The paper's level: the bright end of each of 8 x 8 blocks (ink is darker), the median of
    # each block and its neighbours (a block may be all ink), smoothly between the blocks.
    h, w = grey.shape
    tiles = grey[:h // 8 * 8, :w // 8 * 8].reshape(8, h // 8, 8, w // 8).swapaxes(1, 2)
    level = np.percentile(tiles.reshape(8, 8, -1), 90, axis=2)  # (8, 8)
    level = ndimage.median_filter(level, size=3, mode="nearest")
    paper = np.asarray(Image.fromarray(level.astype(np.float32)).resize(
        (w, h), Image.Resampling.BILINEAR), dtype=float)  # (H, W)
    return np.clip((paper - grey) / np.maximum(paper, 0.05), 0, 1)  # contrast, 0..1


def digit_mask(ink):
    """((H, W) bool: the digit's pixels, how many large marks it has), or a DigitError if no ink
    stands out. Binarise at 40 % of the strong ink, drop ruled lines and frames, keep the largest
    mark and those large beside it or inside its box: a speck elsewhere does not move the box."""
    strong = np.percentile(ink, 99.5)
    if strong < 0.1:  # nothing 10 % darker (or lighter) than the paper
        raise DigitError("looks blank: no ink stands out from the paper; draw one digit, "
                         "dark on light or light on dark, and save it again")
    mask = ink > 0.4 * max(strong, 0.5 * ink.max())
    mask = drop_lines(drop_lines(mask).T).T  # rows first, then columns
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        raise DigitError("looks blank once the ruled lines and frame are taken away; "
                         "draw one digit and save it again")
    areas = np.bincount(labels.ravel())[1:]  # (n,)
    boxes = ndimage.find_objects(labels)
    main = int(np.argmax(areas))
    (top, bottom), (left, right) = [(s.start, s.stop) for s in boxes[main]]
    keep = [i for i, (rows, cols) in enumerate(boxes) if areas[i] >= 0.2 * areas[main]
            or (rows.start >= top and rows.stop <= bottom and cols.start >= left
                and cols.stop <= right)]
    return np.isin(labels, np.array(keep) + 1), int(np.sum(areas >= 0.2 * areas[main]))


def drop_lines(mask, reach=0.85):
    """mask without the rows that are inked across reach of its width (ruled lines, a
    frame's sides); a stroke crossing such a line is bridged from the rows either side."""
    lines = mask.mean(axis=1) >= reach  # (H,)
    rows = np.pad(mask, ((1, 1), (0, 0)))  # (H + 2, W): a blank row above and below
    mask = mask.copy()
    for band in ndimage.find_objects(ndimage.label(lines)[0]):
        top, bottom = band[0].start, band[0].stop  # rows [top, bottom) are a line: ink goes on
        mask[top:bottom] = rows[top] & rows[bottom + 1]  # through it only if it crosses it
    return mask


def deskew(mask):
    """mask sheared so that the digit's main axis is upright (moments: x's slope against y is
    mu11 / mu02), up to 45 degrees; rows move by whole pixels, the same on every machine."""
    y, x = np.nonzero(mask)
    mu02 = np.mean((y - y.mean()) ** 2)
    if mu02 == 0:  # a flat horizontal line: no slant to measure
        return mask
    slope = np.clip(np.mean((x - x.mean()) * (y - y.mean())) / mu02, -1, 1)
    shift = np.round(slope * (y - y.mean())).astype(int)  # x' = x - slope * (y - y_mean)
    pad = int(np.abs(shift).max())  # room for the sheared digit
    upright = np.zeros((mask.shape[0], mask.shape[1] + 2 * pad), dtype=bool)
    upright[y, x - shift + pad] = True
    return upright


def crop(mask):
    """mask cut to the digit's bounding box."""
    return mask[ndimage.find_objects(mask.astype(np.uint8))[0]]


def same_ink(mask, ink=INK):
    """mask with its strokes thickened or thinned to cover about ink pixels at 32 x 32, as each
    of the 1,797 digits does: any pen gives one bitmap. Width: area / length (half the outline)."""
    width = 2 * mask.sum() / max(np.sum(mask & ~ndimage.binary_erosion(mask)), 1)
    radius = 0
    for _ in range(2):  # ink = length x width at 32 x 32; again, as the box grows with radius
        scale = 32 / (max(mask.shape) + 2 * radius)  # from this image's pixels to the bitmap's
        radius = int(round((ink / (mask.sum() / width * scale**2) - width) / 2))
    # A round pen of that radius, by the distance to the nearest ink (or paper) pixel: the
    # same pixels as dilating (eroding) by a disc, a hundred times faster for a wide one.
    if radius > 0:
        return ndimage.distance_transform_edt(~np.pad(mask, radius)) <= radius
    thinner = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1] > -radius
    return thinner if thinner.sum() > mask.sum() / 4 else mask  # a stroke never vanishes


def to_32x32(mask):
    """The cropped digit scaled to fill 32 pixels of its longer side, in proportion, centred."""
    h, w = mask.shape
    size = (max(1, round(w * 32 / max(h, w))), max(1, round(h * 32 / max(h, w))))
    small = Image.fromarray(mask.astype(np.float32)).resize(size, Image.Resampling.BOX)
    bitmap = np.zeros((32, 32), dtype=bool)
    top, left = (32 - size[1]) // 2, (32 - size[0]) // 2
    bitmap[top:top + size[1], left:left + size[0]] = np.asarray(small) >= 0.5
    return bitmap


def steps(grey, alpha=None):
    """Every stage from grey levels (H, W) 0..1 (and opacity) to the 64 features, by name."""
    found = {"grey": to_work_size(grey)}
    found["ink"] = ink_from_grey(found["grey"], None if alpha is None else to_work_size(alpha))
    found["digit"], found["marks"] = digit_mask(found["ink"])
    found["upright"] = crop(deskew(found["digit"]))
    found["same ink"] = crop(same_ink(found["upright"]))
    found["32 x 32"] = to_32x32(found["same ink"])
    blocks = found["32 x 32"].reshape(8, 4, 8, 4)  # [block row, row, block column, column]
    found["features"] = blocks.sum(axis=(1, 3)).ravel().astype(float)  # (64,) inked, 0..16
    return found


# --- The model: np_mlp_digits' network, the features' mean and std, its training images ---
class ModelError(Exception):
    """A model file that cannot be used; the message names the file and what to do."""


def load_model(path=MODEL_FILE):
    """The model file's arrays by name, or a ModelError if one is missing, not finite or of
    a shape that does not fit the others. Plain arrays only: a pickle could run code."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            model = {name: saved[name] for name in ARRAYS if name in saved}
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as error:
        problem = (getattr(error, "strerror", None) or  # 'No such file or directory', ...
                   "not a model file (damaged, cut short, or another kind of file)")
    else:
        problem = model_problem(model)
    if problem:
        raise ModelError(f"{path}: {problem}; make it again with `{MAKE_MODEL}`")
    return model


def model_problem(model):
    """What is wrong with a model's arrays ('' if nothing)."""
    missing = [name for name in ARRAYS if name not in model]
    if missing:
        return f"it has no array {missing[0]}"
    h, n = model["b1"].shape, model["examples"].shape[:1]  # (H,) hidden units, (N,) images
    for name, shape in zip(ARRAYS, [(64, *h), h, (*h, 10), (10,), (64,), (64,), (*n, 64), ()]):
        if model[name].dtype.kind not in "biuf" or model[name].shape != shape:
            return f"{name} has shape {model[name].shape} ({model[name].dtype}), not {shape}"
    if not all(np.isfinite(array).all() for array in model.values()):
        return "its numbers are not all finite (NaN or infinity)"
    positive = (model["std"] > 0).all() and model["novel_above"] > 0
    return "" if positive else "std and novel_above must be above 0"


def probabilities(model, features):
    """(N, 64) or (64,) features -> (N, 10) or (10,) probabilities of each digit."""
    X = (np.atleast_2d(features) - model["mean"]) / model["std"]  # as the training images
    P, _ = forward(model, X)  # forward takes W1, b1, W2 and b2 from the model's arrays
    return P if np.ndim(features) == 2 else P[0]


def novelty(features, model):
    """Why the features are unlike every training image ('' if they are not): far from all of
    them its probabilities are guesses. Distances in inked pixels per block, exact (integers)."""
    nearest = np.sqrt(((model["examples"] - features) ** 2).sum(axis=1)).min()
    return "" if nearest <= model["novel_above"] else (
        f"the nearest training image is {nearest:.1f} away; {NOVEL_PERCENTILE} % of real "
        f"digits have one within {model['novel_above']:.1f}: not one digit?")


def verdict(p, unsure_below=UNSURE_BELOW, odd=False):
    """'7 (0.93)', or 'unsure (7 0.55, 1 0.30)' below the bar or for an odd image (see read)."""
    first, second = np.argsort(p)[::-1][:2]
    if p[first] >= unsure_below and not odd:
        return f"{first} ({p[first]:.2f})"
    return f"unsure ({first} {p[first]:.2f}, {second} {p[second]:.2f})"


def read(model, found):
    """(what read_digit.py says of an image's steps, and the notes saying why it is unsure):
    the network gives ten probabilities for anything, so marks unlike one digit (too wide, too
    many) or unlike every training image make it unsure, whatever its probability."""
    height, width = found["upright"].shape
    odd = {f"the ink is {width / height:.1f} times as wide as tall": width > WIDEST * height,
           f"the ink is {found['marks']} separate marks": found["marks"] > MOST_MARKS}
    notes = [f"{why}: more than one digit, or a scribble?" for why, true in odd.items() if true]
    notes += [note for note in [novelty(found["features"], model)] if note]
    return verdict(probabilities(model, found["features"]), odd=bool(notes)), notes


# --- Command line ----------------------------------------------------------------------------
def shown(name):
    """A file's name on one line: control characters escaped, bytes that are not UTF-8 as \\xff."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, GIF, ... files")
    parser.add_argument("--model", default=MODEL_FILE, metavar="FILE",
                        help=f"the model file (default: {MODEL_FILE.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if sys.stdout is None:  # started with stdout closed (`>&-`): the results would be lost
        print("read_digit.py: standard output is closed; nowhere to print", file=sys.stderr)
        return 1
    try:
        model = load_model(args.model)
    except ModelError as error:
        print(f"read_digit.py: {error}", file=sys.stderr)
        return 1
    sys.stdout.reconfigure(errors="backslashreplace")  # any name prints, whatever the locale
    failed = False
    for name in args.images:
        try:
            grey, alpha, notes = load_image(name)
            said, why = read(model, steps(grey, alpha))
            notes += why
        except DigitError as error:
            said, notes, failed = f"error: {error}", [], True
        try:
            print(f"{shown(name)}: {said}", flush=True)
        except OSError as error:  # a full disk, /dev/full: the results cannot be written
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no retry at exit
            print(f"read_digit.py: cannot write the results: {error.strerror}", file=sys.stderr)
            return 1
        for note in notes:
            print(f"{shown(name)}: note: {note}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
