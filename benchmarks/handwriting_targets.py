"""Measure the targets for read_digit.py and its shipped model (not a test: it reports).

    .venv/bin/python -m benchmarks.handwriting_targets

- real handwriting held out from all training (MNIST, 1,000 digits): at least 90 % read right,
  and how many the novelty check (an image unlike every training image) turns unsure;
- every photo flaw, applied to a digit read cleanly, is read right or reported unsure, never
  confidently wrong;
- a plain vertical 1, and each digit drawn with pens of 4 to 20 px on a 200 x 200 canvas,
  read as itself;
- read_digit.py answers within a few seconds (a fresh process, timed).
"""

import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import read_digit
from tools import drawn_digits

ROOT = pathlib.Path(__file__).resolve().parent.parent

PENS = range(4, 21, 2)
NOVELTY = read_digit.load_novelty()  # (training examples, bar), as read_digit.py uses them


def said(model, features, odd=False):
    """What read_digit.py prints for these features: the novelty check included."""
    p = read_digit.probabilities(model, features)
    return read_digit.verdict(p, odd=odd or bool(read_digit.novelty(features, *NOVELTY)))


def held_out(model):
    features, labels, _ = read_digit.load_mnist()
    test = read_digit.mnist_split(labels)
    P = read_digit.probabilities(model, features[test])
    unlike = np.array([bool(read_digit.novelty(f, *NOVELTY)) for f in features[test]])
    guess, sure = P.argmax(axis=1), (P.max(axis=1) >= read_digit.UNSURE_BELOW) & ~unlike
    right = guess == labels[test]
    print(f"MNIST held out (never trained on): {right.sum()} of {test.sum()} read right "
          f"({100 * right.mean():.1f} %), {np.sum(right & sure)} of them confidently; "
          f"confidently wrong {np.sum(sure & ~right)}, unsure {np.sum(~sure)}")
    print(f"  the novelty check turns {unlike.sum()} of {test.sum()} unsure "
          f"({np.sum(unlike & right)} of them read right by the network, "
          f"{np.sum(unlike & ~right)} wrong)")
    pixels, digits = load_digits(return_X_y=True)
    _, X_test, _, y_test = train_test_split(pixels, digits, test_size=0.2, stratify=digits,
                                            random_state=42)
    right = read_digit.probabilities(model, X_test).argmax(axis=1) == y_test
    unlike = sum(bool(read_digit.novelty(f, *NOVELTY)) for f in X_test)
    print(f"8x8 digits' held-out split: {right.sum()} of {len(y_test)} read right; "
          f"the novelty check turns {unlike} unsure")


def pens(model):
    rows = []
    for pen in PENS:
        said_ = [said(model, read_digit.features_from_grey(drawn_digits.draw(d, pen=pen)))
                 for d in range(10)]
        right = sum(s.startswith(f"{d} (") for d, s in enumerate(said_))
        rows.append(right)
        print(f"pen {pen:2d} px: {right} of 10 right   " + "  ".join(said_))
    print(f"all pens: {sum(rows)} of {10 * len(PENS)} right")


def flaws(model, folder):
    counts = {"right": 0, "unsure": 0, "confidently wrong": 0, "error": 0}
    for digit in range(10):
        clean = drawn_digits.draw(digit, pen=12)
        if not said(model, read_digit.features_from_grey(clean)).startswith(f"{digit} ("):
            continue  # the target is about digits that are read cleanly
        for flaw, (data, suffix) in drawn_digits.flawed_files(clean).items():
            path = pathlib.Path(folder) / f"{digit} {flaw}{suffix}"
            path.write_bytes(data)
            try:
                features, notes = read_digit.features_from_file(path)
            except read_digit.DigitError as error:
                counts["error"] += 1
                print(f"{path.name}: error: {error}")
                continue
            verdict = said(model, features, odd=any(n.endswith("?") for n in notes))
            kind = ("right" if verdict.startswith(f"{digit} (") else
                    "unsure" if verdict.startswith("unsure") else "confidently wrong")
            counts[kind] += 1
            if kind != "right":
                print(f"{path.name}: {verdict}")
    print("photo flaws on cleanly read digits: " +
          ", ".join(f"{n} {kind}" for kind, n in counts.items()))


def command(folder):
    path = pathlib.Path(folder) / "seven.png"
    path.write_bytes(drawn_digits.png_bytes(drawn_digits.draw(7)))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "read_digit.py"), str(path)],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    print(f"read_digit.py on one image, a fresh process: {seconds:.1f} s "
          f"({result.stdout.strip().split(': ', 1)[1]})")


def main():
    model = read_digit.load_model()
    held_out(model)
    pens(model)
    with tempfile.TemporaryDirectory() as folder:
        flaws(model, folder)
        command(folder)


if __name__ == "__main__":
    main()
