"""Read handwritten digits from image files with the MLP of np_mlp_digits.py.

    python read_digit.py IMAGE [IMAGE ...]    # one line per image: 'seven.png: 7 (0.93)'
    python read_digit.py --make-model         # retrain models/read_digit.npz (a few seconds)

An image becomes the 64 features the network reads the way scikit-learn's digits were made
(the optdigits recipe, load_digits().DESCR): a black-and-white bitmap of the digit, scaled to
32 x 32, counted in 4 x 4 blocks, so each feature is 0..16 inked pixels. Before that, a photo
or a drawing needs: EXIF rotation undone, paper told from ink (white, grey, dark, transparent,
unevenly lit), specks, ruled lines and frames dropped, the slant taken out, and the pen's width
made the same for every drawing. Each step is one small function below; the lab
labs/own_handwriting.ipynb shows them one at a time on one image.

The model (models/read_digit.npz) is np_mlp_digits.train, unchanged, on the digits' training
split plus 1,500 real MNIST digits (data/mnist_2500.npz): 13 writers are too few to learn
digits in general. The last 100 MNIST digits of each kind are held out from all training.
The network gives ten probabilities for anything, a smudge or a letter, so the file also keeps
the training images: an image farther from all of them than most real digits are is 'unsure'.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from np_mlp_digits import forward, train

ROOT = pathlib.Path(__file__).resolve().parent
MODEL_FILE = ROOT / "models" / "read_digit.npz"
MNIST_FILE = ROOT / "data" / "mnist_2500.npz"

UNSURE_BELOW = 0.7  # a top probability under this is reported as 'unsure'
WORK_SIDE = (96, 256)  # the image is scaled so its long side is in this range: caps the work
MIN_SIDE = 16  # fewer pixels than this on a side cannot hold a readable digit
MAX_PIXELS = 100_000_000  # larger files are refused before they are decoded (memory)
PEN = 0.11  # the pen's width as a fraction of the digit's height, after normalising (see lab)
WIDEST = 1.7  # width / height of the upright digit; MNIST's widest of 2,500 is 1.64
MOST_MARKS = 2  # separate large marks; no MNIST digit has more than 2 (a 5's flag, a 7's bar)
NOVEL_PERCENTILE = 98  # the novelty bar: 98 % of MNIST training digits have a neighbour closer


# ----------------------------------------------------------------------------
# From a file to an array of grey levels


class DigitError(ValueError):
    """An image that cannot be read as a digit; the message says why and what to do."""


def load_image(path):
    """The image in a file as (grey, alpha, notes): (H, W) floats 0..1 (alpha None if opaque).

    Huge images are reduced while decoding, so the work is capped whatever the file's size.
    """
    path = pathlib.Path(path)
    notes = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombWarning()
            if getattr(image, "n_frames", 1) > 1:
                notes.append(f"it has {image.n_frames} frames; only the first is read")
            image.draft("RGB", (4 * WORK_SIDE[1], 4 * WORK_SIDE[1]))  # JPEG: decode smaller
            image = ImageOps.exif_transpose(image)  # a phone's 'rotate on display' tag
            image.thumbnail((4 * WORK_SIDE[1],) * 2, Image.Resampling.BOX)
            image.load()
    except FileNotFoundError:
        raise DigitError("no such file; check the path and the spelling") from None
    except IsADirectoryError:
        raise DigitError("is a folder, not an image; give the path of an image file in it") \
            from None
    except PermissionError:
        raise DigitError("cannot be read: permission denied; check the file's permissions "
                         "(or copy it somewhere you can read)") from None
    except UnidentifiedImageError:
        raise DigitError("not an image file that can be read; save the digit as a PNG or "
                         "JPEG image and give that file") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise DigitError(f"too large to read safely (over {MAX_PIXELS // 1_000_000} million "
                         "pixels); scale it down, 1000 x 1000 is plenty") from None
    except (OSError, SyntaxError, ValueError) as error:  # a damaged or cut-off file
        raise DigitError(f"the image data is damaged or incomplete ({error}); save the "
                         "image again") from None
    if min(image.size) < MIN_SIDE:
        raise DigitError(f"only {image.width} x {image.height} pixels, too small to hold a "
                         f"digit; use an image at least {MIN_SIDE} pixels on a side")
    rgba = np.asarray(image.convert("RGBA"), dtype=float) / 255  # (H, W, 4)
    grey = rgba[:, :, :3] @ [0.299, 0.587, 0.114]  # (H, W) brightness, as Pillow's 'L'
    alpha = rgba[:, :, 3]
    return grey, (alpha if alpha.min() < 0.5 else None), notes


def to_work_size(image):
    """image (H, W) scaled so its long side lies in WORK_SIDE: the same work for any file."""
    long_side = max(image.shape)
    target = min(max(long_side, WORK_SIDE[0]), WORK_SIDE[1])
    if target == long_side:
        return image
    scale = target / long_side
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image.astype(np.float32)).resize(size, resample), float)


# ----------------------------------------------------------------------------
# The recipe: ink, the digit's pixels, slant, size and pen, 4 x 4 blocks


def ink_from_grey(grey, alpha=None):
    """(H, W) ink 0..1: how much darker (or lighter) than the paper around it each pixel is.

    Which side is ink is decided by the image: paper covers most of it, so the median is
    paper, and the ink is the long tail (dark ink on grey paper, chalk on a blackboard). The
    paper's brightness is measured block by block, so uneven lighting is not taken for ink.
    A transparent background is no paper at all: there, ink is whatever was painted.
    """
    if alpha is not None and np.mean(alpha < 0.5) > 0.1:
        return alpha
    median = np.median(grey)
    if np.percentile(grey, 99.5) - median > median - np.percentile(grey, 0.5):
        grey = 1 - grey  # light ink on dark paper: flip, so ink is dark from here on
    paper = paper_level(grey)
    return np.clip((paper - grey) / np.maximum(paper, 0.05), 0, 1)  # contrast, 0..1


def paper_level(grey, blocks=8):
    """(H, W) the paper's brightness near each pixel: the bright end of each block (ink is
    darker), the median of each block and its neighbours (a block can be all ink), smoothed."""
    h, w = grey.shape
    bh, bw = h // blocks, w // blocks  # block size; the last few rows and columns are left out
    tiles = grey[:bh * blocks, :bw * blocks].reshape(blocks, bh, blocks, bw).swapaxes(1, 2)
    level = np.percentile(tiles.reshape(blocks, blocks, -1), 90, axis=2)  # (blocks, blocks)
    level = ndimage.median_filter(level, size=3, mode="nearest")  # keeps a smooth gradient
    smooth = Image.fromarray(level.astype(np.float32)).resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(smooth, dtype=float)


def digit_mask(ink):
    """(H, W) bool: the digit's pixels, or a DigitError if no ink stands out; and how many
    separate large marks it is made of.

    Binarise at 40 % of the strong ink, drop long straight lines (ruled paper, a frame), then
    keep the largest mark and the marks that are large beside it or inside its box: a speck
    elsewhere does not move the digit's box.
    """
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
    keep = [i for i, (rows, cols) in enumerate(boxes)
            if areas[i] >= 0.2 * areas[main]
            or (rows.start >= top and rows.stop <= bottom and cols.start >= left
                and cols.stop <= right)]
    marks = int(np.sum(areas >= 0.2 * areas[main]))
    return np.isin(labels, np.array(keep) + 1), marks


def drop_lines(mask, reach=0.85):
    """mask without the rows that are inked across reach of its width (ruled lines, a
    frame's sides); a stroke crossing such a line is bridged from the rows either side."""
    lines = mask.mean(axis=1) >= reach  # (H,)
    if not lines.any():
        return mask
    mask = mask.copy()
    labels, n = ndimage.label(lines)
    for band in ndimage.find_objects(labels):
        top, bottom = band[0].start, band[0].stop  # rows [top, bottom) are a line
        above = mask[top - 1] if top > 0 else np.zeros_like(mask[0])
        below = mask[bottom] if bottom < len(mask) else np.zeros_like(mask[0])
        mask[top:bottom] = above & below  # ink continues through the line only if it crosses
    return mask


def deskew(mask):
    """mask sheared so that the digit's main axis is upright (image moments: the slope of x
    against y is mu11 / mu02), at most 45 degrees either way. Each row moves sideways by a
    whole number of pixels, so the result is exactly the same on every machine."""
    y, x = np.nonzero(mask)
    y_mean, x_mean = y.mean(), x.mean()
    mu02 = np.mean((y - y_mean) ** 2)
    if mu02 == 0:  # a flat horizontal line: no slant to measure
        return mask
    slope = np.clip(np.mean((x - x_mean) * (y - y_mean)) / mu02, -1, 1)
    shift = np.round(slope * (y - y_mean)).astype(int)  # x' = x - slope * (y - y_mean)
    pad = int(np.abs(shift).max())  # room for the sheared digit
    upright = np.zeros((mask.shape[0], mask.shape[1] + 2 * pad), dtype=bool)
    upright[y, x - shift + pad] = True
    return upright


def crop(mask):
    """mask cut to the digit's bounding box."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def stroke_width(mask):
    """Mean width of the strokes in pixels: area / length, the length being half the outline."""
    outline = mask & ~ndimage.binary_erosion(mask)
    return 2 * mask.sum() / max(outline.sum(), 1)


def same_pen(mask, pen=PEN):
    """mask with its strokes made pen x its height wide (dilated or eroded), so that a 4-px
    marker and a 20-px one give the same bitmap, as the optdigits writers' pens did."""
    target = pen * mask.shape[0]
    radius = int(round((target - stroke_width(mask)) / 2))
    disc = lambda r: np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= r  # noqa: E731
    if radius > 0:
        padded = np.pad(mask, radius)
        return ndimage.binary_dilation(padded, disc(radius))
    if radius < 0:
        thinner = ndimage.binary_erosion(mask, disc(-radius))
        return thinner if thinner.sum() > mask.sum() / 4 else mask
    return mask


def to_32x32(mask):
    """The cropped digit scaled to fill 32 pixels of height (or width, if it is wider), kept
    in proportion and centred: a (32, 32) black-and-white bitmap."""
    mask = crop(mask)
    h, w = mask.shape
    scale = 32 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = Image.fromarray(mask.astype(np.float32)).resize(size, Image.Resampling.BOX)
    bitmap = np.zeros((32, 32), dtype=bool)
    top, left = (32 - size[1]) // 2, (32 - size[0]) // 2
    bitmap[top:top + size[1], left:left + size[0]] = np.asarray(small) >= 0.5
    return bitmap


def block_counts(bitmap):
    """(32, 32) bitmap -> (64,) inked pixels in each 4 x 4 block, 0..16, as load_digits."""
    return bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)).ravel().astype(float)


