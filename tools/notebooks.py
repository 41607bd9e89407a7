"""Run a notebook as Jupyter does: the one way the tools, the benchmark and the tests run them."""

import concurrent.futures

from nbclient import NotebookClient


def execute(notebook, folder, timeout=300):
    """Run every cell in order in a fresh python3 kernel started in `folder`, as Jupyter does.

    The notebook is changed in place (its outputs) and returned."""
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                   coalesce_streams=True,  # one output per cell and stream: stable diffs
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def execute_all(jobs, workers=2):
    """Run each (notebook, folder) of `jobs` as execute does, `workers` kernels at a time (each
    notebook keeps BLAS to one thread, so two kernels share two cores); returns the notebooks."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: execute(*job), jobs))
