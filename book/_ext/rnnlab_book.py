"""Fixes to the rendered pages, as a local Sphinx extension (see ``_config.yml``).

* Each script once. ``sphinx_thebe`` and ``sphinx_togglebutton`` register inline scripts
  while the documents are read; with Sphinx 7 each reaches the page twice (once with
  the file name None, once with ''), and the second ``const THEBE_JS_URL`` throws
  "Identifier 'THEBE_JS_URL' has already been declared" in the browser.
* A theme mode: the theme's default mode is empty unless set, and its script logs
  "Got invalid theme mode" on every page; "auto" follows the reader's system setting.
* One search field: the theme put a second one in a header bar of its own above the
  sidebar's; without it, the header bar (which held nothing else) goes too.
* No widgets. tqdm's bars and the explorers are ipywidgets, which a static page can only
  show by loading the widget JavaScript from a CDN, with their state stored in the page.
  The tests strip them from the notebooks they cache for the book
  (``tests/test_notebooks.py``); a notebook that the build executes itself keeps them,
  so the build drops the widget views, the stored state and the CDN scripts too. Every
  explorer has a static figure beside it.
* Alt text for figures: an output's image has its file path as alt text; in a figure
  with a caption, the caption says what it shows.
* The book's stylesheet and script, ``static/rnnlab.css`` and ``static/rnnlab.js``
  (which keeps figures from shrinking past reading on a phone).
"""

from pathlib import Path

from docutils import nodes

STATIC = Path(__file__).parent / "static"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
IMAGE_FILES = (".svg", ".png", ".jpg", ".jpeg", ".gif")


def _key(js):
    return (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))


def _page_scripts(app, pagename, templatename, context, doctree):
    # each script once, and no stored widget state
    scripts = context.get("script_files")
    if scripts:
        unique = {}
        for js in scripts:
            if js.attributes.get("type") != WIDGET_STATE:
                unique.setdefault(_key(js), js)
        context["script_files"] = list(unique.values())


def _no_widgets(app, config):
    config.nb_ipywidgets_js = {}  # myst-nb's CDN scripts for pages with widget state


def _caption_as_alt_text(app, doctree):
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        for image in figure.findall(nodes.image):
            alt = image.get("alt", "")
            if not alt or alt == image["uri"] or alt.endswith(IMAGE_FILES):
                image["alt"] = captions[0].astext()


def _drop_widget_views(app, doctree):
    for raw in list(doctree.findall(nodes.raw)):
        if WIDGET_VIEW in raw.astext():
            box = raw.parent
            box.remove(raw)
            # the output boxes left empty go too
            while not box.children and box.parent is not None:
                box.parent.remove(box)
                box = box.parent


def _default_mode(app, config):
    # pydata-sphinx-theme reads it from the template context, not the theme options
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def _one_search_field(app, config):
    options = dict(config.html_theme_options or {})
    options["navbar_persistent"] = []
    config.html_theme_options = options


def _static_files(app, config):
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    app.add_css_file("rnnlab.css")
    app.add_js_file("rnnlab.js", loading_method="defer")


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("config-inited", _one_search_field)
    app.connect("config-inited", _static_files)
    app.connect("config-inited", _no_widgets)
    app.connect("doctree-read", _drop_widget_views)
    app.connect("doctree-read", _caption_as_alt_text)
    app.connect("html-page-context", _page_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
