"""Make models/read_digit.npz, the model read_digit.py reads with (about a minute).

    .venv/bin/python -m tools.make_read_digit_model

The network is np_mlp_digits.train, unchanged but for 64 hidden units and 2,000 epochs, on
- the digits' training split (load_data's 1,437 digits, by 13 writers);
- MNIST's training part (data/mnist_2500.npz: all but the last 100 of each digit, 1,500
  digits by other writers), each read by read_digit's recipe, as an image file would be;
- those MNIST digits twice more, each slanted and turned a little at random, as writers lean;
- MNIST's 1s with a flag, and with a flag and a base, drawn on (the 1 much of Europe writes,
  which the model read as a 7 or a 2 without them: benchmarks/handwriting.md).
The last 100 MNIST digits of each kind are held out from all of it, to measure the model
(benchmarks/handwriting_targets.py). The file keeps the training images too, and the novelty
bar: the distance within which 97 % of the MNIST training digits have a training image other
than their own copies. The file is replaced only once the new one is complete.
"""

import argparse
import os
import pathlib
import signal
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw
from scipy.spatial.distance import cdist
from threadpoolctl import threadpool_limits

import read_digit
from np_mlp_digits import train

MNIST_FILE = read_digit.ROOT / "data" / "mnist_2500.npz"
SLANTED_COPIES = 2  # slanted and turned copies of each MNIST training digit
HIDDEN = 64  # hidden units: the script's 32 fit fewer of these varied training images
EPOCHS = 2000  # the script's 1000 read fewer of the drawn digits right (see handwriting.md)
SEED = 0  # the random slants and flags


def mnist_split(labels, held_out_per_digit=100):
    """Boolean (N,): True for the last held_out_per_digit digits of each kind (never trained
    on), False for the rest. Exactly determined by the file's order."""
    held_out = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        held_out[np.flatnonzero(labels == digit)[-held_out_per_digit:]] = True
    return held_out


def features(images):
    """(N, 64) features of grey images (N, H, W) 0..255, ink light on black as MNIST's."""
    return np.array([read_digit.steps(image / 255)["features"] for image in images])


def load_mnist():
    """(features (2500, 64), labels (2500,), images (2500, 28, 28) uint8) of the MNIST file,
    each image read by read_digit's recipe, as a file is."""
    with np.load(MNIST_FILE, allow_pickle=False) as data:
        images, labels = data["images"], data["labels"].astype(int)
    return features(images), labels, images


def slanted(image, rng):
    """A 28 x 28 digit sheared by up to 0.3 (17 degrees) and turned by up to 10 degrees."""
    shear = rng.uniform(-0.3, 0.3)
    turned = Image.fromarray(image).rotate(rng.uniform(-10, 10), Image.Resampling.BILINEAR)
    return np.asarray(turned.transform((28, 28), Image.Transform.AFFINE,
                                       (1, shear, -14 * shear, 0, 1, 0),
                                       Image.Resampling.BILINEAR))


def continental(image, rng, base):
    """A 28 x 28 one with a flag drawn from its top down to the left, and a base if asked,
    at 4 x the size (a pen as wide as the stroke), of a random length and angle."""
    big = Image.fromarray(image).resize((112, 112), Image.Resampling.BILINEAR)
    y, x = np.nonzero(np.asarray(big) > 100)
    top, bottom = y.min(), y.max()
    pen = max(4, round(np.sum(np.asarray(big) > 100) / (bottom - top)))  # area / length
    length, angle = rng.uniform(0.2, 0.4) * (bottom - top), np.radians(rng.uniform(20, 60))
    x_top, y_top = x[y <= top + 2].mean(), top + pen / 2
    draw = ImageDraw.Draw(big)
    draw.line([(x_top, y_top), (x_top - length * np.cos(angle),
                                  y_top + length * np.sin(angle))], fill=255, width=pen)
    if base:
        half, x_bottom = rng.uniform(0.15, 0.3) * (bottom - top), x[y >= bottom - 2].mean()
        draw.line([(x_bottom - half, bottom - pen / 2), (x_bottom + half, bottom - pen / 2)],
                    fill=255, width=pen)
    return np.asarray(big)


