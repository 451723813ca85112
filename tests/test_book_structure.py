"""Static checks of the chapters' notebooks (no execution)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def _code_cells(path):
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_are_collapsed_in_jupyterlab(path):
    cells = json.loads(path.read_text())["cells"]
    inside, open_cells, telling = False, [], []
    for i, c in enumerate(cells):
        src = "".join(c["source"])
        if "{solution-start}" in src:
            inside = True
            continue
        if inside:
            meta = c.get("metadata", {}).get("jupyter", {})
            shown = not meta.get("source_hidden") or (
                c["cell_type"] == "code" and not meta.get("outputs_hidden")
            )
            if shown:
                open_cells.append(i)
            first = src.splitlines()[0] if src else ""
            if first not in ("% Solution", "# Solution") and not first.startswith(
                "```{solution-end}"
            ):
                telling.append(i)  # JupyterLab shows this line while collapsed
            inside = "{solution-end}" not in src
    assert not open_cells, (
        f"{path.name}: solution cells {open_cells} would sit open under their exercise "
        f"in JupyterLab: run python tools/collapse_solutions.py {path.as_posix()}"
    )
    assert not telling, (
        f"{path.name}: solution cells {telling} would show their first line under the "
        f"exercise in JupyterLab: run python tools/collapse_solutions.py "
        f"{path.as_posix()}"
    )


def test_labels_are_unique_across_the_book():
    # Sphinx warns on a label defined twice (and the book builds with -W): equations,
    # figures, exercises and chapter targets share one namespace per kind
    import re

    seen = {}
    for path in NOTEBOOKS:
        for c in json.loads(path.read_text())["cells"]:
            src = "".join(c["source"])
            labels = re.findall(r"^:label: (\S+)", src, flags=re.M)
            labels += re.findall(r"^\((\S+)\)=$", src, flags=re.M)
            figure = c.get("metadata", {}).get("mystnb", {}).get("figure", {})
            labels += [figure["name"]] if "name" in figure else []
            for label in labels:
                assert label not in seen, (
                    f"label {label!r} is defined in {seen[label]} and again in "
                    f"{path.name}"
                )
                seen[label] = path.name
    assert len(seen) > 100  # the patterns still find the book's labels


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_in_the_prose_fits_88_columns(path):
    # ruff formats the code cells; code blocks in the markdown cells (solutions that do
    # not run offline, commands) are written by hand, and a longer line scrolls sideways
    # on the page (tools/check_book.py finds it there too, after the build)
    import re

    long_lines = []
    for i, c in enumerate(json.loads(path.read_text())["cells"]):
        if c["cell_type"] != "markdown":
            continue
        fences = []  # the open fences: a directive's name, or "code"
        for line in "".join(c["source"]).splitlines():
            fence = re.match(r"^(`{3,})(\{[\w-]+\}|\w*)", line.strip())
            if fence and fences and line.strip() == fences[-1][0]:
                fences.pop()
            elif fence:
                kind = "directive" if fence[2].startswith("{") else "code"
                fences.append((fence[1], kind))
            elif fences and fences[-1][1] == "code" and len(line) > 88:
                long_lines.append((i, line))
    assert not long_lines, f"{path.name}: code lines over 88 columns: {long_lines}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_ends_with_summary_then_exercises(path):
    # the same section order in every chapter, so a reader knows where to look
    import re

    sections = []
    for c in json.loads(path.read_text())["cells"]:
        if c["cell_type"] == "markdown":
            sections += re.findall(r"^## (.+)$", "".join(c["source"]), flags=re.M)
    assert sections[-2:] == ["Summary", "Exercises"], f"{path.name}: {sections[-3:]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_blas_thread_before_numpy(path):
    # The book's numbers come from single-threaded BLAS (the tests set it too): another
    # thread count rounds sums differently and trains other models, so a notebook run
    # from JupyterLab or by the book build would disagree with its own text
    first = "".join(_code_cells(path)[0]["source"])
    assert (
        'os.environ.setdefault(var, "1")' in first and "OPENBLAS_NUM_THREADS" in first
    )
    assert first.index("OPENBLAS_NUM_THREADS") < first.index("import numpy"), path.name
    # and one BLAS kernel: OpenBLAS picks one to suit the CPU (SkylakeX where there is
    # AVX-512), which rounds otherwise. The two chapters that measure speed keep the
    # fastest kernel; their numbers are timings, which differ from machine to machine.
    if path.stem not in ("06_gated_comparison", "11_making_rnns_fast"):
        pin = 'os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")'
        assert pin in first and first.index(pin) < first.index("import numpy"), (
            path.name
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_set_up_cell_folded_and_figures_in_the_book_style(path):
    # The first cell (threads, imports, settings) is folded so that the prose leads, and
    # sets the book's matplotlib style, whose sizes are chosen for a phone's column.
    first = _code_cells(path)[0]
    assert "hide-input" in first["metadata"].get("tags", []), path.name
    source = "".join(first["source"])
    if "matplotlib" in source:
        assert 'plt.style.use("rnnlab.course.book")' in source, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_text_in_figures_below_11_points(path):
    # A phone shows a figure at 3/4 of its size at least: 11 pt becomes 11 CSS px.
    # Sizes come from the style (rnnlab/course/book.mplstyle); a chapter may enlarge.
    small = []
    for c in _code_cells(path):
        source = "".join(c["source"])
        small += re.findall(r"\b(?:fontsize|labelsize|size)=(\d+(?:\.\d+)?)\b", source)
        small += re.findall(r"rcParams\S*font\S*size", source)
    small = [s for s in small if not s.replace(".", "").isdigit() or float(s) < 11]
    assert not small, f"{path.name}: text sizes {small}"


def test_the_book_style_ships_with_the_package():
    plt = pytest.importorskip("matplotlib.pyplot")
    with plt.style.context("rnnlab.course.book"):
        assert plt.rcParams["font.size"] >= 12
        assert plt.rcParams["xtick.labelsize"] >= 11
        assert plt.rcParams["legend.fontsize"] >= 11
