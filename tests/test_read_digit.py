"""read_digit.py: the recipe, the bad-input messages, the safe save and the shipped model.

Drawn digits come from tools/drawn_digits.py (pen strokes on a 200 x 200 canvas). How
well the reader does over every pen width and flaw is measured in
benchmarks/handwriting_targets.py; here each behaviour a user relies on is checked once.
"""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image, ImageDraw, ImageFont, ImageOps

import read_digit

from tools import drawn_digits

LINE = r"(?P<digit>\d) \((?P<p>[01]\.\d\d)\)|unsure \(\d [01]\.\d\d, \d [01]\.\d\d\)"


NOVELTY = read_digit.load_novelty()  # (training examples, bar) from the shipped model


@pytest.fixture(scope="module")
def model():
    return read_digit.load_model()


@pytest.fixture(scope="module")
def mnist():
    features, labels, _ = read_digit.load_mnist()  # about 2 s: shared by the tests using it
    return features, labels


def read(model, grey, alpha=None):
    """What the reader says of an image held as grey levels, with both of read_digit.py's
    checks: odd marks and novelty (unlike every training image)."""
    found = read_digit.steps(grey, alpha)
    p = read_digit.probabilities(model, found["features"])
    odd = read_digit.oddity(found) or read_digit.novelty(found["features"], *NOVELTY)
    return read_digit.verdict(p, odd=bool(odd))


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------
# The recipe


def test_block_counts_are_inked_pixels_per_4x4_block_as_in_load_digits():
    bitmap = np.zeros((32, 32), dtype=bool)
    bitmap[0:4, 0:4] = True  # block (0, 0): all 16
    bitmap[4, 4:7] = True  # block (1, 1): 3 pixels
    bitmap[31, 31] = True  # block (7, 7): 1 pixel
    counts = read_digit.block_counts(bitmap).reshape(8, 8)
    assert counts[0, 0] == 16 and counts[1, 1] == 3 and counts[7, 7] == 1
    assert counts.sum() == 20 and counts.max() <= 16


def test_the_digit_fills_the_bitmap_top_to_bottom_as_every_load_digits_image_does():
    features = read_digit.features_from_grey(drawn_digits.draw(7, pen=12, margin=0.3))
    rows = features.reshape(8, 8).sum(axis=1)
    assert rows[0] > 0 and rows[-1] > 0  # all 1,797 digits have ink in the top and bottom row
    assert features.min() >= 0 and features.max() <= 16


def test_a_thin_and_a_thick_pen_give_nearly_the_same_features():
    # The optdigits writers' pens all came out about the same width; a 4-px and a 20-px marker
    # must too, or the network sees a faint digit and a blot. Without same_pen they differ by
    # more than 200 inked pixels of 1024.
    thin = read_digit.features_from_grey(drawn_digits.draw(3, pen=4))
    thick = read_digit.features_from_grey(drawn_digits.draw(3, pen=20))
    assert np.abs(thin - thick).sum() < 120


