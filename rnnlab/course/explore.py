"""Interactive explorers for JupyterLab: controls that redraw a matplotlib figure.

``explorer(draw, **controls)`` returns an ipywidgets box; each change of a control
calls ``draw(**values)`` and shows the figure it returns. The figure is rendered to
PNG and placed in the output area as data, without capturing the kernel's output:
output capture inside widget callbacks can stall notebook executors (nbclient)
during a book build. ipywidgets, IPython and matplotlib are imported when called
(they come with the ``book`` extra).
"""

from __future__ import annotations

import base64
import io


def figure_output(fig, text: str | None = None) -> tuple[dict, ...]:
    """Jupyter output records showing ``fig`` as a PNG, and any ``text`` under it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=fig.dpi)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    records = [
        {
            "output_type": "display_data",
            "data": {"image/png": png, "text/plain": repr(fig)},
            "metadata": {},
        }
    ]
    if text:
        records.append(
            {
                "output_type": "stream",
                "name": "stdout",
                "text": text if text.endswith("\n") else text + "\n",
            }
        )
    return tuple(records)


def explorer(draw, **controls):
    """A box of ``controls`` (ipywidgets) above a figure redrawn on every change.

    ``draw(**values)`` returns a matplotlib Figure, or ``(figure, text)`` to print text
    under it. The figure is closed after rendering, so it does not also appear as a
    static plot.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    if not controls:
        raise ValueError(
            "explorer needs at least one control, "
            "e.g. radius=ipywidgets.FloatSlider(...)"
        )
    area = widgets.Output()

    def redraw(change=None):
        result = draw(**{name: w.value for name, w in controls.items()})
        fig, text = result if isinstance(result, tuple) else (result, None)
        area.outputs = figure_output(fig, text)
        plt.close(fig)

    for w in controls.values():
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([*controls.values(), area])
