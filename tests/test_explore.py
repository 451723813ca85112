"""The JupyterLab explorer: it draws at once and on every change.

It does so without capturing output.
"""

import base64

import pytest

widgets = pytest.importorskip("ipywidgets")
plt = pytest.importorskip("matplotlib.pyplot")

from rnnlab.course.explore import explorer, figure_output  # noqa: E402


def _draw_calls():
    calls = []

    def draw(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [a, b])
        return fig, f"a={a} b={b}"

    return draw, calls


def test_explorer_draws_initially_and_on_change():
    draw, calls = _draw_calls()
    a, b = widgets.FloatSlider(value=1.0), widgets.IntSlider(value=2)
    box = explorer(draw, a=a, b=b)
    assert calls == [(1.0, 2)]
    area = box.children[-1]
    png, text = area.outputs
    assert base64.b64decode(png["data"]["image/png"]).startswith(b"\x89PNG")
    assert text["text"] == "a=1.0 b=2\n"
    b.value = 5
    assert calls[-1] == (1.0, 5) and area.outputs[1]["text"] == "a=1.0 b=5\n"
    assert plt.get_fignums() == []  # every figure was closed after rendering


def test_figure_output_without_text():
    fig, _ = plt.subplots()
    (record,) = figure_output(fig)
    assert record["output_type"] == "display_data"
    plt.close(fig)


def test_explorer_needs_controls():
    with pytest.raises(ValueError, match="control"):
        explorer(lambda: None)
