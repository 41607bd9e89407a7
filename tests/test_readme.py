"""The README's numbers are what the scripts print.

When a change to the scripts moves a number, this test fails and shows the new text;
`python tests/test_readme.py` prints every table and example for pasting into README.md.
"""

import contextlib
import io
import re

from conftest import ROOT, default_run

import np_mlp_digits
import np_slp_digits

README = ROOT / "README.md"


def percent(fraction):
    return f"{100 * fraction:.1f}%"


def epoch_table(test_size):
    """The README's table of both scripts' logged epochs for one --test-size."""
    runs = [default_run(module, test_size)[1] for module in (np_slp_digits, np_mlp_digits)]
    splits = ["loss", "train acc", "test acc"] if test_size else ["loss", "train acc"]
    header = ["epoch"] + [f"{name} {split}" for name in ("SLP", "MLP") for split in splits]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for slp, mlp in zip(*runs):
        cells = [str(slp["epoch"])]
        for record in (slp, mlp):
            cells += [f"{record['loss']:.4f}", percent(record["train_acc"])]
            if test_size:
                cells.append(percent(record["test_acc"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def example_output():
    """What `python np_mlp_digits.py` prints, with the machine-dependent timing left out."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        np_mlp_digits.main([])
    return mask_timing(out.getvalue())


def mask_timing(text):
    return re.sub(r"\(\d+\.\d+ s of training\)", "(… s of training)", text)


def assert_in_readme(expected):
    text = mask_timing(README.read_text(encoding="utf-8"))
    message = "README.md is out of date; this is what the scripts print now:\n\n"
    assert expected in text, message + expected


def test_readme_held_out_table_is_what_the_scripts_print():
    assert_in_readme(epoch_table(test_size=0.2))


def test_readme_test_size_zero_table_is_what_the_scripts_print():
    assert_in_readme(epoch_table(test_size=0))


def test_readme_example_output_is_what_the_mlp_script_prints():
    assert_in_readme(example_output())


def test_slp_reproduces_the_originally_published_train_accuracies():
    # The table the first version of these scripts published, at one decimal.
    _, history = default_run(np_slp_digits, test_size=0)
    published = [13.0, 94.3, 96.2, 96.8, 97.4, 97.8, 98.2, 98.2, 98.2, 98.2]
    assert [round(100 * r["train_acc"], 1) for r in history[:10]] == published


def test_ci_runs_the_readme_test_command_verbatim():
    readme_commands = re.findall(r"```bash\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S)
    test_command = next(c for c in readme_commands if "pytest" in c)
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


if __name__ == "__main__":
    print(epoch_table(test_size=0.2), end="\n\n")
    print(epoch_table(test_size=0), end="\n\n")
    print(example_output())
