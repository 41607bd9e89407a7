"""Measure read_digit.py and its shipped model against their targets (not a test: it reports).

    .venv/bin/python -m benchmarks.handwriting_targets            # about two minutes
    .venv/bin/python -m benchmarks.handwriting_targets --quick    # without remaking the model

- real handwriting held out from all training (MNIST, 1,000 digits): at least 89 % read right
  and confidently, fewer than 2 % confidently wrong; what the novelty check turns unsure;
- every style of tools/drawn_digits.py (the plain digits, a 1 with a flag, with a flag and a
  base, a crossed 7, an open 4, a 9 with a straight stem) read right with pens of 4 to 30 px
  on a 200 x 200 canvas, leaning -15 to +15 degrees: drawings none of the model's settings
  were chosen on (those were chosen on wobbled drawings, drawn_digits.wobble);
- letters and shapes that are no digit (S, H, X, a smiley, ?, #): how many are unsure;
- every photo flaw, applied to a digit read cleanly, read right or unsure, never wrong;
- read_digit.py answers within a second (fresh processes, the median of several);
- the shipped model is what tools/make_read_digit_model.py makes today.
"""

import argparse
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import read_digit
from tools import drawn_digits
from tools import make_read_digit_model as make

ROOT = pathlib.Path(__file__).resolve().parent.parent
PENS = range(4, 31, 2)
SLANTS = range(-15, 16, 5)


def said(model, grey):
    return read_digit.read(model, read_digit.steps(grey))[0]


def held_out(model):
    features, labels, _ = make.load_mnist()
    test = make.mnist_split(labels)
    P = read_digit.probabilities(model, features[test])
    unlike = np.array([bool(read_digit.novelty(f, model)) for f in features[test]])
    guess, sure = P.argmax(axis=1), (P.max(axis=1) >= read_digit.UNSURE_BELOW) & ~unlike
    right = guess == labels[test]
    print(f"MNIST held out (never trained on): {right.sum()} of {test.sum()} read right "
          f"({100 * right.mean():.1f} %), {np.sum(right & sure)} of them confidently "
          f"({100 * np.mean(right & sure):.1f} %); confidently wrong {np.sum(sure & ~right)} "
          f"({100 * np.mean(sure & ~right):.1f} %), unsure {np.sum(~sure)}")
    nearest = [np.sqrt(((model["examples"] - f) ** 2).sum(axis=1)).min() for f in features[test]]
    print(f"  the novelty check turns {unlike.sum()} of {test.sum()} unsure "
          f"({np.sum(unlike & right)} of them read right by the network, "
          f"{np.sum(unlike & ~right)} wrong); their nearest training image: median "
          f"{np.median(nearest):.1f}, 90 % within {np.percentile(nearest, 90):.1f}, the bar "
          f"{model['novel_above']:.1f}")
    pixels, digits = load_digits(return_X_y=True)
    _, X_test, _, y_test = train_test_split(pixels, digits, test_size=0.2, stratify=digits,
                                            random_state=42)
    right = read_digit.probabilities(model, X_test).argmax(axis=1) == y_test
    unlike = sum(bool(read_digit.novelty(f, model)) for f in X_test)
    print(f"8x8 digits' held-out split: {right.sum()} of {len(y_test)} read right; "
          f"the novelty check turns {unlike} unsure")


def styles(model):
    total = 0
    for style, (digit, _) in drawn_digits.STYLES.items():
        wrong = [f"pen {pen} slant {slant}: {reading}" for pen in PENS for slant in SLANTS
                 if not (reading := said(model, drawn_digits.draw(style, pen=pen,
                                                                  slant=slant))
                         ).startswith(f"{digit} (")]
        total += len(PENS) * len(SLANTS) - len(wrong)
        print(f"{style}: {len(PENS) * len(SLANTS) - len(wrong)} of {len(PENS) * len(SLANTS)} "
              "right" + "".join(f"\n    {line}" for line in wrong))
    print(f"every style, pens {PENS[0]}-{PENS[-1]} px, slants {SLANTS[0]} to {SLANTS[-1]} "
          f"degrees: {total} of {len(drawn_digits.STYLES) * len(PENS) * len(SLANTS)} right")


def not_digits(model):
    unsure, total = 0, 0
    for shape in drawn_digits.NOT_DIGITS:
        readings = [said(model, drawn_digits.draw(shape, pen=pen, slant=slant))
                    for pen in PENS[::2] for slant in SLANTS[::3]]
        count = sum(reading.startswith("unsure") for reading in readings)
        unsure, total = unsure + count, total + len(readings)
        confident = sorted({reading.split()[0] for reading in readings} - {"unsure"})
        print(f"not a digit, {shape}: {count} of {len(readings)} unsure"
              + (f" (else read as {', '.join(confident)})" if confident else ""))
    print(f"not digits: {unsure} of {total} unsure")


def flaws(model, folder):
    counts = {"right": 0, "unsure": 0, "confidently wrong": 0, "error": 0}
    for digit in range(10):
        clean = drawn_digits.draw(digit, pen=12)
        if not said(model, clean).startswith(f"{digit} ("):
            continue  # the target is about digits that are read cleanly
        for flaw, (data, suffix) in drawn_digits.flawed_files(clean).items():
            path = pathlib.Path(folder) / f"{digit} {flaw}{suffix}"
            path.write_bytes(data)
            try:
                grey, alpha, _ = read_digit.load_image(path)
                reading, _ = read_digit.read(model, read_digit.steps(grey, alpha))
            except read_digit.DigitError as error:
                counts["error"] += 1
                print(f"{path.name}: error: {error}")
                continue
            kind = ("right" if reading.startswith(f"{digit} (") else
                    "unsure" if reading.startswith("unsure") else "confidently wrong")
            counts[kind] += 1
            if kind != "right":
                print(f"{path.name}: {reading}")
    print("photo flaws on cleanly read digits: " +
          ", ".join(f"{n} {kind}" for kind, n in counts.items()))


def command(folder, repeats=7):
    path = pathlib.Path(folder) / "seven.png"
    path.write_bytes(drawn_digits.png_bytes(drawn_digits.draw(7)))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(ROOT / "read_digit.py"), str(path)],
                                capture_output=True, text=True, check=True)
        seconds.append(time.perf_counter() - start)
    print(f"read_digit.py on one image, a fresh process: median {np.median(seconds):.2f} s of "
          f"{repeats} ({min(seconds):.2f}-{max(seconds):.2f}; "
          f"{result.stdout.strip().split(': ', 1)[1]}); load average before: {load()}")


def load():
    return " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") \
        else "unknown"


def remade(model):
    start = time.perf_counter()
    features, labels, images = make.load_mnist()
    again = make.make_model(*make.training_set(features, labels, images))
    difference = max(float(np.abs(again[name] - model[name]).max()) for name in model)
    print(f"the shipped model against one made now ({time.perf_counter() - start:.0f} s): "
          f"largest difference of any number {difference:.1e}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="do not remake the model")
    quick = parser.parse_args(argv).quick
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}; load average {load()}")
    model = read_digit.load_model()
    threadpool_limits(1, "blas")  # as the scripts and the model's tool train: see bench.py
    with tempfile.TemporaryDirectory() as folder:
        command(folder)
        held_out(model)
        styles(model)
        not_digits(model)
        flaws(model, folder)
    if not quick:
        remade(model)


if __name__ == "__main__":
    main()
