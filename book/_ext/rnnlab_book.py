"""Fixes to the rendered pages, as a local Sphinx extension (see ``_config.yml``).

* Each script once. ``sphinx_thebe`` and ``sphinx_togglebutton`` register inline scripts
  while the documents are read; with Sphinx 7 each reaches the page twice (once with
  the file name None, once with ''), and the second ``const THEBE_JS_URL`` throws
  "Identifier 'THEBE_JS_URL' has already been declared" in the browser.
* A theme mode: the theme's default mode is empty unless set, and its script logs
  "Got invalid theme mode" on every page; "auto" follows the reader's system setting.
"""


def _key(js):
    return (js.filename or "", js.priority, tuple(sorted(js.attributes.items())))


def _each_script_once(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        unique = {}
        for js in scripts:
            unique.setdefault(_key(js), js)
        context["script_files"] = list(unique.values())


def _default_mode(app, config):
    # pydata-sphinx-theme reads it from the template context, not the theme options
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _each_script_once)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