def test_deskew_makes_a_slanted_stroke_upright():
    mask = np.zeros((100, 100), dtype=bool)
    for row in range(10, 90):
        mask[row, 30 + (row - 10) // 2:36 + (row - 10) // 2] = True  # leaning by 1 in 2
    upright = read_digit.crop(read_digit.deskew(mask))
    assert upright.shape[1] <= 9  # was 46 columns wide


@pytest.mark.parametrize("digit", [1, 4, 7])
@pytest.mark.parametrize("pen", [4, 20])
def test_drawn_digits_are_read_with_a_thin_and_a_thick_pen(model, digit, pen):
    assert read(model, drawn_digits.draw(digit, pen=pen)).startswith(f"{digit} (")


@pytest.mark.parametrize("flaw", sorted(drawn_digits.FLAWS))
def test_a_photo_flaw_leaves_the_digit_read_as_before(model, flaw):
    clean = drawn_digits.draw(3, pen=12)
    assert read(model, clean).startswith("3 (")
    assert read(model, drawn_digits.FLAWS[flaw](clean)).startswith("3 (")


@pytest.mark.parametrize("flaw", ["speck", "ruled paper", "thin frame"])
def test_the_flaw_fools_a_reader_that_keeps_all_ink_so_the_test_above_can_fail(flaw):
    # Planted bug: every inked pixel kept (no speck, line or frame removal), as the old
    # digit_from_image did: the digit's box is then the speck's, the page's or the frame's.
    clean = drawn_digits.draw(3, pen=12)
    ink = read_digit.ink_from_grey(read_digit.to_work_size(drawn_digits.FLAWS[flaw](clean)))
    keep_all = ink > 0.4 * np.percentile(ink, 99.5)
    digit, _ = read_digit.digit_mask(ink)
    clean_box = read_digit.crop(read_digit.digit_mask(read_digit.ink_from_grey(
        read_digit.to_work_size(clean)))[0]).shape
    # a rule through the digit's top or bottom edge may move it by a pixel or two
    assert np.abs(np.subtract(read_digit.crop(digit).shape, clean_box)).max() <= 3
    assert np.abs(np.subtract(read_digit.crop(keep_all).shape, clean_box)).max() > 20


def test_white_ink_on_a_transparent_background_is_read(model, tmp_path):
    image = drawn_digits.white_on_transparent(drawn_digits.draw(5, pen=12))
    path = write(tmp_path, "five.png", drawn_digits.png_bytes(image))
    features, _ = read_digit.features_from_file(path)
    assert read_digit.verdict(read_digit.probabilities(model, features)).startswith("5 (")


def test_a_phone_photo_is_turned_upright_by_its_exif_tag(model, tmp_path, monkeypatch):
    rotated, exif = drawn_digits.exif_rotated(drawn_digits.draw(7, pen=12))
    path = write(tmp_path, "photo.jpg", drawn_digits.png_bytes(rotated, format="JPEG",
                                                              exif=exif))
    features, _ = read_digit.features_from_file(path)
    assert read_digit.verdict(read_digit.probabilities(model, features)).startswith("7 (")
    # planted bug: the EXIF step forgotten, the 7 lies on its side and is not read as a 7
    monkeypatch.setattr(ImageOps, "exif_transpose", lambda image: image)
    sideways, _ = read_digit.features_from_file(path)
    assert not read_digit.verdict(read_digit.probabilities(model, sideways)).startswith("7 (")


def test_two_digits_side_by_side_and_a_scribble_are_unsure(model):
    two = np.hstack([drawn_digits.draw(9, pen=12), drawn_digits.draw(6, pen=12)])
    assert read(model, two).startswith("unsure (")
    rng = np.random.default_rng(0)
    scribble = Image.new("L", (200, 200), 255)
    from PIL import ImageDraw
    pen = ImageDraw.Draw(scribble)
    for _ in range(40):  # forty short strokes every which way
        x, y = rng.integers(10, 190, 2)
        pen.line([(x, y), (x + rng.integers(-40, 40), y + rng.integers(-40, 40))], width=6)
    assert read(model, np.asarray(scribble) / 255).startswith("unsure (")


# ----------------------------------------------------------------------------
# Unlike anything the network learnt: unsure, not a confident guess


def canvas(width=200, height=200):
    image = Image.new("L", (width, height), 255)
    return image, ImageDraw.Draw(image)


def typed(text, scale=10):
    """text in Pillow's default font (any Pillow version), black on white, scaled up."""
    font = ImageFont.load_default()
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text,
                                                                                font=font)
    image, pen = canvas(right - left + 8, bottom - top + 8)
    pen.text((4 - left, 4 - top), text, fill=0, font=font)
    big = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    return np.asarray(big, float) / 255


def loop_scribble(seed):
    image, pen = canvas()
    pen.line([tuple(xy) for xy in np.random.default_rng(seed).integers(30, 170, (12, 2))],
             width=8, joint="curve")
    return np.asarray(image, float) / 255


