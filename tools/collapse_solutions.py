"""Collapse every exercise solution of the chapters in JupyterLab.

The cells between a ``{solution-start}`` cell and its ``{solution-end}`` cell (that one
included) get ``jupyter.source_hidden`` (and ``outputs_hidden`` for code), so a student
working the exercises sees the exercise, not the answer, until they click it open.
Solution text that shares a cell with a fence is split into its own cell. JupyterLab
still shows the first source line of a collapsed cell, so every solution cell starts
with a neutral line: ``% Solution`` (a MyST comment) or ``# Solution``. The book ignores
the metadata: its solutions are dropdowns either way.

    python tools/collapse_solutions.py notebooks/*.ipynb

``tests/test_book_structure.py`` fails while a solution is left open.
"""

import json
import sys
import re


#: the first line of every collapsed solution cell: JupyterLab shows a collapsed cell's
#: first source line, which must not give the answer away. "%" starts a MyST comment,
#: which neither the book nor jupyterlab-myst renders.
FIRST_LINE = {"markdown": "% Solution\n", "code": "# Solution\n"}


def neutral_first_line(cell):
    src = "".join(cell["source"])
    first = FIRST_LINE[cell["cell_type"]]
    if not src.startswith(first):
        cell["source"] = (first + src).splitlines(True)


def split_end(src):
    # "...```{solution-end}\n```\n\nrest" -> ("...```{solution-end}\n```", "rest")
    m = re.search(r"```\{solution-end\}\s*\n```", src)
    return src[: m.end()], src[m.end() :].strip()


for p in sys.argv[1:]:
    nb = json.load(open(p))
    cells, inside, changed = [], False, 0
    for c in nb["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] == "markdown" and "{solution-start}" in src:
            m = re.search(r"```\{solution-start\}[^\n]*\n(:[^\n]*\n)*```", src)
            start, rest = src[: m.end()], src[m.end() :].strip()
            c["source"] = start.splitlines(True)
            cells.append(c)
            if rest:  # the solution's own text: collapsed with the rest of it
                new = {
                    "cell_type": "markdown",
                    "metadata": {"jupyter": {"source_hidden": True}},
                    "source": rest.splitlines(True),
                }
                if "id" in c:
                    new["id"] = c["id"] + "-sol"
                neutral_first_line(new)
                cells.append(new)
            inside = True
            continue
        if inside:
            if c["cell_type"] == "markdown" and "{solution-end}" in src:
                end, rest = split_end(src)
                c["source"] = end.splitlines(True)
                if not end.lstrip().startswith("```{solution-end}"):
                    neutral_first_line(c)  # solution text above the closing fence
                c.setdefault("metadata", {}).setdefault("jupyter", {})[
                    "source_hidden"
                ] = True
                cells.append(c)
                if rest:
                    new = {
                        "cell_type": "markdown",
                        "metadata": {},
                        "source": rest.splitlines(True),
                    }
                    if "id" in c:
                        new["id"] = c["id"] + "-after"
                    cells.append(new)
                inside = False
                changed += 1
                continue
            j = c.setdefault("metadata", {}).setdefault("jupyter", {})
            j["source_hidden"] = True
            if c["cell_type"] == "code":
                j["outputs_hidden"] = True
            neutral_first_line(c)
        cells.append(c)
    nb["cells"] = cells
    with open(p, "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(p, changed, "solutions collapsed")