def steps(grey, alpha=None):
    """Every stage from grey levels to the 64 features, by name (for the lab's figure)."""
    found = {"grey": to_work_size(grey)}
    found["ink"] = ink_from_grey(found["grey"], None if alpha is None else to_work_size(alpha))
    found["digit"], found["marks"] = digit_mask(found["ink"])
    found["upright"] = crop(deskew(found["digit"]))
    found["same pen"] = same_pen(found["upright"])
    found["32 x 32"] = to_32x32(found["same pen"])
    found["features"] = block_counts(found["32 x 32"])  # (64,)
    return found


def features_from_grey(grey, alpha=None):
    """(H, W) grey levels 0..1 (and opacity) -> (64,) features on load_digits' 0..16 scale."""
    return steps(grey, alpha)["features"]


def oddity(found):
    """Why the marks found do not look like one digit ('' if they do): a reason to say unsure
    whatever the network's probability, since it was never shown such an image."""
    height, width = found["upright"].shape
    if width > WIDEST * height:
        return f"the ink is {width / height:.1f} times as wide as tall: two digits, or a scribble?"
    if found["marks"] > MOST_MARKS:
        return f"the ink is {found['marks']} separate marks: more than one digit, or a scribble?"
    return ""


def features_from_file(path):
    """(features (64,), notes) of the digit in an image file: notes are what the reader
    noticed (an animated GIF, an odd shape). A DigitError says why a file cannot be read."""
    grey, alpha, notes = load_image(path)
    found = steps(grey, alpha)
    return found["features"], notes + [oddity(found)] * bool(oddity(found))