def side_by_side(left, right, gap):
    """Two drawn digits, their ink gap pixels apart (negative: overlapping, so touching)."""
    a, b = drawn_digits.draw(left), drawn_digits.draw(right)
    a = a[:, :np.flatnonzero((a < 0.5).any(axis=0))[-1] + 1]  # cut at the ink
    b = b[:, np.flatnonzero((b < 0.5).any(axis=0))[0]:]
    both = np.ones((200, 20 + a.shape[1] + gap + b.shape[1] + 20))
    both[:, 20:20 + a.shape[1]] = a
    both[:, -20 - b.shape[1]:-20] = np.minimum(both[:, -20 - b.shape[1]:-20], b)
    return both


UNLIKE = {
    "noise": lambda: np.random.default_rng(0).random((200, 200)),
    "a looping scribble": lambda: loop_scribble(0),
    "another scribble": lambda: loop_scribble(3),
    "typed X": lambda: typed("X"),
    "typed %": lambda: typed("%"),
    "typed @": lambda: typed("@"),
    "17, touching": lambda: side_by_side(1, 7, -4),
    "17, 4 px apart": lambda: side_by_side(1, 7, 4),
}


@pytest.mark.parametrize("name", UNLIKE)
def test_an_image_unlike_every_training_image_is_unsure(model, name):
    grey = UNLIKE[name]()
    assert read(model, grey).startswith("unsure (")
    # The novelty check is what says so: without it (the planted bug), the network alone
    # answers; for most of these it is confident (next test).
    assert read_digit.novelty(read_digit.features_from_grey(grey), *NOVELTY)


def test_without_the_novelty_check_most_of_them_get_a_confident_digit(model):
    confident = [name for name, make in UNLIKE.items()
                 if read_digit.probabilities(model, read_digit.features_from_grey(make())).max()
                 >= read_digit.UNSURE_BELOW]
    assert len(confident) >= 6, confident


@pytest.mark.xfail(strict=True, reason="known limit: after the recipe these are as near a "
                   "training image as many real digits are (the disk's inside is taken for "
                   "dark paper, leaving a ring: a 0)")
@pytest.mark.parametrize("name", ["filled disk", "1 above 1"])
def test_known_limit_shapes_that_become_digit_like_are_not_caught(model, name):
    if name == "filled disk":
        image, pen = canvas()
        pen.ellipse([40, 40, 160, 160], fill=0)
        grey = np.asarray(image, float) / 255
    else:
        one = drawn_digits.draw(1)[10:190]
        grey = np.vstack([one, one])
    assert read(model, grey).startswith("unsure (")


def test_the_novelty_check_leaves_real_and_drawn_digits_alone(model, mnist):
    # The reader's targets, with the check in place: >= 90 % of the 1,000 held-out MNIST digits
    # read right and not called unlike; the bar was chosen without them (98 % of MNIST
    # *training* digits are within it), so it may call at most 2 % of them unlike (16 now).
    features, labels = mnist
    test = read_digit.mnist_split(labels)
    unlike = np.array([bool(read_digit.novelty(f, *NOVELTY)) for f in features[test]])
    right = read_digit.probabilities(model, features[test]).argmax(axis=1) == labels[test]
    assert unlike.sum() <= 20 and np.sum(right & ~unlike) >= 900
    for digit in range(10):  # every pen width read as its digit; every photo flaw too
        for pen in range(4, 21, 2):
            assert read(model, drawn_digits.draw(digit, pen=pen)).startswith(f"{digit} (")
        clean = drawn_digits.draw(digit, pen=12)
        for flaw in drawn_digits.FLAWS.values():
            assert not read_digit.novelty(read_digit.features_from_grey(flaw(clean)), *NOVELTY)


