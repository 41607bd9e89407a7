"""The GitHub Actions workflow that keeps the README's version promise cannot rot unrun:
it validates against GitHub's workflow schema (offline), runs the README's test command, and
pins exactly the lower bounds that the requirements files claim."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
CONSTRAINTS = ROOT / "tests" / "constraints-lowest.txt"


def check_jsonschema(path):
    """check-jsonschema's verdict on a workflow file, with the schema it ships (no network)."""
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    command = [found] if found else [sys.executable, "-m", "check_jsonschema"]
    return subprocess.run(command + ["--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_the_workflow_is_valid_for_github():
    result = check_jsonschema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    # The check can fail: a job without runs-on is not a workflow GitHub would run.
    broken = tmp_path / "tests.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu"))
    assert check_jsonschema(broken).returncode != 0


def test_the_workflow_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert f"run: {test_command}\n" in WORKFLOW.read_text()


def test_the_workflow_tests_the_oldest_and_newest_python_the_readme_promises():
    text = WORKFLOW.read_text()
    promised = re.search(r"Python (3\.\d+) to (3\.\d+)", (ROOT / "README.md").read_text())
    assert promised, "the README names the Python versions it supports"
    oldest, newest = promised.groups()
    assert f'python: "{oldest}"\n            versions: lowest' in text
    assert f'python: "{newest}"\n            versions: newest' in text
    assert "constraints: tests/constraints-lowest.txt" in text


def lower_bounds(path):
    """{package: version} for every 'package>=version' line of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)>=([0-9][^\s#;]*)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def pins(path):
    return {name.lower(): version for name, version in
            re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M)}


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-scripts.txt",
                                          "tests/requirements.txt"])
def test_the_constraints_pin_every_lower_bound_the_requirements_claim(requirements):
    bounds = lower_bounds(ROOT / requirements)
    assert bounds
    pinned = pins(CONSTRAINTS)
    for name, version in bounds.items():
        assert pinned.get(name) == version, f"{name}>={version} in {requirements}"