def distances(features, examples):
    """(M, 64) and (N, 64) features -> (M, N) Euclidean distances between them, in inked
    pixels per block. Exact: every term is a whole number, far below float64's 2**53."""
    A, B = np.atleast_2d(features).astype(float), examples.astype(float)
    squared = (A ** 2).sum(axis=1)[:, None] + (B ** 2).sum(axis=1) - 2 * A @ B.T  # (M, N)
    return np.sqrt(np.maximum(squared, 0))


def novelty(features, examples, novel_above):
    """Why the features are unlike every image the network was trained on ('' if they are
    not): it only learnt digits, so far from all of them its probabilities are guesses."""
    nearest = distances(features, examples).min()
    if nearest <= novel_above:
        return ""
    return (f"the nearest training image is {nearest:.1f} away; {NOVEL_PERCENTILE} % of real "
            f"digits have one within {novel_above:.1f}: not one digit?")


# ----------------------------------------------------------------------------
# The model: np_mlp_digits' network with the pixels' mean and std, in one .npz file


def model_path(path):
    """The one naming rule for saving and loading: a path without .npz gets it."""
    path = pathlib.Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_model(path, params, mean, std, **novelty_arrays):
    """Write weights, the features' mean and std (and the training examples and novelty bar,
    if given); an existing file is replaced only once the new one is complete (write a
    temporary file, then rename), so a failed save never leaves a broken model behind."""
    path = model_path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, mean=mean, std=std, **params, **novelty_arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file (mkstemp's is private)
        os.replace(temporary, path)  # atomic: readers see the old file or the new one
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def load_model(path=MODEL_FILE):
    """(params, mean, std) from a file written by save_model (plain arrays, no pickles)."""
    with np.load(model_path(path), allow_pickle=False) as saved:
        params = {name: saved[name] for name in ("W1", "b1", "W2", "b2")}
        return params, saved["mean"], saved["std"]


def load_novelty(path=MODEL_FILE):
    """(examples (N, 64) uint8, novel_above) from the model file: the images the network was
    trained on, and the distance beyond which an image is unlike all of them."""
    with np.load(model_path(path), allow_pickle=False) as saved:
        return saved["examples"], float(saved["novel_above"])


def probabilities(model, features):
    """(N, 64) or (64,) features -> (N, 10) or (10,) probabilities of each digit."""
    params, mean, std = model
    X = (np.atleast_2d(features) - mean) / std  # standardised as the training pixels were
    P, _ = forward(params, X)
    return P if np.ndim(features) == 2 else P[0]


def verdict(p, unsure_below=UNSURE_BELOW, odd=False):
    """'7 (0.93)', or 'unsure (7 0.55, 1 0.30)' when the top probability is below the bar
    (or the image is odd: unlike any digit the network was shown)."""
    first, second = np.argsort(p)[::-1][:2]
    if p[first] >= unsure_below and not odd:
        return f"{first} ({p[first]:.2f})"
    return f"unsure ({first} {p[first]:.2f}, {second} {p[second]:.2f})"


# ----------------------------------------------------------------------------
# Training data: the digits' own training split, plus real handwriting from MNIST


def mnist_split(labels, held_out_per_digit=100):
    """Boolean (N,): True for the last held_out_per_digit digits of each kind (never trained
    on), False for the rest. Exactly determined by the file's order."""
    held_out = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        held_out[np.flatnonzero(labels == digit)[-held_out_per_digit:]] = True
    return held_out


def load_mnist():
    """(features (2500, 64), labels (2500,), images (2500, 28, 28)) of data/mnist_2500.npz,
    each image read by the same recipe as a file (MNIST stores light ink on black)."""
    with np.load(MNIST_FILE, allow_pickle=False) as data:
        images, labels = data["images"], data["labels"].astype(int)
    features = np.array([features_from_grey(image / 255) for image in images])
    return features, labels, images


def training_set(mnist_features, mnist_labels):
    """(X (2937, 64), y (2937,)): the digits' training split, then MNIST's training part."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    pixels, labels = load_digits(return_X_y=True)
    digits_train, _, digits_labels, _ = train_test_split(
        pixels, labels, test_size=0.2, stratify=labels, random_state=42)  # load_data's split
    held_out = mnist_split(mnist_labels)
    X = np.vstack([digits_train, mnist_features[~held_out]])  # (1437 + 1500, 64)
    return X, np.concatenate([digits_labels, mnist_labels[~held_out]])


def make_model(mnist_features, mnist_labels, *, epochs=1000, hidden=64, verbose=False):
    """np_mlp_digits.train on the digits' training split plus MNIST's training part.

    Returns (params, mean, std): mean and std are the combined training features', as
    standardise computes them, stored with the weights since a new image needs them too.
    """
    X, y = training_set(mnist_features, mnist_labels)
    mean = X.mean(axis=0)
    std = np.where(X.std(axis=0) == 0, 1.0, X.std(axis=0))  # as standardise does
    params, _ = train((X - mean) / std, y, epochs=epochs, hidden=hidden, verbose=verbose)
    return params, mean, std


def make_novelty(mnist_features, mnist_labels, percentile=NOVEL_PERCENTILE):
    """(examples, novel_above): the training images as uint8, and the distance within which
    percentile % of the MNIST training digits have another training image. Chosen without
    the held-out digits, so they can measure how many real digits it calls unsure."""
    examples, _ = training_set(mnist_features, mnist_labels)
    mnist = mnist_features[~mnist_split(mnist_labels)]  # (1500, 64), also in examples
    nearest_other = np.sort(distances(mnist, examples), axis=1)[:, 1]  # [:, 0] is itself
    return examples.astype(np.uint8), np.percentile(nearest_other, percentile)


# ----------------------------------------------------------------------------
# Command line


def read_one(path, model, examples, novel_above):
    """The line read_digit.py prints for one image, and whether it could be read."""
    try:
        features, notes = features_from_file(path)
    except DigitError as error:
        return f"{path}: error: {error}", False, []
    unlike = novelty(features, examples, novel_above)  # '' for an image like the digits
    notes += [unlike] if unlike else []
    odd = any(note.endswith("?") for note in notes)
    return f"{path}: {verdict(probabilities(model, features), odd=odd)}", True, notes


def main(argv=None):
    parser = argparse.ArgumentParser(description="Read the handwritten digit in each image "
                                     "file: the digit and its probability, or 'unsure'.")
    parser.add_argument("images", nargs="*", metavar="IMAGE", help="PNG, JPEG, GIF, ... files")
    parser.add_argument("--make-model", action="store_true",
                        help=f"retrain the model and write {MODEL_FILE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.make_model:
        features, labels, _ = load_mnist()
        examples, novel_above = make_novelty(features, labels)
        path = save_model(MODEL_FILE, *make_model(features, labels, verbose=True),
                          examples=examples, novel_above=novel_above)
        print(f"wrote {path.relative_to(ROOT)}")
        return 0
    if not args.images:
        parser.error("give the path of at least one image, e.g. my_digit.png")
    model, novelty_arrays = load_model(MODEL_FILE), load_novelty(MODEL_FILE)
    failed = False
    for path in args.images:
        line, ok, notes = read_one(path, model, *novelty_arrays)
        print(line, flush=True)
        for note in notes:
            print(f"{path}: note: {note}", file=sys.stderr)
        failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
