"""Read every page of the built book in headless Chromium; fail on what hurts a reader.

    python tools/check_book.py [_build/html] [--screenshots DIR] [--pages GLOB ...]
                               [--browsers N]

The pages are served from a local HTTP server and opened in Chromium (Debian's
``chromium``), driven over the DevTools protocol (``websocket-client``), at 1400 px
(a laptop) and 400 px (a phone). A page fails on

* a JavaScript error: an uncaught exception, ``console.error``, or a browser error log;
* a request to anything but the local server (the book must read offline), or a local
  request that failed;
* maths that MathJax did not typeset, or TeX left in the text (``$...$``, ``\\(``);
* a line of code wider than 88 columns (the cells' source, as ruff formats it);
* an image with no alt text, or only its file name;
* horizontal overflow at 400 px: the page scrolling sideways, or an element (an
  equation, a table, a figure) running past the screen's edge with no scroll bar of its
  own to reach the rest.

Screenshots of every page go to ``--screenshots`` (by default ``_build/screenshots``)
for a person to look at: its first screen on the laptop, all of it on the phone. The
exit status is the number of failing pages (at most 100), so CI goes red on any.
"""

import argparse
import base64
import concurrent.futures
import fnmatch
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: the widest code line the formatter leaves (pyproject.toml's ruff line-length)
MAX_COLUMNS = 88
#: (name, width, height, mobile): a laptop and a phone
VIEWPORTS = [("laptop", 1400, 900, False), ("phone", 400, 860, True)]
#: pages that are not chapters: Sphinx's generated index and search pages
SKIP = ["genindex.html", "search.html", "_static/*", "_sources/*", "_images/*"]

#: what the page reports once loaded and typeset, run in the page with Runtime.evaluate
PAGE_REPORT = (
    Path(__file__)
    .with_name("page_report.js")
    .read_text()
    .replace("MAX_COLUMNS", str(MAX_COLUMNS))
)


def find_chromium():
    """The path of a Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """Headless Chromium, driven over the DevTools protocol on one WebSocket.

    Parameters
    ----------
    executable : str
        The browser to start.
    timeout : float
        Seconds to wait for any one answer from the browser.
    """

    def __init__(self, executable, timeout=60.0):
        import websocket  # websocket-client, in the "test" extra

        self.profile = tempfile.mkdtemp(prefix="rnnlab-chromium-")
        flags = [
            "--headless",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--mute-audio",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to run as root otherwise
        self.process = subprocess.Popen(
            [executable, *flags, "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and len(port_file.read_text().split()) == 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{executable} did not start its DevTools server")
            time.sleep(0.05)
        port, path = port_file.read_text().split()
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=timeout, suppress_origin=True
        )
        self.next_id = 0
        self.events = []

    def send(self, method, session=None, **params):
        """Call one DevTools method and return its result; keep the events met."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def wait_for(self, method, session, timeout):
        """Read events until ``method`` arrives for ``session``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            self.events.append(json.loads(self.socket.recv()))
        raise TimeoutError(f"no {method} within {timeout} s")

    def close(self):
        if getattr(self, "socket", None):
            self.socket.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def serve(root):
    """Serve ``root`` on a free local port, in a thread; returns (server, base URL)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the browser closing a connection early is not the book's fault

    handler = functools.partial(Quiet, directory=str(root))
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _problems(events, session, base):
    """The JavaScript errors and the bad requests among one page load's events."""
    found, requests = [], {}
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event["method"], event["params"]
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details["text"]
            found.append(f"JavaScript exception: {text.splitlines()[0]}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in (
            "error",
            "assert",
        ):
            text = " ".join(
                str(a.get("value", a.get("description", ""))) for a in params["args"]
            )
            found.append(f"console.{params['type']}: {text[:200]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            found.append(f"browser error: {entry['text'][:200]} {entry.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            requests[params["requestId"]] = url
            if not url.startswith((base, "data:", "blob:", "about:")):
                found.append(f"request off the local server: {url[:200]}")
        elif (
            method == "Network.responseReceived" and params["response"]["status"] >= 400
        ):
            found.append(
                f"HTTP {params['response']['status']}: {params['response']['url']}"
            )
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            url = requests.get(params["requestId"], "?")
            if url.startswith(base):
                found.append(f"request failed ({params['errorText']}): {url}")
    return list(dict.fromkeys(found))


def save_screenshot(browser, session, width, mobile, path, whole=True, most=20000):
    """Save the page as a JPEG: all of it (down to ``most`` px) or the first screen."""
    if whole:
        height = browser.send(
            "Runtime.evaluate",
            session,
            expression="document.documentElement.scrollHeight",
            returnByValue=True,
        )["result"]["value"]
        # a window as tall as the page, so that one plain screenshot holds all of it
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=min(height, most),
            deviceScaleFactor=1,
            mobile=mobile,
        )
    shot = browser.send("Page.captureScreenshot", session, format="jpeg", quality=70)
    Path(path).write_bytes(base64.b64decode(shot["data"]))


def check_page(browser, url, base, screenshot=None, timeout=60.0):
    """Open one page at every viewport and return its problems as strings.

    Parameters
    ----------
    browser : Chromium
    url : str
        The page, on the local server at ``base``.
    base : str
        The local server's URL; anything else the page requests is a problem.
    screenshot : Path or None
        Where to save the screenshots: ``{screenshot}-laptop.jpg`` (the first screen)
        and ``{screenshot}-phone.jpg`` (the whole page).
    """
    problems = []
    for name, width, height, mobile in VIEWPORTS:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        browser.events.clear()
        browser.send("Page.navigate", session, url=url)
        browser.wait_for("Page.loadEventFired", session, timeout)
        result = browser.send(
            "Runtime.evaluate",
            session,
            expression=PAGE_REPORT,
            awaitPromise=True,
            returnByValue=True,
            timeout=int(timeout * 1000),
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page report failed on {url}: {result}")
        report = result["result"]["value"]
        time.sleep(0.2)  # let late console messages arrive
        browser.send("Runtime.evaluate", session, expression="0")
        problems += _problems(browser.events, session, base)
        problems += [f"untypeset maths: {m}" for m in report["untypeset"]]
        problems += [f"TeX left in the text: {t}" for t in report["raw_tex"]]
        problems += [f"image without alt text: {src}" for src in report["bad_alt"]]
        problems += [
            f"code line over {MAX_COLUMNS} columns, {line}"
            for line in report["long_lines"]
        ]
        if mobile:
            if report["page_width"] > report["viewport_width"] + 1:
                problems.append(
                    f"the page scrolls sideways at {width} px: it is "
                    f"{report['page_width']} px wide; the widest part: "
                    + "; ".join(report["wide"])
                )
            problems += [f"past the edge at {width} px: {c}" for c in report["clipped"]]
        if screenshot is not None:
            # the whole page on the phone, where most goes wrong; the first screen on
            # the laptop (a whole page there doubles the time of the check)
            path = f"{screenshot}-{name}.jpg"
            save_screenshot(browser, session, width, mobile, path, whole=mobile)
        browser.send("Target.closeTarget", targetId=target)
    return list(dict.fromkeys(problems))


def pages(root, patterns=None):
    """The HTML pages under ``root`` to check, relative to it."""
    found = []
    for path in sorted(Path(root).rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(rel, skip) for skip in SKIP):
            continue
        if patterns and not any(fnmatch.fnmatch(rel, p) for p in patterns):
            continue
        if 'http-equiv="refresh"' in path.read_text()[:500].lower():
            continue  # a redirect (the root index.html): its target is checked
        found.append(rel)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", default="_build/html")
    parser.add_argument("--screenshots", default="_build/screenshots")
    parser.add_argument(
        "--pages", nargs="*", help="only the pages matching these globs"
    )
    parser.add_argument(
        "--browsers", type=int, default=2, help="browsers reading pages at once"
    )
    args = parser.parse_args(argv)
    root = Path(args.html)
    if not (root / "index.html").exists():
        sys.exit(f"check_book: no book at {root}: build it first (see the README)")
    executable = find_chromium()
    if executable is None:
        sys.exit("check_book: no Chromium found: install Debian's `chromium` package")
    shots = Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(root)
    todo, start = pages(root, args.pages), time.monotonic()

    def check_share(share):
        # one browser per thread: each drives its own DevTools connection
        browser = Chromium(executable)
        try:
            return {
                rel: check_page(
                    browser,
                    base + rel,
                    base,
                    screenshot=shots / rel.removesuffix(".html").replace("/", "_"),
                )
                for rel in share
            }
        finally:
            browser.close()

    n = max(1, min(args.browsers, len(todo)))
    try:
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            found = {}
            for result in pool.map(check_share, [todo[i::n] for i in range(n)]):
                found.update(result)
    finally:
        server.shutdown()
    failing = 0
    for rel in todo:
        print(f"{'FAIL' if found[rel] else 'ok  '} {rel}")
        for problem in found[rel]:
            print(f"     {problem}")
        failing += bool(found[rel])
    print(
        f"check_book: {failing} page(s) failing; screenshots in {shots} "
        f"({time.monotonic() - start:.0f} s)"
    )
    return min(failing, 100)


if __name__ == "__main__":
    sys.exit(main())
