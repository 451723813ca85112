"""Every chapter notebook, run top to bottom once, as the book build runs it.

A notebook is executed the way the book build executes it (jupyter-cache's call
into nbclient, with the notebook's folder as the working directory) and, when no
cell raised, stored in the book's execution cache, ``_build/.jupyter_cache``.
The book build (``execute_notebooks: cache`` in ``_config.yml``) finds it there
and does not run it again, so a CI run executes each notebook once.

A notebook fails its test if a cell raises (the report names the notebook, the
cell and the assertion) or if a cell writes to stderr, such as a NumPy
``RuntimeWarning``: the book build would put that text on the page and, with
``-W``, stop on its warning. A green test run therefore means a green book build.

Only the book's own configuration is cached: with ``RNNLAB_DEVICE`` set to a GPU
(``.ci/gpu``, ``.ci/fake-gpu``) the notebooks run and are checked, but their
outputs are not stored for the book.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"  # jupyter-book's default cache folder


def book_notebooks() -> list[str]:
    """The notebooks that ``_toc.yml`` puts in the book, in reading order."""

    def files(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from files(value)
        elif isinstance(node, list):
            for item in node:
                yield from files(item)

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [f + ".ipynb" for f in files(toc) if (ROOT / (f + ".ipynb")).exists()]


def execution_timeout() -> int:
    """The per-cell timeout of the book build (``execute.timeout``), so both agree."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return int(config.get("execute", {}).get("timeout", 600))


def caching() -> bool:
    """Store outputs for the book only when the notebooks run as the book runs them."""
    return os.environ.get("RNNLAB_DEVICE", "cpu") == "cpu"


def store_in_book_cache(nb, path: Path, seconds: float) -> None:
    """Put an executed notebook in the cache that ``jupyter-book build`` reads.

    The cache matches a notebook by a hash of its code cells and kernelspec, so
    the book build finds this entry for the unchanged source file. Two pytest
    workers may write at once: a file lock serialises the writes.
    """
    jupyter_cache = pytest.importorskip("jupyter_cache")
    from filelock import FileLock
    from jupyter_cache.base import CacheBundleIn

    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE) + ".lock"):
        cache = jupyter_cache.get_cache(str(CACHE))
        bundle = CacheBundleIn(nb, str(path), data={"execution_seconds": seconds})
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def without_widgets(nb):
    """The notebook for the static book: widget outputs removed.

    A page can show neither a live progress bar (tqdm in a notebook is a widget) nor an
    explorer: their outputs would be empty boxes, and widget state would make the page
    load the widget JavaScript from a CDN. Each explorer has a static figure beside it.
    With ``store_widget_state=False`` no state is stored; this drops the views.
    """
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [
                o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})
            ]
    return nb


def plain(text: str) -> str:
    """A traceback without its terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def problems(nb) -> list[tuple[int, str, str]]:
    """``(cell number, "raised" or "stderr", text)`` for every error or stderr output,
    cells numbered from 1 as the book build numbers them."""
    found = []
    for number, cell in enumerate(nb.cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = plain("\n".join(out.get("traceback", [])))
                found.append((number, "raised", f"{out['ename']}:\n{trace}"))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append((number, "stderr", out["text"]))
    return found


def test_problems_finds_errors_and_stderr_but_not_stdout():
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# title"),
        v4.new_code_cell("print(1)", outputs=[v4.new_output("stream", text="1\n")]),
        v4.new_code_cell(
            "warn()",
            outputs=[
                v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow")
            ],
        ),
        v4.new_code_cell(
            "assert 0",
            outputs=[
                v4.new_output(
                    "error",
                    ename="AssertionError",
                    evalue="",
                    traceback=["\x1b[0;31mboom"],
                )
            ],
        ),
    ]
    found = problems(v4.new_notebook(cells=cells))
    assert found == [
        (3, "stderr", "RuntimeWarning: overflow"),
        (4, "raised", "AssertionError:\nboom"),
    ]


def test_widget_views_are_dropped_for_the_book():
    v4 = nbformat.v4
    bar = v4.new_output(
        "display_data", data={WIDGET_VIEW: {"model_id": "x"}, "text/plain": "0%|"}
    )
    text = v4.new_output("stream", name="stdout", text="loss 0.1\n")
    nb = v4.new_notebook(cells=[v4.new_code_cell("fit()", outputs=[bar, text])])
    assert without_widgets(nb).cells[0].outputs == [text]


def test_every_notebook_is_in_the_book():
    listed = set(book_notebooks())
    present = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb")
    }
    assert listed, "_toc.yml lists no notebook"
    assert present <= listed, (
        f"notebooks missing from _toc.yml: {sorted(present - listed)}"
    )


@pytest.mark.parametrize("name", book_notebooks())
def test_notebook_runs_clean(name):
    path = ROOT / name
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    try:
        # as jupyter-cache runs it for the book; timing metadata would change the
        # cells' metadata and with it the cache key
        nbclient.execute(
            nb,
            cwd=str(path.parent),
            timeout=execution_timeout(),
            allow_errors=False,
            record_timing=False,
            store_widget_state=False,
        )
    except nbclient.exceptions.CellExecutionError:
        pass  # the failing cell holds the error output, reported below
    seconds = time.perf_counter() - started
    found = problems(nb)
    if caching() and not any(kind == "raised" for _, kind, _ in found):
        store_in_book_cache(without_widgets(nb), path, seconds)
    what = {"raised": "raised ", "stderr": "wrote to stderr:\n"}
    reports = [
        f"cell {number} {what[kind]}{text}\n"
        f"--- source of cell {number} ---\n{nb.cells[number - 1].source}"
        for number, kind, text in found
    ]
    assert not reports, f"{name}:\n\n" + "\n\n".join(reports)