def test_the_novelty_bar_is_chosen_on_training_digits_only(mnist):
    # Recomputed by brute force, one digit at a time. The bug a student would make, taking a
    # digit's nearest training image to be itself ([0], distance 0), gives a bar of 0.
    features, labels = mnist
    examples, bar = NOVELTY
    assert np.array_equal(examples, read_digit.training_set(features, labels)[0])
    mnist_train = features[~read_digit.mnist_split(labels)]  # (1500, 64)
    nearest = [np.sort(np.sqrt(((examples - f) ** 2).sum(axis=1)))[1] for f in mnist_train]
    assert bar == pytest.approx(np.percentile(nearest, read_digit.NOVEL_PERCENTILE), abs=1e-9)


# ----------------------------------------------------------------------------
# Bad input: a message that names the problem and what to do


def message(path):
    with pytest.raises(read_digit.DigitError) as caught:
        read_digit.features_from_file(path)
    return str(caught.value)


def test_a_blank_page_looks_blank_but_dim_paper_with_ink_does_not(tmp_path):
    blank = write(tmp_path, "blank.png", drawn_digits.png_bytes(np.full((200, 200), 0.45)))
    assert message(blank).startswith("looks blank")
    dim = write(tmp_path, "dim.png", drawn_digits.png_bytes(0.45 * drawn_digits.draw(2)))
    read_digit.features_from_file(dim)  # no error