def training_set(mnist_features, labels, images, seed=SEED):
    """(X (N, 64), y (N,), origin (N,)): the digits' training split, MNIST's training part,
    its slanted copies and its continental 1s. origin numbers the image each row was made
    from (MNIST's by their index, the digits' from 2500 on), so a copy is known as one."""
    from sklearn.datasets import load_digits  # here, not at the top: read_digit needs neither
    from sklearn.model_selection import train_test_split

    pixels, digits = load_digits(return_X_y=True)
    digits_X, _, digits_y, _ = train_test_split(pixels, digits, test_size=0.2, stratify=digits,
                                                random_state=42)  # load_data's split
    rng = np.random.default_rng(seed)
    train_rows = np.flatnonzero(~mnist_split(labels))  # (1500,)
    ones = train_rows[labels[train_rows] == 1]
    made = [(rows, [slanted(images[i], rng) for i in rows])
            for rows in [train_rows] * SLANTED_COPIES]
    made += [(ones, [continental(images[i], rng, base) for i in ones]) for base in (0, 1)]
    X = np.vstack([digits_X, mnist_features[train_rows]] + [features(m) for _, m in made])
    y = np.concatenate([digits_y, labels[train_rows]] + [labels[rows] for rows, _ in made])
    origin = np.concatenate([2500 + np.arange(len(digits_y)), train_rows]
                            + [rows for rows, _ in made])
    return X, y, origin


def make_model(X, y, origin, epochs=EPOCHS, verbose=False):
    """The model's arrays, as read_digit.load_model returns them: np_mlp_digits.train on
    standardised X; the features' mean and std (a new image needs them too); the training
    images and the novelty bar, chosen on the MNIST training digits alone."""
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std == 0, 1.0, std)  # as np_mlp_digits.standardise does
    params, _ = train((X - mean) / std, y, epochs=epochs, hidden=HIDDEN, verbose=verbose)
    _, first = np.unique(origin, return_index=True)  # each image's own row, before copies
    mnist = first[origin[first] < 2500]  # (1500,) the MNIST training digits' rows
    distance = cdist(X[mnist], X)  # (1500, N) Euclidean, in inked pixels per block
    distance[origin[mnist][:, None] == origin[None, :]] = np.inf  # itself and its copies
    novel_above = np.percentile(distance.min(axis=1), read_digit.NOVEL_PERCENTILE)
    return {**params, "mean": mean, "std": std, "examples": X.astype(np.uint8),
            "novel_above": np.float64(novel_above)}


def main(argv=None):
    """Check the folder can be written, train, then replace the file in one step (a rename):
    a reader sees the old model or the new, and Ctrl-C or a kill leaves no temporary file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path, default=read_digit.MODEL_FILE,
                        metavar="FILE", help="where to write it (default: models/read_digit.npz)")
    path = parser.parse_args(argv).output
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".read_digit.",
                                             suffix=".tmp")
    except OSError as error:
        print(f"cannot write in {path.parent}: {error.strerror}; nothing was trained",
              file=sys.stderr)
        return 1
    try:
        # One BLAS thread, as the scripts train: a bit slower on an idle machine, several
        # times faster when another program keeps the other core busy.
        with os.fdopen(handle, "wb") as file, threadpool_limits(1, "blas"):
            mnist_features, labels, images = load_mnist()
            X, y, origin = training_set(mnist_features, labels, images)
            print(f"training on {len(X)} images ({len(X) - len(np.unique(origin))} of them "
                  "slanted copies and continental 1s)", flush=True)
            np.savez(file, **make_model(X, y, origin, verbose=True))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary new file (mkstemp's is private)
        os.replace(temporary, path)  # atomic: readers see the old file or the new one
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # a full disk, or data/mnist_2500.npz missing: the file says
        print(f"{error.filename or path}: {error.strerror}", file=sys.stderr)
        return 1
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    print(f"wrote {path}")  # replaced in one step: a reader sees the old model or this one
    return 0


if __name__ == "__main__":
    for ending in ("SIGTERM", "SIGHUP"):  # a kill or a closed terminal: clean up as for Ctrl-C
        if hasattr(signal, ending):
            signal.signal(getattr(signal, ending), signal.default_int_handler)
    sys.exit(main())
