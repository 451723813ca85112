"""tools/check_book.py, the browser check that CI runs on the built book.

Each test writes a small page with one known fault and asserts that the check names
it, so the check cannot pass a book by failing to look. They need Chromium (Debian's
``chromium``; ``.ci/run`` installs it) and skip cleanly without it.
"""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("websocket")
ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location(
    "check_book", ROOT / "tools/check_book.py"
)
check_book = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_book)

CHROMIUM = check_book.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>pre {{ overflow-x: auto }}</style></head>
<body><article>{body}</article></body></html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    server, base = check_book.serve(root)
    browser = check_book.Chromium(CHROMIUM)
    counter = iter(range(10**6))

    def check(body):
        name = f"page{next(counter)}.html"
        (root / name).write_text(PAGE.format(body=body))
        return check_book.check_page(browser, base + name, base)

    yield check
    browser.close()
    server.shutdown()


def code(line, output=False):
    pre = f'<div class="highlight-ipython3"><div><pre>{line}</pre></div></div>'
    return f'<div class="cell_output">{pre}</div>' if output else pre


def test_a_clean_page_passes(site):
    body = "<p>Text, $5 and $10 (not maths).</p>" + code("x = 1  # " + "a" * 79)
    assert site(body) == []


def test_javascript_errors_fail(site):
    [problem] = site("<script>throw new Error('boom')</script>")
    assert problem.startswith("JavaScript exception") and "boom" in problem
    [problem] = site("<script>console.error('bad theme mode')</script>")
    assert problem == "console.error: bad theme mode"


def test_requests_off_the_local_server_fail(site):
    problems = site('<img src="http://example.invalid/logo.png" alt="logo">')
    assert "request off the local server: http://example.invalid/logo.png" in problems


def test_missing_local_files_fail(site):
    problems = site('<img src="missing.png" alt="lost">')
    assert any(
        p.startswith("HTTP 404") and p.endswith("/missing.png") for p in problems
    )


def test_code_lines_over_88_columns_fail(site):
    [problem] = site(code("y = 2  # " + "b" * 80))
    assert problem.startswith("code line over 88 columns, 89:")
    assert (
        site(code("y = 2  # " + "b" * 80, output=True)) == []
    )  # outputs wrap in print


def test_maths_left_untypeset_fails(site):
    problems = site(
        r'<p>Inline <span class="math">\(x_t\)</span> and $\alpha_t$ raw.</p>'
    )
    assert r"untypeset maths: \(x_t\)" in problems
    assert any(p.startswith("TeX left in the text:") for p in problems)
    typeset = '<span class="math"><mjx-container>x</mjx-container></span>'
    assert site(f"<p>{typeset}</p>") == []


def test_overflow_at_phone_width_fails(site):
    [problem] = site('<div style="width: 600px">a wide block</div>')
    assert problem.startswith("the page scrolls sideways at 400 px: it is 6")
    assert "the widest part: div to 6" in problem and "a wide block" in problem
    [problem] = site('<p style="white-space: nowrap">' + "no break " * 40 + "</p>")
    assert problem.startswith("the page scrolls sideways") and "p to " in problem
    clipped = '<div style="overflow: hidden"><table style="width: 600px"><tr><td>cut'
    assert any(p.startswith("past the edge at 400 px: table") for p in site(clipped))
    scrolls = '<div style="overflow-x: auto"><table style="width: 600px"><tr><td>fine'
    assert site(scrolls) == []


def test_images_need_alt_text(site):
    image = '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="{}">'
    [problem] = site(image.format("../_images/3ea3f830.svg"))
    assert problem.startswith("image without alt text:")
    assert site(image.format("Attention weights while the model decodes")) == []