def test_files_that_are_not_images_each_get_their_own_message(tmp_path, monkeypatch):
    assert message(write(tmp_path, "seven.png", b"my seven")).startswith("not an image file")
    assert message(tmp_path).startswith("is a folder")
    assert message(tmp_path / "missing.png").startswith("no such file")
    whole = drawn_digits.png_bytes(drawn_digits.draw(7))
    cut = write(tmp_path, "cut.png", whole[:len(whole) // 2])
    assert message(cut).startswith("the image data is damaged or incomplete")
    tiny = write(tmp_path, "tiny.png", drawn_digits.png_bytes(np.ones((5, 5))))
    assert message(tiny).startswith("only 5 x 5 pixels")
    small = write(tmp_path, "small.png", drawn_digits.png_bytes(drawn_digits.draw(7, size=10)))
    side = read_digit.MIN_SIDE  # the rule and the message agree: a 10 x 10 image is too small
    assert message(small).endswith(f"use an image at least {side} pixels on a side") and side > 10
    read_digit.features_from_file(write(tmp_path, "16.png", drawn_digits.png_bytes(
        drawn_digits.draw(7, pen=2, size=side))))  # no error at exactly MIN_SIDE

    def refuse(*args, **kwargs):  # as root (CI), chmod 000 cannot stop a read: simulate it
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", refuse)
    assert message(cut).startswith("cannot be read: permission denied")


def test_a_huge_image_is_refused_before_decoding_and_a_large_one_is_read_small(tmp_path,
                                                                             monkeypatch):
    big = Image.fromarray(np.round(255 * drawn_digits.draw(4, pen=120, size=3000))
                          .astype(np.uint8))
    path = write(tmp_path, "big.jpg", drawn_digits.png_bytes(big, format="JPEG"))
    grey, _, _ = read_digit.load_image(path)
    assert max(grey.shape) <= 4 * read_digit.WORK_SIDE[1]  # decoded small, not 9 Mpixels
    monkeypatch.setattr(read_digit, "MAX_PIXELS", 1_000_000)
    assert message(path).startswith("too large to read safely")


def test_an_animated_gif_says_only_its_first_frame_is_read(tmp_path):
    frames = [Image.fromarray(np.round(255 * drawn_digits.draw(d)).astype(np.uint8))
              for d in (1, 2, 3)]
    path = tmp_path / "count.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    _, notes = read_digit.features_from_file(path)
    assert notes == ["it has 3 frames; only the first is read"]


# ----------------------------------------------------------------------------
# The command line


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "read_digit.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_the_command_prints_one_exact_line_per_image_and_exit_1_if_any_failed(tmp_path):
    good = write(tmp_path, "two.png", drawn_digits.png_bytes(drawn_digits.draw(2)))
    bad = write(tmp_path, "notes.png", b"not a picture")
    result = run(good, bad, tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == f"{good}: 2 ({lines[0][-5:-1]})"
    assert __import__("re").fullmatch(LINE, lines[0].split(": ", 1)[1])
    assert lines[1].startswith(f"{bad}: error: not an image file")
    assert lines[2].startswith(f"{tmp_path}: error: is a folder")
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_the_command_exits_0_when_every_image_is_read_and_notes_go_to_stderr(tmp_path):
    two = np.hstack([drawn_digits.draw(1), drawn_digits.draw(7)])
    path = write(tmp_path, "17.png", drawn_digits.png_bytes(two))
    result = run(path)
    assert result.returncode == 0
    assert __import__("re").fullmatch(rf"{path}: unsure \(\d [01]\.\d\d, \d [01]\.\d\d\)",
                                      result.stdout.strip())
    assert result.stderr.startswith(f"{path}: note: the ink is")


def test_the_command_says_unsure_of_noise_and_why_on_stderr(tmp_path):
    path = write(tmp_path, "noise.png", drawn_digits.png_bytes(UNLIKE["noise"]()))
    result = run(path)
    assert result.returncode == 0 and result.stdout.startswith(f"{path}: unsure (")
    assert result.stderr.startswith(f"{path}: note: the nearest training image is")


def test_the_command_without_images_says_what_to_give(capsys):
    with pytest.raises(SystemExit) as exit_status:
        read_digit.main([])
    assert exit_status.value.code == 2
    assert "give the path of at least one image" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# Saving: one naming rule, and a failed save never destroys a good model


def test_save_and_load_use_one_naming_rule(tmp_path, model):
    written = read_digit.save_model(tmp_path / "model", *model)
    assert written.name == "model.npz"
    params, mean, std = read_digit.load_model(tmp_path / "model")  # found without .npz
    assert np.array_equal(params["W1"], model[0]["W1"]) and np.array_equal(std, model[2])


def naive_save(path, params, mean, std):  # the old save_model: np.savez straight to the path
    np.savez(path, mean=mean, std=std, **params)


@pytest.mark.parametrize("save, survives", [(read_digit.save_model, True), (naive_save, False)])
def test_a_save_that_fails_midway_leaves_the_old_model_loadable(tmp_path, model, monkeypatch,
                                                                save, survives):
    path = read_digit.save_model(tmp_path / "model.npz", *model)
    real_savez = np.savez

    def fail_midway(file, **arrays):  # the disk fills up after the first array
        real_savez(file, mean=arrays["mean"])
        if hasattr(file, "truncate"):
            file.truncate(100)
        else:
            with open(file, "r+b") as opened:
                opened.truncate(100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", fail_midway)
    with pytest.raises(OSError):
        save(path, *model)
    monkeypatch.undo()
    try:
        read_digit.load_model(path)
        loads = True
    except Exception:
        loads = False
    assert loads == survives  # the naive save is the planted bug: it leaves a broken file
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left


# ----------------------------------------------------------------------------
# The shipped model is what the committed command makes


def test_the_shipped_model_is_what_make_model_trains(model, mnist):
    # Tolerance: perturbing every feature by 1e-15 (relative) moved no weight by more than
    # 1e-15 after training (measured), so 1e-6 fails only when the data, the recipe or the
    # training changed: then run `python read_digit.py --make-model` and commit the file.
    features, labels = mnist
    params, mean, std = read_digit.make_model(features, labels)
    examples, novel_above = read_digit.make_novelty(features, labels)  # exact: whole numbers
    assert np.array_equal(examples, NOVELTY[0]) and novel_above == pytest.approx(NOVELTY[1])
    np.testing.assert_allclose(mean, model[1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(std, model[2], rtol=0, atol=1e-9)
    for name in params:
        np.testing.assert_allclose(params[name], model[0][name], rtol=0, atol=1e-6)
    with np.load(read_digit.MODEL_FILE, allow_pickle=False) as saved:  # plain arrays only
        assert sorted(saved.files) == ["W1", "W2", "b1", "b2", "examples", "mean",
                                       "novel_above", "std"]
