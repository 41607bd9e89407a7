"""Opening a notebook in JupyterLab, and letting it autosave, leaves the file as committed.

When JupyterLab opens a notebook and its kernel starts, it writes into the notebook's metadata
the kernelspec of that kernel and the language_info the kernel reports; if they differ from
the file's, the notebook is modified, and autosave writes it back through the Jupyter server's
contents manager. So every notebook is committed with the metadata a python3 kernel gives, in
the bytes the server writes. Tried in a real JupyterLab (4.6, Chromium driven by Playwright):
opening every notebook and letting autosave run, or saving it unchanged, left git with no
change; a kernelspec named "Python 3", or another Python version in language_info, was
rewritten at once. The Python version is the one thing a commit cannot match on every machine:
a student on another Python sees it rewritten, and conftest's read() then reads git's copy.
"""

import json

import pytest
from conftest import ROOT, in_git

NOTEBOOKS = sorted(path.relative_to(ROOT).as_posix() for folder in (ROOT, ROOT / "labs",
                   ROOT / "exercises", ROOT / "exercises" / "solutions")
                   for path in folder.glob("*.ipynb"))


def committed_text(name):
    """The notebook as committed (the working copy outside a git checkout)."""
    text = in_git(name)
    return text if text is not None else (ROOT / name).read_text(encoding="utf-8")


def saved_by_the_server(text, folder):
    """`text` as the Jupyter server writes it back when JupyterLab saves it unchanged."""
    from jupyter_server.services.contents.filemanager import FileContentsManager

    (folder / "n.ipynb").write_text(text, encoding="utf-8")
    manager = FileContentsManager(root_dir=str(folder))
    manager.save(manager.get("n.ipynb"), "n.ipynb")
    return (folder / "n.ipynb").read_text(encoding="utf-8")


@pytest.fixture
def server_folder(tmp_path, monkeypatch):
    # the server signs what it saves in a database under JUPYTER_DATA_DIR: keep it in tmp
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "notebooks").mkdir()
    return tmp_path / "notebooks"


def test_a_save_in_jupyterlab_writes_every_notebook_back_byte_for_byte(server_folder):
    changed = [name for name in NOTEBOOKS
               if saved_by_the_server(committed_text(name), server_folder)
               != committed_text(name)]
    assert changed == [], "write them with nbformat.write (tools.sync_notebooks does)"
    # what the check catches: a notebook written by other means, here json with indent 2
    other = json.dumps(json.loads(committed_text(NOTEBOOKS[0])), indent=2)
    assert saved_by_the_server(other, server_folder) != other


@pytest.fixture(scope="module")
def kernel():
    """(kernelspec, language_info) as JupyterLab takes them from a python3 kernel it starts."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    spec = KernelSpecManager().get_kernel_spec("python3")
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        info = client.kernel_info(reply=True, timeout=60)["content"]["language_info"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return {"name": "python3", "display_name": spec.display_name, "language": spec.language}, info


def metadata_problems(metadata, kernelspec, language_info):
    """What JupyterLab would rewrite in `metadata` on opening, but the Python version."""
    problems = []
    if dict(metadata.get("kernelspec", {})) != kernelspec:
        problems.append(f"kernelspec {metadata.get('kernelspec')}, the kernel's {kernelspec}")
    found = {k: v for k, v in metadata.get("language_info", {}).items() if k != "version"}
    wanted = {k: v for k, v in language_info.items() if k != "version"}
    if found != wanted:
        problems.append(f"language_info {found}, the kernel's {wanted}")
    return problems


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_has_the_metadata_jupyterlab_writes_on_opening(name, kernel):
    metadata = json.loads(committed_text(name))["metadata"]
    assert metadata_problems(metadata, *kernel) == []


def test_the_metadata_check_catches_an_old_kernel_name_and_a_missing_language_info(kernel):
    metadata = json.loads(committed_text(NOTEBOOKS[0]))["metadata"]
    assert metadata_problems(metadata, *kernel) == []
    renamed = {**metadata, "kernelspec": {**metadata["kernelspec"], "display_name": "Python 3"}}
    assert len(metadata_problems(renamed, *kernel)) == 1
    assert len(metadata_problems({"kernelspec": metadata["kernelspec"]}, *kernel)) == 1
    other_python = {**metadata, "language_info": {**metadata["language_info"], "version": "3.9"}}
    assert metadata_problems(other_python, *kernel) == []  # no commit can match every machine
